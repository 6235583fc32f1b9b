"""Portfolio: a few complementary settings, compared on each new task."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _MatrixStrategy, _mean_fit_times
from ._relative import resolve_settings
from ._select import best_of, compare_settings


def greedy_portfolio(normalized, size, *, fit_times=None):
    """Greedily pick settings that leave the least regret on every task.

    The regret of a portfolio on a task is ``1 - normalized`` of its best
    member there. Each step adds the setting that lowers the mean regret
    over tasks most (per second of mean fit time when ``fit_times`` is
    given). Ties, including steps where nothing lowers it any more, go to
    the higher mean normalised score, then to the earlier setting.

    Parameters
    ----------
    normalized : ndarray of shape (n_tasks, n_candidates)
        Per-task normalised scores in [0, 1], 1 the best.
    size : int
        Number of settings to pick, at most ``n_candidates``.
    fit_times : ndarray of shape (n_tasks, n_candidates), default=None
        Seconds per (task, setting): makes the choice time-aware.

    Returns
    -------
    indices : list of int
        Columns of the chosen settings, in the order they were added.
    mean_regret : ndarray of shape (size,)
        Mean over tasks of the portfolio's regret after each step.

    Examples
    --------
    >>> import numpy as np
    >>> from metasklearn.hyperparams import greedy_portfolio
    >>> normalized = np.array([[1.0, 0.0, 0.9], [0.0, 1.0, 0.9]])
    >>> greedy_portfolio(normalized, 2)
    ([2, 0], array([0.1 , 0.05]))
    """
    normalized = np.asarray(normalized, dtype=float)
    n_candidates = normalized.shape[1]
    _check_size(size, n_candidates)
    regret = 1.0 - normalized
    cost = None
    if fit_times is not None:
        cost = _mean_fit_times(np.asarray(fit_times, dtype=float))
        # A setting that failed on every task has no fit time and nothing to offer
        # (normalised 0 everywhere): it goes last. Any other untimed setting is an error.
        useless = ~np.isfinite(cost) & (normalized == 0).all(axis=0)
        if not (np.isfinite(cost) | useless).all():
            raise ValueError(
                "time_aware needs the fit time of every setting on at least one task; "
                "the matrix has settings without any (NaN fit_times)."
            )
        cost = np.where(useless, np.inf, np.maximum(cost, 1e-9))
    mean_normalized = normalized.mean(axis=0)
    current = np.ones(normalized.shape[0])
    chosen, curve = [], []
    for _ in range(size):
        after = np.minimum(current[:, None], regret).mean(axis=0)
        gain = current.mean() - after
        value = gain if cost is None else gain / cost
        value[chosen] = -np.inf
        # Round away float noise so that equal gains tie and the tie-breaks decide.
        value = np.round(value, 12)
        order = np.lexsort((np.arange(n_candidates), -np.round(mean_normalized, 12), -value))
        pick = int(order[0])
        chosen.append(pick)
        current = np.minimum(current, regret[:, pick])
        curve.append(current.mean())
    return chosen, np.array(curve)


def _check_size(size, n_candidates):
    if not 1 <= size <= n_candidates:
        raise ValueError(
            f"A portfolio of size {size} cannot be taken from {n_candidates} candidate "
            "settings; lower size or give more settings."
        )


class Portfolio(_MatrixStrategy):
    """A greedy portfolio of settings; the best member is picked per new task.

    From the tasks x settings :class:`PerformanceMatrix` (scores normalised
    per task), :func:`greedy_portfolio` picks ``size`` settings that
    together leave the least regret over the training tasks (as in
    auto-sklearn 2.0). On a new task, :meth:`select` compares them by
    cross-validation with scikit-learn's
    :class:`~sklearn.model_selection.GridSearchCV` (or
    ``HalvingGridSearchCV``) over single-valued grids; the winner is then
    fitted on all the task's rows by :class:`~metasklearn.MetaEstimator`'s
    ``adapt`` (or :meth:`adapt`).

    ``fit`` takes arrays ``(X, y, groups)``, a list of ``(X, y)`` datasets,
    or a fitted :class:`PerformanceMatrix` in place of ``X``.

    Parameters
    ----------
    param_grid : dict or list of dicts, default=None
        Candidate settings (with the estimator's own values added first).
    param_distributions : dict or list of dicts, default=None
        Distributions to draw ``n_iter`` candidates from.
    n_iter : int, default=10
        Number of settings drawn from ``param_distributions``.
    size : int, default=8
        Number of settings in the portfolio.
    cv : int or cross-validation generator, default=3
        Within-task cross-validation of the performance matrix.
    select_cv : int or cross-validation generator, default=3
        Cross-validation comparing the members on a new task.
    scoring : str or callable, default=None
        Scorer for both; ``None`` uses the estimator's ``score``.
    search : {"grid", "halving"}, default="grid"
        ``"halving"`` races the members by successive halving.
    time_aware : bool, default=False
        Greedy steps maximise regret reduction per second of fit time. The
        times are measured, so the portfolio can differ from run to run
        (and with ``n_jobs``) unless the matrix is given with its times.
    normalize : {"minmax", "rank"}, default="minmax"
        Per-task normalisation of the scores the portfolio is picked from
        (see :meth:`PerformanceMatrix.normalized`).
    error_score : "raise" or float, default=np.nan
        Score of a setting whose fit fails, in the matrix and when the
        members are compared on a new task, with a
        :class:`~sklearn.exceptions.FitFailedWarning`; ``"raise"`` raises the
        error instead.

    Attributes
    ----------
    matrix_ : PerformanceMatrix
    candidates_, tasks_, scores_, fit_times_
        As in :class:`LearnedDefault`.
    portfolio_ : list of dict
        The chosen settings, in greedy order.
    portfolio_indices_ : list of int
        Their columns in ``candidates_``.
    regret_curve_ : ndarray of shape (size,)
        Mean training regret after each greedy step.
    best_index_ : int
        Column in ``candidates_`` of the best single setting by mean
        normalised score (the first member, unless ``time_aware``).
    best_params_ : dict
        That setting: what an init strategy is meta-trained with.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_checkerboard_tasks
    >>> from metasklearn.hyperparams import Portfolio
    >>> X, y, groups = make_checkerboard_tasks(n_tasks=6, n_samples=40, random_state=0)
    >>> grid = {"C": [1.0, 100.0], "gamma": [1.0, 10.0]}
    >>> meta = MetaEstimator(SVC(), hyperparams=Portfolio(grid, size=2), random_state=0)
    >>> meta = meta.fit(X, y, groups=groups)
    >>> len(meta.hyperparams_.portfolio_)
    2
    >>> type(meta.adapt(X[:40], y[:40])).__name__
    'SVC'
    """

    _parameter_constraints = {
        **_MatrixStrategy._parameter_constraints,
        "size": [Interval(Integral, 1, None, closed="left")],
        "select_cv": ["cv_object"],
        "search": [StrOptions({"grid", "halving"})],
        "time_aware": ["boolean"],
    }

    def __init__(
        self,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        size=8,
        cv=3,
        select_cv=3,
        scoring=None,
        search="grid",
        time_aware=False,
        normalize="minmax",
        error_score=np.nan,
    ):
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.size = size
        self.cv = cv
        self.select_cv = select_cv
        self.scoring = scoring
        self.search = search
        self.time_aware = time_aware
        self.normalize = normalize
        self.error_score = error_score

    def fit(self, estimator, X, y=None, groups=None, *, n_jobs=None, random_state=None,
            verbose=0):
        """Build the matrix (unless given) and pick the portfolio greedily.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; candidates are applied with ``set_params``.
        X : array-like of shape (n_samples, n_features), list of (X, y), or PerformanceMatrix
            Rows of all training tasks; or one ``(X, y)`` pair per task; or a
            fitted matrix.
        y : array-like of shape (n_samples,), default=None
            Targets of the rows of an array ``X``; ``None`` with datasets or a matrix.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row of an array ``X`` (``None``: one task); ``None``
            with datasets or a matrix.
        n_jobs : int, default=None
            Parallel (task, setting) evaluations of the matrix through joblib.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws from ``param_distributions``.
        verbose : int, default=0
            Print a progress line, and the portfolio with its training
            regret, when > 0.

        Returns
        -------
        self : Portfolio
            Fitted strategy.
        """
        self._validate_params()
        matrix = self._fit_matrix(estimator, X, y, groups, n_jobs, random_state, verbose)
        normalized = self._store_matrix(matrix)
        times = matrix.fit_times_ if self.time_aware else None
        self.portfolio_indices_, self.regret_curve_ = greedy_portfolio(
            normalized, self.size, fit_times=times
        )
        self.portfolio_ = [dict(self.candidates_[i]) for i in self.portfolio_indices_]
        # Not portfolio_[0]: a time-aware portfolio starts with its cheapest good setting.
        self._keep_mean_best(normalized, X)
        if verbose:
            print(f"[Portfolio] {self.size} settings, training regret "
                  f"{self.regret_curve_[-1]:.3f}: {self.portfolio_}")
        return self

    def _check_candidates(self, candidates):
        _check_size(self.size, len(candidates))

    def compare(self, estimator, X, y):
        """The fitted (not refit) search comparing the members on ``X, y``.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; the members are compared on clones of it.
        X : array-like of shape (n_samples, n_features)
            Rows of the new task.
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        search : GridSearchCV or HalvingGridSearchCV
            Cross-validated by ``select_cv``, with :class:`Scaled` values
            resolved for ``X``. Its ``cv_results_`` has one row per member, in
            portfolio order (with ``search="halving"``, one per member and
            round it reaches).
        """
        check_is_fitted(self, "portfolio_")
        return compare_settings(
            estimator, self.portfolio_, X, y, cv=self.select_cv, scoring=self.scoring,
            search=self.search, error_score=self.error_score, owner="Portfolio",
        )

    def select(self, estimator, X, y):
        """The member with the best cross-validated score on the new task.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; the members are compared on clones of it.
        X : array-like of shape (n_samples, n_features)
            Rows of the new task; the members are compared on them by
            :meth:`compare` (not when the portfolio has one).
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        params : dict
            The winning member, :class:`Scaled` values resolved for ``X``, for
            ``estimator.set_params``.
        """
        check_is_fitted(self, "portfolio_")
        if len(self.portfolio_) == 1:
            return resolve_settings(self.portfolio_[0], X)
        return best_of(self.compare(estimator, X, y), self.portfolio_, X)
