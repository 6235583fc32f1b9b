"""Settings relative to the dataset: learn ``gamma = 0.3 * scale`` rather than ``gamma = 0.01``."""

import numpy as np
from scipy import sparse
from sklearn.base import clone


def _gamma_scale(X):
    # scikit-learn's gamma="scale": 1 / (n_features * X.var()).
    if sparse.issparse(X):
        variance = X.multiply(X).mean() - X.mean() ** 2
    else:
        variance = float(np.asarray(X, dtype=float).var())
    return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0


_REFERENCES = {
    "gamma_scale": _gamma_scale,
    "n_features": lambda X: float(X.shape[1]),
    "inv_n_features": lambda X: 1.0 / X.shape[1],
    "n_samples": lambda X: float(X.shape[0]),
    "sqrt_n_samples": lambda X: float(np.sqrt(X.shape[0])),
}


class Scaled:
    """A setting that is a multiple of a simple property of the dataset.

    Many good values depend on the dataset's shape: SVC's ``gamma`` on the
    feature count and scale (scikit-learn's own default ``gamma="scale"``
    is ``1 / (n_features * X.var())``), regularisation on the row count.
    A learned default that can only name absolute values loses to such
    relative defaults; with ``Scaled`` in a grid the strategies learn the
    *factor*. Every strategy resolves it on the rows it fits on: per task
    in the performance matrix, per new task in ``select``.

    Parameters
    ----------
    factor : float
        Multiplier.
    reference : {"gamma_scale", "n_features", "inv_n_features", "n_samples", \
"sqrt_n_samples"}, default="gamma_scale"
        The dataset property multiplied.
    integer : bool, default=False
        Round the value to the nearest int, for parameters that take a
        count (``n_neighbors``, ``max_features`` as a number of features).

    Examples
    --------
    >>> import numpy as np
    >>> from metasklearn.hyperparams import Scaled
    >>> X = np.random.RandomState(0).normal(size=(50, 4))
    >>> Scaled(2.0, "inv_n_features").resolve(X)
    0.5
    >>> Scaled(1.0).resolve(X) == float(1 / (4 * X.var()))  # what gamma="scale" gives
    True
    >>> Scaled(1.0, "sqrt_n_samples", integer=True).resolve(X)  # sqrt(50) = 7.07
    7
    """

    integer = False  # what a Scaled pickled before the option resolves to

    def __init__(self, factor, reference="gamma_scale", *, integer=False):
        if reference not in _REFERENCES:
            raise ValueError(
                f"Scaled reference must be one of {sorted(_REFERENCES)}, got {reference!r}."
            )
        self.factor = float(factor)
        self.reference = reference
        self.integer = bool(integer)

    def resolve(self, X):
        """The concrete value for the dataset ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows of the dataset.

        Returns
        -------
        value : float or int
            ``factor`` times the ``reference`` property of ``X``, rounded to an
            int when ``integer``.
        """
        if not hasattr(X, "shape"):
            X = np.asarray(X)  # a list of rows, as adapt and select accept them
        value = float(self.factor * _REFERENCES[self.reference](X))
        return int(round(value)) if self.integer else value

    def __eq__(self, other):
        return (isinstance(other, Scaled) and self.factor == other.factor
                and self.reference == other.reference and self.integer == other.integer)

    def __hash__(self):
        return hash((self.factor, self.reference, self.integer))

    def __repr__(self):
        integer = ", integer=True" if self.integer else ""
        return f"Scaled({self.factor!r}, {self.reference!r}{integer})"


def scaled(factors, reference="gamma_scale", *, integer=False):
    """Candidates for a grid: :class:`Scaled` values from factors or a distribution.

    Parameters
    ----------
    factors : list of float, or a distribution with ``rvs``
        A list gives a list for ``param_grid``; a distribution (such as
        ``scipy.stats.loguniform(0.01, 100)``) gives a distribution of
        ``Scaled`` values for ``param_distributions``.
    reference : str, default="gamma_scale"
        As in :class:`Scaled`.
    integer : bool, default=False
        As in :class:`Scaled`.

    Returns
    -------
    candidates : list of Scaled, or distribution
        For a list of factors, one :class:`Scaled` per factor; for a
        distribution, an object whose ``rvs(random_state=None)`` draws a
        :class:`Scaled`.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from metasklearn.hyperparams import scaled
    >>> scaled([0.5, 2.0])
    [Scaled(0.5, 'gamma_scale'), Scaled(2.0, 'gamma_scale')]
    >>> draw = scaled(loguniform(0.01, 100), "inv_n_features").rvs(random_state=0)
    >>> round(draw.factor, 3), draw.reference
    (1.568, 'inv_n_features')
    """
    if hasattr(factors, "rvs"):
        return _ScaledDistribution(factors, reference, integer)
    return [Scaled(factor, reference, integer=integer) for factor in factors]


class _ScaledDistribution:
    def __init__(self, distribution, reference, integer=False):
        Scaled(1.0, reference)  # validates the reference now, not at the first draw
        self.distribution = distribution
        self.reference = reference
        self.integer = integer

    def rvs(self, random_state=None):
        return Scaled(self.distribution.rvs(random_state=random_state), self.reference,
                      integer=self.integer)

    def __repr__(self):
        return f"scaled({self.distribution!r}, {self.reference!r})"


def resolve_settings(params, X):
    """``params`` for ``X``: every :class:`Scaled` value made concrete, every other one cloned.

    The clone is what ``GridSearchCV`` does with its candidates: an estimator
    in a setting (a Pipeline step from a grid, or the user's own step kept
    as the default) must not be fitted in place, nor shared between learners.
    """
    return {name: value.resolve(X) if isinstance(value, Scaled) else clone(value, safe=False)
            for name, value in params.items()}
