"""Task utilities: how rows become tasks, support/query splits and episodes.

A task collection is ``(X, y, groups)``: rows concatenated, one task id per
row, the convention of :class:`~sklearn.model_selection.GroupKFold`.
"""

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, RealNotInt, validate_params
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples

from ._validation import check_groups, missing_value, rows_indexable, take_rows, task_indices

__all__ = [
    "SupportQuerySplit", "iter_tasks", "make_episodes", "split_classes", "support_query_split",
]

# Wide enough for many distinct task seeds, small enough for every platform.
_MAX_SEED = np.iinfo(np.int32).max
_POSITIVE = Interval(Integral, 1, None, closed="left")


def _fmt(value):
    # numpy 2 reprs scalars as ``np.int64(3)``; users typed ``3``.
    return repr(value.item() if isinstance(value, np.generic) else value)


def _shots_fix(n_rows, what):
    # shots is at least 1: with one row there is no shots value to suggest.
    if n_rows > 1:
        return f"Lower shots to at most {n_rows - 1} or drop the task."
    return f"No shots value can split one row: give {what} more rows or drop the task."


def _check_collection(X, y, groups):
    """Return ``(n_samples, groups)`` after checking that X, y, groups align."""
    n_samples = _num_samples(X)
    if n_samples == 0:
        raise ValueError("X has no rows; a task collection needs at least one row.")
    if y is not None and _num_samples(y) != n_samples:
        raise ValueError(
            f"y has {_num_samples(y)} rows but X has {n_samples}; pass one target "
            "per row of X."
        )
    if y is not None:
        values = np.asarray(y)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values).reshape(n_samples, -1).all(axis=1))[0])
            raise ValueError(
                f"y holds NaN or infinity (first at row {row}); every row needs a finite "
                "target. Drop those rows or fill in their targets."
            )
        if values.dtype.kind == "O" and values.ndim == 1:
            # numpy could not sort such labels ("'<' not supported between float and str")
            _check_no_missing_label(values)
    return n_samples, check_groups(groups, n_samples)


def _check_no_missing_label(y):
    """Refuse a missing label (NaN, None, pd.NA) in a 1-D float or object ``y``."""
    missing = missing_value(y) if y.dtype.kind in "fO" else None
    if missing is not None:
        raise ValueError(
            f"y holds {missing}; every row needs a label. Drop those rows or fill in their "
            "labels."
        )


def _is_classification(y):
    return y is not None and type_of_target(y) in ("binary", "multiclass")


def iter_tasks(X, y, groups=None):
    """Iterate over the tasks of a collection, in sorted task-id order.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Rows of every task, concatenated.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or None
        Targets; ``None`` yields ``None`` as each task's targets.
    groups : array-like of shape (n_samples,), default=None
        Task id of each row. ``None`` means a single task with id ``0``.

    Yields
    ------
    task_id, X_task, y_task
        The task's id, as in ``groups``, and its rows, of the same container
        type as ``X`` and ``y`` and in their original order.

    Examples
    --------
    >>> import numpy as np
    >>> from metasklearn.tasks import iter_tasks
    >>> X = np.arange(10).reshape(5, 2)
    >>> y = np.array([0, 1, 0, 1, 1])
    >>> for task, X_t, y_t in iter_tasks(X, y, groups=[7, 3, 7, 3, 3]):
    ...     print(task, X_t.shape, y_t.tolist())
    3 (3, 2) [1, 1, 1]
    7 (2, 2) [0, 0]
    """
    _, groups = _check_collection(X, y, groups)
    X = rows_indexable(X)
    task_ids, indices = task_indices(groups)
    for task, idx in zip(task_ids, indices):
        y_task = None if y is None else take_rows(y, idx)
        yield task, take_rows(X, idx), y_task


