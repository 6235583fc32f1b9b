"""Generators of task collections ``(X, y, groups)``.

Each returns rows concatenated task after task, with ``groups`` holding the
task index ``0..n_tasks-1`` of each row.
"""

import re
import textwrap
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .tasks import make_episodes

__all__ = [
    "load_digits_episodes",
    "make_checkerboard_tasks",
    "make_linear_tasks",
    "make_logistic_tasks",
    "make_sinusoid_tasks",
]


def _check_range(name, value):
    try:
        pair = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        pair = np.array([np.nan])
    if pair.shape != (2,) or not np.all(np.isfinite(pair)) or pair[0] > pair[1]:
        raise ValueError(
            f"{name} must be a pair (low, high) of finite numbers with low <= high; "
            f"got {value!r}."
        )
    return float(pair[0]), float(pair[1])


@validate_params(
    {
        "n_tasks": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "amplitude_range": [tuple, list, np.ndarray],
        "phase_range": [tuple, list, np.ndarray],
        "x_range": [tuple, list, np.ndarray],
        "noise": [Interval(Real, 0, None, closed="left")],
        "return_params": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_sinusoid_tasks(
    n_tasks=100,
    n_samples=10,
    *,
    amplitude_range=(0.1, 5.0),
    phase_range=(0.0, np.pi),
    x_range=(-5.0, 5.0),
    noise=0.0,
    return_params=False,
    random_state=None,
):
    """Sinusoid regression tasks, the toy family of MAML (Finn et al., 2017).

    Task ``t`` draws an amplitude ``A_t ~ U(amplitude_range)`` and a phase
    ``p_t ~ U(phase_range)``; its rows draw ``x ~ U(x_range)`` and get
    ``y = A_t * sin(x - p_t) + noise * N(0, 1)``. The defaults are the paper's.

    Parameters
    ----------
    n_tasks : int, default=100
        Number of tasks.
    n_samples : int, default=10
        Rows per task.
    amplitude_range, phase_range, x_range : pair of float
        ``(low, high)`` of the uniform distributions above.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to ``y``. The noise is drawn
        after everything else, so ``X`` and the task parameters do not depend
        on it.
    return_params : bool, default=False
        Also return each task's amplitude and phase.
    random_state : int, RandomState instance or None, default=None
        Controls every draw.

    Returns
    -------
    X : ndarray of shape (n_tasks * n_samples, 1)
        Inputs ``x`` of all tasks, task after task.
    y : ndarray of shape (n_tasks * n_samples,)
        Targets ``A_t * sin(x - p_t)``, plus noise.
    groups : ndarray of shape (n_tasks * n_samples,)
        Task index of each row.
    params : Bunch
        Only if ``return_params``: ``amplitude`` and ``phase``, each of shape
        (n_tasks,).

    Examples
    --------
    >>> from metasklearn.datasets import make_sinusoid_tasks
    >>> X, y, groups, params = make_sinusoid_tasks(
    ...     n_tasks=3, n_samples=4, return_params=True, random_state=0)
    >>> print(X.shape, y.shape, groups.tolist(), params.amplitude.shape)
    (12, 1) (12,) [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2] (3,)
    """
    ranges = {
        name: _check_range(name, value)
        for name, value in [
            ("amplitude_range", amplitude_range),
            ("phase_range", phase_range),
            ("x_range", x_range),
        ]
    }
    rng = check_random_state(random_state)
    amplitude = rng.uniform(*ranges["amplitude_range"], size=n_tasks)
    phase = rng.uniform(*ranges["phase_range"], size=n_tasks)
    x = rng.uniform(*ranges["x_range"], size=(n_tasks, n_samples))
    y = amplitude[:, None] * np.sin(x - phase[:, None])
    y = (y + noise * rng.standard_normal(y.shape)).reshape(-1)
    groups = np.repeat(np.arange(n_tasks), n_samples)
    out = (x.reshape(-1, 1), y, groups)
    if return_params:
        out += (Bunch(amplitude=amplitude, phase=phase),)
    return out


@validate_params(
    {
        "n_tasks": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "frequency": [Interval(Real, 0, None, closed="neither")],
        "return_params": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_checkerboard_tasks(
    n_tasks=20, n_samples=60, *, frequency=3.0, return_params=False, random_state=None
):
    """Binary 2-D tasks whose boundary is a checkerboard shifted per task.

    Rows draw ``x ~ U[-1, 1]^2``; task ``t`` draws a phase ``p_t ~
    U[0, 2 pi]^2`` and labels ``y = 1`` where ``sin(frequency * x_1 + p_t1) *
    sin(frequency * x_2 + p_t2) > 0``. The tasks share the *kind* of boundary
    but not its position, so pooling rows across tasks learns nothing, while
    the settings a flexible model needs are shared: ``SVC()``'s defaults
    (``C=1``, ``gamma="scale"``) underfit every task, which is the case a
    learned default is for.

    Parameters
    ----------
    n_tasks : int, default=20
        Number of tasks.
    n_samples : int, default=60
        Rows per task.
    frequency : float, default=3.0
        Cells per unit length times pi; larger is harder.
    return_params : bool, default=False
        Also return a :class:`~sklearn.utils.Bunch` with ``phase`` of shape
        (n_tasks, 2).
    random_state : int, RandomState instance or None, default=None
        Seeds phases and rows.

    Returns
    -------
    X : ndarray of shape (n_tasks * n_samples, 2)
        Points of all tasks, task after task.
    y : ndarray of shape (n_tasks * n_samples,)
        Labels 0 and 1.
    groups : ndarray of shape (n_tasks * n_samples,)
        Task index of each row.
    params : Bunch
        Only with ``return_params=True``: the phases.

    Examples
    --------
    >>> from metasklearn.datasets import make_checkerboard_tasks
    >>> X, y, groups = make_checkerboard_tasks(n_tasks=3, n_samples=5, random_state=0)
    >>> print(X.shape, sorted(set(y.tolist())), groups.tolist())
    (15, 2) [0, 1] [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    """
    rng = check_random_state(random_state)
    phase = rng.uniform(0, 2 * np.pi, size=(n_tasks, 2))
    X = rng.uniform(-1, 1, size=(n_tasks * n_samples, 2))
    y = (np.prod(np.sin(frequency * X + np.repeat(phase, n_samples, axis=0)), axis=1) > 0)
    out = (X, y.astype(int), np.repeat(np.arange(n_tasks), n_samples))
    return out + (Bunch(phase=phase),) if return_params else out


def _task_sizes(n_samples, n_tasks):
    sizes = np.asarray(n_samples)
    if sizes.ndim == 0:
        sizes = np.full(n_tasks, sizes)
    if sizes.shape != (n_tasks,) or sizes.dtype.kind not in "iu" or np.any(sizes < 1):
        raise ValueError(
            "n_samples must be a positive int or an array of n_tasks positive ints "
            f"(one size per task); got {n_samples!r} for n_tasks={n_tasks}."
        )
    return sizes


def _check_prior(prior_mean, prior_cov, n_params):
    # Fixed seed, not random_state: collections drawn with different seeds
    # (meta-train and meta-test, say) must share one prior.
    if prior_mean is None:
        prior_mean = np.random.RandomState(0).standard_normal(n_params)
    mean = np.asarray(prior_mean, dtype=float)
    if mean.shape != (n_params,):
        raise ValueError(
            f"prior_mean must have n_features + 1 = {n_params} entries (intercept "
            f"first, then coefficients); got shape {mean.shape}."
        )
    # Else every task's parameters, and so y, are NaN (all 0 labels for logistic tasks).
    if not np.all(np.isfinite(mean)):
        raise ValueError(f"prior_mean must be finite; got {prior_mean!r}.")
    cov = np.asarray(0.25 if prior_cov is None else prior_cov, dtype=float)
    if cov.ndim == 0:
        cov = cov * np.eye(n_params)
    elif cov.ndim == 1 and cov.shape == (n_params,):
        cov = np.diag(cov)
    if cov.shape != (n_params, n_params):
        raise ValueError(
            f"prior_cov must be a variance, {n_params} variances or a "
            f"({n_params}, {n_params}) matrix; got shape {cov.shape}."
        )
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"prior_cov must be finite; got {prior_cov!r}.")
    scale = max(1.0, np.abs(cov).max())
    if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-10 * scale:
        raise ValueError("prior_cov must be symmetric positive semi-definite.")
    return mean, cov


def _hierarchical_linear(n_tasks, n_samples, n_features, prior_mean, prior_cov, rng):
    """Draw task parameters and inputs; return X, linear predictor, groups, params."""
    sizes = _task_sizes(n_samples, n_tasks)
    mean, cov = _check_prior(prior_mean, prior_cov, n_features + 1)
    theta = rng.multivariate_normal(mean, cov, size=n_tasks, check_valid="ignore")
    groups = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((groups.shape[0], n_features))
    eta = theta[groups, 0] + np.einsum("ij,ij->i", X, theta[groups, 1:])
    params = Bunch(
        intercepts=theta[:, 0], coefs=theta[:, 1:], prior_mean=mean, prior_cov=cov
    )
    return X, eta, groups, params


_HIERARCHICAL_CONSTRAINTS = {
    "n_tasks": [Interval(Integral, 1, None, closed="left")],
    "n_samples": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "n_features": [Interval(Integral, 1, None, closed="left")],
    "prior_mean": ["array-like", None],
    "prior_cov": [Interval(Real, 0, None, closed="left"), "array-like", None],
    "return_params": ["boolean"],
    "random_state": ["random_state"],
}

# Written at column 0 and indented where it goes: Python 3.13 strips the common
# indentation of docstrings when it compiles them, earlier versions do not.
_HIERARCHICAL_PARAMS_DOC = """\
n_tasks : int, default=50
    Number of tasks.
n_samples : int or array-like of shape (n_tasks,), default=20
    Rows per task, the same for all or one size per task.
n_features : int, default=5
    Number of features.
prior_mean : array-like of shape (n_features + 1,), default=None
    Mean of ``theta_t = (intercept, coef_1, ..., coef_p)``. ``None`` is
    ``np.random.RandomState(0).standard_normal(n_features + 1)``, fixed
    whatever ``random_state``, so collections drawn with different seeds
    share one prior.
prior_cov : float, array-like of shape (n_features + 1,) or \
(n_features + 1, n_features + 1), default=None
    Covariance of ``theta_t``: one variance for all, a diagonal, or a full
    positive semi-definite matrix. ``None`` is ``0.25 * I``."""


def _with_shared_params(doc):
    """``doc`` with its ``{params}`` line replaced by the shared parameters, as indented."""
    if doc is None:  # python -OO strips docstrings
        return None
    indent = re.search(r"^([ \t]*)\{params\}$", doc, flags=re.M).group(1)
    return doc.replace(indent + "{params}", textwrap.indent(_HIERARCHICAL_PARAMS_DOC, indent))


@validate_params(
    {**_HIERARCHICAL_CONSTRAINTS, "noise": [Interval(Real, 0, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def make_linear_tasks(
    n_tasks=50,
    n_samples=20,
    n_features=5,
    *,
    prior_mean=None,
    prior_cov=None,
    noise=0.5,
    return_params=False,
    random_state=None,
):
    """Hierarchical linear regression tasks.

    Task ``t`` draws ``theta_t = (intercept_t, coef_t) ~ N(prior_mean,
    prior_cov)``; its rows draw ``x ~ N(0, I)`` and get
    ``y = intercept_t + x @ coef_t + noise * N(0, 1)``.

    Parameters
    ----------
    {params}
    noise : float, default=0.5
        Standard deviation of the Gaussian noise on ``y``.
    return_params : bool, default=False
        Also return the task parameters and the prior.
    random_state : int, RandomState instance or None, default=None
        Controls every draw (not the default prior).

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        Features of all tasks, task after task; ``n_rows`` is the total of
        the task sizes.
    y : ndarray of shape (n_rows,)
        Targets ``intercept_t + x @ coef_t``, plus noise.
    groups : ndarray of shape (n_rows,)
        Task index of each row.
    params : Bunch
        Only if ``return_params``: ``intercepts`` (n_tasks,), ``coefs``
        (n_tasks, n_features), ``prior_mean`` and ``prior_cov`` as used.

    Examples
    --------
    >>> from metasklearn.datasets import make_linear_tasks
    >>> X, y, groups, params = make_linear_tasks(
    ...     n_tasks=4, n_samples=[3, 5, 5, 7], n_features=2,
    ...     return_params=True, random_state=0)
    >>> print(X.shape, y.shape, params.coefs.shape, params.prior_cov.shape)
    (20, 2) (20,) (4, 2) (3, 3)
    """
    rng = check_random_state(random_state)
    X, eta, groups, params = _hierarchical_linear(
        n_tasks, n_samples, n_features, prior_mean, prior_cov, rng
    )
    y = eta + noise * rng.standard_normal(eta.shape[0])
    return (X, y, groups, params) if return_params else (X, y, groups)


@validate_params(_HIERARCHICAL_CONSTRAINTS, prefer_skip_nested_validation=True)
def make_logistic_tasks(
    n_tasks=50,
    n_samples=20,
    n_features=5,
    *,
    prior_mean=None,
    prior_cov=None,
    return_params=False,
    random_state=None,
):
    """Hierarchical logistic regression tasks (binary labels 0/1).

    As :func:`make_linear_tasks`, but each row's label is drawn
    ``y ~ Bernoulli(sigmoid(intercept_t + x @ coef_t))``.

    Parameters
    ----------
    {params}
    return_params : bool, default=False
        Also return the task parameters and the prior.
    random_state : int, RandomState instance or None, default=None
        Controls every draw (not the default prior).

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        Features of all tasks, task after task; ``n_rows`` is the total of
        the task sizes.
    y : ndarray of int of shape (n_rows,)
        Labels 0 and 1.
    groups : ndarray of shape (n_rows,)
        Task index of each row.
    params : Bunch
        Only if ``return_params``; as in :func:`make_linear_tasks`.

    Notes
    -----
    Tasks are returned as drawn: a small task, or one whose intercept is far
    from zero, can hold a single class. A classifier cannot be fitted on such
    a task; check with ``np.unique(y[groups == t])`` and drop or merge it if
    needed.

    Examples
    --------
    >>> from metasklearn.datasets import make_logistic_tasks
    >>> X, y, groups = make_logistic_tasks(n_tasks=3, n_samples=10, random_state=0)
    >>> print(X.shape, sorted(set(y.tolist())))
    (30, 5) [0, 1]
    """
    rng = check_random_state(random_state)
    X, eta, groups, params = _hierarchical_linear(
        n_tasks, n_samples, n_features, prior_mean, prior_cov, rng
    )
    y = (rng.uniform(size=eta.shape[0]) < expit(eta)).astype(np.intp)
    return (X, y, groups, params) if return_params else (X, y, groups)


make_linear_tasks.__doc__ = _with_shared_params(make_linear_tasks.__doc__)
make_logistic_tasks.__doc__ = _with_shared_params(make_logistic_tasks.__doc__)


@validate_params(
    {
        "n_way": [Interval(Integral, 2, None, closed="left")],
        "k_shot": [Interval(Integral, 1, None, closed="left")],
        "n_query": [Interval(Integral, 0, None, closed="left")],
        "n_episodes": [Interval(Integral, 1, None, closed="left")],
        "split": [StrOptions({"train", "test"})],
        "test_classes": ["array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_digits_episodes(
    *,
    n_way=5,
    k_shot=5,
    n_query=15,
    n_episodes=100,
    split="train",
    test_classes=(5, 6, 7, 8, 9),
    random_state=None,
):
    """Few-shot episodes from the 8x8 digits of :func:`~sklearn.datasets.load_digits`.

    The ten digits are split into meta-train classes and ``test_classes``,
    so meta-test episodes only show digits never seen in meta-training.

    Parameters
    ----------
    n_way, k_shot, n_query, n_episodes : int
        As in :func:`metasklearn.tasks.make_episodes`.
    split : {"train", "test"}, default="train"
        Draw from the digits not in ``test_classes`` ("train") or from
        ``test_classes`` ("test").
    test_classes : array-like of int, default=(5, 6, 7, 8, 9)
        Digits held out for meta-testing.
    random_state : int, RandomState instance or None, default=None
        Controls the episodes.

    Returns
    -------
    X : ndarray of shape (n_episodes * n_way * (k_shot + n_query), 64)
        Pixel intensities scaled to [0, 1].
    y : ndarray
        Labels ``0..n_way-1``, relabelled at random in each episode.
    groups : ndarray
        Episode index of each row.

    Examples
    --------
    >>> from metasklearn.datasets import load_digits_episodes
    >>> X, y, groups = load_digits_episodes(
    ...     n_way=3, k_shot=2, n_query=4, n_episodes=5, split="test", random_state=0)
    >>> print(X.shape, X.min(), X.max(), groups.max())
    (90, 64) 0.0 1.0 4
    """
    digits = np.arange(10)
    test_classes = np.unique(np.asarray(test_classes))
    unknown = np.setdiff1d(test_classes, digits)
    if unknown.size:
        raise ValueError(f"test_classes must be digits 0..9; got {unknown.tolist()}.")
    classes = test_classes if split == "test" else np.setdiff1d(digits, test_classes)
    if n_way > classes.shape[0]:
        raise ValueError(
            f"n_way={n_way} but split={split!r} has only {classes.shape[0]} digits "
            f"({classes.tolist()}); lower n_way or change test_classes."
        )
    X, y = load_digits(return_X_y=True)
    return make_episodes(
        X / 16.0,
        y,
        n_way=n_way,
        k_shot=k_shot,
        n_query=n_query,
        n_episodes=n_episodes,
        classes=classes,
        random_state=random_state,
    )
