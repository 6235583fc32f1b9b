import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import cross_val_score
from sklearn.linear_model import Ridge

from metasklearn.tasks import (
    SupportQuerySplit,
    iter_tasks,
    make_episodes,
    split_classes,
    support_query_split,
)


def _collection(sizes=(8, 10, 12), n_features=2, seed=0):
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    X = rng.standard_normal((groups.shape[0], n_features))
    y = rng.standard_normal(groups.shape[0])
    return X, y, groups


def _split(X, y=None, groups=None, **params):
    return next(SupportQuerySplit(**params).split(X, y, groups))


# ---------------------------------------------------------------- iter_tasks


def test_iter_tasks_sorted_order_and_rows():
    X = np.arange(12).reshape(6, 2)
    y = np.arange(6)
    groups = np.array(["b", "a", "b", "c", "a", "b"])
    out = list(iter_tasks(X, y, groups))
    assert [t for t, _, _ in out] == ["a", "b", "c"]
    np.testing.assert_array_equal(out[0][2], [1, 4])
    np.testing.assert_array_equal(out[1][1], X[[0, 2, 5]])
    np.testing.assert_array_equal(out[2][2], [3])


def test_iter_tasks_groups_none_is_one_task():
    X, y, _ = _collection()
    ((task, X_t, y_t),) = list(iter_tasks(X, y))
    assert task == 0 and isinstance(task, np.integer)  # the integer id 0, not 0.0
    np.testing.assert_array_equal(X_t, X)
    np.testing.assert_array_equal(y_t, y)


def test_iter_tasks_dataframe_and_sparse():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": range(5), "b": range(5, 10)}, index=list("vwxyz"))
    y = pd.Series(range(5), index=X.index)
    out = list(iter_tasks(X, y, [1, 0, 1, 0, 0]))
    assert isinstance(out[0][1], pd.DataFrame)
    assert list(out[0][1].index) == ["w", "y", "z"]
    assert list(out[1][2]) == [0, 2]
    Xs = sp.csr_matrix(np.eye(4))
    (_, X0, _), (_, X1, _) = iter_tasks(Xs, None, [0, 1, 0, 1])
    assert sp.issparse(X0)
    np.testing.assert_array_equal(X1.toarray(), np.eye(4)[[1, 3]])


def test_iter_tasks_length_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="y has 4 rows but X has 5"):
        list(iter_tasks(X, np.zeros(4)))
    with pytest.raises(ValueError, match="groups has 3 entries but X has 5 rows"):
        list(iter_tasks(X, np.zeros(5), [0, 1, 2]))
    with pytest.raises(ValueError, match="groups has 6 entries but X has 5 rows"):
        list(iter_tasks(X, np.zeros(5), [0, 1, 2, 0, 1, 2]))
    with pytest.raises(ValueError, match=r"groups must be 1-D with one task id per row of X, "
                                         r"got shape \(5, 1\)\."):
        list(iter_tasks(X, np.zeros(5), np.zeros((5, 1))))


# ---------------------------------------------------------- SupportQuerySplit


def test_split_sizes_cover_and_sorted():
    X, y, groups = _collection()
    support, query = _split(X, y, groups, shots=3, random_state=0)
    np.testing.assert_array_equal(np.bincount(groups[support]), [3, 3, 3])
    np.testing.assert_array_equal(np.bincount(groups[query]), [5, 7, 9])
    assert np.intersect1d(support, query).size == 0
    np.testing.assert_array_equal(np.union1d(support, query), np.arange(len(y)))
    assert np.all(np.diff(support) > 0) and np.all(np.diff(query) > 0)


def test_split_per_class_exact_counts():
    groups = np.repeat([0, 1], 12)
    y = np.array([0] * 4 + [1] * 5 + [2] * 3 + [0] * 6 + [1] * 6)
    X = np.zeros((24, 1))
    support, _ = _split(X, y, groups, shots=2, per_class=True, random_state=1)
    for task, n_classes in [(0, 3), (1, 2)]:
        s = support[groups[support] == task]
        np.testing.assert_array_equal(np.bincount(y[s], minlength=n_classes), [2] * n_classes)


