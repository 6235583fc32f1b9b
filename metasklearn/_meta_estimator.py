"""MetaEstimator: the scikit-learn face of meta-learning over task collections."""

from collections.abc import Mapping
from copy import deepcopy
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.utils.parallel import Parallel, delayed
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import (_safe_indexing, check_array, check_consistent_length,
                           check_random_state, column_or_1d, get_tags)
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ._seeding import seeded_clone
from ._validation import check_groups, check_tasks_have_two_classes, take_rows, task_indices
from .hyperparams import BaseHyperparams
from .init import BaseInit
from .init._base import _NoInit


def _base_has(attr):
    """``available_if`` check: learners are kept, and they (or the base estimator) have ``attr``."""

    def check(self):
        if not self.refit:
            raise AttributeError(
                f"MetaEstimator(refit=False) keeps no learners to call {attr} on. Use the "
                "learner that adapt(X_task, y_task) returns, or fit with refit=True."
            )
        if hasattr(self, "population_learner_"):
            return hasattr(self.population_learner_, attr)
        return hasattr(self._base_estimator(), attr)

    return check


class MetaEstimator(BaseEstimator):
    """Meta-learn settings and a starting point for a base estimator.

    Fit on a collection of related tasks ``(X, y, groups)`` (rows
    concatenated, ``groups`` the task id of each row, as for
    :class:`~sklearn.model_selection.GroupKFold`). The ``hyperparams``
    strategy learns *what settings* the base estimator should get, the
    ``init`` strategy *where its training starts*. :meth:`adapt` then turns
    a new task's rows into a fitted plain estimator of the base estimator's
    own class.

    Parameters
    ----------
    estimator : estimator object, default=None
        The base estimator. ``None`` means
        :class:`~sklearn.neural_network.MLPClassifier` with its defaults. Its
        type decides whether this meta-estimator is a classifier or a
        regressor. It is never modified: every learner is a clone.
    hyperparams : BaseHyperparams, default=None
        Hyperparameter strategy, for example
        :class:`~metasklearn.hyperparams.LearnedDefault`. ``None`` keeps the
        base estimator's settings.
    init : BaseInit, default=None
        Init strategy (learned starting weights). ``None`` means training
        starts the way the base estimator's own ``fit`` starts it.
    refit : bool, default=True
        Whether ``fit`` also adapts a learner to every training task and to
        all rows (``learners_``, ``population_learner_``), which
        :meth:`predict`, :meth:`predict_proba`, :meth:`decision_function` and
        :meth:`score` use. ``False`` skips those fits, as ``refit=False`` does
        in :class:`~sklearn.model_selection.GridSearchCV`: ``fit`` learns only
        the settings and the start, and only :meth:`adapt` is available — for
        collections of many tasks, or of relabelled episodes where a pooled
        learner means nothing.
    n_jobs : int, default=None
        Jobs for joblib: strategies parallelise their work over tasks, and
        the per-task learners are fitted in parallel. Results do not depend
        on it, except with ``Portfolio(time_aware=True)``, which picks from
        measured fit times.
    random_state : int, RandomState instance or None, default=None
        Seeds the strategies and, where the base estimator's ``random_state``
        is ``None``, the base estimator, so that a fixed value gives the same
        learned result (and the same :meth:`adapt`) on every run.
    verbose : int, default=0
        Progress lines when > 0.

    Attributes
    ----------
    estimator_ : estimator object
        Unfitted clone of the base estimator with the learned settings
        (``best_params_``) and the seeded ``random_state``: what
        :meth:`adapt` clones and trains.
    best_params_ : dict
        Learned settings (empty when ``hyperparams=None``).
    hyperparams_ : BaseHyperparams or None
        The fitted hyperparameter strategy (its tables, e.g. ``scores_``).
    init_ : BaseInit
        The fitted init strategy.
    tasks_ : ndarray of shape (n_tasks,)
        Training task ids, sorted.
    n_tasks_ : int
        Number of training tasks.
    learners_ : dict
        For each training task id, ``adapt`` applied to that task's rows.
        Only with ``refit=True``.
    population_learner_ : estimator object
        Only with ``refit=True``: ``adapt`` applied to *all* training rows
        (the same object as the only learner when there is one task).
        :meth:`predict` sends rows without a task, and rows of tasks not seen
        in fit, to it. For tasks whose labels
        mean different things (N-way episodes) it is meaningless: call
        :meth:`adapt` on the new task's support rows instead.
    classes_ : ndarray of shape (n_classes,)
        Labels seen in fit (classifiers only).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen in fit, when ``X`` has string column names.

    See Also
    --------
    metasklearn.hyperparams.LearnedDefault : Learn one default setting.
    metasklearn.model_selection.make_few_shot_scorer : Score adaptation on held-out tasks.

    Notes
    -----
    **Metadata routing.** ``groups`` is requested by default for ``fit``,
    ``score``, ``predict``, ``predict_proba`` and ``decision_function``. With
    ``sklearn.set_config(enable_metadata_routing=True)``,
    ``GridSearchCV(meta, grid, cv=GroupKFold(5)).fit(X, y, groups=g)`` splits
    by task and every fit receives its own training tasks, and every score
    the held-out rows' task ids (unseen tasks, so the population learner
    scores them; use :func:`~metasklearn.model_selection.make_few_shot_scorer`
    to score adaptation instead). **With routing off**, scikit-learn passes
    ``groups`` only to the splitter, so ``fit`` receives ``groups=None``: one
    task. A strategy that needs several tasks then raises an error saying so
    rather than learning from one; without strategies, one task and many give
    the same population learner, so scores do not change.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_linear_tasks
    >>> from metasklearn.hyperparams import LearnedDefault
    >>> X, y, groups = make_linear_tasks(n_tasks=8, n_samples=30, random_state=0)
    >>> meta = MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [0.1, 10.0]}),
    ...                      random_state=0)
    >>> meta = meta.fit(X, y, groups=groups)
    >>> meta.n_tasks_
    8
    >>> meta.best_params_  # learned across the 8 tasks (Ridge's own alpha is 1.0)
    {'alpha': 0.1}
    >>> X_new, y_new, _ = make_linear_tasks(n_tasks=1, n_samples=10, random_state=1)
    >>> learner = meta.adapt(X_new, y_new)
    >>> type(learner).__name__, learner.alpha
    ('Ridge', 0.1)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "hyperparams": [BaseHyperparams, None],
        "init": [BaseInit, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # groups is routed to these methods by default: without it a collection is one task.
    __metadata_request__fit = {"groups": True}
    __metadata_request__score = {"groups": True}
    __metadata_request__predict = {"groups": True}
    __metadata_request__predict_proba = {"groups": True}
    __metadata_request__decision_function = {"groups": True}

    def __init__(
        self,
        estimator=None,
        *,
        hyperparams=None,
        init=None,
        refit=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.hyperparams = hyperparams
        self.init = init
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _base_estimator(self):
        return MLPClassifier() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = get_tags(self._base_estimator())
        tags.estimator_type = base.estimator_type
        tags.classifier_tags = deepcopy(base.classifier_tags)
        if tags.classifier_tags is not None:
            # Tasks are split by rows of a 1-D target; multi-label y is not supported.
            tags.classifier_tags.multi_label = False
        tags.regressor_tags = deepcopy(base.regressor_tags)
        # A bare estimator's rows reach the init strategy as they are; a Pipeline's
        # first step decides what it takes.
        takes_sparse = (isinstance(self._base_estimator(), Pipeline) or self.init is None
                        or self.init._takes_sparse_rows)
        tags.input_tags.sparse = base.input_tags.sparse and takes_sparse
        tags.input_tags.allow_nan = base.input_tags.allow_nan
        tags.target_tags.required = True
        return tags

    def _validate_X(self, X, *, reset, y="no_validation", tags=None):
        tags = self.__sklearn_tags__() if tags is None else tags
        if isinstance(self._base_estimator(), Pipeline):
            return self._validate_pipeline_input(X, reset=reset, y=y, tags=tags)
        if (sparse.issparse(X) and not tags.input_tags.sparse
                and get_tags(self._base_estimator()).input_tags.sparse):
            # scikit-learn's own message would blame the base estimator, which takes it
            raise TypeError(
                f"Sparse data was passed for X, but dense data is required: "
                f"{type(self.init).__name__} works on dense rows although "
                f"{type(self._base_estimator()).__name__} takes sparse ones. Pass "
                "X.toarray(), or a Pipeline whose first step makes the rows dense."
            )
        kwargs = dict(
            reset=reset,
            accept_sparse=["csr", "csc"] if tags.input_tags.sparse else False,
            ensure_all_finite="allow-nan" if tags.input_tags.allow_nan else True,
        )
        if isinstance(y, str) and y == "no_validation":
            return validate_data(self, X, **kwargs)
        return validate_data(
            self, X, y, y_numeric=tags.estimator_type == "regressor", **kwargs
        )

    def _validate_pipeline_input(self, X, *, reset, y, tags):
        # A Pipeline's own steps validate X, and may need it as it is: a DataFrame
        # whose columns a ColumnTransformer picks by name, text for an encoder. Here only
        # the feature names and count, and y, are checked; rows are taken with
        # _safe_indexing so every step sees what the user passed.
        if not hasattr(X, "iloc"):
            # 2-D, rows indexable (CSR / CSC), text kept as objects; a DataFrame stays one.
            X = check_array(X, dtype=None, ensure_all_finite=False, ensure_min_samples=0,
                            accept_sparse=["csr", "csc"] if tags.input_tags.sparse else False)
        X = validate_data(self, X, reset=reset, skip_check_array=True)
        if _num_samples(X) < 1:
            raise ValueError("MetaEstimator got X with 0 rows; pass at least one row.")
        if isinstance(y, str) and y == "no_validation":
            return X
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(check_array(
            y, ensure_2d=False, input_name="y",
            dtype="numeric" if tags.estimator_type == "regressor" else None,
        ), warn=True)
        check_consistent_length(X, y)
        return X, y

    def fit(self, X, y, groups=None):
        """Learn settings and a starting point from a collection of tasks.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows of all training tasks.
        y : array-like of shape (n_samples,)
            Targets.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row; ``None`` means all rows are one task.

        Returns
        -------
        self : MetaEstimator
            Fitted meta-estimator.
        """
        self._validate_params()
        # A refit must not leave a previous fit's learners or labels behind: refit=False
        # or a regressor sets none of them. Nor its estimator_, which adapt needs: a refit
        # that fails must not leave adapt the old settings beside the new strategies.
        for name in ("estimator_", "learners_", "population_learner_", "classes_"):
            self.__dict__.pop(name, None)
        X, y = self._validate_X(X, reset=True, y=y)
        groups = check_groups(groups, _num_samples(X))
        self.tasks_, indices = task_indices(groups)
        self.n_tasks_ = len(self.tasks_)
        self.hyperparams_ = None if self.hyperparams is None else clone(self.hyperparams)
        self.init_ = _NoInit() if self.init is None else clone(self.init)
        if is_classifier(self):
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if self.classes_.shape[0] < 2:
                # One-class tasks can borrow the other classes from the collection; a
                # collection of one class has none to borrow.
                label = self.classes_.tolist()[0]
                raise ValueError(
                    f"y holds one class ({label!r}) in every task; a classifier needs at "
                    "least two classes in the collection. Check the labels, or use a "
                    "regressor."
                )
            if not self._single_class_tasks_allowed():
                check_tasks_have_two_classes(y, self.tasks_, indices)

        rng = check_random_state(self.random_state)
        estimator = seeded_clone(self._base_estimator(), self.random_state, rng)
        context = dict(n_jobs=self.n_jobs, verbose=self.verbose)
        for strategy in (self.hyperparams_, self.init_):
            if strategy is not None:
                self._check_enough_tasks(strategy)

        self.best_params_ = {}
        if self.hyperparams_ is not None:
            self._log(f"learning settings with {type(self.hyperparams_).__name__}")
            seed = rng.randint(np.iinfo(np.int32).max)
            self.hyperparams_.fit(estimator, X, y, groups, random_state=seed, **context)
            self.best_params_ = dict(_settings(self.hyperparams_, "fit", "best_params_",
                                               self.hyperparams_.best_params_))
            self._log(f"learned settings: {self.best_params_}")
        estimator = clone(estimator).set_params(**clone(self.best_params_, safe=False))

        seed = rng.randint(np.iinfo(np.int32).max)
        if self.init is not None:
            self._log(f"meta-training the start with {type(self.init_).__name__}")
        self.init_.fit(clone(estimator), X, y, groups, random_state=seed, **context)
        # Set once both strategies are fitted: it is what adapt checks for.
        self.estimator_ = estimator
        if not self.refit:
            return self

        self._log(f"adapting a learner to each of the {self.n_tasks_} training tasks")
        # The population learner (all rows) is one more job of the same batch; with a
        # single task it is that task's learner.
        row_sets = indices if self.n_tasks_ == 1 else indices + [slice(None)]
        learners = Parallel(n_jobs=self.n_jobs)(
            delayed(_adapt)(self.hyperparams_, self.init_, self.estimator_,
                            _safe_indexing(X, rows), y[rows])
            for rows in row_sets
        )
        self.learners_ = dict(zip(self.tasks_.tolist(), learners))
        self.population_learner_ = learners[-1]
        return self

    def _single_class_tasks_allowed(self):
        # A learned prior carries a one-class task; within-task CV cannot score it.
        return self.hyperparams_ is None and self.init_._handles_single_class_tasks

    def _check_enough_tasks(self, strategy):
        needed = strategy._min_tasks
        if self.n_tasks_ >= needed:
            return
        raise ValueError(
            f"{type(strategy).__name__} needs at least {needed} training tasks, but fit "
            f"received {self.n_tasks_} (groups=None means one task). Pass the task id of "
            "each row as groups=...; inside GridSearchCV, cross_validate or a Pipeline, "
            "enable metadata routing with sklearn.set_config(enable_metadata_routing=True) "
            "so that groups reach MetaEstimator.fit."
        )

    def _log(self, message):
        if self.verbose:
            print(f"[MetaEstimator] {message}", flush=True)

    def adapt(self, X, y):
        """Return a fitted estimator of the base class for one new task.

        The learner is a clone of ``estimator_`` (learned settings), with
        settings picked for this task by the hyperparameter strategy where
        it does so, trained by its own ``fit`` from the learned start.
        Neither this meta-estimator nor the base estimator is modified.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows of the new task (its support set).
        y : array-like of shape (n_samples,)
            Targets of those rows.

        Returns
        -------
        learner : estimator object
            Fitted estimator of the same class as the base estimator; it
            pickles and predicts without metasklearn.
        """
        # not just check_is_fitted(self): a refit that failed has dropped estimator_
        check_is_fitted(self, "estimator_")
        # Tags once: adapt is called per new task, and tags cost as much as validation.
        tags = self.__sklearn_tags__()
        _, y_checked = self._validate_X(X, reset=False, y=y, tags=tags)
        if tags.estimator_type == "classifier":
            check_classification_targets(y_checked)
            labels = np.unique(y_checked).tolist()
            if len(labels) < 2 and not self._single_class_tasks_allowed():
                raise ValueError(
                    f"adapt got only one class ({labels[0]!r}); a classifier needs at "
                    "least two classes to learn from. Add rows of another class."
                )
        # The unvalidated X goes on so the learner keeps feature names; the base
        # estimator's own fit validates it again.
        return _adapt(self.hyperparams_, self.init_, self.estimator_, X, y)

    def _by_task(self, method, X, groups):
        """Call ``method`` of the learner of each row's task and reassemble rows."""
        # not just check_is_fitted(self): a refit that failed has dropped the learners
        check_is_fitted(self, "population_learner_")
        X = self._validate_X(X, reset=False)
        # Once, not per task: it reads the tags of the base estimator.
        classifier = is_classifier(self)
        if groups is None:
            return self._call(method, self.population_learner_, None, X, classifier)
        groups = check_groups(groups, _num_samples(X))
        tasks, indices = task_indices(groups)
        parts, rows, unseen = [], [], []
        for task, idx in zip(tasks.tolist(), indices):
            if task in self.learners_:
                parts.append(self._call(method, self.learners_[task], task,
                                        take_rows(X, idx), classifier))
                rows.append(idx)
            else:
                unseen.append((task, idx))
        if unseen:
            # The rows of every task not seen in fit go to the population learner in one
            # call: one call per new task cost a learner's whole validation per task.
            idx = np.concatenate([idx for _, idx in unseen])
            parts.append(self._call(method, self.population_learner_, unseen[0][0],
                                    take_rows(X, idx), classifier))
            rows.append(idx)
        stacked = np.concatenate(parts)
        out = np.empty_like(stacked)
        out[np.concatenate(rows)] = stacked
        return out

    def _call(self, method, learner, task, X, classifier):
        result = getattr(learner, method)(X)
        if method == "predict" or not classifier:
            return result
        if np.array_equal(learner.classes_, self.classes_):
            return result
        if method == "predict_proba":
            # A task may have seen only some labels: it gives the others probability 0.
            full = np.zeros((result.shape[0], self.classes_.shape[0]), dtype=result.dtype)
            full[:, np.searchsorted(self.classes_, learner.classes_)] = result
            return full
        raise ValueError(
            f"decision_function is undefined across tasks here: the learner of task "
            f"{task!r} saw only the labels {learner.classes_.tolist()} of "
            f"{self.classes_.tolist()}, so its columns would not follow classes_ (the rows "
            f"of that task alone are refused too). Use predict_proba, or that task's own "
            f"learner: meta.learners_[{task!r}].decision_function(X_task)."
        )

    @available_if(_base_has("predict"))
    def predict(self, X, groups=None):
        """Predict with the learner of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict, of seen or new tasks.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row. Rows of tasks seen in fit go to that task's
            learner; rows of other tasks, and all rows when ``None``, to
            ``population_learner_``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The prediction of each row's learner.
        """
        return self._by_task("predict", X, groups)

    @available_if(_base_has("predict_proba"))
    def predict_proba(self, X, groups=None):
        """Class probabilities from the learner of each row's task.

        Columns follow ``classes_``; a label a task never saw gets 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict, of seen or new tasks.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row, as in :meth:`predict`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class of ``classes_``.
        """
        return self._by_task("predict_proba", X, groups)

    @available_if(_base_has("decision_function"))
    def decision_function(self, X, groups=None):
        """Decision function of the learner of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict, of seen or new tasks.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row, as in :meth:`predict`.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The learners' decision function; every task involved must have
            seen all labels of ``classes_`` (for one that saw fewer, call its
            learner in ``learners_``).
        """
        return self._by_task("decision_function", X, groups)

    @available_if(_base_has("predict"))
    def score(self, X, y, groups=None, sample_weight=None):
        """Accuracy (classifier) or R² (regressor) of :meth:`predict`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score, of seen or new tasks.
        y : array-like of shape (n_samples,)
            True targets of the rows.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row, as in :meth:`predict`.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the score (the learners are not refitted).

        Returns
        -------
        score : float
            Accuracy or R² over all rows.
        """
        metric = accuracy_score if is_classifier(self) else r2_score
        return float(metric(y, self.predict(X, groups=groups), sample_weight=sample_weight))