def _stratified_counts(class_counts, shots, rng):
    """Split ``shots`` over classes in proportion, at least one per class.

    Largest-remainder rounding, one row at a time; ties are broken at random
    so small classes are not always favoured in the same order.
    """
    target = shots * class_counts / class_counts.sum()
    alloc = np.maximum(np.floor(target).astype(np.intp), 1)
    order = rng.permutation(class_counts.shape[0])
    while alloc.sum() != shots:
        step = 1 if alloc.sum() < shots else -1
        room = alloc < class_counts if step > 0 else alloc > 1
        score = np.where(room, (target - alloc) * step, -np.inf)
        alloc[order[np.argmax(score[order])]] += step
    return alloc


class SupportQuerySplit(BaseCrossValidator):
    """Split every task of a collection into a support set and a query set.

    ``shots`` rows of each task go to the support set (the few labelled rows a
    learner adapts on), every other row to the query set (where it is scored).
    Splits cover the whole collection, so the splitter plugs into
    ``cross_validate`` or ``GridSearchCV`` as ``cv``; ``groups`` is requested
    by default under metadata routing.

    Parameters
    ----------
    shots : int, default=5
        Support rows per task, or per class of each task if ``per_class``.
    per_class : bool, default=False
        Take ``shots`` rows of each class of each task (K-shot). Needs class
        labels ``y``. When False and ``y`` holds class labels, the support set
        is stratified: each class keeps its share, rounded, and at least one
        row. Integer-valued regression targets look like class labels; call
        ``split(X, groups=groups)`` without ``y`` for plain random support.
    n_repeats : int, default=1
        Number of different splits to generate.
    random_state : int, RandomState instance or None, default=None
        One seed is drawn per task in sorted task-id order, and repeat ``r``
        of a task depends only on that seed and ``r``. Adding a task whose id
        sorts after the existing ones, or raising ``n_repeats``, leaves the
        earlier splits unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from metasklearn.tasks import SupportQuerySplit
    >>> X = np.zeros((12, 1))
    >>> groups = np.repeat([0, 1, 2], 4)
    >>> cv = SupportQuerySplit(shots=1, random_state=0)
    >>> support, query = next(cv.split(X, groups=groups))
    >>> print(np.bincount(groups[support]), np.bincount(groups[query]))
    [1 1 1] [3 3 3]
    """

    __metadata_request__split = {"groups": True}

    _parameter_constraints = {
        "shots": [_POSITIVE],
        "per_class": ["boolean"],
        "n_repeats": [_POSITIVE],
        "random_state": ["random_state"],
    }

    def __init__(self, shots=5, *, per_class=False, n_repeats=1, random_state=None):
        self.shots = shots
        self.per_class = per_class
        self.n_repeats = n_repeats
        self.random_state = random_state

    def _validate(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_repeats``.

        Parameters
        ----------
        X : object, default=None
            Ignored; accepted for the scikit-learn splitter interface.
        y : object, default=None
            Ignored.
        groups : object, default=None
            Ignored.

        Returns
        -------
        n_splits : int
            Number of ``(support, query)`` splits :meth:`split` generates.
        """
        self._validate()
        return self.n_repeats

    def split(self, X, y=None, groups=None):
        """Generate ``(support, query)`` row positions over the whole collection.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of every task; only their number is used.
        y : array-like of shape (n_samples,), default=None
            Targets; class labels switch on stratification.
        groups : array-like of shape (n_samples,), default=None
            Task id of each row; ``None`` means one task.

        Yields
        ------
        support, query : ndarray of int
            Sorted, disjoint row positions that together cover every row.
        """
        self._validate()
        n_samples, groups = _check_collection(X, y, groups)
        if y is not None:
            y = np.asarray(y)
        is_labels = _is_classification(y)
        if self.per_class and not is_labels:
            raise ValueError(
                "per_class=True takes shots rows of each class, so it needs class "
                "labels y; pass y, or use per_class=False for regression targets."
            )
        mode = "per_class" if self.per_class else ("stratified" if is_labels else "random")
        task_ids, indices = task_indices(groups)
        # Check every task before yielding anything, so a bad task fails fast.
        strata = [
            self._task_strata(task, idx, None if y is None else y[idx], mode)
            for task, idx in zip(task_ids, indices)
        ]
        seeds = check_random_state(self.random_state).randint(_MAX_SEED, size=len(strata))
        # One generator reseeded per task: the same draws as RandomState([seed, repeat]),
        # whose construction (a fresh MT19937 seeded from the OS first) costs ten times
        # the reseed and dominated the split of many small tasks.
        rng = np.random.RandomState()
        for repeat in range(self.n_repeats):
            in_support = np.zeros(n_samples, dtype=bool)
            for seed, task_strata in zip(seeds, strata):
                rng.seed([seed, repeat])
                in_support[self._draw_support(task_strata, mode, rng)] = True
            yield np.flatnonzero(in_support), np.flatnonzero(~in_support)

    def _task_strata(self, task, idx, y_task, mode):
        """Row positions of a task, one array per class, after checking sizes."""
        if mode != "per_class" and idx.shape[0] <= self.shots:
            raise ValueError(
                f"Task {_fmt(task)} has {idx.shape[0]} rows, so it cannot give "
                f"shots={self.shots} support rows and keep a query row. "
                f"{_shots_fix(idx.shape[0], 'the task')}"
            )
        if mode == "random":
            return [idx]
        # Same grouping as tasks, applied to labels.
        classes, rows_of = task_indices(y_task)
        strata = [idx[rows] for rows in rows_of]
        if mode == "stratified" and classes.shape[0] > self.shots:
            raise ValueError(
                f"Task {_fmt(task)} has {classes.shape[0]} classes, more than "
                f"shots={self.shots}, so a stratified support set cannot hold one row "
                "of each. Raise shots or use per_class=True (or, if y is a regression "
                "target with integer values, split without y)."
            )
        for label, rows in zip(classes, strata):
            if mode == "per_class" and rows.shape[0] <= self.shots:
                raise ValueError(
                    f"Class {_fmt(label)} of task {_fmt(task)} has {rows.shape[0]} rows, "
                    f"so it cannot give shots={self.shots} support rows and keep a query "
                    f"row. {_shots_fix(rows.shape[0], 'the class')}"
                )
        return strata

    def _draw_support(self, strata, mode, rng):
        if mode == "stratified":
            sizes = np.array([rows.shape[0] for rows in strata])
            counts = _stratified_counts(sizes, self.shots, rng)
        else:
            counts = [self.shots] * len(strata)
        return np.concatenate(
            [rng.choice(rows, n, replace=False) for rows, n in zip(strata, counts)]
        )


def support_query_split(X, y, groups=None, *, shots=5, per_class=False, random_state=None):
    """Split every task of a collection into support and query rows, once.

    The task-wise analogue of :func:`~sklearn.model_selection.train_test_split`,
    built on one split of :class:`SupportQuerySplit` (see it for ``shots``,
    ``per_class`` and stratification).

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Rows of every task, concatenated.
    y : array-like of shape (n_samples,) or None
        Targets; ``None`` gives ``None`` for both target outputs.
    groups : array-like of shape (n_samples,), default=None
        Task id of each row; ``None`` means one task with id ``0``.
    shots : int, default=5
        Support rows per task (per class of each task if ``per_class``).
    per_class : bool, default=False
        Take ``shots`` rows of each class of each task.
    random_state : int, RandomState instance or None, default=None
        Controls the split; see :class:`SupportQuerySplit`.

    Returns
    -------
    X_support, X_query, y_support, y_query, groups_support, groups_query
        Rows of each side in their original order; ``groups_*`` are arrays
        of task ids (zeros when ``groups=None``).

    Examples
    --------
    >>> import numpy as np
    >>> from metasklearn.tasks import support_query_split
    >>> X, y = np.zeros((20, 3)), np.tile([0, 1], 10)
    >>> groups = np.repeat([0, 1], 10)
    >>> X_s, X_q, y_s, y_q, g_s, g_q = support_query_split(
    ...     X, y, groups, shots=2, per_class=True, random_state=0)
    >>> print(X_s.shape, X_q.shape, np.bincount(y_s), g_s.tolist())
    (8, 3) (12, 3) [4 4] [0, 0, 0, 0, 1, 1, 1, 1]
    """
    _, task_of_row = _check_collection(X, y, groups)
    splitter = SupportQuerySplit(shots, per_class=per_class, random_state=random_state)
    support, query = next(splitter.split(X, y, task_of_row))
    X = rows_indexable(X)
    out = [_safe_indexing(X, support), _safe_indexing(X, query)]
    out += [None, None] if y is None else [_safe_indexing(y, support), _safe_indexing(y, query)]
    return (*out, task_of_row[support], task_of_row[query])


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "n_way": [Interval(Integral, 2, None, closed="left")],
        "k_shot": [_POSITIVE],
        "n_query": [Interval(Integral, 0, None, closed="left")],
        "n_episodes": [_POSITIVE],
        "classes": ["array-like", None],
        "relabel": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_episodes(
    X, y, *, n_way=5, k_shot=1, n_query=15, n_episodes=100, classes=None, relabel=True,
    random_state=None,
):
    """Sample N-way K-shot episodes from a labelled pool as a task collection.

    Each episode draws ``n_way`` distinct classes uniformly at random, then
    ``k_shot + n_query`` distinct rows of each. A row may appear in several
    episodes, never twice in one.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The labelled pool.
    y : array-like of shape (n_samples,)
        Class labels of the pool.
    n_way : int, default=5
        Classes per episode (at least 2, so each episode is a classification task).
    k_shot : int, default=1
        Support rows per class.
    n_query : int, default=15
        Query rows per class.
    n_episodes : int, default=100
        Number of episodes.
    classes : array-like, default=None
        Original labels that may be drawn; ``None`` means all of ``y``. Use it
        for disjoint meta-train / meta-test classes (see :func:`split_classes`).
    relabel : bool, default=True
        Map each episode's classes to ``0..n_way-1`` in a random order, so a
        label carries no information across episodes. If False, keep the
        original labels. The rows drawn do not depend on this flag.
    random_state : int, RandomState instance or None, default=None
        Controls the draws.

    Returns
    -------
    X_ep : same type as X, of shape (n_episodes * n_way * (k_shot + n_query), n_features)
        Episode rows. Rows of an episode are contiguous, and inside it the
        rows of each class are contiguous (classes in random order, rows of a
        class in random order). A DataFrame keeps its original index; COO,
        DIA and BSR input comes back as CSR.
    y_ep : ndarray of shape (n_episodes * n_way * (k_shot + n_query),)
        Episode labels.
    groups : ndarray of shape (n_episodes * n_way * (k_shot + n_query),)
        Episode index ``0..n_episodes-1`` of each row. Split support from query
        with ``SupportQuerySplit(shots=k_shot, per_class=True)``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from metasklearn.tasks import make_episodes
    >>> X, y = load_iris(return_X_y=True)
    >>> X_ep, y_ep, groups = make_episodes(
    ...     X, y, n_way=2, k_shot=1, n_query=3, n_episodes=10, random_state=0)
    >>> print(X_ep.shape, sorted(set(y_ep.tolist())), groups.max())
    (80, 4) [0, 1] 9
    """
    n_samples = _num_samples(X)
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} rows but X has {n_samples}; pass one label per row.")
    if not _is_classification(y):
        raise ValueError(
            f"make_episodes needs class labels (binary or multiclass), but y looks "
            f"{type_of_target(y)!r}. Pass the labels the episodes' classes are drawn from; "
            "a continuous target has no classes to draw N ways from."
        )
    labels, rows_of = task_indices(y)
    if classes is None:
        available = np.arange(labels.shape[0])
    else:
        classes = np.unique(np.asarray(classes))
        missing = np.setdiff1d(classes, labels)
        if missing.size:
            raise ValueError(
                f"classes {missing.tolist()} do not occur in y; choose classes from "
                f"{labels.tolist()}."
            )
        available = np.flatnonzero(np.isin(labels, classes))
    if available.shape[0] < n_way:
        raise ValueError(
            f"n_way={n_way} needs {n_way} classes but only {available.shape[0]} are "
            "available; lower n_way or allow more classes."
        )
    per_class = k_shot + n_query
    for k in available:
        if rows_of[k].shape[0] < per_class:
            raise ValueError(
                f"Class {_fmt(labels[k])} has {rows_of[k].shape[0]} rows but each "
                f"episode needs k_shot + n_query = {per_class} rows per class. Lower "
                "k_shot or n_query, or leave the class out with `classes`."
            )

    rng = check_random_state(random_state)
    rows, new_labels = [], []
    for _ in range(n_episodes):
        chosen = rng.choice(available, n_way, replace=False)
        # Drawn even when relabel=False so the rows drawn do not depend on it.
        mapping = rng.permutation(n_way)
        for position, k in enumerate(chosen):
            rows.append(rng.choice(rows_of[k], per_class, replace=False))
            new_labels.append(np.full(per_class, mapping[position]))
    rows = np.concatenate(rows)
    y_ep = np.concatenate(new_labels) if relabel else y[rows]
    groups = np.repeat(np.arange(n_episodes), n_way * per_class)
    return _safe_indexing(rows_indexable(X), rows), y_ep, groups


@validate_params(
    {
        "y": ["array-like"],
        "test_size": [Interval(RealNotInt, 0, 1, closed="neither"), _POSITIVE],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_classes(y, *, test_size=0.5, random_state=None):
    """Split the class labels of ``y`` at random into two disjoint sets.

    The usual few-shot protocol: meta-train on episodes of some classes,
    meta-test on episodes of classes never seen (pass each set as
    ``classes`` to :func:`make_episodes`).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels; only the distinct values matter.
    test_size : float or int, default=0.5
        Fraction of the classes (rounded up) or number of classes for the test
        side. Each side keeps at least one class.
    random_state : int, RandomState instance or None, default=None
        Controls the split.

    Returns
    -------
    train_classes, test_classes : ndarray
        Sorted, disjoint labels that together are the labels of ``y``.

    Examples
    --------
    >>> from metasklearn.tasks import split_classes
    >>> train, test = split_classes([0, 1, 2, 3, 4, 4], test_size=2, random_state=0)
    >>> print(len(train), len(test), set(train.tolist()) | set(test.tolist()))
    3 2 {0, 1, 2, 3, 4}
    """
    y = column_or_1d(y, warn=True)
    # np.unique would make NaN a class of its own (or fail to sort strings beside it)
    _check_no_missing_label(y)
    labels = np.unique(y)
    n_classes = labels.shape[0]
    if n_classes < 2:
        raise ValueError(
            f"y has {n_classes} distinct label(s); splitting classes needs at least 2."
        )
    if isinstance(test_size, Integral):
        n_test = test_size
    else:
        # The tolerance keeps 0.3 * 10 == 3.0000000000000004 from rounding up to 4.
        n_test = max(1, int(np.ceil(test_size * n_classes - 1e-9)))
    if n_test > n_classes - 1:
        raise ValueError(
            f"test_size={test_size} puts {n_test} of the {n_classes} classes on the test "
            "side and leaves none for training; lower test_size."
        )
    shuffled = check_random_state(random_state).permutation(labels)
    return np.sort(shuffled[n_test:]), np.sort(shuffled[:n_test])
