"""Adaptation curves: held-out task scores against shots, beside scratch and pooled."""

import warnings
from contextlib import contextmanager
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
import sklearn
from sklearn.base import ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import GroupKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._adapting import _adapt_or_fit
from ._seeding import seeded_clone
from ._validation import check_groups, rows_indexable, task_indices
from .tasks import SupportQuerySplit, _fmt

BASELINES = ("scratch", "pooled")
_MAX_SEED = np.iinfo(np.int32).max


def adaptation_curve(estimator, X, y, groups, *, shots=None, per_class=False,
                     baselines=BASELINES, cv=5, scoring=None, n_jobs=None, random_state=0,
                     error_score="raise"):
    """Score on held-out tasks against the number of shots, beside the baselines.

    Answers "is meta-learning helping, and from how many labelled rows on is
    it no longer needed?". ``cv`` splits the collection by task. For each
    split, a clone of ``estimator`` is meta-fitted on the training tasks.
    Then every held-out task is split into support and query rows once per
    entry of ``shots``. The meta-estimator adapts on the support rows and
    is scored on the query rows, beside the baselines:

    - ``"scratch"``: the base estimator as given (its own settings, no
      learned start), fitted on the same support rows;
    - ``"pooled"``: the base estimator fitted once per split on all rows of
      the training tasks, scored on the query rows without adapting (flat
      in ``shots``; meaningless when labels mean different things in
      different tasks, as in N-way episodes);
    - ``(name, estimator)``: any estimator of yours, cloned and fitted on
      the support rows, such as a per-task search,
      ``("tuned", GridSearchCV(SVC(), grid, cv=2))``.

    The support sets of one task are nested (the rows of 1 shot are among
    those of 2 shots, and so on), and every shot count is scored on the
    same query rows: those outside the largest support set. So the points
    of a curve differ only by the rows added to the support set.

    Parameters
    ----------
    estimator : MetaEstimator or Pipeline ending in one
        Unfitted; cloned for each split (with ``refit=False``: ``adapt``
        needs no per-task learners of the training tasks).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Rows of every task.
    y : array-like of shape (n_samples,)
        Targets.
    groups : array-like of shape (n_samples,)
        Task id of each row.
    shots : array-like of int, default=None
        Support rows per held-out task, or per class of it if ``per_class``;
        distinct values, in any order. ``None`` is 1, 2, 5 and 10, times the
        largest number of classes of a held-out task for a classifier with
        ``per_class=False`` (a stratified support set holds every class).
        Each held-out task needs more rows (of each class) than the largest;
        tasks only ever used for meta-training may be smaller.
    per_class : bool, default=False
        Count ``shots`` per class (N-way K-shot); otherwise the support set
        of a classification task is stratified, one row of each class at
        least (see :class:`~metasklearn.tasks.SupportQuerySplit`).
    baselines : sequence of "scratch", "pooled" or (name, estimator), \
            default=("scratch", "pooled")
        Baselines scored beside the meta-estimator; may be empty. A pair's
        estimator gets the task's rows as given (put any preprocessing in
        it), and its name must differ from ``"meta"`` and the others.
    cv : int, cross-validation generator, iterable or None, default=5
        Split of the tasks; an int is the number of folds of
        :class:`~sklearn.model_selection.GroupKFold` (``None``: 5 folds),
        an iterable yields ``(train, test)`` row positions. The splitter
        must keep every task whole on one side (``GroupKFold``,
        ``GroupShuffleSplit``, ``LeaveOneGroupOut``); one that splits a
        task, or holds out only some of its rows, is refused.
    scoring : str or callable, default=None
        One metric on the query rows (greater is better): a scorer name or
        a scorer such as ``make_scorer`` gives; ``None`` uses each
        learner's ``score`` (accuracy or R²).
    n_jobs : int, default=None
        Splits run in parallel through joblib.
    random_state : int, RandomState instance or None, default=0
        Seeds the support/query splits (not the estimators: the scratch and
        pooled baselines are seeded as the meta-estimator seeds its base
        estimator, by its ``random_state``; set your own baselines'
        ``random_state`` for repeatable fits).
    error_score : "raise" or float, default="raise"
        Score of a task's ``adapt`` or baseline fit (or its scoring) that
        fails, with a :class:`~sklearn.exceptions.FitFailedWarning` naming
        the task, shot count and split; ``"raise"`` raises the error, with
        that note. A meta-fit or pooled fit that fails always raises: it is
        not one task's. ``np.nan`` gives NaN scores, which
        :class:`AdaptationCurveDisplay` warns about.

    Returns
    -------
    result : Bunch
        ``shots`` (sorted, ndarray of shape (n_shots,)); ``tasks``, the ids
        of the held-out tasks (every task a split holds out, in split
        order); ``split``, the index of the split that held each out;
        ``scores``, a dict from ``"meta"`` and each baseline to an ndarray
        of shape (n_shots, n_tasks); ``per_class``; and ``score_name``
        (``scoring`` if a str; for ``None`` "accuracy" or "R²" where the
        learner's ``score`` is scikit-learn's, else "score").

    See Also
    --------
    AdaptationCurveDisplay : Plot of the result.
    make_few_shot_scorer : One shot count, as a scorer for ``GridSearchCV``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_linear_tasks
    >>> from metasklearn.init import GaussianPrior
    >>> from metasklearn.model_selection import adaptation_curve
    >>> X, y, groups = make_linear_tasks(n_tasks=30, n_samples=20, random_state=0)
    >>> meta = MetaEstimator(Ridge(), init=GaussianPrior())
    >>> result = adaptation_curve(meta, X, y, groups, shots=[2, 5, 10], cv=3)
    >>> result.scores["meta"].shape  # (shots, held-out tasks)
    (3, 30)
    >>> for name, scores in result.scores.items():  # mean R² on the query rows
    ...     print(f"{name:8s}", scores.mean(axis=1).round(2))
    meta     [0.81 0.87 0.92]
    scratch  [-1.12  0.08  0.81]
    pooled   [0.76 0.76 0.76]
    """
    final = _final_step(estimator)
    if shots is not None:
        shots = _check_shots(shots)
    baselines = _check_baselines(baselines)
    _check_scoring_arg(scoring)
    if not ((isinstance(error_score, str) and error_score == "raise")
            or (isinstance(error_score, Real) and not isinstance(error_score, bool))):
        raise ValueError(
            f"error_score must be 'raise' or a number (such as np.nan); got {error_score!r}."
        )
    _check_per_class(final, per_class)
    if groups is None:
        raise ValueError(
            "adaptation_curve needs the task id of each row (groups): it holds out whole "
            "tasks and splits each into support and query rows."
        )
    y = np.asarray(y)
    check_consistent_length(X, y)
    X = rows_indexable(X)
    groups = check_groups(groups, y.shape[0])  # names groups if its length is wrong
    splits = _task_splits(cv, X, y, groups)
    labels = y if is_classifier(final) else None
    if _needs_base(baselines):
        _base_of(estimator)  # fail before any fit if there is no base estimator
    # Only held-out tasks are split, so a small task used only in meta-training is no obstacle.
    held_out = np.unique(np.concatenate([test for _, test in splits]))
    if shots is None:
        shots = np.array([1, 2, 5, 10])
        if labels is not None and not per_class:
            shots *= _most_classes_of_a_task(groups[held_out], labels[held_out])
    supports, is_query = _nested_supports(labels, groups, shots, per_class, random_state,
                                          rows=held_out)

    results = Parallel(n_jobs=n_jobs)(
        delayed(_score_split)(estimator, X, y, groups, train, test, supports, is_query,
                              baselines, scoring, shots, k, error_score)
        for k, (train, test) in enumerate(splits)
    )
    tasks = np.concatenate([ids for ids, _ in results])
    split = np.concatenate([np.full(len(ids), k) for k, (ids, _) in enumerate(results)])
    scores = {name: np.hstack([by_name[name] for _, by_name in results])
              for name in ("meta", *baselines)}
    if scoring is None:
        score_name = _default_score_name(final)
    else:
        score_name = scoring if isinstance(scoring, str) else "score"
    return Bunch(shots=shots, tasks=tasks, split=split, scores=scores, per_class=per_class,
                 score_name=score_name)


