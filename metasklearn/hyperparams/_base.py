"""The interface every hyperparameter strategy implements, and shared machinery."""

import copy
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..metafeatures import METAFEATURE_NAMES, compute_metafeatures
from ._matrix import PerformanceMatrix, _as_datasets, _target_kind
from ._settings import _candidates, _check_names
from ._relative import resolve_settings


class BaseHyperparams(BaseEstimator):
    """Base class for hyperparameter strategies: *what settings* to use.

    A strategy is an estimator-like object: its constructor only stores
    parameters, so ``MetaEstimator(hyperparams=...)`` can be cloned and its
    nested parameters (``hyperparams__cv``) tuned by a grid search.

    :class:`~metasklearn.MetaEstimator` calls, in this order:

    ``fit(estimator, X, y, groups, *, n_jobs, random_state, verbose)``
        Learn from the training tasks. ``X`` and ``y`` are validated arrays,
        ``groups`` a 1-D array of task ids. Must set ``best_params_``: the
        settings the init strategy is meta-trained with. Return ``self``.
    ``select(estimator, X, y)``
        Settings (a dict for ``estimator.set_params``) for one new task.
        The default returns ``best_params_``; a portfolio may compare its
        members on ``X, y`` here.

    ``_min_tasks`` is the number of training tasks the strategy needs;
    :class:`~metasklearn.MetaEstimator` checks it before calling ``fit``.
    """

    _min_tasks = 2

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        raise NotImplementedError  # pragma: no cover

    def select(self, estimator, X, y):
        """Settings for a new task: the learned ``best_params_``.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator the settings are for; not used here.
        X : array-like of shape (n_samples, n_features)
            Rows of the new task; not used here.
        y : array-like of shape (n_samples,)
            Targets of the new task; not used here.

        Returns
        -------
        params : dict
            Settings for ``estimator.set_params``.
        """
        return dict(self.best_params_)

    def adapt(self, estimator, X, y):
        """Fit a clone of ``estimator`` with the settings :meth:`select` picks for ``X, y``.

        The hyperparameters-only path, for collections that
        :class:`~metasklearn.MetaEstimator` cannot take (datasets that differ
        in feature count). ``estimator`` is not modified.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator.
        X : array-like of shape (n_samples, n_features)
            Rows of the new task.
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        learner : estimator object
            Fitted clone of ``estimator``.
        """
        check_is_fitted(self, "best_params_")
        learner = clone(estimator)
        return learner.set_params(**self.select(clone(estimator), X, y)).fit(X, y)