def test_split_stratified_keeps_proportions_and_singletons():
    # task 0: classes 12/6/2 rows, shots 10 -> 6/3/1 exactly
    # task 1: a singleton class still gets its row, 9 of 10 others get none
    y = np.array([0] * 12 + [1] * 6 + [2] * 2 + [0] * 19 + [1] * 1)
    groups = np.repeat([0, 1], 20)
    X = np.zeros((40, 1))
    for seed in range(5):
        support, _ = _split(X, y, groups, shots=10, random_state=seed)
        np.testing.assert_array_equal(np.bincount(y[support[groups[support] == 0]]), [6, 3, 1])
    support, query = _split(X, y, groups, shots=3, random_state=0)
    s1 = support[groups[support] == 1]
    np.testing.assert_array_equal(np.bincount(y[s1]), [2, 1])
    assert 39 in support  # the singleton row of task 1


def test_split_stratified_rounding_ties_are_random():
    # shots=3 over two equal classes: 2/1 or 1/2, both must occur across seeds
    y = np.array([0, 1] * 5)
    X = np.zeros((10, 1))
    seen = {tuple(np.bincount(y[_split(X, y, shots=3, random_state=s)[0]])) for s in range(20)}
    assert seen == {(2, 1), (1, 2)}


def test_split_regression_and_no_y_are_plain_random():
    X, y, groups = _collection(sizes=(6, 6))
    s_reg, _ = _split(X, y, groups, shots=2, random_state=0)
    s_none, _ = _split(X, None, groups, shots=2, random_state=0)
    np.testing.assert_array_equal(s_reg, s_none)


def test_split_seeding():
    X, y, groups = _collection(sizes=(20, 20, 20))
    a = _split(X, y, groups, shots=5, random_state=0)
    b = _split(X, y, groups, shots=5, random_state=0)
    c = _split(X, y, groups, shots=5, random_state=1)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_split_adding_a_later_task_keeps_earlier_splits():
    X, y, groups = _collection(sizes=(10, 10, 10))
    X2, y2, groups2 = _collection(sizes=(10, 10, 10, 10))
    s, _ = _split(X, None, groups, shots=4, random_state=42)
    s2, _ = _split(X2, None, groups2, shots=4, random_state=42)
    np.testing.assert_array_equal(s, s2[s2 < 30])


def test_split_repeats_differ_and_extend():
    X, _, groups = _collection(sizes=(30, 30))
    splits3 = list(SupportQuerySplit(3, n_repeats=3, random_state=0).split(X, groups=groups))
    splits5 = list(SupportQuerySplit(3, n_repeats=5, random_state=0).split(X, groups=groups))
    assert len(splits3) == 3 and len(splits5) == 5
    assert SupportQuerySplit(n_repeats=5).get_n_splits() == 5
    for (s3, _), (s5, _) in zip(splits3, splits5):
        np.testing.assert_array_equal(s3, s5)
    assert len({tuple(s) for s, _ in splits5}) == 5


def test_split_draws_as_a_fresh_generator_per_task_and_builds_one(monkeypatch):
    # Building a RandomState costs ten times reseeding one: the split of many small
    # tasks must not build one per task, and must draw what RandomState([seed, r]) does.
    X, _, groups = _collection(sizes=(12,) * 40)
    seeds = np.random.RandomState(3).randint(np.iinfo(np.int32).max, size=40)
    expected = [
        np.sort(np.concatenate([
            np.random.RandomState([seed, repeat]).choice(np.flatnonzero(groups == t), 4,
                                                         replace=False)
            for t, seed in enumerate(seeds)
        ]))
        for repeat in range(2)
    ]
    built = []

    class Counted(np.random.RandomState):
        def __init__(self, *args, **kwargs):
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(np.random, "RandomState", Counted)
    splits = list(SupportQuerySplit(4, n_repeats=2, random_state=3).split(X, groups=groups))
    for (support, _), rows in zip(splits, expected):
        np.testing.assert_array_equal(support, rows)
    assert len(built) <= 2  # the seeds' generator and the one reseeded per task


def test_split_groups_routed_in_cross_val_score():
    X, y, groups = _collection(sizes=(10, 10))
    cv = SupportQuerySplit(shots=3, random_state=0)
    assert cv.get_metadata_routing().split.requests["groups"] is True
    scores = cross_val_score(Ridge(), X, y, groups=groups, cv=cv)
    # The split is per task (3 support rows from each) only if groups reached it.
    support, query = next(cv.split(X, y, groups))
    assert np.bincount(groups[support]).tolist() == [3, 3]
    expected = Ridge().fit(X[support], y[support]).score(X[query], y[query])
    np.testing.assert_allclose(scores, [expected])


