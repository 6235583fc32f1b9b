"""The performance matrix: every candidate setting scored on every training task."""

import warnings
from numbers import Integral, Real

import joblib
import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning, UndefinedMetricWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate
from sklearn.utils import (_safe_indexing, check_array, check_consistent_length, check_X_y,
                           column_or_1d)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from .._validation import check_groups, check_tasks_have_two_classes, task_indices
from ..metafeatures import METAFEATURE_NAMES, _check_numeric_features, compute_metafeatures
from ._relative import resolve_settings
from ._settings import _candidates

_FORMAT = "metasklearn.PerformanceMatrix/1"


class PerformanceMatrix(BaseEstimator):
    """Scores of candidate settings on a collection of tasks (tasks x settings).

    Every candidate setting (a grid, or ``n_iter`` draws from distributions,
    always together with the estimator's own values, listed first) is scored
    on every task by cross-validation *within* the task, in parallel over
    (task, setting) pairs through :mod:`joblib`, so any joblib backend (loky,
    dask, ray) runs it and ``n_jobs`` does not change the result.

    The collection is either ``(X, y, groups)`` (rows concatenated, one task
    id per row) or a list of ``(X, y)`` datasets (or a dict ``{name: (X,
    y)}``) that may differ in feature and class count: only settings are
    learned from it, so the tasks need no shared feature space.

    A matrix computed elsewhere (your own meta-data) enters through
    :meth:`from_scores`; :meth:`save` and :meth:`load` keep one on disk.
    Strategies (:class:`LearnedDefault`, :class:`Portfolio`,
    :class:`NearestTasks`, :class:`SurrogateDefault`) accept a fitted
    matrix in place of ``X``.

    Parameters
    ----------
    estimator : estimator object
        Unfitted base estimator; candidates are applied with ``set_params``.
    param_grid : dict or list of dicts, default=None
        Candidate settings as in :class:`~sklearn.model_selection.GridSearchCV`.
        Give exactly one of ``param_grid`` and ``param_distributions``.
    param_distributions : dict or list of dicts, default=None
        Distributions as in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    n_iter : int, default=10
        Number of settings drawn from ``param_distributions``.
    cv : int or cross-validation generator, default=3
        Within-task cross-validation, resolved per task by
        :func:`~sklearn.model_selection.check_cv` (stratified for classifiers).
    scoring : str or callable, default=None
        Scorer (greater is better); ``None`` uses the estimator's ``score``.
    error_score : "raise" or float, default=np.nan
        Score of a setting that fails on a task, with a
        :class:`~sklearn.exceptions.FitFailedWarning` naming the task.
    metafeatures : bool, default=False
        Also compute each task's meta-features
        (:func:`metasklearn.metafeatures.compute_metafeatures`), which
        :class:`NearestTasks` and :class:`SurrogateDefault` need.
    n_jobs : int, default=None
        Parallel (task, setting) evaluations.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws from ``param_distributions``.
    verbose : int, default=0
        Progress line when > 0.

    Attributes
    ----------
    candidates_ : list of dict
        The settings, the estimator's own values first.
    tasks_ : ndarray of shape (n_tasks,)
        Task ids in the row order of ``scores_``.
    scores_ : ndarray of shape (n_tasks, n_candidates)
        Mean within-task CV score (NaN where the setting failed).
    fit_times_ : ndarray of shape (n_tasks, n_candidates)
        Total fit seconds of each (task, setting) cross-validation.
    meta_features_ : ndarray of shape (n_tasks, n_metafeatures) or None
        Meta-features per task, columns named by ``meta_feature_names_``.
    meta_feature_names_ : list of str or None

    Examples
    --------
    >>> from sklearn.datasets import load_iris, load_wine
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from metasklearn.hyperparams import PerformanceMatrix
    >>> datasets = {"iris": load_iris(return_X_y=True), "wine": load_wine(return_X_y=True)}
    >>> tree = DecisionTreeClassifier(random_state=0)
    >>> pm = PerformanceMatrix(tree, {"max_depth": [1, 3]}).fit(datasets)
    >>> pm.candidates_
    [{'max_depth': None}, {'max_depth': 1}, {'max_depth': 3}]
    >>> pm.tasks_.tolist(), pm.scores_.shape
    (['iris', 'wine'], (2, 3))
    >>> pm.normalized("rank")[0].round(2).tolist()
    [1.0, 0.0, 0.5]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "param_grid": [dict, list, None],
        "param_distributions": [dict, list, None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "error_score": [StrOptions({"raise"}), Real],
        "metafeatures": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        cv=3,
        scoring=None,
        error_score=np.nan,
        metafeatures=False,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.cv = cv
        self.scoring = scoring
        self.error_score = error_score
        self.metafeatures = metafeatures
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None, groups=None):
        """Score every candidate on every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or list or dict of (X, y)
            Rows of all tasks (with ``y`` and ``groups``), or one ``(X, y)``
            pair per task (then ``y`` and ``groups`` must be ``None``).
        y : array-like of shape (n_samples,), default=None
            Targets of the rows of an array ``X``.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row; ``None`` means one task.

        Returns
        -------
        self : PerformanceMatrix
            Fitted matrix.
        """
        self._validate_params()
        # A misspelt scorer would otherwise fail every setting, one warning at a time.
        check_scoring(self.estimator, self.scoring)
        tasks, datasets = _as_datasets(X, y, groups)
        self.candidates_ = _candidates(
            self.estimator, self.param_grid, self.param_distributions, self.n_iter,
            self.random_state, type(self).__name__,
        )
        for task, (X_task, y_task) in zip(tasks.tolist(), datasets):
            if is_classifier(self.estimator):
                # One class: every setting fails, or all tie and the task says nothing.
                # First: it is the cause, whatever the folds then lack.
                check_tasks_have_two_classes(y_task, _task_ids([task]),
                                             [np.arange(y_task.shape[0])])
            _check_task_size(self.estimator, self.cv, task, y_task)
            if self.metafeatures:
                # Before the many cross-validations, not after them.
                _check_numeric_features(X_task)
        if self.verbose:
            print(
                f"[{type(self).__name__}] {len(self.candidates_)} settings x {len(tasks)} "
                f"tasks = {len(self.candidates_) * len(tasks)} within-task CVs"
            )
        parallel = Parallel(n_jobs=self.n_jobs, verbose=max(self.verbose - 1, 0))
        results = parallel(
            delayed(_score_setting)(
                clone(self.estimator).set_params(**resolve_settings(params, X_task)),
                X_task, y_task, self.cv,
                self.scoring, self.error_score, task,
            )
            for task, (X_task, y_task) in zip(tasks.tolist(), datasets)
            for params in self.candidates_
        )
        # Warned here, not in the workers: a process-based backend would print a
        # worker's warnings to its stderr, out of the caller's reach.
        for _, _, failure, _ in results:
            if failure is not None:
                warnings.warn(failure, FitFailedWarning)
        _warn_undefined_scores(results, tasks, len(self.candidates_))
        shape = (len(tasks), len(self.candidates_))
        self.tasks_ = tasks
        self.scores_ = np.array([r[0] for r in results], dtype=float).reshape(shape)
        self.fit_times_ = np.array([r[1] for r in results], dtype=float).reshape(shape)
        self.meta_features_, self.meta_feature_names_ = None, None
        if self.metafeatures:
            target = _target_kind(self.estimator)
            rows = parallel(delayed(compute_metafeatures)(X_t, y_t, classification=target)
                            for X_t, y_t in datasets)
            self.meta_features_ = np.array([list(row.values()) for row in rows], dtype=float)
            self.meta_feature_names_ = list(METAFEATURE_NAMES)
        return self

    @classmethod
    def from_scores(cls, scores, candidates, *, tasks=None, fit_times=None, meta_features=None,
                    meta_feature_names=None):
        """A fitted matrix from scores computed elsewhere (your own meta-data).

        Parameters
        ----------
        scores : array-like of shape (n_tasks, n_candidates)
            Greater is better; NaN marks a setting that failed on a task.
        candidates : list of dict
            The setting of each column.
        tasks : array-like of shape (n_tasks,), default=None
            Task ids; ``None`` numbers them from 0.
        fit_times : array-like of shape (n_tasks, n_candidates), default=None
            Seconds per (task, setting); ``None`` fills NaN (unknown).
        meta_features : array-like of shape (n_tasks, n_metafeatures), default=None
            Needed by :class:`NearestTasks` and :class:`SurrogateDefault`,
            which compare them with a new task's: the values of
            :func:`~metasklearn.metafeatures.compute_metafeatures`, in its order.
        meta_feature_names : list of str, default=None
            One name per column of ``meta_features`` (and only with them).
            ``None`` names them ``f0``, ``f1``...; the two strategies accept
            that, or the names ``METAFEATURE_NAMES``, and refuse any others.

        Returns
        -------
        matrix : PerformanceMatrix
            Fitted; its ``estimator`` is ``None``.
        """
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 2:
            raise ValueError(f"scores must be 2-D (tasks x settings), got shape {scores.shape}.")
        candidates = [dict(params) for params in candidates]
        if len(candidates) != scores.shape[1]:
            raise ValueError(
                f"scores has {scores.shape[1]} columns but {len(candidates)} candidates were "
                "given; pass one setting (a dict) per column."
            )
        if tasks is None:
            tasks = np.arange(scores.shape[0])
        elif not isinstance(tasks, np.ndarray):
            tasks = _task_ids(list(tasks))
        # A set, not np.unique: ids of mixed types (0 and "b") do not sort.
        if tasks.shape != (scores.shape[0],) or len(set(tasks.tolist())) != tasks.shape[0]:
            raise ValueError(
                f"tasks must hold {scores.shape[0]} distinct ids, one per row of scores."
            )
        fit_times = (np.full(scores.shape, np.nan) if fit_times is None
                     else np.asarray(fit_times, dtype=float))
        if fit_times.shape != scores.shape:
            raise ValueError(
                f"fit_times has shape {fit_times.shape}; it must match scores {scores.shape}."
            )
        matrix = cls(None)
        matrix.candidates_, matrix.tasks_ = candidates, tasks
        matrix.scores_, matrix.fit_times_ = scores, fit_times
        matrix.meta_features_, matrix.meta_feature_names_ = None, None
        if meta_features is not None:
            meta_features = np.asarray(meta_features, dtype=float)
            if meta_features.ndim != 2 or meta_features.shape[0] != scores.shape[0]:
                raise ValueError(
                    f"meta_features must have one row per task ({scores.shape[0]}), got "
                    f"shape {meta_features.shape}."
                )
            names = ([f"f{i}" for i in range(meta_features.shape[1])]
                     if meta_feature_names is None else list(meta_feature_names))
            if len(names) != meta_features.shape[1]:
                raise ValueError(
                    f"meta_feature_names has {len(names)} names but meta_features has "
                    f"{meta_features.shape[1]} columns; give one name per column."
                )
            matrix.meta_features_, matrix.meta_feature_names_ = meta_features, names
        elif meta_feature_names is not None:
            raise ValueError(
                "meta_feature_names was given without meta_features; pass the meta-features "
                "they name, or leave both out."
            )
        return matrix

    def normalized(self, method="minmax"):
        """Scores scaled per task to [0, 1] (1 = best setting on that task).

        Parameters
        ----------
        method : {"minmax", "rank"}, default="minmax"
            ``"minmax"``: (score - worst) / (best - worst); ``"rank"``: the
            average rank of the setting among the task's settings, scaled
            to [0, 1]. A failed setting (NaN, or an infinite score) gets 0;
            a task on which all settings tie gives them all 1.

        Returns
        -------
        normalized : ndarray of shape (n_tasks, n_candidates)
            Normalised scores, in the layout of ``scores_``.
        """
        check_is_fitted(self, "scores_")
        # from_scores or load: no fits of this object to blame
        given = self.estimator is None
        if method == "minmax":
            return _normalize_per_task(self.scores_, self.tasks_, given)
        if method == "rank":
            return _rank_per_task(self.scores_, self.tasks_, given)
        raise ValueError(f"method must be 'minmax' or 'rank', got {method!r}.")

    def drop_tasks(self, tasks):
        """A copy without the given tasks (for leave-one-task-out evaluation).

        Parameters
        ----------
        tasks : list of task ids
            Ids (from ``tasks_``) of the tasks to leave out.

        Returns
        -------
        matrix : PerformanceMatrix
            Fitted copy holding the other tasks.
        """
        check_is_fitted(self, "scores_")
        tasks = list(tasks)
        known = self.tasks_.tolist()
        # Each id as tolist() gives it, so that ids taken from tasks_ itself are found:
        # a set finds np.datetime64('2020-01-01') by hash, unlike the date tolist() holds.
        given = [task.item() if isinstance(task, np.generic) else task for task in tasks]
        # Sets: a test against the list of all tasks for each id made dropping k of n
        # tasks cost k * n comparisons. The matrix's ids are hashable (from_scores checks).
        try:
            known_set, dropped = set(known), set(given)
        except TypeError:  # an unhashable id given (a 0-d array): one by one, as it compares
            known_set, dropped = known, given
        unknown = [task for task, as_listed in zip(tasks, given) if as_listed not in known_set]
        if unknown:
            raise ValueError(f"Unknown task ids {unknown}; the matrix has {known}.")
        # Not np.isin: it would read tuple ids as rows of a 2-D array.
        keep = np.array([task not in dropped for task in known], dtype=bool)
        return self._subset(keep)

    def _subset(self, keep):
        out = clone(self) if self.estimator is not None else type(self)(None)
        out.candidates_ = [dict(params) for params in self.candidates_]
        out.tasks_, out.scores_, out.fit_times_ = (
            self.tasks_[keep], self.scores_[keep], self.fit_times_[keep]
        )
        out.meta_feature_names_ = self.meta_feature_names_
        out.meta_features_ = None if self.meta_features_ is None else self.meta_features_[keep]
        return out

    def save(self, path):
        """Write the fitted matrix to ``path`` (a joblib pickle: load only files you trust).

        Parameters
        ----------
        path : str, path-like or file object
            Where to write, as for :func:`joblib.dump`.
        """
        check_is_fitted(self, "scores_")
        state = {
            "format": _FORMAT, "candidates": self.candidates_, "tasks": self.tasks_,
            "scores": self.scores_, "fit_times": self.fit_times_,
            "meta_features": self.meta_features_, "meta_feature_names": self.meta_feature_names_,
        }
        joblib.dump(state, path)

    @classmethod
    def load(cls, path):
        """Read a matrix written by :meth:`save`; its ``estimator`` is ``None``.

        Parameters
        ----------
        path : str, path-like or file object
            What to read, as for :func:`joblib.load`.

        Returns
        -------
        matrix : PerformanceMatrix
            Fitted matrix.
        """
        state = joblib.load(path)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"{path!r} is not a file written by PerformanceMatrix.save.")
        return cls.from_scores(
            state["scores"], state["candidates"], tasks=state["tasks"],
            fit_times=state["fit_times"], meta_features=state["meta_features"],
            meta_feature_names=state["meta_feature_names"],
        )


def _as_datasets(X, y, groups):
    """``(task_ids, [(X_task, y_task), ...])`` from either collection format."""
    if isinstance(X, (list, tuple, dict)):
        if y is not None or groups is not None:
            raise ValueError(
                "Got a list of (X, y) datasets together with y or groups; pass either the "
                "datasets alone or arrays X, y, groups."
            )
        items = list(X.items()) if isinstance(X, dict) else list(enumerate(X))
        if not items:
            raise ValueError("The collection of datasets is empty.")
        datasets = []
        for task, pair in items:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ValueError(
                    f"Dataset {task!r} must be a pair (X, y), got {type(pair).__name__}."
                )
            datasets.append(_check_rows(*pair))
        return _task_ids([task for task, _ in items]), datasets
    if y is None:
        raise ValueError("y is required with an array X; or pass a list of (X, y) datasets.")
    X, y = _check_rows(X, y)
    groups = check_groups(groups, y.shape[0])
    tasks, indices = task_indices(groups)
    return tasks, [(_safe_indexing(X, idx), y[idx]) for idx in indices]


def _task_ids(ids):
    """A 1-D array of the ids ``ids`` (a list), each kept as it is."""
    try:
        tasks = np.array(ids)
    except ValueError:  # tuples of several lengths, or a tuple beside a str: ragged
        tasks = None
    if tasks is None or tasks.ndim != 1 or tasks.tolist() != ids:
        # numpy would turn {0: ..., "b": ...} into the strings "0" and "b", and the
        # tuple ids of {("uci", 1): ...} into the rows of a 2-D array.
        tasks = np.empty(len(ids), dtype=object)
        for i, task in enumerate(ids):
            tasks[i] = task
    return tasks


def _target_kind(estimator):
    """``classification`` for :func:`compute_metafeatures`: from the estimator where it
    says (a regressor's target of whole numbers is not labels), else from ``y``."""
    if is_classifier(estimator):
        return True
    return False if is_regressor(estimator) else None


def _check_rows(X, y):
    """``X, y`` with matching rows; X's values are left to the estimator to validate.

    A DataFrame stays one (a Pipeline may pick its columns by name), and
    text stays text (an encoder step may take it).
    """
    if hasattr(X, "iloc"):
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False,
                                     input_name="y"))
        check_consistent_length(X, y)
        return X, y
    return check_X_y(X, y, accept_sparse=["csr", "csc"], dtype=None, ensure_all_finite=False)