def _settings(strategy, method, what, params):
    """``params`` if a dict for ``set_params``; else an error naming the strategy's method."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{type(strategy).__name__}.{method} gave {what} = {params!r} of type "
            f"{type(params).__name__}; a hyperparameter strategy must give a dict of "
            "settings for the base estimator's set_params."
        )
    return params


def _adapt(hyperparams, init, estimator, X, y):
    """Fit one learner: settings for this task, then training from the learned start."""
    learner = clone(estimator)
    if hyperparams is not None:
        learner.set_params(**_settings(hyperparams, "select", "settings",
                                       hyperparams.select(learner, X, y)))
    fitted = init.adapt(learner, X, y)
    if isinstance(init, _NoInit):
        return fitted  # the base estimator's own fit
    # A strategy's mistake must not reach the user as a learner of another class, or
    # an unfitted one blamed on the base estimator later.
    name = type(init).__name__
    if not isinstance(fitted, type(learner)):  # a subclass is one (it predicts as one)
        raise TypeError(
            f"{name}.adapt returned {type(fitted).__name__ if fitted is not None else None}; "
            f"an init strategy must return the {type(learner).__name__} it is given, "
            "fitted by its own fit."
        )
    try:
        check_is_fitted(fitted)
    except NotFittedError:
        raise NotFittedError(
            f"{name}.adapt returned an unfitted {type(fitted).__name__}; an init strategy "
            "must return the estimator it is given, fitted by its own fit."
        ) from None
    return fitted