def test_split_too_small_task_error():
    X = np.zeros((13, 1))
    groups = np.array([0] * 10 + [7] * 3)
    with pytest.raises(ValueError, match=r"Task 7 has 3 rows.*shots=3.*at most 2 or drop"):
        _split(X, None, groups, shots=3)


def test_split_too_small_class_error_per_class():
    y = np.array([0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1])
    groups = np.array([0] * 5 + [1] * 6)
    with pytest.raises(ValueError, match=r"Class 1 of task 0 has 2 rows.*shots=2"):
        _split(np.zeros((11, 1)), y, groups, shots=2, per_class=True)


@pytest.mark.parametrize("per_class", [False, True])
def test_split_of_a_one_row_task_or_class_suggests_no_invalid_shots(per_class):
    # Regression: a task (or, per class, a class) of one row was told "Lower shots to at
    # most 0", a value shots (at least 1) refuses.
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    groups = np.array([0] * 7 + [1])
    with pytest.raises(ValueError, match="No shots value can split one row") as info:
        _split(np.zeros((8, 1)), y if per_class else None, groups, shots=1,
               per_class=per_class)
    assert "at most 0" not in str(info.value)


def test_split_stratified_too_many_classes_error():
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="3 classes, more than shots=2.*per_class=True"):
        _split(np.zeros((6, 1)), y, shots=2)
    # integer-valued regression targets look like labels; splitting without y works
    y_counts = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    with pytest.raises(ValueError, match="split without y"):
        _split(np.zeros((6, 1)), y_counts, shots=2)
    assert _split(np.zeros((6, 1)), None, shots=2)[0].shape == (2,)


def test_split_per_class_needs_labels():
    with pytest.raises(ValueError, match="per_class=True.*needs class labels"):
        _split(np.zeros((6, 1)), None, shots=1, per_class=True)
    with pytest.raises(ValueError, match="per_class=True.*needs class labels"):
        _split(np.zeros((6, 1)), np.linspace(0, 1, 6), shots=1, per_class=True)


@pytest.mark.parametrize(
    "params, match",
    [({"shots": 0}, "'shots' parameter"), ({"shots": 1.5}, "'shots' parameter"),
     ({"n_repeats": 0}, "'n_repeats' parameter")],
)
def test_split_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        _split(np.zeros((6, 1)), **params)
    with pytest.raises(ValueError, match=match):
        SupportQuerySplit(**params).get_n_splits()


def test_support_query_split_outputs():
    X, _, groups = _collection(sizes=(10, 10))
    y = np.tile([0, 1], 10)
    X_s, X_q, y_s, y_q, g_s, g_q = support_query_split(
        X, y, groups, shots=2, per_class=True, random_state=0
    )
    assert X_s.shape == (8, 2) and X_q.shape == (12, 2)
    np.testing.assert_array_equal(np.bincount(g_s), [4, 4])
    np.testing.assert_array_equal(np.bincount(y_s), [4, 4])
    support, _ = _split(X, y, groups, shots=2, per_class=True, random_state=0)
    np.testing.assert_array_equal(X_s, X[support])
    X_s, X_q, y_s, y_q, g_s, g_q = support_query_split(X, None, shots=3, random_state=0)
    assert y_s is None and y_q is None
    np.testing.assert_array_equal(g_s, [0, 0, 0])


def test_support_query_split_dataframe():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": np.arange(12.0)})
    y = pd.Series(np.random.RandomState(0).standard_normal(12))
    X_s, X_q, y_s, y_q, _, _ = support_query_split(X, y, np.repeat([0, 1], 6), shots=2)
    assert isinstance(X_s, pd.DataFrame) and isinstance(y_q, pd.Series)
    assert len(X_s) == 4 and len(X_q) == 8


# ---------------------------------------------------------------- episodes


def _pool(n_classes=8, per_class=25):
    y = np.repeat(np.arange(n_classes) * 10, per_class)  # labels 0, 10, 20, ...
    X = np.column_stack([np.arange(y.shape[0]), y])  # column 1 remembers the class
    return X, y


def test_episodes_shapes_and_structure():
    X, y = _pool()
    n_way, k, q, n_ep = 3, 2, 4, 20
    X_ep, y_ep, groups = make_episodes(
        X, y, n_way=n_way, k_shot=k, n_query=q, n_episodes=n_ep, random_state=0
    )
    assert X_ep.shape == (n_ep * n_way * (k + q), 2)
    np.testing.assert_array_equal(groups, np.repeat(np.arange(n_ep), n_way * (k + q)))
    for e in range(n_ep):
        rows, labels = X_ep[groups == e], y_ep[groups == e]
        assert sorted(np.unique(labels)) == list(range(n_way))
        assert np.unique(rows[:, 0]).shape[0] == rows.shape[0]  # no repeats in an episode
        blocks = labels.reshape(n_way, k + q)
        assert np.all(blocks == blocks[:, :1])  # each class contiguous
        # relabelling is consistent: one original class per new label
        for lab in range(n_way):
            assert np.unique(rows[labels == lab, 1]).shape[0] == 1