# Standalone, the parameter is cv; through MetaEstimator, hyperparams__cv.
_CV_EXAMPLE = "for example cv=2, or hyperparams__cv=2 through MetaEstimator"


def _check_task_size(estimator, cv, task, y_task):
    # LeaveOneOut and friends count their splits from the rows.
    splitter = check_cv(cv, y_task, classifier=is_classifier(estimator))
    n_splits = splitter.get_n_splits(np.empty((y_task.shape[0], 0)), y_task)
    fix = f"Use a smaller cv ({_CV_EXAMPLE}) or drop or merge the small task."
    if y_task.shape[0] < n_splits:
        raise ValueError(
            f"Task {task!r} has {y_task.shape[0]} rows, fewer than the {n_splits} "
            f"folds of the within-task cross-validation. {fix}"
        )
    largest = stratified_shortfall(splitter, y_task, n_splits)
    if largest is not None:
        raise ValueError(
            f"Task {task!r} has no class with {n_splits} rows (the largest has "
            f"{largest}), so the stratified {n_splits}-fold within-task "
            f"cross-validation cannot split it. {fix}"
        )


def stratified_shortfall(splitter, y, n_splits):
    """The largest class's row count if ``splitter`` is stratified and no class of ``y``
    has ``n_splits`` rows (where ``StratifiedKFold`` itself gives up), else None."""
    if isinstance(splitter, StratifiedKFold):
        counts = np.unique(y, return_counts=True)[1]
        if (counts < n_splits).all():
            return int(counts.max())
    return None


