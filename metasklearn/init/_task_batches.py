"""Meta-batches for MLP meta-training: which tasks, which rows, what label space.

One job: turn ``(X, y, groups)`` into stacked support/query arrays for a
meta-batch, without copying the collection (rows are gathered per batch, so
memory grows with the meta-batch, not with the number of tasks).
"""

from collections import defaultdict

import numpy as np
from scipy import sparse
from sklearn.utils.sparsefuncs import mean_variance_axis


def detect_label_space(y_codes, indices, X, max_tasks=500):
    """``"shared"`` if a label means the same thing in every task, else ``"episodic"``.

    Heuristic: per task and label, the mean of the (standardised) rows. If
    labels are shared, the label explains much of the spread of these means
    across tasks; if labels are arbitrary per task (N-way episodes relabelled
    ``0..N-1``), it explains what random labels would (about ``(L - 1) /
    (E - 1)`` for ``L`` labels and ``E`` means). Shared when the explained
    fraction exceeds twice that plus 0.05.
    """
    if sparse.issparse(X):
        # never densify the whole collection: only the means of a few tasks' rows
        X = X.tocsr()
        scale = np.sqrt(mean_variance_axis(X, axis=0)[1])
    else:
        X = np.asarray(X, dtype=float)
        scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    means, labels = [], []
    for _, idx in zip(range(max_tasks), indices):
        codes = y_codes[idx]
        for label in np.unique(codes):
            means.append(np.asarray(X[idx[codes == label]].mean(axis=0)).ravel() / scale)
            labels.append(label)
    means, labels = np.array(means), np.array(labels)
    total = ((means - means.mean(axis=0)) ** 2).sum()
    if total == 0 or len(np.unique(labels)) < 2:
        return "shared"
    within = sum(((means[labels == lab] - means[labels == lab].mean(axis=0)) ** 2).sum()
                 for lab in np.unique(labels))
    explained = 1 - within / total
    expected = (len(np.unique(labels)) - 1) / max(len(labels) - 1, 1)
    return "shared" if explained > 2 * expected + 0.05 else "episodic"


def draw_tasks(rng, n_tasks, size):
    """``size`` distinct task positions (with replacement only if there are too few tasks).

    Rejection sampling: ``rng.choice(..., replace=False)`` permutes all tasks
    at every call, which would make a meta-iteration cost grow with the
    collection.
    """
    if size > n_tasks:
        return rng.randint(n_tasks, size=size)
    if 4 * size > n_tasks:
        return rng.permutation(n_tasks)[:size]
    if size * size <= n_tasks:
        # A repeat is unlikely (probability < 1/2): redraw the whole batch until there is
        # none, which keeps every set of distinct tasks equally likely.
        while True:
            picks = rng.randint(n_tasks, size=size)
            ordered = np.sort(picks)
            if (ordered[1:] != ordered[:-1]).all():
                return picks
    picks, seen = [], set()
    while len(picks) < size:
        for k in rng.randint(n_tasks, size=size - len(picks)).tolist():
            if k not in seen:
                seen.add(k)
                picks.append(k)
    return np.array(picks)


def support_query(rng, y_tasks, shots, classification):
    """Positions of the support and query rows of tasks with equal row counts.

    ``y_tasks`` has shape ``(n_tasks, n_rows)``: each task's targets. Every
    task's rows are a random permutation (one ``rng.permutation`` per task,
    in task order); for classifiers they are then taken round-robin over the
    classes, so the ``shots`` support rows cover every class when ``shots``
    is at least the number of classes.

    Returns ``(S, Q)`` of shapes ``(n_tasks, shots)`` and ``(n_tasks,
    n_rows - shots)``: positions within each task.

    Examples
    --------
    >>> import numpy as np
    >>> S, Q = support_query(np.random.RandomState(0), np.array([[0, 0, 0, 1, 1, 1]]), 2,
    ...                      classification=True)
    >>> np.sort(np.array([[0, 0, 0, 1, 1, 1]])[0, S[0]]).tolist()
    [0, 1]
    """
    n_tasks, n = y_tasks.shape
    # One permutation per task, as numpy draws them; a single vectorised draw would
    # change every meta-training result recorded so far.
    order = np.stack([rng.permutation(n) for _ in range(n_tasks)]) if n_tasks else \
        np.empty((0, n), dtype=int)
    if classification and n:
        labels = np.take_along_axis(y_tasks, order, axis=1)
        by_class = np.argsort(labels, axis=1, kind="stable")
        sorted_labels = np.take_along_axis(labels, by_class, axis=1)
        first = np.ones(sorted_labels.shape, dtype=bool)
        first[:, 1:] = sorted_labels[:, 1:] != sorted_labels[:, :-1]
        position = np.arange(n)
        # Rank of each row among the rows of its class (0 for the first one).
        group_start = np.maximum.accumulate(np.where(first, position, 0), axis=1)
        rank = np.empty_like(by_class)
        np.put_along_axis(rank, by_class, position - group_start, axis=1)
        order = np.take_along_axis(order, np.argsort(rank, axis=1, kind="stable"), axis=1)
    return order[:, :shots], order[:, shots:]


def count_labels(y_tasks):
    """Number of distinct labels in each row of ``y_tasks`` (shape ``(n_tasks, n_rows)``).

    >>> count_labels(np.array([[3, 1, 3], [2, 2, 2]])).tolist()
    [2, 1]
    """
    if y_tasks.shape[1] == 0:
        return np.zeros(y_tasks.shape[0], dtype=int)
    ordered = np.sort(y_tasks, axis=1)
    return 1 + (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1)


