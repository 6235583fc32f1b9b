"""LearnedDefault: one setting that works best across the training tasks."""

import difflib
import warnings
from numbers import Integral

import joblib
import numpy as np
from sklearn.utils.parallel import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv, cross_validate
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._validation import task_indices
from ._base import BaseHyperparams


class LearnedDefault(BaseHyperparams):
    """Learn a single default setting from a collection of tasks.

    Every candidate setting (a grid, or ``n_iter`` draws from
    distributions, always together with the estimator's own values) is
    scored on every training task by cross-validation *within* the task, in
    parallel over (task, setting) pairs. Scores are min-max normalised per
    task, so tasks that are easy or hard for every setting weigh the same,
    and the setting with the best mean (or median) normalised score wins.
    Ties go to the estimator's own values, then to the earlier candidate.

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
    error_score : "raise" or float, default=np.nan
        Score of a setting whose fit fails in any fold of a task, with a
        :class:`~sklearn.exceptions.FitFailedWarning` naming the task and the
        error; ``"raise"`` raises it instead. A failed (NaN) score counts as
        the worst on that task; a task on which every setting fails raises an
        error.

    Attributes
    ----------
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
        One row per candidate: ``params``, ``mean_normalized_score``,
        ``rank_normalized_score``, ``mean_score`` and one ``task_<id>_score``
        column per task. ``pandas.DataFrame(cv_results_)`` gives the table.
    best_index_ : int
        Index of the chosen setting in ``candidates_``.
    best_params_ : dict
        The chosen setting.

    See Also
    --------
    metasklearn.MetaEstimator : Uses this strategy through ``hyperparams=``.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_logistic_tasks
    >>> from metasklearn.hyperparams import LearnedDefault
    >>> X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=30, random_state=0)
    >>> meta = MetaEstimator(SVC(), hyperparams=LearnedDefault({"C": [0.1, 1, 10]}),
    ...                      random_state=0).fit(X, y, groups=groups)
    >>> meta.hyperparams_.scores_.shape
    (6, 3)
    >>> sorted(meta.best_params_)
    ['C']
    """

    _parameter_constraints = {
        "param_grid": [dict, list, None],
        "param_distributions": [dict, list, None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "aggregate": [StrOptions({"mean", "median"})],
        "error_score": [StrOptions({"raise"}), float, Integral],
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
        error_score=np.nan,
    ):
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.cv = cv
        self.scoring = scoring
        self.aggregate = aggregate
        self.error_score = error_score

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        """Score every candidate on every task and keep the best setting.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; candidates are applied with ``set_params``.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,)
            Task id of each row.
        n_jobs : int, default=None
            Parallel (task, setting) evaluations through joblib.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws from ``param_distributions``.
        verbose : int, default=0
            Print a progress line when > 0.

        Returns
        -------
        self : LearnedDefault
        """
        self._validate_params()
        self.candidates_ = self._candidates(estimator, random_state)
        self.tasks_, indices = task_indices(groups)
        for task, idx in zip(self.tasks_.tolist(), indices):
            self._check_task_size(estimator, task, y[idx])
        if verbose:
            print(
                f"[LearnedDefault] {len(self.candidates_)} settings x {len(self.tasks_)} "
                f"tasks = {len(self.candidates_) * len(self.tasks_)} within-task CVs"
            )
        results = Parallel(n_jobs=n_jobs, verbose=max(verbose - 1, 0))(
            delayed(_score_setting)(
                clone(estimator).set_params(**params), X[idx], y[idx], self.cv,
                self.scoring, self.error_score, task,
            )
            for task, idx in zip(self.tasks_.tolist(), indices)
            for params in self.candidates_
        )
        shape = (len(self.tasks_), len(self.candidates_))
        self.scores_ = np.array([score for score, _ in results]).reshape(shape)
        self.fit_times_ = np.array([time for _, time in results]).reshape(shape)
        normalized = _normalize_per_task(self.scores_, self.tasks_)
        combine = np.mean if self.aggregate == "mean" else np.median
        aggregated = combine(normalized, axis=0)
        self.best_index_ = int(np.argmax(aggregated))
        self.best_params_ = dict(self.candidates_[self.best_index_])
        self.cv_results_ = self._results_table(aggregated)
        return self

    def _candidates(self, estimator, random_state):
        if (self.param_grid is None) == (self.param_distributions is None):
            raise ValueError(
                "LearnedDefault needs exactly one of param_grid (settings to try) and "
                "param_distributions (distributions to draw n_iter settings from)."
            )
        if self.param_grid is not None:
            candidates = list(ParameterGrid(self.param_grid))
        else:
            candidates = list(
                ParameterSampler(
                    self.param_distributions, self.n_iter,
                    random_state=check_random_state(random_state),
                )
            )
        own = estimator.get_params()
        names = sorted({name for params in candidates for name in params})
        for name in names:
            if name not in own:
                close = difflib.get_close_matches(name, own, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"LearnedDefault was given the setting {name!r}, which "
                    f"{type(estimator).__name__} does not have.{hint} Valid names are "
                    "listed by estimator.get_params()."
                )
        defaults = {name: own[name] for name in names}
        # The estimator's own values go first so that ties keep them.
        others = [params for params in candidates if not _same_setting(params, defaults)]
        return [defaults] + others

    def _check_task_size(self, estimator, task, y_task):
        n_splits = check_cv(self.cv, y_task, classifier=is_classifier(estimator)).get_n_splits()
        if y_task.shape[0] < n_splits:
            raise ValueError(
                f"Task {task!r} has {y_task.shape[0]} rows, fewer than the {n_splits} "
                "folds of LearnedDefault's within-task cross-validation. Use a smaller "
                "cv (for example hyperparams__cv=2) or drop or merge the small task."
            )

    def _results_table(self, aggregated):
        results = {"params": list(self.candidates_)}
        names = sorted({name for params in self.candidates_ for name in params})
        for name in names:
            column = np.ma.masked_all(len(self.candidates_), dtype=object)
            for i, params in enumerate(self.candidates_):
                if name in params:
                    column[i] = params[name]
            results[f"param_{name}"] = column
        results["mean_normalized_score"] = aggregated
        order = np.argsort(-aggregated, kind="stable")
        ranks = np.empty(len(order), dtype=np.int32)
        ranks[order] = np.arange(1, len(order) + 1)
        results["rank_normalized_score"] = ranks
        # Mean over the tasks where the setting did not fail (NaN if it failed on all).
        results["mean_score"] = np.ma.masked_invalid(self.scores_).mean(axis=0).filled(np.nan)
        for task, row in zip(self.tasks_.tolist(), self.scores_):
            results[f"task_{task}_score"] = row
        return results


def _same_setting(a, b):
    """Whether two settings are equal; ``1 == 1.0``, arrays compared by content."""
    if a.keys() != b.keys():
        return False
    for name in a:
        try:
            if not bool(a[name] == b[name]):
                return False
        except (TypeError, ValueError):
            if joblib.hash(a[name]) != joblib.hash(b[name]):
                return False
    return True


def _score_setting(estimator, X, y, cv, scoring, error_score, task):
    """Mean within-task CV score and total fit time of one (task, setting)."""
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    try:
        result = cross_validate(estimator, X, y, cv=cv, scoring=scoring, error_score="raise")
    except Exception as exc:
        if error_score == "raise":
            raise
        # One failing fold fails the setting on this task: its mean would be NaN anyway.
        warnings.warn(
            f"{estimator!r} failed on task {task!r} and scores {error_score}: "
            f"{type(exc).__name__}: {exc}",
            FitFailedWarning,
        )
        return float(error_score), np.nan
    return float(np.mean(result["test_score"])), float(np.sum(result["fit_time"]))


def _normalize_per_task(scores, tasks):
    """Min-max scale each task's row; a failed (NaN) setting gets 0, the worst."""
    low = np.nanmin(np.where(np.isnan(scores), np.inf, scores), axis=1, keepdims=True)
    high = np.nanmax(np.where(np.isnan(scores), -np.inf, scores), axis=1, keepdims=True)
    failed = ~np.isfinite(low[:, 0])
    if failed.any():
        raise ValueError(
            f"Every candidate setting failed on task {tasks[failed].tolist()[0]!r}. Set "
            "hyperparams__error_score='raise' to see the error."
        )
    span = high - low
    # A task on which every setting scores the same says nothing about which is best.
    normalized = np.divide(scores - low, span, out=np.ones_like(scores), where=span > 0)
    normalized[np.isnan(scores)] = 0.0
    return normalized