class _MatrixStrategy(BaseHyperparams):
    """A strategy that learns from a :class:`PerformanceMatrix`.

    ``fit`` takes the collection as arrays ``(X, y, groups)``, as a list or
    dict of ``(X, y)`` datasets, or as an already fitted matrix in place of
    ``X`` (then the candidate settings are the matrix's).
    """

    _parameter_constraints = {
        "param_grid": [dict, list, None],
        "param_distributions": [dict, list, None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "normalize": [StrOptions({"minmax", "rank"})],
        "error_score": [StrOptions({"raise"}), Real],
    }
    _needs_metafeatures = False

    def _fit_matrix(self, estimator, X, y, groups, n_jobs, random_state, verbose):
        """The fitted matrix: ``X`` itself, or one scored on the collection."""
        name = type(self).__name__
        # New tasks' meta-features read the target as the training tasks' do.
        self._target_kind = _target_kind(estimator)
        if isinstance(X, PerformanceMatrix):
            check_is_fitted(X, "scores_")
            if self.param_grid is not None or self.param_distributions is not None:
                raise ValueError(
                    f"{name} got a fitted PerformanceMatrix and param_grid or "
                    "param_distributions; the matrix already holds the settings. Set both "
                    "to None, or pass the data instead of the matrix."
                )
            if y is not None or groups is not None:
                raise ValueError(
                    f"{name} got a fitted PerformanceMatrix together with y or groups; the "
                    "matrix holds the scores, pass it alone."
                )
            _check_names(estimator, X.candidates_, name)
            if self._needs_metafeatures:
                _check_matrix_metafeatures(X, name)
            if len(X.tasks_) < self._min_tasks:
                raise ValueError(
                    f"{name} needs at least {self._min_tasks} tasks; the matrix has "
                    f"{len(X.tasks_)}."
                )
            self._known_metafeatures = {}
            return X
        # Checked here so the error names the strategy, not the matrix, and before
        # the matrix's many cross-validations.
        # A RandomState instance is copied: the matrix must draw the settings checked here.
        self._check_candidates(_candidates(
            estimator, self.param_grid, self.param_distributions, self.n_iter,
            copy.deepcopy(random_state), name))
        matrix = PerformanceMatrix(
            estimator, self.param_grid, param_distributions=self.param_distributions,
            n_iter=self.n_iter, cv=self.cv, scoring=self.scoring,
            error_score=self.error_score, metafeatures=self._needs_metafeatures,
            n_jobs=n_jobs, random_state=random_state, verbose=verbose,
        )
        matrix.fit(X, y, groups)
        self._known_metafeatures = {}
        if self._needs_metafeatures:
            # Keyed by the task's rows, so that a hit is the same computation by
            # construction, whatever order or container the caller uses; grouped by row
            # count, so that a large new task of another size is never hashed.
            _, datasets = _as_datasets(X, y, groups)
            for (X_task, y_task), row in zip(datasets, matrix.meta_features_):
                self._known_metafeatures.setdefault(y_task.shape[0], {})[
                    joblib.hash((X_task, y_task))] = row
        return matrix

    def _task_metafeatures(self, X, y):
        """``compute_metafeatures(X, y)`` as a float row; a training task's from the matrix.

        ``MetaEstimator``'s refit selects a setting for every training task, on
        the rows the matrix has described: computing them again (two landmarker
        cross-validations a task) would double that part of the fit.
        """
        same_size = self.__dict__.get("_known_metafeatures", {}).get(_num_samples(X), {})
        row = same_size.get(joblib.hash((X, y))) if same_size else None
        if row is not None:
            return row.copy()
        classification = self.__dict__.get("_target_kind")
        return np.array(list(compute_metafeatures(X, y, classification=classification).values()),
                        dtype=float)

    def _check_candidates(self, candidates):
        """Refuse settings the strategy cannot use (a subclass hook; all are fine here)."""

    @staticmethod
    def _concrete(params, X):
        """``params`` resolved on the training rows when they are one array.

        That is what :class:`~metasklearn.MetaEstimator` and init strategies
        train with; for a list of datasets or a matrix there are no pooled
        rows, and :class:`Scaled` values stay as they are.
        """
        if isinstance(X, (list, tuple, dict, PerformanceMatrix)):
            return dict(params)
        return resolve_settings(params, X)

    def _keep_mean_best(self, normalized, X):
        """``best_index_`` / ``best_params_``: the best setting by mean normalised score,
        the one setting init strategies and ``MetaEstimator.estimator_`` train with."""
        self.best_index_ = int(np.argmax(normalized.mean(axis=0)))
        self.best_params_ = self._concrete(self.candidates_[self.best_index_], X)

    def _store_matrix(self, matrix):
        self.matrix_ = matrix
        self.candidates_ = matrix.candidates_
        self.tasks_ = matrix.tasks_
        self.scores_ = matrix.scores_
        self.fit_times_ = matrix.fit_times_
        return matrix.normalized(self.normalize)


def _mean_fit_times(fit_times):
    """Mean seconds per setting over the tasks where it was timed (NaN: unknown)."""
    timed = np.isfinite(fit_times)
    totals = np.where(timed, fit_times, 0.0).sum(axis=0)
    counts = timed.sum(axis=0)
    return np.divide(totals, counts, out=np.full(totals.shape, np.nan), where=counts > 0)


def _check_matrix_metafeatures(matrix, owner):
    """A user matrix's meta-features must be the ones a new task's are compared with."""
    if matrix.meta_features_ is None:
        raise ValueError(
            f"{owner} needs the meta-features of the matrix's tasks. Build it with "
            "PerformanceMatrix(..., metafeatures=True) or pass meta_features= to "
            "PerformanceMatrix.from_scores."
        )
    expected = list(METAFEATURE_NAMES)
    names = list(matrix.meta_feature_names_)
    unnamed = [f"f{i}" for i in range(matrix.meta_features_.shape[1])]  # from_scores' default
    if names != expected and not (names == unnamed and len(names) == len(expected)):
        raise ValueError(
            f"{owner} compares the matrix's meta-features with what "
            "metasklearn.metafeatures.compute_metafeatures gives a new task "
            f"({len(expected)}: {', '.join(expected)}), but the matrix has {names}. Compute "
            "the training tasks' meta-features with compute_metafeatures and pass "
            "meta_feature_names=list(METAFEATURE_NAMES) to PerformanceMatrix.from_scores."
        )