def _score_setting(estimator, X, y, cv, scoring, error_score, task):
    """Mean within-task CV score, total fit time, failure message and undefined-score note.

    The note is the smallest test fold's row count when every fit succeeded
    but the score is not finite (R² on a one-row fold), else ``None``.
    """
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    try:
        result = cross_validate(estimator, X, y, cv=cv, scoring=scoring, error_score="raise",
                                return_indices=True)
    except Exception as exc:
        if error_score == "raise":
            raise
        # One failing fold fails the setting on this task: its mean would be NaN anyway.
        failure = (f"{estimator!r} failed on task {task!r} and scores {error_score}: "
                   f"{type(exc).__name__}: {exc}")
        return float(error_score), np.nan, failure, None
    score = float(np.mean(result["test_score"]))
    undefined = None
    if not np.isfinite(score):
        undefined = min(len(test) for test in result["indices"]["test"])
    return score, float(np.sum(result["fit_time"])), None, undefined


def undefined_score_reason(smallest_fold, cv_name):
    """Why every fit succeeded and the score is still NaN, and what to change."""
    if smallest_fold < 2:
        return (f"the scoring is undefined on test folds of {smallest_fold} row (R² needs at "
                f"least 2). Use fewer folds ({cv_name}), a scoring defined on a single row, "
                "or give the task more rows")
    return (f"the scoring returned NaN or infinity on test folds of {smallest_fold} rows; "
            "check that the scoring suits the estimator and the targets")


