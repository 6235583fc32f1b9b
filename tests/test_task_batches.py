"""Meta-batch support/query splits: class-balanced, a partition, and the same stacked or alone."""

import warnings

import numpy as np
import pytest

from metasklearn._validation import TaskRows
from metasklearn.init._task_batches import (count_labels, detect_label_space, draw_tasks,
                                            gather, split_rows, support_query, task_targets)


@pytest.mark.parametrize("classification", [True, False])
def test_stacked_split_equals_task_by_task(classification):
    # The vectorised split of a stack must be what splitting each task alone, in order,
    # gives with the same random stream (and leave the stream in the same state).
    gen = np.random.RandomState(0)
    y = gen.randint(0, 4, size=(6, 11))
    stacked_rng, single_rng = np.random.RandomState(3), np.random.RandomState(3)
    S, Q = support_query(stacked_rng, y, 4, classification)
    for t in range(y.shape[0]):
        s, q = support_query(single_rng, y[t:t + 1], 4, classification)
        np.testing.assert_array_equal(S[t], s[0])
        np.testing.assert_array_equal(Q[t], q[0])
    assert stacked_rng.randint(1 << 30) == single_rng.randint(1 << 30)


def test_split_is_a_partition_with_every_class_in_the_support():
    gen = np.random.RandomState(1)
    # Unbalanced classes: task t has one row of label 9 and the rest spread over 3 labels.
    y = gen.randint(0, 3, size=(50, 12))
    y[:, 5] = 9
    S, Q = support_query(np.random.RandomState(0), y, 4, classification=True)
    assert S.shape == (50, 4) and Q.shape == (50, 8)
    for t in range(50):
        np.testing.assert_array_equal(np.sort(np.concatenate([S[t], Q[t]])), np.arange(12))
        assert set(y[t, S[t]]) == set(y[t])  # 4 shots, at most 4 labels: all present


def test_regression_split_is_a_permutation_of_each_task():
    y = np.zeros((3, 7))
    S, Q = support_query(np.random.RandomState(0), y, 2, classification=False)
    for t in range(3):
        np.testing.assert_array_equal(np.sort(np.r_[S[t], Q[t]]), np.arange(7))


def test_count_labels():
    y = np.array([[0, 0, 0], [4, 1, 4], [1, 2, 3], [7, 7, 2]])
    np.testing.assert_array_equal(count_labels(y), [1, 2, 3, 2])
    np.testing.assert_array_equal(count_labels(np.empty((2, 0), dtype=int)), [0, 0])


def test_meta_batch_stacks_tasks_by_query_size_and_label_count():
    # Tasks of 10 and 14 rows, some with 2 labels and some with 3: every picked task lands
    # once, in the stack of its (query rows, support labels), with rows of its own task only.
    sizes = [10, 14, 10, 14, 10]
    n_labels = [2, 3, 3, 2, 2]
    groups = np.concatenate([np.full(n, t) for t, n in enumerate(sizes)])
    y = np.concatenate([np.arange(n) % k for n, k in zip(sizes, n_labels)])
    rows = TaskRows(groups)
    picks = np.array([0, 1, 2, 3, 4, 0])
    split = split_rows(np.random.RandomState(0), y, rows, picks, 3, "classification")
    assert sorted(split) == [(7, 2), (7, 3), (11, 2), (11, 3)]
    seen = []
    for (n_query, n_lab), (S, Q) in split.items():
        assert Q.shape[1] == n_query and S.shape[1] == 3
        for s, q in zip(S, Q):
            task = groups[s[0]]
            assert (groups[s] == task).all() and (groups[q] == task).all()
            assert len(np.unique(y[s])) == n_lab == n_labels[task]
            assert np.intersect1d(s, q).size == 0 and s.size + q.size == sizes[task]
            seen.append(task)
    assert sorted(seen) == sorted(picks.tolist())


def test_meta_batches_draw_distinct_tasks_cheaply():
    rng = np.random.RandomState(0)
    picks = draw_tasks(rng, 100000, 25)
    assert len(set(picks.tolist())) == 25 and picks.max() < 100000
    np.testing.assert_array_equal(picks, draw_tasks(np.random.RandomState(0), 100000, 25))
    assert len(set(draw_tasks(rng, 30, 25).tolist())) == 25
    assert len(set(draw_tasks(rng, 400, 60).tolist())) == 60  # one item at a time
    assert len(draw_tasks(rng, 3, 5)) == 5  # fewer tasks than the meta-batch
    # every task equally likely, in both rejection schemes, and never a task twice (a
    # batch of 10 from 400 holds a repeat about one time in nine: 2000 draws would show
    # one if the whole-batch scheme kept it; 25 from 100000 above almost never does)
    for n_tasks, size in [(400, 10), (400, 60)]:
        draws = [draw_tasks(rng, n_tasks, size) for _ in range(2000)]
        assert all(len(np.unique(d)) == size for d in draws), (n_tasks, size)
        counts = np.bincount(np.concatenate(draws), minlength=n_tasks)
        expected = 2000 * size / n_tasks
        assert np.abs(counts - expected).max() < 6 * np.sqrt(expected), (n_tasks, size)