def test_episodes_relabel_is_random_and_keep_labels():
    X, y = _pool()
    X_ep, y_ep, groups = make_episodes(X, y, n_way=2, k_shot=1, n_query=1, n_episodes=200,
                                       random_state=0)
    # which original class gets label 0 varies; and label 0 is not always the first block
    first_label = y_ep.reshape(200, 4)[:, 0]
    assert 0 < first_label.mean() < 1
    orig_of_0 = X_ep[y_ep == 0, 1]
    assert np.unique(orig_of_0).shape[0] == 8
    X_raw, y_raw, _ = make_episodes(X, y, n_way=2, k_shot=1, n_query=1, n_episodes=200,
                                    relabel=False, random_state=0)
    np.testing.assert_array_equal(X_raw, X_ep)  # same rows either way
    np.testing.assert_array_equal(y_raw, X_ep[:, 1])


def test_episodes_class_restriction_and_uniformity():
    X, y = _pool()
    _, y_ep, _ = make_episodes(X, y, n_way=2, k_shot=1, n_query=0, n_episodes=3000,
                               classes=[10, 30, 50, 70], relabel=False, random_state=0)
    counts = np.unique(y_ep, return_counts=True)
    np.testing.assert_array_equal(counts[0], [10, 30, 50, 70])
    # 3000 episodes x 2 slots spread uniformly over 4 classes: 1500 each
    np.testing.assert_allclose(counts[1], 1500, rtol=0.08)


def test_episodes_seeded():
    X, y = _pool()
    a = make_episodes(X, y, n_episodes=5, n_way=3, random_state=3)
    b = make_episodes(X, y, n_episodes=5, n_way=3, random_state=3)
    c = make_episodes(X, y, n_episodes=5, n_way=3, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_episodes_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = _pool()
    df = pd.DataFrame(X, columns=["row", "cls"])
    X_ep, y_ep, _ = make_episodes(df, pd.Series(y), n_way=2, k_shot=1, n_query=2,
                                  n_episodes=4, random_state=0)
    assert isinstance(X_ep, pd.DataFrame) and list(X_ep.columns) == ["row", "cls"]
    X_np, _, _ = make_episodes(X, y, n_way=2, k_shot=1, n_query=2, n_episodes=4, random_state=0)
    np.testing.assert_array_equal(X_ep.to_numpy(), X_np)


def test_episodes_errors():
    X, y = _pool(n_classes=4, per_class=5)
    with pytest.raises(ValueError, match="n_way=5 needs 5 classes but only 4"):
        make_episodes(X, y, n_way=5)
    with pytest.raises(ValueError, match="only 2 are available"):
        make_episodes(X, y, n_way=3, k_shot=1, n_query=1, classes=[0, 10])
    with pytest.raises(ValueError, match=r"classes \[5\] do not occur in y"):
        make_episodes(X, y, n_way=2, classes=[0, 5])
    y_small = y.copy()
    y_small[:3] = 99
    with pytest.raises(ValueError, match=r"Class 0 has 2 rows.*k_shot \+ n_query = 3"):
        make_episodes(X, y_small, n_way=2, k_shot=1, n_query=2)
    with pytest.raises(ValueError, match="needs class labels.*'continuous'. Pass the labels"):
        make_episodes(X, np.linspace(0, 1, 20), n_way=2)
    with pytest.raises(ValueError, match="y has 19 rows but X has 20; pass one label per row"):
        make_episodes(X, y[:-1], n_way=2)
    for bad in [{"n_way": 1}, {"k_shot": 0}, {"n_query": -1}, {"n_episodes": 0},
                {"n_way": 2.0}]:
        with pytest.raises(ValueError, match=f"'{next(iter(bad))}' parameter"):
            make_episodes(X, y, **bad)


# ---------------------------------------------------------------- split_classes


def test_split_classes_fraction_count_and_seed():
    y = np.repeat(np.arange(10), 3)
    train, test = split_classes(y, test_size=0.3, random_state=0)
    assert len(test) == 3 and len(train) == 7
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(10))
    assert np.all(np.diff(train) > 0)
    train2, test2 = split_classes(y, test_size=3, random_state=0)
    np.testing.assert_array_equal(test, test2)
    splits = {tuple(split_classes(y, random_state=s)[1]) for s in range(5)}
    assert len(splits) > 1
    assert split_classes(["a", "b"], test_size=0.01, random_state=0)[1].shape == (1,)