def _warn_undefined_scores(results, tasks, n_candidates):
    """One warning per task on which some settings fitted but scored NaN or infinity."""
    for i, task in enumerate(tasks.tolist()):
        rows = [r[3] for r in results[i * n_candidates:(i + 1) * n_candidates]
                if r[3] is not None]
        if rows:
            warnings.warn(
                f"{len(rows)} of {n_candidates} settings fitted on task {task!r} but their "
                f"score is not finite: "
                f"{undefined_score_reason(min(rows), _CV_EXAMPLE)}.",
                UndefinedMetricWarning,
            )


def _failed(scores):
    # An infinite mean score (a -inf log-likelihood, say) cannot be scaled with the
    # others; like NaN it marks a setting that failed on the task.
    return ~np.isfinite(scores)


def _check_no_failed_task(scores, tasks, given):
    failed = _failed(scores).all(axis=1)
    if not failed.any():
        return
    task = tasks[failed].tolist()[0]
    if given:
        raise ValueError(
            f"Every score of task {task!r} in this matrix (given to from_scores, or loaded) "
            f"is NaN or infinite, so nothing can be learned from it; leave it out with "
            f"drop_tasks([{task!r}]) or fill in its scores."
        )
    raise ValueError(
        f"Every candidate setting failed or scored NaN on task {task!r}. The warnings "
        "raised while the matrix was built say why: a FitFailedWarning for a failed fit "
        "(error_score='raise', hyperparams__error_score through MetaEstimator, raises the "
        "first instead), an UndefinedMetricWarning for a score undefined on small test "
        f"folds. Fix that, or leave the task out: drop_tasks([{task!r}]) on a fitted "
        "matrix, or drop its rows before MetaEstimator.fit."
    )


def _normalize_per_task(scores, tasks, given=False):
    """Min-max scale each task's row; a failed (NaN or infinite) setting gets 0, the worst."""
    _check_no_failed_task(scores, tasks, given)
    failed = _failed(scores)
    finite = np.where(failed, np.nan, scores)
    low = np.nanmin(finite, axis=1, keepdims=True)
    high = np.nanmax(finite, axis=1, keepdims=True)
    span = high - low
    # A task on which every setting scores the same says nothing about which is best.
    normalized = np.divide(finite - low, span, out=np.ones_like(scores), where=span > 0)
    normalized[failed] = 0.0
    return normalized


def _rank_per_task(scores, tasks, given=False):
    """Average rank within each task scaled to [0, 1]; a failed setting gets 0."""
    _check_no_failed_task(scores, tasks, given)
    failed = _failed(scores)
    filled = np.where(failed, -np.inf, scores)
    ranks = rankdata(filled, method="average", axis=1) - 1.0
    top = ranks.max(axis=1, keepdims=True)
    normalized = np.divide(ranks, top, out=np.ones_like(ranks), where=top > 0)
    normalized[failed] = 0.0
    return normalized