def _default_score_name(final):
    """What the learners' own ``score`` measures: accuracy, R², or "score" if their own."""
    learner = final._base_estimator() if hasattr(final, "_base_estimator") else final
    if isinstance(learner, Pipeline):
        learner = learner.steps[-1][1]  # Pipeline.score is its last step's
    # PoissonRegressor, for one, overrides score with D²: only the mixins' are known.
    method = getattr(type(learner), "score", None)
    return {ClassifierMixin.score: "accuracy", RegressorMixin.score: "R²"}.get(method, "score")


def _final_step(estimator):
    """The meta-estimator at the end of ``estimator``, or a TypeError naming the fix."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(final, Pipeline):
        raise TypeError(
            "adaptation_curve takes a MetaEstimator or a Pipeline whose last step is one, "
            "not a Pipeline nested in a Pipeline; flatten it: "
            "make_pipeline(*transformers, meta_estimator)."
        )
    if not hasattr(final, "adapt"):
        raise TypeError(
            "adaptation_curve compares a meta-estimator's adapt with baselines, so the "
            "estimator (or a Pipeline's last step) must have adapt; got "
            f"{type(final).__name__}. Wrap it: MetaEstimator({type(final).__name__}(), ...)."
        )
    return final


def _check_shots(shots):
    values = np.atleast_1d(np.asarray(shots, dtype=object))
    if (values.ndim != 1 or values.size == 0
            or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                       for s in values)):
        raise ValueError(
            f"shots must be a non-empty list of positive ints (rows per task, or per "
            f"class with per_class=True); got {shots!r}."
        )
    values = values.astype(np.intp)
    if np.unique(values).shape[0] != values.shape[0]:
        raise ValueError(f"shots must not repeat a value; got {shots!r}.")
    return np.sort(values)


def _check_per_class(final, per_class):
    """Refuse ``per_class`` for a regressor (``final``: the estimator or a Pipeline's last step)."""
    if per_class and not is_classifier(final):
        # SupportQuerySplit would ask to pass class labels y, which were passed.
        base = final._base_estimator() if hasattr(final, "_base_estimator") else final
        raise ValueError(
            f"per_class=True counts shots per class, but {type(base).__name__} is not a "
            "classifier, so y holds no classes. Use per_class=False for a regressor."
        )


def _check_scoring_arg(scoring, several="call adaptation_curve once per metric"):
    """Refuse, before any fit, a scoring that is not one metric (``several``: what to do
    for several metrics instead)."""
    if isinstance(scoring, str):
        get_scorer(scoring)  # an unknown name gets scikit-learn's list of the valid ones
    elif scoring is not None and not callable(scoring):
        raise ValueError(
            "scoring must be one metric: a scorer name such as 'r2', a callable scorer "
            f"(make_scorer) or None; got {scoring!r}. For several metrics, {several}."
        )


def _check_baselines(baselines):
    """A dict from each baseline's name to "scratch", "pooled" or an estimator."""
    entries = [baselines] if isinstance(baselines, str) else list(baselines)
    checked = {}
    for entry in entries:
        if isinstance(entry, str) and entry in BASELINES:
            name, spec = entry, entry
        elif (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
              and hasattr(entry[1], "fit")):
            name, spec = entry
        else:
            raise ValueError(
                f"Each baseline must be one of {list(BASELINES)} or a (name, estimator) "
                f"pair; got {entry!r}."
            )
        if name == "meta" or name in checked:
            raise ValueError(
                f"Baseline names must be distinct and not 'meta'; {name!r} repeats one."
            )
        checked[name] = spec
    return checked


def _task_splits(cv, X, y, groups):
    """(train, test) row positions of each split, checked to keep every task whole."""
    if cv is None:
        cv = 5  # scikit-learn's default number of folds, split by task as an int is
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        n_tasks = np.unique(groups).shape[0]
        if not 2 <= cv <= n_tasks:
            raise ValueError(
                f"cv={cv} folds over {n_tasks} tasks: give between 2 and {n_tasks} folds, "
                "or a splitter."
            )
        cv = GroupKFold(cv)
    else:
        cv = check_cv(cv)  # a splitter, or an iterable of (train, test)
    splits = list(cv.split(X, y, groups))
    for k, (train, test) in enumerate(splits):
        shared = np.intersect1d(groups[train], groups[test])
        if shared.size:
            raise ValueError(
                f"Split {k} of cv={cv!r} puts rows of task(s) {shared[:5].tolist()} on "
                "both sides. An adaptation curve scores tasks never seen in fit: use a "
                "splitter that keeps tasks whole, such as GroupKFold or GroupShuffleSplit."
            )
        # A task held out in part would be scored on the supports' rows that are in
        # test: fewer shots than reported, or none.
        held_out = np.unique(groups[test])
        left_out = np.setdiff1d(np.flatnonzero(np.isin(groups, held_out)), test)
        if left_out.size:
            raise ValueError(
                f"Split {k} of cv={cv!r} holds out only some rows of task(s) "
                f"{np.unique(groups[left_out])[:5].tolist()}. An adaptation curve draws "
                "each held-out task's support and query rows from all of its rows: put "
                "every row of a held-out task in test, as GroupKFold does."
            )
    return splits


def _most_classes_of_a_task(groups, labels):
    """The largest number of distinct labels in one task (one pass, no loop over tasks)."""
    _, task = np.unique(groups, return_inverse=True)
    classes, label = np.unique(labels, return_inverse=True)
    pairs = np.unique(task * classes.shape[0] + label)
    return int(np.bincount(pairs // classes.shape[0]).max())


def _nested_supports(labels, groups, shots, per_class, random_state, rows=None):
    """Support rows of each shot count (a boolean mask per entry of ``shots``) and the query.

    Only the tasks of ``rows`` (positions; ``None``: all) are split. The
    largest support set is drawn as :class:`SupportQuerySplit` draws it (with
    its checks of every task); each smaller one is drawn by it again, from
    the rows of the next larger one.
    """
    seeds = check_random_state(random_state).randint(_MAX_SEED, size=shots.shape[0])
    masks = []
    support = np.arange(groups.shape[0]) if rows is None else rows
    query = None
    for k, seed in zip(shots[::-1], seeds[::-1]):
        splitter = SupportQuerySplit(int(k), per_class=per_class, random_state=seed)
        # The splitter reads only the number of rows of X: the positions stand in for
        # them, so no rows are copied.
        inner, outer = next(splitter.split(
            support, None if labels is None else labels[support], groups[support]))
        if query is None:
            query = support[outer]
        support = support[inner]
        mask = np.zeros(groups.shape[0], dtype=bool)
        mask[support] = True
        masks.append(mask)
    is_query = np.zeros(groups.shape[0], dtype=bool)
    is_query[query] = True
    return masks[::-1], is_query


def _score_split(estimator, X, y, groups, train, test, supports, is_query, baselines,
                 scoring, shots, split, error_score):
    """Meta-fit on one split's training tasks; score its held-out tasks at every shot count."""
    meta = _without_refit(clone(estimator))
    with _noted(f"adaptation_curve: while meta-fitting on the training tasks of split {split}"):
        _fit_collection(meta, _safe_indexing(X, train), y[train], groups[train])
    base = _base_of(estimator) if _needs_base(baselines) else None
    with _noted(f"adaptation_curve: while fitting the pooled baseline of split {split}"):
        pooled = {name: clone(base).fit(_safe_indexing(X, train), y[train])
                  for name, spec in baselines.items() if _is(spec, "pooled")}
    from_support = {name: base if _is(spec, "scratch") else spec
                    for name, spec in baselines.items() if not _is(spec, "pooled")}

    task_ids, indices = task_indices(groups[test])
    scores = {name: np.empty((len(supports), task_ids.shape[0]))
              for name in ("meta", *baselines)}
    for j, rows in enumerate(indices):
        task_rows = test[rows]
        query = task_rows[is_query[task_rows]]
        X_query, y_query = _safe_indexing(X, query), y[query]
        for name, model in pooled.items():
            scores[name][:, j] = _score(model, X_query, y_query, scoring)
        for i, in_support in enumerate(supports):
            support = task_rows[in_support[task_rows]]
            X_support, y_support = _safe_indexing(X, support), y[support]
            where = (f"held-out task {_fmt(task_ids[j])} with shots={shots[i]} "
                     f"({support.shape[0]} support rows) in split {split}")
            scores["meta"][i, j] = _fit_and_score(
                lambda: _adapt_or_fit(meta, X_support, y_support), X_query, y_query, scoring,
                error_score, f"adaptation_curve: while adapting to {where}")
            for name, model in from_support.items():
                scores[name][i, j] = _fit_and_score(
                    lambda: clone(model).fit(X_support, y_support), X_query, y_query, scoring,
                    error_score, f"adaptation_curve: while fitting baseline {name!r} on {where}")
    return task_ids, scores


def _fit_and_score(fit, X_query, y_query, scoring, error_score, where):
    """Query score of the learner ``fit()`` returns, or ``error_score`` with a warning."""
    try:
        with _noted(where):
            return _score(fit(), X_query, y_query, scoring)
    except Exception as error:
        if isinstance(error_score, str):  # "raise"
            raise
        warnings.warn(
            f"{where}: {type(error).__name__}: {error} The task scores "
            f"error_score={error_score} there.", FitFailedWarning
        )
        return error_score


@contextmanager
def _noted(message):
    """Add ``message`` to an error raised inside: the original error, told where it happened."""
    try:
        yield
    except Exception as error:
        if hasattr(error, "add_note"):  # Python 3.11 and later; 3.10 shows the error alone
            error.add_note(message)
        raise


def _is(spec, word):
    return isinstance(spec, str) and spec == word


def _needs_base(baselines):
    return any(isinstance(spec, str) for spec in baselines.values())


def _score(learner, X, y, scoring):
    return check_scoring(learner, scoring)(learner, X, y)


def _without_refit(estimator):
    """``estimator`` with the meta-estimator's ``refit`` off: ``adapt`` needs no learners."""
    key = f"{estimator.steps[-1][0]}__refit" if isinstance(estimator, Pipeline) else "refit"
    if key in estimator.get_params():
        estimator.set_params(**{key: False})
    return estimator


def _base_of(estimator):
    """The scratch model: ``estimator`` with its meta-estimator replaced by the base estimator."""
    final = _final_step(estimator)
    if not hasattr(final, "_base_estimator"):
        raise TypeError(
            f"The baselines are fits of the base estimator, which {type(final).__name__} "
            "does not name; use a MetaEstimator, or pass baselines=()."
        )
    # Seeded as MetaEstimator.fit seeds the base estimator, so a fixed random_state
    # fixes the baselines too (the same for every split and any n_jobs). A copy of a
    # RandomState instance: the user's own is not advanced.
    random_state = getattr(final, "random_state", None)
    base = seeded_clone(final._base_estimator(), random_state,
                        check_random_state(deepcopy(random_state)))
    if not isinstance(estimator, Pipeline):
        return base
    return clone(estimator).set_params(**{estimator.steps[-1][0]: base})


def _fit_collection(estimator, X, y, groups):
    """Fit on a task collection, handing ``groups`` to the meta-estimator (also in a Pipeline)."""
    if isinstance(estimator, Pipeline) and not sklearn.get_config()["enable_metadata_routing"]:
        # Without routing a Pipeline takes step-prefixed fit parameters.
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__groups": groups})
    return estimator.fit(X, y, groups=groups)
