"""LearnedDefault: one setting that works best across the training tasks."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _MatrixStrategy
from ._relative import resolve_settings


class LearnedDefault(_MatrixStrategy):
    """Learn a single default setting from a collection of tasks.

    Every candidate setting (a grid, or ``n_iter`` draws from
    distributions, always together with the estimator's own values) is
    scored on every training task by cross-validation *within* the task, in
    parallel over (task, setting) pairs. Scores are min-max normalised per
    task, so tasks that are easy or hard for every setting weigh the same,
    and the setting with the best mean (or median) normalised score wins.
    Ties go to the estimator's own values, then to the earlier candidate.

    ``fit`` also takes a list of ``(X, y)`` datasets (tasks that differ in
    feature count), or a fitted :class:`PerformanceMatrix` in place of
    ``X`` (then ``param_grid`` and ``param_distributions`` stay ``None``).

    Parameters
    ----------
    param_grid : dict or list of dicts, default=None
        Candidate settings as in :class:`~sklearn.model_selection.GridSearchCV`.
        Give exactly one of ``param_grid`` and ``param_distributions``.
    param_distributions : dict or list of dicts, default=None
        Distributions as in
        :class:`~sklearn.model_selection.RandomizedSearchCV`; ``n_iter``
        settings are drawn with the ``random_state`` of the
        :class:`~metasklearn.MetaEstimator`.
    n_iter : int, default=10
        Number of settings drawn from ``param_distributions``.
    cv : int or cross-validation generator, default=3
        Within-task cross-validation, resolved per task by
        :func:`~sklearn.model_selection.check_cv` (stratified for classifiers).
        Every task needs at least as many rows as folds.
    scoring : str or callable, default=None
        Scorer (greater is better); ``None`` uses the estimator's ``score``.
    aggregate : {"mean", "median"}, default="mean"
        How normalised scores are combined over tasks.
    normalize : {"minmax", "rank"}, default="minmax"
        Per-task normalisation of the scores (see
        :meth:`PerformanceMatrix.normalized`).
    error_score : "raise" or float, default=np.nan
        Score of a setting whose fit fails in any fold of a task, with a
        :class:`~sklearn.exceptions.FitFailedWarning` naming the task and the
        error; ``"raise"`` raises it instead. A failed (NaN) score counts as
        the worst on that task; a task on which every setting fails raises an
        error.

    Attributes
    ----------
    matrix_ : PerformanceMatrix
        The tasks x settings scores learned from.
    candidates_ : list of dict
        The settings compared; the estimator's own values come first (once,
        also when the grid contains them).
    tasks_ : ndarray of shape (n_tasks,)
        Training task ids, in the row order of ``scores_``.
    scores_ : ndarray of shape (n_tasks, n_candidates)
        Mean within-task CV score of each setting on each task.
    fit_times_ : ndarray of shape (n_tasks, n_candidates)
        Total fit time in seconds of each (task, setting) cross-validation
        (NaN where the setting failed).
    cv_results_ : dict of arrays
        One row per candidate: ``params``, ``mean_normalized_score`` (and
        ``median_normalized_score`` with ``aggregate="median"``),
        ``rank_normalized_score`` (by the aggregate chosen), ``mean_score``
        and one ``task_<id>_score`` column per task.
        ``pandas.DataFrame(cv_results_)`` gives the table.
    best_index_ : int
        Index of the chosen setting in ``candidates_``.
    best_params_ : dict
        The chosen setting; :class:`Scaled` values in it are resolved on the
        training rows when they are one array (``select`` resolves them on
        each new task).

    See Also
    --------
    metasklearn.MetaEstimator : Uses this strategy through ``hyperparams=``.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_checkerboard_tasks
    >>> from metasklearn.hyperparams import LearnedDefault
    >>> X, y, groups = make_checkerboard_tasks(n_tasks=6, n_samples=40, random_state=0)
    >>> meta = MetaEstimator(SVC(), hyperparams=LearnedDefault({"C": [0.1, 10, 100]}),
    ...                      random_state=0).fit(X, y, groups=groups)
    >>> meta.hyperparams_.scores_.shape  # 6 tasks x (SVC's own C=1.0 and the grid)
    (6, 4)
    >>> meta.hyperparams_.cv_results_["mean_normalized_score"].round(2)
    array([0.74, 0.  , 0.97, 0.96])
    >>> meta.best_params_
    {'C': 10}
    """

    _parameter_constraints = {
        **_MatrixStrategy._parameter_constraints,
        "aggregate": [StrOptions({"mean", "median"})],
    }

    def __init__(
        self,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        cv=3,
        scoring=None,
        aggregate="mean",
        normalize="minmax",
        error_score=np.nan,
    ):
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.cv = cv
        self.scoring = scoring
        self.aggregate = aggregate
        self.normalize = normalize
        self.error_score = error_score

    def fit(self, estimator, X, y=None, groups=None, *, n_jobs=None, random_state=None,
            verbose=0):
        """Score every candidate on every task and keep the best setting.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; candidates are applied with ``set_params``.
        X : array-like of shape (n_samples, n_features), list of (X, y), or PerformanceMatrix
            Rows of all tasks; or one ``(X, y)`` pair per task; or a fitted matrix.
        y : array-like of shape (n_samples,), default=None
            Targets of the rows of an array ``X``; ``None`` with datasets or a matrix.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row of an array ``X`` (``None``: one task); ``None``
            with datasets or a matrix.
        n_jobs : int, default=None
            Parallel (task, setting) evaluations through joblib.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws from ``param_distributions``.
        verbose : int, default=0
            Print a progress line when > 0.

        Returns
        -------
        self : LearnedDefault
            Fitted strategy.
        """
        self._validate_params()
        matrix = self._fit_matrix(estimator, X, y, groups, n_jobs, random_state, verbose)
        normalized = self._store_matrix(matrix)
        self.cv_results_ = _results_table(self.candidates_, self.tasks_, self.scores_,
                                          normalized, self.aggregate)
        aggregated = self.cv_results_[f"{self.aggregate}_normalized_score"]
        self.best_index_ = int(np.argmax(aggregated))
        self.best_params_ = self._concrete(self.candidates_[self.best_index_], X)
        return self

    def select(self, estimator, X, y):
        """The learned setting, with :class:`Scaled` values resolved for ``X``.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator the setting is for; not used (every task
            gets the same setting).
        X : array-like of shape (n_samples, n_features)
            Rows of the new task, on which :class:`Scaled` values are resolved.
        y : array-like of shape (n_samples,)
            Targets of the new task; not used.

        Returns
        -------
        params : dict
            Settings for ``estimator.set_params``.
        """
        check_is_fitted(self, "best_index_")
        return resolve_settings(self.candidates_[self.best_index_], X)


def _results_table(candidates, tasks, scores, normalized, aggregate):
    """One row per setting, as ``cv_results_`` of a search (``pandas.DataFrame``-ready)."""
    results = {"params": list(candidates)}
    names = sorted({name for params in candidates for name in params})
    for name in names:
        column = np.ma.masked_all(len(candidates), dtype=object)
        for i, params in enumerate(candidates):
            if name in params:
                column[i] = params[name]
        results[f"param_{name}"] = column
    results["mean_normalized_score"] = normalized.mean(axis=0)
    if aggregate == "median":
        results["median_normalized_score"] = np.median(normalized, axis=0)
    # Ranked by what the setting was chosen by.
    aggregated = results[f"{aggregate}_normalized_score"]
    order = np.argsort(-aggregated, kind="stable")
    ranks = np.empty(len(order), dtype=np.int32)
    ranks[order] = np.arange(1, len(order) + 1)
    results["rank_normalized_score"] = ranks
    # Mean over the tasks where the setting did not fail (NaN if it failed on all).
    results["mean_score"] = np.ma.masked_invalid(scores).mean(axis=0).filled(np.nan)
    for task, row in zip(tasks.tolist(), scores):
        results[f"task_{task}_score"] = row
    return results
