"""Validation of task collections shared by every part of metasklearn.

A task collection is ``(X, y, groups)``: rows concatenated, one task id per
row, the convention of :class:`~sklearn.model_selection.GroupKFold`.
"""

import warnings

import numpy as np
from scipy import sparse
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils._missing import is_scalar_nan


def check_groups(groups, n_samples):
    """Return ``groups`` as a 1-D array of task ids, one per row.

    ``groups=None`` means the whole collection is one task (id ``0``).
    """
    if groups is None:
        return np.zeros(n_samples, dtype=np.intp)
    groups = check_array(
        groups, ensure_2d=False, dtype=None, ensure_all_finite=False, input_name="groups"
    )
    if groups.ndim != 1:
        raise ValueError(
            f"groups must be 1-D with one task id per row of X, got shape {groups.shape}."
        )
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"groups has {groups.shape[0]} entries but X has {n_samples} rows; pass one "
            "task id per row of X."
        )
    missing = missing_value(groups)
    if missing is not None:
        raise ValueError(
            f"groups contains {missing}; every row needs a task id. Give the rows without a "
            "task their own id, or drop them."
        )
    if groups.dtype.kind == "O":
        try:
            np.unique(groups)
        except TypeError:
            # Tasks are found by sorting the ids, which mixed types (1 and "a") defeat.
            kinds = sorted({type(g).__name__ for g in groups.tolist()})
            raise ValueError(
                f"groups mixes task ids of types {kinds} that cannot be ordered; use one "
                "type for all ids (for example str)."
            ) from None
    return groups


def missing_value(values):
    """How a missing value shows in ``values`` ("NaN", "None", ...), or None if none does.

    ``values``: task ids or labels (an array); an object array of strings marks a
    missing one with None, NaN or pd.NA.
    """
    if values.dtype.kind == "f":
        return "NaN" if np.isnan(values).any() else None
    if values.dtype.kind in "mM":
        return "NaT" if np.isnat(values).any() else None
    if values.dtype.kind != "O":
        return None
    # An object array marks a missing id with None, or with NaN as pandas does in a column
    # of strings (pd.NA, pd.NaT in others). NaN must not reach the sort that finds the
    # tasks: it compares false with every id, so equal ids would end up in several tasks.
    if np.equal(values, None).any():
        return "None"
    with warnings.catch_warnings():
        # numpy < 1.25 warns and gives one False when an elementwise comparison raises
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            unequal = values != values  # NaN and NaT differ from themselves
        except TypeError:  # pd.NA compares to pd.NA, which has no truth value
            return "<NA>"
    if np.ndim(unequal) == 0:
        return "<NA>" if any(type(value).__name__ == "NAType" for value in values) else None
    unequal = np.flatnonzero(unequal)
    if unequal.size:
        value = values[unequal[0]]
        return "NaN" if is_scalar_nan(value) else repr(value)
    return None


def rows_indexable(X):
    """``X``, or as CSR if it is a sparse format whose rows cannot be taken (COO, DIA, BSR).

    Tasks are cut out of ``X`` by row positions, as scikit-learn's ``indexable``
    makes ``cross_validate``'s input; other inputs keep their type.
    """
    if sparse.issparse(X) and X.format in ("coo", "dia", "bsr"):
        return X.tocsr()
    return X


def take_rows(X, rows):
    """``_safe_indexing(X, rows)``, with a NumPy array indexed directly (the same copy).

    ``_safe_indexing`` asks which dataframe library ``X`` might come from before
    indexing, tens of microseconds a call: per task of a large collection, many
    times the cost of copying its rows.
    """
    if type(X) is np.ndarray:
        return X[rows]
    return _safe_indexing(X, rows)


class TaskRows:
    """Row positions of every task, without one array per task.

    ``rows[k]`` is a view of the positions of task ``rows.ids[k]`` (tasks in
    sorted id order, rows in their original order), ``rows.sizes[k]`` their
    count and ``rows.codes[i]`` the task position of row ``i``. One
    ``argsort``; a list of arrays would cost a Python object per task, which
    dominates memory and set-up time at hundreds of thousands of tasks.
    """

    def __init__(self, groups):
        self.ids, codes, self.sizes = np.unique(groups, return_inverse=True,
                                                return_counts=True)
        self.codes = codes.ravel()
        self.order = np.argsort(self.codes, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])

    def __len__(self):
        return self.sizes.shape[0]

    def __getitem__(self, k):
        return self.order[self.starts[k]:self.starts[k + 1]]

    def __iter__(self):
        return (self[k] for k in range(len(self)))


def task_indices(groups):
    """Split row positions by task.

    Returns ``(task_ids, indices)`` where ``task_ids`` are the sorted unique
    ids and ``indices[k]`` the row positions of task ``task_ids[k]`` in their
    original order (views into one array, see :class:`TaskRows`).
    """
    rows = TaskRows(groups)
    return rows.ids, list(rows)


def check_tasks_have_two_classes(y, task_ids, indices):
    """Raise if a classification task holds a single class."""
    for task, idx in zip(task_ids.tolist(), indices):
        labels = np.unique(y[idx]).tolist()
        if len(labels) < 2:
            raise ValueError(
                f"Task {task!r} has only one class ({labels[0]!r}) in its {idx.shape[0]} "
                "rows; a classifier needs at least two classes per task. Drop the task, "
                "merge it with a related one, or use a regressor."
            )