def split_rows(rng, y, rows, picks, shots, kind):
    """Support and query row positions of the picked tasks, stacked by shape.

    ``rows`` is the collection's ``TaskRows``, ``picks`` task positions in
    it, ``kind`` ``"classification"`` or ``"regression"``. Returns
    ``{(n_query, n_labels): (S, Q)}`` with ``S`` of shape ``(n_tasks,
    shots)`` and ``Q`` of shape ``(n_tasks, n_query)`` (row positions in the
    collection; ``n_labels`` is 0 for regression).
    """
    sizes = rows.sizes[picks]
    if kind == "regression" and (sizes == sizes[0]).all():
        # One draw for the meta-batch (per-task draws cost more than the training
        # step): a uniform random order of each task's rows.
        order = rng.random_sample((len(picks), sizes[0])).argsort(axis=1)
        positions = rows.order[rows.starts[picks][:, None] + order]
        return {(sizes[0] - shots, 0): (positions[:, :shots], positions[:, shots:])}
    classification = kind == "classification"
    buckets = defaultdict(list)
    # Tasks of one size are split together; their support label counts then
    # decide the stacks (a 2-label task trains one output unit, not two).
    for size in np.unique(sizes):
        same = picks[sizes == size]
        positions = rows.order[rows.starts[same][:, None] + np.arange(size)]
        S, Q = (np.take_along_axis(positions, part, axis=1)
                for part in support_query(rng, y[positions], shots, classification))
        n_labels = count_labels(y[S]) if classification else np.zeros(len(same), int)
        for n_lab in np.unique(n_labels):
            members = n_labels == n_lab
            buckets[(size - shots, int(n_lab))].append((S[members], Q[members]))
    return {key: (np.concatenate([s for s, _ in parts]), np.concatenate([q for _, q in parts]))
            for key, parts in buckets.items()}


def hold_out_tasks(rng, rows, fraction, shots, max_checked, name):
    """Split task positions into training tasks and the validation tasks to check.

    ``round(fraction * n_tasks)`` tasks are held out (never trained on); at
    most ``max_checked`` of them, a fixed random subset, are the ones the
    validation loss is measured on, and each must have query rows beyond
    ``shots``. Returns ``(train, checked)``, both sorted.
    """
    n_tasks = len(rows)
    n_val = int(round(fraction * n_tasks))
    if not 1 <= n_val < n_tasks:
        raise ValueError(
            f"{name}: validation_fraction={fraction!r} of {n_tasks} tasks holds out {n_val} "
            "tasks; it must leave at least one validation task and one training task. Change "
            "validation_fraction, or use None.")
    order = rng.permutation(n_tasks)
    checked = np.sort(order[:min(n_val, max_checked)])
    too_small = rows.sizes[checked] <= shots
    if too_small.any():
        raise ValueError(
            f"{name}: a validation task has {rows.sizes[checked][too_small].min()} rows, no "
            f"more than shots={shots}, so no query rows to measure the adapted learner on. "
            "Lower shots, or drop the small tasks.")
    return np.sort(order[n_val:]), checked


def gather(X, rows):
    """``X[rows]`` for a ``(n_tasks, n_rows)`` index array, as a dense 3-D array."""
    if sparse.issparse(X):
        return X[rows.ravel()].toarray().reshape(rows.shape + (X.shape[1],))
    return np.asarray(X[rows], dtype=float)


def task_targets(y_rows, classification):
    """Targets as ``fit`` sees them, per task: label-binarised codes, or ``y`` as a column.

    Returns ``(Y, label_values)`` with ``Y`` of shape ``(n_tasks, n_rows,
    n_outputs)`` and ``label_values[t]`` the sorted labels of task ``t``
    (every task must have the same number of labels).
    """
    if not classification:
        Y = y_rows.astype(float)
        return (Y[..., None] if Y.ndim == 2 else Y), None
    values, codes = np.unique(y_rows, return_inverse=True)
    codes = codes.reshape(y_rows.shape)
    Y, _, label_codes = coded_targets(codes, codes[:, :0])
    return Y, values[label_codes]


def coded_targets(codes_support, codes_query):
    """One-hot targets of stacked tasks that each have the same number of labels.

    ``codes_*`` are integer label codes of shape ``(n_tasks, n_rows)``. Each
    task's labels are its support labels, in sorted order (as ``fit``'s
    LabelBinarizer sorts them); query labels must be among them. One
    presence table for all tasks instead of a ``np.unique`` per task.

    Returns
    -------
    Ys, Yq : ndarray of shape (n_tasks, n_rows, n_outputs)
        As ``fit`` trains on them (one column for two labels).
    labels : ndarray of shape (n_tasks, n_labels)
        Sorted label codes of each task.

    Examples
    --------
    >>> import numpy as np
    >>> Ys, Yq, labels = coded_targets(np.array([[7, 2, 7]]), np.array([[2]]))
    >>> labels.tolist(), Ys[0, :, 0].tolist(), Yq[0, :, 0].tolist()
    ([[2, 7]], [1.0, 0.0, 1.0], [0.0])
    """
    n_tasks = codes_support.shape[0]
    task = np.arange(n_tasks)[:, None]
    present = np.zeros((n_tasks, int(codes_support.max()) + 1), dtype=bool)
    present[task, codes_support] = True
    labels = np.nonzero(present)[1].reshape(n_tasks, -1)
    rank = np.cumsum(present, axis=1) - 1
    eye = np.eye(labels.shape[1])
    if labels.shape[1] == 2:
        eye = eye[:, 1:]
    return eye[rank[task, codes_support]], eye[rank[task, codes_query]], labels