def test_split_classes_errors():
    with pytest.raises(ValueError, match="1 distinct label"):
        split_classes([1, 1, 1])
    with pytest.raises(ValueError, match="leaves none for training"):
        split_classes([0, 1, 2], test_size=3)
    with pytest.raises(ValueError, match="leaves none for training"):
        split_classes([0, 1, 2], test_size=0.9)
    with pytest.raises(ValueError, match="'test_size' parameter"):
        split_classes([0, 1, 2], test_size=1.0)
    with pytest.raises(ValueError, match="'test_size' parameter"):
        split_classes([0, 1, 2], test_size=0)


def test_empty_collections_and_missing_targets_are_named():
    # Regression: scikit-learn's messages named neither the input ("Found array with 0
    # sample(s)") nor where the NaN was ("Input contains NaN").
    with pytest.raises(ValueError, match="X has no rows"):
        list(iter_tasks(np.empty((0, 2)), np.empty(0), np.empty(0)))
    X, y, groups = np.zeros((20, 2)), np.tile([0.0, 1.0], 10), np.repeat([0, 1], 10)
    y[13] = np.nan
    with pytest.raises(ValueError, match=r"y holds NaN or infinity \(first at row 13\)"):
        next(SupportQuerySplit(2).split(X, y, groups))
    y[13] = np.inf
    with pytest.raises(ValueError, match=r"first at row 13"):
        support_query_split(X, y, groups, shots=2)


def test_episodes_class_with_exactly_k_shot_plus_n_query_rows_is_usable():
    from metasklearn.tasks import make_episodes

    y = np.repeat([0, 1, 2], 4)  # every class has exactly k_shot + n_query = 4 rows
    X = np.arange(12).reshape(-1, 1)
    X_ep, y_ep, groups = make_episodes(X, y, n_way=2, k_shot=1, n_query=3, n_episodes=6,
                                       relabel=False, random_state=0)
    assert X_ep.shape == (48, 1)
    for e in range(6):
        rows, labels = X_ep[groups == e, 0], y_ep[groups == e]
        for c in np.unique(labels):  # a chosen class gives all of its 4 rows
            np.testing.assert_array_equal(np.sort(rows[labels == c]), np.flatnonzero(y == c))


def test_episodes_small_class_left_out_with_classes_is_not_checked():
    from metasklearn.tasks import make_episodes

    y = np.array([0] * 5 + [10] * 5 + [99])  # class 99 has a single row
    X = np.arange(11).reshape(-1, 1)
    X_ep, y_ep, groups = make_episodes(X, y, n_way=2, k_shot=2, n_query=1, n_episodes=4,
                                       classes=[0, 10], relabel=False, random_state=0)
    assert X_ep.shape == (24, 1)
    assert set(y_ep.tolist()) == {0, 10}
    np.testing.assert_array_equal(np.bincount(groups), [6, 6, 6, 6])


def test_split_classes_fraction_rounds_up():
    from metasklearn.tasks import split_classes

    # 0.5 of 5 classes is 2.5: rounded up to 3 (np.round would give 2)
    train, test = split_classes(np.arange(5), test_size=0.5, random_state=0)
    assert (len(train), len(test)) == (2, 3)
    # 0.25 of 10 is 2.5 -> 3; 0.21 of 10 is 2.1 -> 3
    assert len(split_classes(np.arange(10), test_size=0.25, random_state=0)[1]) == 3
    assert len(split_classes(np.arange(10), test_size=0.21, random_state=0)[1]) == 3


def test_split_stratified_removes_surplus_from_smallest_remainder():
    from metasklearn.tasks import SupportQuerySplit

    # classes of 1, 1, 10, 8 rows, shots=5: targets .25/.25/2.5/2.0 -> floors with the
    # one-row minimum give 1/1/2/2 = 6, one too many; the row comes off the class with
    # the smallest remainder (class 3, target 2.0), giving 1/1/2/1 for every seed.
    y = np.array([0] + [1] + [2] * 10 + [3] * 8)
    X = np.zeros((20, 1))
    for seed in range(5):
        support, _ = next(SupportQuerySplit(5, random_state=seed).split(X, y))
        np.testing.assert_array_equal(np.bincount(y[support], minlength=4), [1, 1, 2, 1])


