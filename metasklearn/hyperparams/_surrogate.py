"""SurrogateDefault: a default that is a function of the new dataset's meta-features."""

from numbers import Real

import numpy as np
from sklearn.base import is_regressor
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.feature_extraction import DictVectorizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from .._seeding import seeded_clone
from ._base import _MatrixStrategy
from ._relative import Scaled, resolve_settings


class SurrogateDefault(_MatrixStrategy):
    """Predict the best setting for a new dataset from its meta-features.

    A single learned default (:class:`LearnedDefault`) gives every new
    dataset the same setting. This strategy learns a default that is a
    *function* of the dataset: a regression model (the surrogate) of a
    setting's per-task normalised score on (the task's meta-features, the
    setting) is fitted on the performance matrix, and a new dataset gets the
    candidate with the best predicted score for its meta-features. Like the
    learned default it costs one fit on the new dataset and no
    cross-validation, after its meta-features (two of them landmarkers: a
    stump and 1-nearest-neighbour on at most 500 rows) are computed; the
    zero-shot choice of systems such as FLAML.

    Settings enter the surrogate as numbers: a parameter whose numeric values
    are all positive as their log10 (``C``, ``gamma``, ``alpha`` are searched
    on log scales), others as they are, a :class:`Scaled` value by its
    factor, anything else (strings, tuples, booleans, ``None``) one-hot, and
    a parameter that a candidate does not set (a list of grids) as one more
    one-hot column, ``"name=<not set>"``.
    Meta-features (:mod:`metasklearn.metafeatures`) are min-max scaled over
    the training tasks; one that is undefined on a training task (NaN) is
    left out of the surrogate.

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
    regressor : regressor object, default=None
        The surrogate, cloned at ``fit`` (an unset ``random_state`` of it
        is filled from ``fit``'s ``random_state``). ``None`` uses
        ``ExtraTreesRegressor(n_estimators=200, min_samples_leaf=5)`` seeded
        by ``random_state``: trees need no scaling of the settings, and
        averaging many randomised trees keeps the few tasks of a collection
        from being fitted exactly.
    cv : int or cross-validation generator, default=3
        Within-task cross-validation of the performance matrix.
    scoring : str or callable, default=None
        Scorer (greater is better) of the matrix; ``None`` uses the
        estimator's ``score``.
    normalize : {"minmax", "rank"}, default="minmax"
        Per-task normalisation of the scores the surrogate learns.
    error_score : "raise" or float, default=np.nan
        Score of a setting whose fit fails on a task of the matrix, with a
        :class:`~sklearn.exceptions.FitFailedWarning`; ``"raise"`` raises the
        error instead.

    Attributes
    ----------
    matrix_ : PerformanceMatrix
        With ``meta_features_`` of the training tasks.
    candidates_, tasks_, scores_, fit_times_
        As in :class:`LearnedDefault`.
    regressor_ : regressor object
        The fitted surrogate; its input is :meth:`design` of a task.
    setting_features_ : ndarray of shape (n_candidates, n_setting_features)
        The candidates as the surrogate sees them.
    setting_feature_names_ : ndarray of str
        Their names (``DictVectorizer``'s, e.g. ``"gamma"``, ``"kernel=rbf"``).
    metafeatures_used_ : ndarray of bool of shape (n_metafeatures,)
        Meta-features defined on every training task (the ones used).
    metafeature_min_, metafeature_max_ : ndarray of shape (n_metafeatures,)
        Scaling of the meta-features (from the training tasks).
    best_index_ : int
        The best setting by mean normalised score (as :class:`LearnedDefault`).
    best_params_ : dict
        That setting, for init strategies and ``MetaEstimator.estimator_``.

    See Also
    --------
    LearnedDefault : One setting for every new dataset.
    NearestTasks : The best settings of the most similar training tasks, compared by CV.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    >>> from sklearn.ensemble import ExtraTreesRegressor
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from metasklearn.hyperparams import SurrogateDefault
    >>> datasets = [load_iris(return_X_y=True), load_breast_cancer(return_X_y=True)]
    >>> tree = DecisionTreeClassifier(random_state=0)
    >>> # Two training datasets give six (dataset, setting) rows: leaves of one row
    >>> surrogate = ExtraTreesRegressor(50, random_state=0)
    >>> sd = SurrogateDefault({"max_depth": [1, 3, None]}, regressor=surrogate)
    >>> sd = sd.fit(tree, datasets, random_state=0)
    >>> sd.candidates_
    [{'max_depth': None}, {'max_depth': 1}, {'max_depth': 3}]
    >>> sd.setting_feature_names_.tolist()
    ['max_depth', 'max_depth=None']
    >>> X_new, y_new = load_wine(return_X_y=True)
    >>> sd.predict_scores(X_new, y_new).round(2)  # one predicted score per candidate
    array([0.84, 0.  , 0.99])
    >>> sd.select(tree, X_new, y_new)  # the best predicted, for one fit
    {'max_depth': 3}
    """

    _parameter_constraints = {
        **_MatrixStrategy._parameter_constraints,
        "regressor": [HasMethods(["fit", "predict"]), None],
    }
    _needs_metafeatures = True

    def __init__(
        self,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        regressor=None,
        cv=3,
        scoring=None,
        normalize="minmax",
        error_score=np.nan,
    ):
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.regressor = regressor
        self.cv = cv
        self.scoring = scoring
        self.normalize = normalize
        self.error_score = error_score

    def fit(self, estimator, X, y=None, groups=None, *, n_jobs=None, random_state=None,
            verbose=0):
        """Build the matrix with meta-features (unless given) and fit the surrogate.

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
            Seeds the draws from ``param_distributions`` and the surrogate (the
            default one, or an unset ``random_state`` of ``regressor``).
        verbose : int, default=0
            Print a progress line when > 0.

        Returns
        -------
        self : SurrogateDefault
            Fitted strategy.
        """
        self._validate_params()
        if self.regressor is not None and not is_regressor(self.regressor):
            raise ValueError(
                f"SurrogateDefault's regressor must be a regressor (it predicts scores); got "
                f"{type(self.regressor).__name__}."
            )
        matrix = self._fit_matrix(estimator, X, y, groups, n_jobs, random_state, verbose)
        normalized = self._store_matrix(matrix)
        self._keep_mean_best(normalized, X)

        vectorizer = DictVectorizer(sparse=False)
        self.setting_features_ = vectorizer.fit_transform(_setting_rows(self.candidates_))
        self.setting_feature_names_ = vectorizer.get_feature_names_out()
        features = matrix.meta_features_
        self.metafeatures_used_ = np.isfinite(features).all(axis=0)
        self.metafeature_min_ = np.nanmin(features, axis=0)
        self.metafeature_max_ = np.nanmax(features, axis=0)
        design = self.design(features)
        rng = check_random_state(random_state)
        seed = rng.randint(np.iinfo(np.int32).max)
        if self.regressor is None:
            regressor = ExtraTreesRegressor(n_estimators=200, min_samples_leaf=5,
                                            random_state=seed)
        else:
            # An unset random_state of the user's surrogate is filled from ours.
            regressor = seeded_clone(self.regressor, random_state, rng)
        self.regressor_ = regressor.fit(design, normalized.ravel())
        return self

    def design(self, metafeatures):
        """Surrogate input: one row per candidate setting, for one task or several.

        Parameters
        ----------
        metafeatures : array-like of shape (n_metafeatures,) or (n_tasks, n_metafeatures)
            Meta-features of a task (or one row per task), as
            :func:`~metasklearn.metafeatures.compute_metafeatures` returns them
            (in that order).

        Returns
        -------
        design : ndarray of shape (n_tasks * n_candidates, n_used_metafeatures + n_setting_features)
            Each task's scaled meta-features beside each candidate's features,
            task by task (``n_tasks`` is 1 for a single row).
        """
        check_is_fitted(self, "setting_features_")
        rows = np.atleast_2d(np.asarray(metafeatures, dtype=float))
        if rows.ndim != 2 or rows.shape[1] != self.metafeatures_used_.size:
            raise ValueError(
                f"SurrogateDefault was fitted on {self.metafeatures_used_.size} meta-features "
                f"per task and got {rows.shape[-1]}; give the same meta-features, in the order "
                "of metasklearn.metafeatures.compute_metafeatures (or of the matrix's "
                "meta_feature_names_)."
            )
        rows = rows[:, self.metafeatures_used_]
        low = self.metafeature_min_[self.metafeatures_used_]
        span = self.metafeature_max_[self.metafeatures_used_] - low
        # A meta-feature equal on all training tasks cannot tell them apart; one the new
        # task lacks (NaN) is put mid-range rather than guessed at an extreme.
        scaled = np.divide(rows - low, span, out=np.zeros_like(rows), where=span > 0)
        scaled[~np.isfinite(scaled)] = 0.5
        n_candidates = len(self.setting_features_)
        return np.hstack([np.repeat(scaled, n_candidates, axis=0),
                          np.tile(self.setting_features_, (len(rows), 1))])

    def predict_scores(self, X, y):
        """The surrogate's normalised score of every candidate on the dataset ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the new task.
        y : array-like of shape (n_samples,)
            Targets of the new task.

        Returns
        -------
        scores : ndarray of shape (n_candidates,)
            In the order of ``candidates_``.
        """
        check_is_fitted(self, "regressor_")
        return self.regressor_.predict(self.design(self._task_metafeatures(X, y)))

    def select(self, estimator, X, y):
        """The candidate with the best predicted score, :class:`Scaled` values resolved.

        Parameters
        ----------
        estimator : estimator object
            Unfitted base estimator the setting is for; not used (no fit or
            cross-validation is run).
        X : array-like of shape (n_samples, n_features)
            Rows of the new task: its meta-features are computed, and
            :class:`Scaled` values resolved, on them.
        y : array-like of shape (n_samples,)
            Targets of the new task, for its meta-features.

        Returns
        -------
        params : dict
            Settings for ``estimator.set_params``.
        """
        # Ties go to the earlier candidate: the estimator's own values come first.
        best = int(np.argmax(self.predict_scores(X, y)))
        return resolve_settings(self.candidates_[best], X)


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


# A parameter a candidate leaves to the estimator (a list of grids: no gamma for the linear
# kernel) gets its own one-hot column; DictVectorizer's bare 0 would read as a value (log10 1).
_NOT_SET = "<not set>"


def _setting_rows(candidates):
    """Candidates as ``DictVectorizer`` input: numbers (log10 where a parameter's are all
    positive), :class:`Scaled` values as their factor, anything else as text (one-hot), a
    parameter the candidate does not set as ``"<not set>"``."""
    names = {name for params in candidates for name in params}
    rows = [{name: value.factor if isinstance(value, Scaled) else value
             for name, value in params.items()} for params in candidates]
    rows = [{**dict.fromkeys(names - row.keys(), _NOT_SET), **row} for row in rows]
    numbers = {}
    for row in rows:
        for name, value in row.items():
            if _is_number(value):
                numbers.setdefault(name, []).append(value)
    on_log_scale = {name for name, values in numbers.items() if min(values) > 0}
    return [{name: (float(np.log10(value)) if name in on_log_scale else float(value))
             if _is_number(value) else value if isinstance(value, str) else repr(value)
             for name, value in row.items()}
            for row in rows]
