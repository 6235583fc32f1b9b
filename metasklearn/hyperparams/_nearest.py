"""NearestTasks: the best settings of the training tasks that look most like the new one."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _MatrixStrategy
from ._relative import resolve_settings
from ._settings import _same_setting
from ._select import best_of, compare_settings


class NearestTasks(_MatrixStrategy):
    """Settings that won on the training tasks most similar to the new one.

    Every training task is described by cheap meta-features
    (:mod:`metasklearn.metafeatures`), min-max scaled over the training
    tasks. A new task is described the same way and its ``n_neighbors``
    nearest training tasks found by L1 distance (auto-sklearn 1.0's
    warm start; ``n_neighbors=1`` is FLAML's zero-shot choice). The best
    setting of each neighbour is a candidate; distinct candidates are
    compared on the new task by cross-validation as in :class:`Portfolio`
    (no CV when there is only one).

    Parameters
    ----------
    param_grid : dict or list of dicts, default=None
        Candidate settings as in :class:`~sklearn.model_selection.GridSearchCV`
        (with the estimator's own values added first). Give exactly one of
        ``param_grid`` and ``param_distributions``.
    param_distributions : dict or list of dicts, default=None
        Distributions as in :class:`~sklearn.model_selection.RandomizedSearchCV`
        to draw ``n_iter`` candidates from.
    n_iter : int, default=10
        Number of settings drawn from ``param_distributions``.
    n_neighbors : int, default=5
        Training tasks consulted (all of them when there are fewer).
    cv : int or cross-validation generator, default=3
        Within-task cross-validation of the performance matrix.
    select_cv : int or cross-validation generator, default=3
        Cross-validation comparing the candidates on a new task.
    scoring : str or callable, default=None
        Scorer (greater is better) of both cross-validations; ``None`` uses
        the estimator's ``score``.
    search : {"grid", "halving"}, default="grid"
        How the candidates are compared on a new task: ``"halving"`` races
        them by successive halving.
    normalize : {"minmax", "rank"}, default="minmax"
        Used for ``best_params_`` (the mean-normalised best setting).
    error_score : "raise" or float, default=np.nan
        Score of a setting whose fit fails, in the matrix and when the
        candidates are compared on a new task, with a
        :class:`~sklearn.exceptions.FitFailedWarning`; ``"raise"`` raises the
        error instead.

    Attributes
    ----------
    matrix_ : PerformanceMatrix
        With ``meta_features_`` of the training tasks.
    candidates_, tasks_, scores_, fit_times_
        As in :class:`LearnedDefault`.
    best_per_task_ : ndarray of shape (n_tasks,)
        Column of the best setting on each training task.
    metafeature_min_, metafeature_max_ : ndarray of shape (n_metafeatures,)
        Scaling of the meta-features (from the training tasks).
    best_params_ : dict
        The best setting by mean normalised score (for init strategies).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from metasklearn.hyperparams import NearestTasks
    >>> datasets = [load_iris(return_X_y=True), load_breast_cancer(return_X_y=True)]
    >>> tree = DecisionTreeClassifier(random_state=0)
    >>> nt = NearestTasks({"max_depth": [1, 3]}, n_neighbors=1).fit(tree, datasets)
    >>> X_new, y_new = load_wine(return_X_y=True)
    >>> nt.neighbors(X_new, y_new)[0].tolist()  # wine (3 classes) is nearest to iris
    [0]
    >>> nt.select(tree, X_new, y_new) == nt.candidates_[nt.best_per_task_[0]]
    True
    """

    _parameter_constraints = {
        **_MatrixStrategy._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "select_cv": ["cv_object"],
        "search": [StrOptions({"grid", "halving"})],
    }
    _needs_metafeatures = True

    def __init__(
        self,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        n_neighbors=5,
        cv=3,
        select_cv=3,
        scoring=None,
        search="grid",
        normalize="minmax",
        error_score=np.nan,
    ):
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.n_neighbors = n_neighbors
        self.cv = cv
        self.select_cv = select_cv
        self.scoring = scoring
        self.search = search
        self.normalize = normalize
        self.error_score = error_score

    def fit(self, estimator, X, y=None, groups=None, *, n_jobs=None, random_state=None,
            verbose=0):
        """Build the matrix with meta-features (unless given) and each task's best setting.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; candidates are applied with ``set_params``.
        X : array-like of shape (n_samples, n_features), list of (X, y), or PerformanceMatrix
            Rows of all training tasks; or one ``(X, y)`` pair per task; or a
            fitted matrix with ``meta_features_``.
        y : array-like of shape (n_samples,), default=None
            Targets of the rows of an array ``X``; ``None`` with datasets or a matrix.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row of an array ``X`` (``None``: one task); ``None``
            with datasets or a matrix.
        n_jobs : int, default=None
            Parallel (task, setting) evaluations and meta-feature computations
            of the matrix through joblib.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws from ``param_distributions``.
        verbose : int, default=0
            Print a progress line when > 0.

        Returns
        -------
        self : NearestTasks
            Fitted strategy.
        """
        self._validate_params()
        matrix = self._fit_matrix(estimator, X, y, groups, n_jobs, random_state, verbose)
        normalized = self._store_matrix(matrix)
        # Ties go to the earlier setting, so the estimator's own values where they tie.
        self.best_per_task_ = np.argmax(normalized, axis=1)
        self._keep_mean_best(normalized, X)
        features = matrix.meta_features_
        self.metafeature_min_ = np.nanmin(features, axis=0)
        self.metafeature_max_ = np.nanmax(features, axis=0)
        self._scaled_ = self._scale(features)
        return self

    def _scale(self, features):
        span = self.metafeature_max_ - self.metafeature_min_
        # A meta-feature equal on all training tasks cannot tell them apart.
        return np.divide(features - self.metafeature_min_, span,
                         out=np.zeros_like(features), where=span > 0)

    def neighbors(self, X, y):
        """Nearest training tasks of a new task, nearest first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the new task.
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        tasks : ndarray
            Ids of the ``n_neighbors`` nearest training tasks.
        distances : ndarray
            Their L1 distances on scaled meta-features (meta-features that
            are NaN on either side are left out).
        """
        check_is_fitted(self, "best_per_task_")
        query = self._scale(self._task_metafeatures(X, y)[None, :])
        known = np.isfinite(query) & np.isfinite(self._scaled_)
        distances = np.where(known, np.abs(self._scaled_ - query), 0.0).sum(axis=1)
        order = np.argsort(distances, kind="stable")[: self.n_neighbors]
        return self.tasks_[order], distances[order]

    def candidates_for(self, X, y):
        """Distinct best settings of the nearest tasks, nearest first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the new task.
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        settings : list of dict
            The best setting of each of the :meth:`neighbors`, repeats left
            out; :class:`Scaled` values not resolved.
        """
        tasks, _ = self.neighbors(X, y)
        position = {task: i for i, task in enumerate(self.tasks_.tolist())}
        settings = []
        for task in tasks.tolist():
            params = self.candidates_[self.best_per_task_[position[task]]]
            if not any(_same_setting(params, seen) for seen in settings):
                settings.append(dict(params))
        return settings

    def select(self, estimator, X, y):
        """The best, on the new task, of the nearest tasks' best settings.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator; the candidates are compared on clones of it.
        X : array-like of shape (n_samples, n_features)
            Rows of the new task; the candidates of :meth:`candidates_for` are
            compared on them by ``select_cv`` cross-validation (not when there
            is only one).
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        params : dict
            The winning setting, :class:`Scaled` values resolved for ``X``, for
            ``estimator.set_params``.
        """
        settings = self.candidates_for(X, y)
        if len(settings) == 1:
            return resolve_settings(settings[0], X)
        searcher = compare_settings(
            estimator, settings, X, y, cv=self.select_cv, scoring=self.scoring,
            search=self.search, error_score=self.error_score, owner="NearestTasks",
        )
        return best_of(searcher, settings, X)