def test_nan_task_ids_are_rejected():
    from metasklearn.tasks import SupportQuerySplit, iter_tasks

    X, y = np.zeros((4, 1)), np.arange(4.0)
    groups = np.array([0.0, np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match="groups contains NaN; every row needs a task id"):
        list(iter_tasks(X, y, groups))
    with pytest.raises(ValueError, match="groups contains NaN"):
        next(SupportQuerySplit(1).split(X, None, groups))


def test_the_first_non_finite_target_is_the_one_named():
    X, y, groups = np.zeros((20, 2)), np.tile([0.0, 1.0], 10), np.repeat([0, 1], 10)
    y[[4, 13]] = [np.inf, np.nan]
    with pytest.raises(ValueError, match=r"y holds NaN or infinity \(first at row 4\)"):
        list(iter_tasks(X, y, groups))


@pytest.mark.parametrize("missing, name", [(np.nan, "NaN"), (None, "None")])
def test_a_missing_string_label_is_named(missing, name):
    # Regression: string labels with a missing one (NaN in an object column, as pandas
    # gives) failed in numpy's sort with "'<' not supported between 'float' and 'str'".
    X = np.zeros((6, 2))
    y = np.array(["a", "b", missing, "a", "b", "a"], dtype=object)
    groups = [0, 0, 0, 1, 1, 1]
    message = f"y holds {name}; every row needs a label"
    with pytest.raises(ValueError, match=message):
        support_query_split(X, y, groups, shots=1)
    with pytest.raises(ValueError, match=message):
        next(SupportQuerySplit(1).split(X, y, groups))
    with pytest.raises(ValueError, match=f"y holds {name}"):
        split_classes(y)


def test_split_classes_refuses_a_missing_numeric_label():
    # Regression: NaN became a class of its own, on one side of the split.
    with pytest.raises(ValueError, match="y holds NaN"):
        split_classes([0.0, 1.0, np.nan, np.nan, 2.0], random_state=0)


def test_nan_among_object_task_ids_is_named_and_never_splits_a_task():
    # Regression: only None was looked for in an object array. NaN, pandas' mark of a
    # missing string, was blamed on "mixed types", and among numbers it slipped through
    # and broke the sort: ids 1 and 2 each became several tasks.
    pd = pytest.importorskip("pandas")
    X, y = np.zeros((10, 1)), np.arange(10.0)
    ids = np.array([2, 1, np.nan, 2, 1, 3, np.nan, 3, 1, 2], dtype=object)
    with pytest.raises(ValueError, match="groups contains NaN; every row needs a task id"):
        list(iter_tasks(X, y, ids))
    names = pd.Series(["a", "b", np.nan, "a", "b", "a", "b", "a", "b", "a"])
    with pytest.raises(ValueError, match="groups contains NaN; every row needs a task id"):
        list(iter_tasks(X, y, names))
    with pytest.raises(ValueError, match="groups contains <NA>; every row needs a task id"):
        list(iter_tasks(X, y, names.astype("string")))


@pytest.mark.parametrize("fmt", ["coo", "dia", "bsr"])
def test_sparse_formats_without_row_indexing_are_taken_as_csr(fmt):
    # Regression: MetaEstimator takes COO (as scikit-learn does), but cutting tasks out of
    # it failed with "'coo_matrix' object is not subscriptable" (NotImplementedError: BSR).
    X, y, groups = _collection()
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    tasks = list(iter_tasks(X_sparse, y, groups))
    np.testing.assert_array_equal(tasks[1][1].toarray(), X[groups == 1])
    X_s, X_q, *_ = support_query_split(X_sparse, y, groups, shots=2, random_state=0)
    dense = support_query_split(X, y, groups, shots=2, random_state=0)
    np.testing.assert_array_equal(X_s.toarray(), dense[0])
    np.testing.assert_array_equal(X_q.toarray(), dense[1])
    labels = np.tile([0, 1], 15)
    X_ep = make_episodes(X_sparse, labels, n_way=2, k_shot=1, n_query=2, n_episodes=2,
                         random_state=0)[0]
    np.testing.assert_array_equal(X_ep.toarray(), make_episodes(
        X, labels, n_way=2, k_shot=1, n_query=2, n_episodes=2, random_state=0)[0])