def test_task_targets_are_what_fit_trains_on():
    # LabelBinarizer per task is how MLPClassifier.fit encodes y (one column for two labels).
    from sklearn.preprocessing import LabelBinarizer

    for y in (np.array([["b", "a", "b"], ["c", "c", "d"]]),
              np.array([[3, 1, 2, 1], [7, 7, 5, 9]])):
        Y, labels = task_targets(y, classification=True)
        for t, row in enumerate(y):
            binarizer = LabelBinarizer().fit(row)
            np.testing.assert_array_equal(Y[t], binarizer.transform(row))
            np.testing.assert_array_equal(labels[t], binarizer.classes_)


def test_regression_support_rows_are_a_uniform_draw_of_each_tasks_rows():
    # test_regression_split_is_a_permutation_of_each_task passes for the identity order
    # too, which would make the first `shots` rows of a task its support every time.
    groups = np.repeat(np.arange(5), 10)
    rows = TaskRows(groups)
    y = np.arange(50.0)
    rng = np.random.RandomState(0)
    counts = np.zeros(10)
    for _ in range(400):
        ((S, Q),) = split_rows(rng, y, rows, np.arange(5), 3, "regression").values()
        counts += np.bincount((S - rows.starts[:5, None]).ravel(), minlength=10)
    share = counts / (400 * 5)  # each within-task position: 3/10 of the time
    assert np.abs(share - 0.3).max() < 0.06


@pytest.mark.parametrize("seed", range(5))
def test_a_meta_batch_of_every_task_takes_each_once(seed):
    # meta_batch_size == number of tasks is common (small collections): no repeats.
    picks = draw_tasks(np.random.RandomState(seed), 7, 7)
    assert sorted(picks.tolist()) == list(range(7))


def test_gather_stacks_the_same_rows_from_sparse_and_dense_x():
    from scipy import sparse

    X = np.arange(24.0).reshape(8, 3)
    rows = np.array([[5, 0, 2], [7, 7, 1]])
    expected = X[rows]
    for matrix in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        out = gather(matrix, rows)
        assert isinstance(out, np.ndarray) and out.shape == (2, 3, 3)
        np.testing.assert_array_equal(out, expected)


def test_rows_that_are_all_alike_count_as_shared_labels():
    # No spread of the class means at all: nothing tells the labels apart, and the
    # default (shared) is kept rather than a 0 / 0.
    codes = np.array([0, 1, 0, 1, 0, 1])
    indices = [np.arange(0, 2), np.arange(2, 4), np.arange(4, 6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert detect_label_space(codes, indices, np.ones((6, 2))) == "shared"
    # One label in every task: nothing to compare either.
    assert detect_label_space(np.zeros(6, dtype=int), indices,
                              np.arange(12.0).reshape(6, 2)) == "shared"


def test_label_space_of_sparse_rows_is_detected_without_densifying_them():
    # Sparse X is supported and memory grows with the meta-batch: label_space="auto"
    # must not turn the whole collection into a dense array (it did, with X.toarray()).
    import tracemalloc

    from scipy import sparse

    gen = np.random.RandomState(0)
    n_tasks, n_rows = 400, 10
    X = sparse.random(n_tasks * n_rows, 2000, density=0.002, format="csr", random_state=0)
    codes = gen.randint(0, 2, size=n_tasks * n_rows)
    indices = [np.arange(t * n_rows, (t + 1) * n_rows) for t in range(n_tasks)]
    expected = detect_label_space(codes, indices[:20], X[:20 * n_rows].toarray())
    # Sparse rows are standardised as dense ones are (by their own variance): a feature in
    # large units that only shifts whole tasks must not drown the one that tells the
    # shared labels apart (unscaled, the labels explain 1e-7 of the spread: "episodic").
    units_rng = np.random.RandomState(1)
    unit_codes = np.tile([0, 1], 100)
    unit_tasks = [np.arange(t * 10, (t + 1) * 10) for t in range(20)]
    X_units = np.column_stack([unit_codes + 0.3 * units_rng.normal(size=200),
                               1000 * np.repeat(units_rng.normal(size=20), 10)
                               + units_rng.normal(size=200)])
    assert detect_label_space(unit_codes, unit_tasks, X_units) == "shared"
    for matrix in (sparse.csr_matrix(X_units), sparse.csc_matrix(X_units)):
        assert detect_label_space(unit_codes, unit_tasks, matrix) == "shared"
    tracemalloc.start()
    try:
        for matrix in (X, X.tocsc()):
            assert detect_label_space(codes, indices[:20], matrix[:20 * n_rows]) == expected
        tracemalloc.reset_peak()
        detect_label_space(codes, indices[:20], X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.shape[0] * X.shape[1] * 8 / 4  # far below a dense copy (64 MB)
