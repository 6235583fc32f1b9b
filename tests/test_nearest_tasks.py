"""NearestTasks: neighbours by scaled L1 distance on meta-features, their best settings."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_transformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from metasklearn import MetaEstimator
from metasklearn.hyperparams import NearestTasks, PerformanceMatrix, SurrogateDefault
from metasklearn.metafeatures import METAFEATURE_NAMES, compute_metafeatures

TREE = DecisionTreeClassifier(random_state=0)
CANDIDATES = [{"max_depth": None}, {"max_depth": 1}, {"max_depth": 3}, {"max_depth": 8}]


def _dataset(n_samples, n_features, n_classes, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = np.arange(n_samples) % n_classes
    X[:, 0] += 2.0 * y
    return X, y


# Small 2-class tasks did best with depth 1, large 5-class tasks with depth 8.
TRAIN = {
    "small-a": _dataset(60, 2, 2, 0),
    "small-b": _dataset(70, 3, 2, 1),
    "large-a": _dataset(600, 30, 5, 2),
    "large-b": _dataset(500, 25, 5, 3),
}
BEST = {"small-a": 1, "small-b": 1, "large-a": 3, "large-b": 3}


def _matrix():
    features = np.array([list(compute_metafeatures(*TRAIN[t]).values()) for t in TRAIN])
    scores = np.full((4, 4), 0.5)
    for i, task in enumerate(TRAIN):
        scores[i, BEST[task]] = 0.9
    return PerformanceMatrix.from_scores(scores, CANDIDATES, tasks=list(TRAIN),
                                         meta_features=features,
                                         meta_feature_names=list(METAFEATURE_NAMES))


def test_nearest_task_gives_its_best_setting_without_cross_validation(monkeypatch):
    import metasklearn.hyperparams._nearest as nearest

    def no_comparison(*args, **kwargs):
        raise AssertionError("one neighbour's setting was cross-validated on the new task")

    monkeypatch.setattr(nearest, "compare_settings", no_comparison)
    nt = NearestTasks(n_neighbors=1).fit(TREE, _matrix())
    assert nt.best_per_task_.tolist() == [1, 1, 3, 3]
    X_small, y_small = _dataset(65, 2, 2, 9)
    X_large, y_large = _dataset(550, 28, 5, 9)
    assert nt.neighbors(X_small, y_small)[0][0].startswith("small")
    assert nt.neighbors(X_large, y_large)[0][0].startswith("large")
    assert nt.select(TREE, X_small, y_small) == {"max_depth": 1}
    assert nt.select(TREE, X_large, y_large) == {"max_depth": 8}


def test_distances_are_l1_on_min_max_scaled_meta_features():
    pm = _matrix()
    nt = NearestTasks(n_neighbors=4).fit(TREE, pm)
    X_new, y_new = _dataset(65, 2, 2, 9)
    tasks, distances = nt.neighbors(X_new, y_new)
    low, high = pm.meta_features_.min(axis=0), pm.meta_features_.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.where(high > low, (pm.meta_features_ - low) / span, 0.0)
    query = np.array(list(compute_metafeatures(X_new, y_new).values()))
    query = np.where(high > low, (query - low) / span, 0.0)
    expected = np.abs(scaled - query).sum(axis=1)
    np.testing.assert_allclose(distances, np.sort(expected))
    assert tasks.tolist() == np.array(list(TRAIN))[np.argsort(expected, kind="stable")].tolist()


def test_meta_features_undefined_for_the_new_task_are_left_out_of_the_distance():
    nt = NearestTasks(n_neighbors=4).fit(TREE, _matrix())
    X_new, y_new = _dataset(3, 28, 3, 9)  # 3 rows: too few for the landmarkers
    query = compute_metafeatures(X_new, y_new)
    assert np.isnan(query["landmark_1nn"]) and np.isnan(query["landmark_stump"])
    tasks, distances = nt.neighbors(X_new, y_new)
    pm = _matrix()
    known = np.isfinite(np.array(list(query.values())))
    low, high = pm.meta_features_.min(axis=0), pm.meta_features_.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.where(high > low, (pm.meta_features_ - low) / span, 0.0)[:, known]
    point = np.where(high > low, (np.array(list(query.values())) - low) / span, 0.0)[known]
    expected = np.abs(scaled - point).sum(axis=1)
    np.testing.assert_allclose(distances, np.sort(expected))


def test_several_neighbours_are_compared_on_the_new_task():
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    nt = NearestTasks(n_neighbors=4).fit(TREE, _matrix())
    # An XOR task: the nearest neighbours (small, two classes) want depth 1, which cannot
    # split it; only the comparison on the task itself finds depth 8.
    rng = np.random.RandomState(0)
    X_new = rng.normal(size=(120, 2))
    y_new = ((X_new[:, 0] > 0) ^ (X_new[:, 1] > 0)).astype(int)
    # Nearest first: the two small tasks' depth 1, then the large tasks' depth 8.
    assert nt.candidates_for(X_new, y_new) == [{"max_depth": 1}, {"max_depth": 8}]
    search = GridSearchCV(TREE, [{"max_depth": [1]}, {"max_depth": [8]}],
                          cv=StratifiedKFold(3)).fit(X_new, y_new)
    assert search.best_params_ == {"max_depth": 8}
    assert nt.select(TREE, X_new, y_new) == {"max_depth": 8}


def test_in_a_meta_estimator_on_grouped_rows():
    X = np.vstack([TRAIN[t][0][:, :2] for t in TRAIN])
    y = np.concatenate([TRAIN[t][1] for t in TRAIN])
    groups = np.repeat(np.arange(4), [len(TRAIN[t][1]) for t in TRAIN])
    meta = MetaEstimator(TREE, hyperparams=NearestTasks({"max_depth": [1, 3]}, n_neighbors=2),
                         random_state=0).fit(X, y, groups=groups)
    assert meta.hyperparams_.matrix_.meta_features_.shape == (4, len(METAFEATURE_NAMES))
    learner = meta.adapt(X[:60], y[:60])
    assert type(learner) is DecisionTreeClassifier
    # The setting is the one select picks for these rows, and the tree is fitted on them.
    expected = meta.hyperparams_.select(TREE, X[:60], y[:60])
    assert learner.max_depth == expected["max_depth"]
    alone = DecisionTreeClassifier(random_state=learner.random_state, **expected)
    alone.fit(X[:60], y[:60])
    np.testing.assert_array_equal(learner.predict(X), alone.predict(X))


def test_adapt_on_the_hyperparameters_only_path():
    nt = NearestTasks({"max_depth": [1, 3]}, n_neighbors=1).fit(TREE, TRAIN)
    X_new, y_new = _dataset(65, 2, 2, 9)
    learner = nt.adapt(TREE, X_new, y_new)
    assert learner.max_depth == nt.select(TREE, X_new, y_new)["max_depth"]
    assert TREE.max_depth is None and not hasattr(TREE, "tree_")  # the user's tree untouched


def test_a_tie_on_a_training_task_goes_to_the_earlier_setting():
    candidates = [{"max_depth": None}, {"max_depth": 1}, {"max_depth": 3}]
    scores = np.array([[0.9, 0.9, 0.5], [0.5, 0.8, 0.8], [0.1, 0.2, 0.3]])
    features = np.random.RandomState(0).normal(size=(3, len(METAFEATURE_NAMES)))
    pm = PerformanceMatrix.from_scores(scores, candidates, meta_features=features,
                                       meta_feature_names=list(METAFEATURE_NAMES))
    nt = NearestTasks().fit(DecisionTreeClassifier(), pm)
    assert nt.best_per_task_.tolist() == [0, 1, 2]


def test_a_meta_feature_undefined_on_a_training_task_is_left_out_of_its_distance():
    rng = np.random.RandomState(0)
    datasets = [(rng.normal(size=(n, f)), np.arange(n) % c)
                for n, f, c in [(60, 2, 2), (80, 4, 3), (120, 6, 2)]]
    features = np.array([list(compute_metafeatures(X, y).values()) for X, y in datasets])
    features[1, 9] = np.nan  # task 1 lacks landmark_1nn (from_scores allows it)
    pm = PerformanceMatrix.from_scores(np.eye(3), [{"max_depth": d} for d in (None, 1, 3)],
                                       meta_features=features,
                                       meta_feature_names=list(METAFEATURE_NAMES))
    nt = NearestTasks(n_neighbors=3).fit(DecisionTreeClassifier(), pm)
    X_new, y_new = rng.normal(size=(70, 3)), np.arange(70) % 2
    tasks, distances = nt.neighbors(X_new, y_new)
    low, high = np.nanmin(features, axis=0), np.nanmax(features, axis=0)
    span = np.where(high > low, high - low, 1.0)
    query = (np.array(list(compute_metafeatures(X_new, y_new).values())) - low) / span
    scaled = (features - low) / span
    expected = np.nansum(np.abs(np.where(high > low, scaled - query, 0.0)), axis=1)
    assert np.isfinite(distances).all()
    np.testing.assert_allclose(distances, expected[tasks])


def test_text_columns_are_refused_before_the_matrix_with_the_fix_named():
    # A Pipeline base takes a DataFrame with a text column (its encoder makes it
    # numeric), but meta-features are computed on the rows as passed: the error must
    # name the column and come before any within-task cross-validation.
    class NeverFitted(ClassifierMixin, BaseEstimator):
        def __init__(self, depth=1):
            self.depth = depth

        def fit(self, X, y):
            raise AssertionError("the matrix was scored before the input was checked")

    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "color": rng.choice(["red", "blue"], 60)})
    y = np.arange(60) % 2
    groups = np.repeat([0, 1, 2], 20)
    encode = make_column_transformer((OneHotEncoder(), ["color"]), remainder="passthrough")
    for strategy in (NearestTasks({"neverfitted__depth": [1, 2]}),
                     SurrogateDefault({"neverfitted__depth": [1, 2]})):
        meta = MetaEstimator(make_pipeline(encode, NeverFitted()), hyperparams=strategy)
        with pytest.raises(ValueError, match=r"columns \['color'\] hold values that are not"):
            meta.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="X holds values that are not numbers"):
        compute_metafeatures(X.to_numpy(), y)
    # The fix the message names works: encode before the meta-estimator.
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("encode", encode), ("meta", MetaEstimator(
            TREE, hyperparams=NearestTasks({"max_depth": [1, 3]}, n_neighbors=1)))])
        pipe.fit(X, y, groups=groups)
    assert pipe.predict(X.iloc[:5], groups=groups[:5]).shape == (5,)


def test_a_matrix_with_unnamed_meta_features_of_another_count_is_refused():
    # Unnamed columns (from_scores' f0, f1, ...) pass only in compute_metafeatures' number.
    pm = PerformanceMatrix.from_scores(np.eye(3), [{"max_depth": d} for d in (None, 1, 3)],
                                       meta_features=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"NearestTasks compares the matrix's meta-features "
                                         r".* but the matrix has \['f0', 'f1', 'f2', 'f3'\]"):
        NearestTasks().fit(DecisionTreeClassifier(), pm)


@pytest.mark.parametrize("strategy", [
    NearestTasks({"max_depth": [1, 3, 8]}, n_neighbors=2),
    SurrogateDefault({"max_depth": [1, 3, 8]}),
])
def test_the_refit_reuses_the_matrix_s_meta_features_of_each_training_task(
        strategy, monkeypatch):
    # Computing them again from the task's rows would double the landmarkers' cost; the
    # matrix row is the same floats, so each learner gets the setting select picks.
    import metasklearn.hyperparams._base as base

    datasets = [_dataset(40 + 30 * i, 3, 2 + i % 4, i) for i in range(6)]
    X = np.vstack([X_t for X_t, _ in datasets])
    y = np.concatenate([y_t for _, y_t in datasets])
    groups = np.repeat(np.array(list("fbeadc")), [y_t.shape[0] for _, y_t in datasets])
    order = np.random.RandomState(0).permutation(y.shape[0])  # interleaved, unsorted ids
    X, y, groups = X[order], y[order], groups[order]
    calls = []

    def counted(X, y, **kwargs):
        calls.append(X.shape[0])
        return compute_metafeatures(X, y, **kwargs)

    monkeypatch.setattr(base, "compute_metafeatures", counted)
    meta = MetaEstimator(TREE, hyperparams=strategy, random_state=0).fit(X, y, groups=groups)
    assert calls == [X.shape[0]]  # the population learner's rows only
    fitted = meta.hyperparams_
    for k, task in enumerate(meta.tasks_.tolist()):
        rows = groups == task
        row = list(compute_metafeatures(X[rows], y[rows]).values())
        np.testing.assert_array_equal(fitted.matrix_.meta_features_[k], row)
        assert meta.learners_[task].max_depth == fitted.select(TREE, X[rows], y[rows])[
            "max_depth"]
    # The same rows in another order are another dataset (its landmarkers' folds differ):
    # computed afresh, never the training task's row.
    rows = np.flatnonzero(groups == "a")[::-1]
    np.testing.assert_array_equal(fitted._task_metafeatures(X[rows], y[rows]),
                                  list(compute_metafeatures(X[rows], y[rows]).values()))
    assert calls[-1] == rows.size
    # A new task of a size no training task has is not hashed (a large one would cost).
    monkeypatch.setattr(base.joblib, "hash", pytest.fail)
    fitted._task_metafeatures(X[:7], y[:7])
    assert calls[-1] == 7


def test_a_regressors_whole_number_targets_are_described_as_continuous():
    # Regression: with a regressor, tasks whose targets are whole numbers got n_classes in
    # the hundreds and classification landmarkers, unlike tasks with fractional targets.
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)  # float targets of whole numbers
    datasets = [(X[:150], y[:150]), (X[150:300], y[150:300]), (X[300:], y[300:] + 0.5)]
    grid = {"alpha": [0.1, 10.0]}
    pm = PerformanceMatrix(Ridge(), grid, metafeatures=True).fit(datasets)
    n_classes = pm.meta_features_[:, METAFEATURE_NAMES.index("n_classes")]
    np.testing.assert_array_equal(n_classes, 0.0)
    for strategy in (NearestTasks(grid, n_neighbors=1), SurrogateDefault(grid)):
        strategy.fit(Ridge(), datasets, random_state=0)
        new = strategy._task_metafeatures(X[:100], y[:100])
        expected = compute_metafeatures(X[:100], y[:100], classification=False)
        np.testing.assert_array_equal(new, np.array(list(expected.values())))
