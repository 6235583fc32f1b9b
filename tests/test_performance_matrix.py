"""PerformanceMatrix: both collection inputs, user matrices, save/load, parallel backends."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

from metasklearn.datasets import make_linear_tasks
from metasklearn.hyperparams import LearnedDefault, NearestTasks, PerformanceMatrix, Portfolio
from metasklearn.metafeatures import compute_metafeatures

TREE = DecisionTreeClassifier(random_state=0)
GRID = {"max_depth": [1, 2, 4]}


def _datasets():
    """Tasks that differ in feature count (4, 13, 2) and class count (3, 3, 2)."""
    X_i, y_i = load_iris(return_X_y=True)
    X_w, y_w = load_wine(return_X_y=True)
    rng = np.random.RandomState(0)
    X_b = rng.normal(size=(90, 2))
    y_b = (X_b[:, 0] + X_b[:, 1] > 0).astype(int)
    return {"iris": (X_i, y_i), "wine": (X_w, y_w), "blob": (X_b, y_b)}


def test_list_of_datasets_with_different_shapes():
    datasets = _datasets()
    pm = PerformanceMatrix(TREE, GRID, metafeatures=True).fit(datasets)
    assert pm.tasks_.tolist() == ["iris", "wine", "blob"]
    assert pm.candidates_[0] == {"max_depth": None}
    assert pm.scores_.shape == pm.fit_times_.shape == (3, 4)
    expected = cross_val_score(
        DecisionTreeClassifier(max_depth=2, random_state=0), *datasets["wine"],
        cv=StratifiedKFold(3),
    ).mean()
    assert pm.scores_[1, 2] == pytest.approx(expected)
    assert pm.meta_features_.shape == (3, len(pm.meta_feature_names_))
    assert pm.meta_features_[:, pm.meta_feature_names_.index("n_classes")].tolist() == [3, 3, 2]
    for row, (X_task, y_task) in zip(pm.meta_features_, datasets.values()):  # landmarkers too
        np.testing.assert_array_equal(row, list(compute_metafeatures(X_task, y_task).values()))
    # A plain list numbers the tasks from 0.
    listed = PerformanceMatrix(TREE, GRID).fit(list(datasets.values()))
    assert listed.tasks_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(listed.scores_, pm.scores_)
    assert listed.meta_features_ is None


def test_grouped_arrays_give_the_learned_default_table():
    X, y, groups = make_linear_tasks(n_tasks=4, n_samples=15, random_state=0)
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.01, 100.0]}).fit(X, y, groups)
    ld = LearnedDefault({"alpha": [0.01, 100.0]}).fit(Ridge(), X, y, groups)
    np.testing.assert_array_equal(pm.scores_, ld.scores_)
    assert pm.candidates_ == ld.candidates_
    # Both come from the same matrix code, so also check the table itself: each cell is
    # the within-task CV score of that task's own rows and targets.
    assert pm.candidates_ == [{"alpha": 1.0}, {"alpha": 0.01}, {"alpha": 100.0}]
    for k, task in enumerate(pm.tasks_.tolist()):
        rows = groups == task
        for j, alpha in enumerate((1.0, 0.01, 100.0)):
            expected = cross_val_score(Ridge(alpha=alpha), X[rows], y[rows], cv=3).mean()
            assert pm.scores_[k, j] == pytest.approx(expected, rel=1e-12)
    # A strategy fitted on the matrix learns the same as on the rows.
    assert LearnedDefault().fit(Ridge(), pm).best_params_ == ld.best_params_


def test_normalisations():
    scores = np.array([[0.2, 0.6, 0.4, np.nan], [0.5, 0.5, 0.9, 0.1]])
    pm = PerformanceMatrix.from_scores(scores, [{"a": i} for i in range(4)])
    np.testing.assert_allclose(pm.normalized("minmax"), [[0, 1, 0.5, 0], [0.5, 0.5, 1, 0]])
    np.testing.assert_allclose(pm.normalized("rank"), [[1 / 3, 1, 2 / 3, 0], [0.5, 0.5, 1, 0]])
    with pytest.raises(ValueError, match="'minmax' or 'rank'"):
        pm.normalized("zscore")


def test_user_matrix_round_trips_through_save_and_load(tmp_path):
    rng = np.random.RandomState(0)
    scores = rng.uniform(size=(5, 4))
    candidates = [{"alpha": a} for a in (1.0, 0.1, 10.0, 100.0)]
    times = rng.uniform(0.1, 1.0, size=(5, 4))
    features = rng.normal(size=(5, 3))
    pm = PerformanceMatrix.from_scores(scores, candidates, tasks=list("abcde"), fit_times=times,
                                       meta_features=features, meta_feature_names=["u", "v", "w"])
    path = tmp_path / "matrix.joblib"
    pm.save(path)
    loaded = PerformanceMatrix.load(path)
    np.testing.assert_array_equal(loaded.scores_, scores)
    np.testing.assert_array_equal(loaded.fit_times_, times)
    np.testing.assert_array_equal(loaded.meta_features_, features)
    assert loaded.tasks_.tolist() == list("abcde") and loaded.candidates_ == candidates
    assert loaded.meta_feature_names_ == ["u", "v", "w"]
    a = Portfolio(size=2).fit(Ridge(), pm)
    b = Portfolio(size=2).fit(Ridge(), loaded)
    assert a.portfolio_ == b.portfolio_
    dropped = loaded.drop_tasks(["b"])
    assert dropped.tasks_.tolist() == list("acde")
    np.testing.assert_array_equal(dropped.scores_, scores[[0, 2, 3, 4]])
    np.testing.assert_array_equal(loaded.scores_, scores)  # the original is untouched


def test_bad_user_input(tmp_path):
    with pytest.raises(ValueError, match="2 columns but 3 candidates"):
        PerformanceMatrix.from_scores(np.zeros((2, 2)), [{}, {}, {}])
    with pytest.raises(ValueError, match="fit_times has shape"):
        PerformanceMatrix.from_scores(np.zeros((2, 2)), [{}, {}], fit_times=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="one row per task"):
        PerformanceMatrix.from_scores(np.zeros((2, 2)), [{}, {}], meta_features=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="distinct ids"):
        PerformanceMatrix.from_scores(np.zeros((2, 1)), [{}], tasks=[1, 1])
    with pytest.raises(ValueError, match="Unknown task ids"):
        PerformanceMatrix.from_scores(np.zeros((2, 1)), [{}]).drop_tasks([7])
    with pytest.raises(ValueError, match=r"scores must be 2-D \(tasks x settings\), got "
                                         r"shape \(2,\)"):
        PerformanceMatrix.from_scores([0.1, 0.2], [{}, {}])
    import joblib

    joblib.dump({"something": 1}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="not a file written by PerformanceMatrix.save"):
        PerformanceMatrix.load(tmp_path / "other.joblib")
    datasets = _datasets()
    with pytest.raises(ValueError, match="datasets together with y or groups"):
        PerformanceMatrix(TREE, GRID).fit(list(datasets.values()), np.zeros(3))
    with pytest.raises(ValueError, match="Dataset 'wine' must be a pair"):
        PerformanceMatrix(TREE, GRID).fit({"iris": datasets["iris"], "wine": datasets["wine"][0]})
    with pytest.raises(ValueError, match="Task 'tiny' has 2 rows, fewer than the 3 folds"):
        PerformanceMatrix(TREE, GRID).fit({"tiny": (np.zeros((2, 1)), [0, 1])})
    for empty in ([], {}, ()):
        with pytest.raises(ValueError, match="^The collection of datasets is empty.$"):
            PerformanceMatrix(TREE, GRID).fit(empty)
    with pytest.raises(ValueError, match=r"y is required with an array X; or pass a list of "
                                         r"\(X, y\) datasets"):
        PerformanceMatrix(TREE, GRID).fit(np.zeros((6, 2)))


def test_strategies_refuse_a_matrix_with_a_grid_or_without_metafeatures():
    pm = PerformanceMatrix.from_scores(np.eye(3), [{"alpha": a} for a in (1.0, 2.0, 3.0)])
    with pytest.raises(ValueError, match="already holds the settings"):
        LearnedDefault({"alpha": [1.0]}).fit(Ridge(), pm)
    with pytest.raises(ValueError, match="NearestTasks needs the meta-features"):
        NearestTasks().fit(Ridge(), pm)
    with pytest.raises(ValueError, match="'alpah', which Ridge does not have"):
        Portfolio(size=1).fit(Ridge(), PerformanceMatrix.from_scores(
            np.eye(2), [{"alpah": 1}, {"alpah": 2}]))
    # The matrix holds the scores: y or groups next to it are a mistake, not ignored.
    with pytest.raises(ValueError, match="LearnedDefault got a fitted PerformanceMatrix "
                                         "together with y or groups"):
        LearnedDefault().fit(Ridge(), pm, groups=[0, 1, 2])
    with pytest.raises(ValueError, match="Portfolio got a fitted PerformanceMatrix together "
                                         "with y or groups"):
        Portfolio(size=1).fit(Ridge(), pm, np.zeros(3))
    one_task = PerformanceMatrix.from_scores([[0.1, 0.2]], [{"alpha": 1.0}, {"alpha": 2.0}])
    with pytest.raises(ValueError, match=r"^LearnedDefault needs at least 2 tasks; the matrix "
                                         r"has 1\.$"):
        LearnedDefault().fit(Ridge(), one_task)


def test_array_valued_settings_are_compared_by_content():
    # A setting equal to the estimator's own value is left out even when it is an array
    # (whose == is elementwise), and an array that differs from it is kept.
    from sklearn.naive_bayes import GaussianNB

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    grid = {"priors": [np.array([0.5, 0.5]), np.array([0.3, 0.7]), None]}
    pm = PerformanceMatrix(GaussianNB(priors=np.array([0.5, 0.5])), grid, cv=2).fit(
        [(X, y), (X[::-1], y[::-1])])
    assert len(pm.candidates_) == 3
    np.testing.assert_array_equal(pm.candidates_[0]["priors"], [0.5, 0.5])
    np.testing.assert_array_equal(pm.candidates_[1]["priors"], [0.3, 0.7])
    assert pm.candidates_[2] == {"priors": None}
    assert pm.scores_.shape == (2, 3)


def test_n_jobs_does_not_change_the_matrix():
    datasets = _datasets()
    kwargs = dict(param_distributions={"max_depth": [1, 2, 3, 5], "min_samples_leaf": [1, 5]},
                  n_iter=4, metafeatures=True, random_state=3)
    serial = PerformanceMatrix(TREE, n_jobs=1, **kwargs).fit(datasets)
    parallel = PerformanceMatrix(TREE, n_jobs=2, **kwargs).fit(datasets)
    assert serial.candidates_ == parallel.candidates_
    np.testing.assert_array_equal(serial.scores_, parallel.scores_)
    np.testing.assert_array_equal(serial.meta_features_, parallel.meta_features_)
    # The comparison means something only if n_jobs=2 does run the cross-validations in
    # other processes: a scoring that returns the process id shows where each one ran.
    import os

    if not _workers_are_other_processes():
        return  # joblib runs serially here (JOBLIB_MULTIPROCESSING=0, no semaphores)
    where = PerformanceMatrix(TREE, n_jobs=2, scoring=lambda est, X, y: os.getpid(),
                              **kwargs).fit(datasets)
    assert os.getpid() not in set(where.scores_.ravel().tolist())


def _workers_are_other_processes():
    """Whether joblib's n_jobs=2 runs in other processes on this machine at all."""
    import os

    from sklearn.utils.parallel import Parallel, delayed

    return os.getpid() not in Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(2))


def test_matrix_under_a_dask_local_cluster():
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed (it is in the test extra)"
    )
    from joblib import parallel_backend

    datasets = _datasets()
    expected = PerformanceMatrix(TREE, GRID, n_jobs=1).fit(datasets)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, parallel_backend("dask"):
            with distributed.get_task_stream(client) as stream:
                on_dask = PerformanceMatrix(TREE, GRID, n_jobs=-1).fit(datasets)
    # The (task, setting) jobs ran on the cluster's workers.
    assert len(stream.data) > 0
    np.testing.assert_array_equal(on_dask.scores_, expected.scores_)


def test_scaled_settings_are_resolved_per_task_and_per_new_task():
    from sklearn.svm import SVC

    from metasklearn.hyperparams import Scaled, scaled

    rng = np.random.RandomState(0)
    narrow = (rng.normal(size=(60, 2)), np.arange(60) % 2)
    wide = (10 * rng.normal(size=(60, 8)), np.arange(60) % 2)
    pm = PerformanceMatrix(SVC(), {"gamma": scaled([1.0])}).fit([narrow, wide])
    # Scaled(1.0, "gamma_scale") is gamma="scale" on every task: identical scores.
    assert pm.candidates_ == [{"gamma": "scale"}, {"gamma": Scaled(1.0)}]
    np.testing.assert_array_equal(pm.scores_[:, 0], pm.scores_[:, 1])
    X_new = 3 * rng.normal(size=(30, 5))
    # A matrix on which Scaled(0.5) wins everywhere: the default is it, made concrete for
    # the new task's rows.
    won = PerformanceMatrix.from_scores([[0.5, 0.9], [0.6, 0.8]],
                                        [{"gamma": "scale"}, {"gamma": Scaled(0.5)}])
    ld = LearnedDefault().fit(SVC(), won)
    assert ld.select(SVC(), X_new, None) == {"gamma": pytest.approx(0.5 / (5 * X_new.var()))}
    portfolio = Portfolio({"gamma": scaled([0.5, 2.0])}, size=2).fit(SVC(), [narrow, wide])
    members = [m["gamma"] for m in portfolio.portfolio_]
    resolved = [m.resolve(X_new) if isinstance(m, Scaled) else m for m in members]
    learner = portfolio.adapt(SVC(), X_new, np.arange(30) % 2)
    assert learner.gamma in resolved
    with pytest.raises(ValueError, match="reference must be one of"):
        Scaled(1.0, "n_rows")


def test_equal_scaled_values_hash_equal():
    from metasklearn.hyperparams import Scaled

    # Scaled defines ==, so it needs a matching hash to be a set member or dict key.
    values = {Scaled(1.0), Scaled(1.0), Scaled(1.0, integer=True), Scaled(1.0, "n_features"),
              Scaled(2.0)}
    assert len(values) == 4
    assert hash(Scaled(0.5, "n_samples", integer=True)) == hash(
        Scaled(0.5, "n_samples", integer=True))
    assert {Scaled(1.0): "a"}[Scaled(1.0)] == "a"


def test_every_scaled_reference_resolves_to_its_value_on_dense_and_sparse_rows():
    from scipy import sparse

    from metasklearn.hyperparams import Scaled

    X = 3.0 + np.random.RandomState(0).exponential(size=(80, 5))  # not centred
    expected = {"gamma_scale": 2.0 / (5 * X.var()), "n_features": 10.0,
                "inv_n_features": 0.4, "n_samples": 160.0,
                "sqrt_n_samples": 2.0 * np.sqrt(80)}
    for reference, value in expected.items():
        assert Scaled(2.0, reference).resolve(X) == pytest.approx(value, rel=1e-12)
        assert Scaled(2.0, reference).resolve(sparse.csr_matrix(X)) == pytest.approx(
            value, rel=1e-12)


def test_scaled_best_params_are_concrete_inside_a_meta_estimator():
    from sklearn.svm import SVC

    from metasklearn import MetaEstimator
    from metasklearn.datasets import make_checkerboard_tasks
    from metasklearn.hyperparams import scaled

    X, y, groups = make_checkerboard_tasks(n_tasks=4, n_samples=30, random_state=0)
    meta = MetaEstimator(SVC(), hyperparams=LearnedDefault({"gamma": scaled([10.0])}),
                         random_state=0).fit(X, y, groups=groups)
    # The learned factor is resolved on all training rows for estimator_ ...
    assert meta.best_params_ == {"gamma": 10.0 / (2 * X.var())}
    # ... and on the new task's rows at adapt.
    learner = meta.adapt(2 * X[:30], y[:30])
    assert learner.gamma == pytest.approx(10.0 / (2 * (2 * X[:30]).var()))


def test_infinite_scores_count_as_failed_settings():
    # Regression: one -inf score made every normalised score of the task NaN, and the
    # learned default became a setting that scored -inf everywhere.
    candidates = [{"max_depth": d} for d in (None, 1, 2)]
    pm = PerformanceMatrix.from_scores([[-np.inf, 0.5, 0.7], [-np.inf, 0.9, 0.1]], candidates)
    np.testing.assert_allclose(pm.normalized("minmax"), [[0, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(pm.normalized("rank"), [[0, 0.5, 1], [0, 1, 0.5]])
    assert LearnedDefault().fit(DecisionTreeClassifier(), pm).best_index_ == 1
    failed = PerformanceMatrix.from_scores([[np.inf, np.inf], [0.1, 0.2]], candidates[:2])
    with pytest.raises(ValueError, match=r"Every score of task 0 in this matrix \(given to "
                                         r"from_scores, or loaded\) is NaN or infinite.*"
                                         r"drop_tasks\(\[0\]\)"):
        failed.normalized()


@pytest.mark.filterwarnings("ignore:R\\^2 score is not well-defined")
def test_a_score_undefined_on_small_folds_is_named_once_per_task():
    # Regression: 5-row regression tasks in 3 folds give R² on one-row folds (NaN without a
    # failed fit); the error pointed at FitFailedWarnings that did not exist.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    groups = np.repeat(["a", "b", "c", "d"], [5, 5, 5, 5])
    with pytest.warns(UndefinedMetricWarning) as record:
        pm = PerformanceMatrix(Ridge(), {"alpha": [0.1, 10.0]}, cv=3).fit(X, y, groups)
    notes = [str(w.message) for w in record if "settings fitted on task" in str(w.message)]
    assert notes == [f"3 of 3 settings fitted on task {t!r} but their score is not finite: "
                     "the scoring is undefined on test folds of 1 row (R² needs at least 2). "
                     "Use fewer folds (for example cv=2, or hyperparams__cv=2 through "
                     "MetaEstimator), a scoring defined on a single row, or give the task more "
                     "rows." for t in "abcd"]
    with pytest.raises(ValueError, match="failed or scored NaN on task 'a'.*"
                                         "UndefinedMetricWarning"):
        pm.normalized()
    ok = PerformanceMatrix(Ridge(), {"alpha": [0.1, 10.0]}, cv=2).fit(X, y, groups)
    assert np.isfinite(ok.normalized()).all()


def test_dataset_ids_of_mixed_types_keep_their_types():
    # Regression: numpy turned the ids {0, "b"} into the strings "0" and "b".
    X, y, _ = make_linear_tasks(n_tasks=2, n_samples=20, random_state=0)
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.1]}).fit(
        {0: (X[:20], y[:20]), "b": (X[20:], y[20:])})
    assert pm.tasks_.tolist() == [0, "b"]
    assert pm.drop_tasks([0]).tasks_.tolist() == ["b"]
    same = PerformanceMatrix(Ridge(), {"alpha": [0.1]}).fit({3: (X[:20], y[:20]),
                                                             5: (X[20:], y[20:])})
    assert same.tasks_.dtype.kind == "i"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failed_fits_warn_the_caller_whatever_the_backend(n_jobs):
    # Regression: with n_jobs=2 the FitFailedWarnings went to the loky workers' stderr.
    from sklearn.exceptions import FitFailedWarning
    from sklearn.svm import SVC

    import os

    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=30, random_state=0)
    y = (y > np.median(y)).astype(int)
    with pytest.warns(FitFailedWarning) as record:
        pm = PerformanceMatrix(SVC(), {"C": [1.0, -1.0]}, n_jobs=n_jobs).fit(X, y, groups)
    # With n_jobs=2 the fits must really run in the workers, or this tests nothing new.
    where = PerformanceMatrix(SVC(), {"C": [1.0]}, n_jobs=n_jobs,
                              scoring=lambda est, X, y: os.getpid()).fit(X, y, groups)
    # (unless joblib cannot start processes here: it then runs n_jobs=2 serially)
    assert (os.getpid() in where.scores_) is (n_jobs == 1 or not _workers_are_other_processes())
    messages = [str(w.message) for w in record if w.category is FitFailedWarning]
    assert len(messages) == 3 and all("C=-1.0" in m and "InvalidParameterError" in m
                                      for m in messages)
    assert np.isnan(pm.scores_[:, 1]).all() and np.isfinite(pm.scores_[:, 0]).all()


def test_a_misspelt_scoring_is_refused_before_any_fit():
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="'scoring' parameter.*Got 'r22' instead"):
        PerformanceMatrix(Ridge(), {"alpha": [1.0]}, scoring="r22", n_jobs=2).fit(X, y, groups)


def test_integer_scaled_settings_resolve_to_counts():
    # Regression: a Scaled value was always a float, so n_neighbors=Scaled(...) failed on
    # every task (KNeighborsClassifier refuses 5.48).
    import pickle

    from sklearn.neighbors import KNeighborsClassifier

    from metasklearn.hyperparams import Scaled, scaled

    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=30, random_state=0)
    y = (y > np.median(y)).astype(int)
    grid = {"n_neighbors": scaled([0.5, 1.0], "sqrt_n_samples", integer=True)}
    ld = LearnedDefault(grid).fit(KNeighborsClassifier(), X, y, groups)
    assert np.isfinite(ld.scores_).all()
    assert Scaled(1.0, "sqrt_n_samples", integer=True).resolve(X[:30]) == 5
    assert ld.select(KNeighborsClassifier(), X[:100], y[:100])["n_neighbors"] in (5, 10)
    assert Scaled(1.0, integer=True) != Scaled(1.0)
    assert repr(Scaled(2.0, "n_samples", integer=True)) == "Scaled(2.0, 'n_samples', integer=True)"
    assert pickle.loads(pickle.dumps(Scaled(1.0, integer=True))).integer


def test_integer_scaled_values_round_to_the_nearest_count():
    from metasklearn.hyperparams import Scaled

    X = np.zeros((44, 2))
    assert Scaled(1.0, "sqrt_n_samples", integer=True).resolve(X) == 7  # sqrt(44) = 6.63
    assert Scaled(0.29, "n_samples", integer=True).resolve(X[:10]) == 3  # 2.9
    assert Scaled(0.26, "n_samples", integer=True).resolve(X[:10]) == 3  # 2.6
    assert Scaled(0.24, "n_samples", integer=True).resolve(X[:10]) == 2  # 2.4


def test_rank_scales_each_task_by_its_own_top_rank():
    # A tie at the top makes a task's best rank 1.5 of 2: its tied best settings still get 1.
    pm = PerformanceMatrix.from_scores([[0.2, 0.9, 0.9], [0.1, 0.2, 0.3]],
                                       [{"a": i} for i in range(3)])
    np.testing.assert_allclose(pm.normalized("rank"), [[0, 1, 1], [0, 0.5, 1]])


def test_fit_times_are_the_total_over_the_folds(monkeypatch):
    from metasklearn.hyperparams import _matrix

    real = _matrix.cross_validate

    def timed(*args, **kwargs):
        result = real(*args, **kwargs)
        result["fit_time"] = np.array([1.0, 2.0, 4.0])
        return result

    monkeypatch.setattr(_matrix, "cross_validate", timed)
    X, y, groups = make_linear_tasks(n_tasks=2, n_samples=15, random_state=0)
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.1]}, cv=3).fit(X, y, groups)
    np.testing.assert_array_equal(pm.fit_times_, np.full((2, 2), 7.0))


def test_a_task_with_exactly_as_many_rows_as_folds_is_scored():
    X, y, _ = make_linear_tasks(n_tasks=1, n_samples=3, random_state=0)
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.1]}, cv=3,
                           scoring="neg_mean_squared_error").fit([(X, y)])
    expected = cross_val_score(Ridge(alpha=0.1), X, y, cv=3,
                               scoring="neg_mean_squared_error").mean()
    assert pm.scores_[0, 1] == pytest.approx(expected)


def test_drop_tasks_drops_their_meta_features_and_copies_the_candidates():
    features = np.arange(6.0).reshape(3, 2)
    pm = PerformanceMatrix.from_scores(np.eye(3), [{"alpha": a} for a in (1.0, 2.0, 3.0)],
                                       tasks=["a", "b", "c"], meta_features=features)
    dropped = pm.drop_tasks(["b"])
    np.testing.assert_array_equal(dropped.meta_features_, features[[0, 2]])
    assert dropped.meta_feature_names_ == ["f0", "f1"]
    dropped.candidates_[0]["alpha"] = 99.0
    assert pm.candidates_[0] == {"alpha": 1.0}  # the original matrix is untouched


def test_drop_tasks_compares_each_id_a_bounded_number_of_times():
    # Dropping k of n tasks was k * n comparisons (a list searched per id).
    comparisons = []

    class Id:
        def __init__(self, value):
            self.value = value

        def __eq__(self, other):
            comparisons.append(1)
            return isinstance(other, Id) and self.value == other.value

        def __hash__(self):
            return hash(self.value)

    n_tasks = 200
    pm = PerformanceMatrix.from_scores(np.zeros((n_tasks, 1)), [{}],
                                       tasks=[Id(i) for i in range(n_tasks)])
    comparisons.clear()
    dropped = pm.drop_tasks([Id(i) for i in range(0, n_tasks, 2)])  # equal, not the same
    assert [task.value for task in dropped.tasks_] == list(range(1, n_tasks, 2))
    assert len(comparisons) <= 2 * n_tasks


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_a_numeric_error_score_is_the_score_of_a_failed_setting():
    from sklearn.svm import SVC

    X, y, groups = make_linear_tasks(n_tasks=2, n_samples=30, random_state=0)
    y = (y > np.median(y)).astype(int)
    pm = PerformanceMatrix(SVC(), {"C": [-1.0]}, error_score=-5.0).fit(X, y, groups)
    np.testing.assert_array_equal(pm.scores_[:, 1], [-5.0, -5.0])
    assert np.isnan(pm.fit_times_[:, 1]).all()


def test_datasets_with_groups_are_refused():
    datasets = _datasets()
    with pytest.raises(ValueError, match="datasets together with y or groups"):
        PerformanceMatrix(TREE, GRID).fit(list(datasets.values()), groups=[0, 1, 2])


def test_meta_feature_names_must_name_the_meta_feature_columns():
    from metasklearn.metafeatures import METAFEATURE_NAMES

    scores, candidates = np.eye(3), [{"alpha": a} for a in (1.0, 2.0, 3.0)]
    with pytest.raises(ValueError, match="meta_feature_names has 10 names but meta_features "
                                         "has 9 columns"):
        PerformanceMatrix.from_scores(scores, candidates, meta_features=np.ones((3, 9)),
                                      meta_feature_names=list(METAFEATURE_NAMES))
    with pytest.raises(ValueError, match="meta_feature_names has 0 names"):
        PerformanceMatrix.from_scores(scores, candidates, meta_features=np.ones((3, 2)),
                                      meta_feature_names=[])
    with pytest.raises(ValueError, match="meta_feature_names was given without meta_features"):
        PerformanceMatrix.from_scores(scores, candidates, meta_feature_names=["a"])


def test_mixed_type_task_ids_round_trip_through_from_scores_save_and_load(tmp_path):
    # Regression: load crashed in np.unique (0 and "b" do not sort), and from_scores turned
    # the ids [0, "b"] into the strings "0" and "b".
    X, y, _ = make_linear_tasks(n_tasks=2, n_samples=20, random_state=0)
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.1]}).fit(
        {0: (X[:20], y[:20]), "b": (X[20:], y[20:])})
    pm.save(tmp_path / "mixed.joblib")
    loaded = PerformanceMatrix.load(tmp_path / "mixed.joblib")
    assert loaded.tasks_.tolist() == [0, "b"]
    np.testing.assert_array_equal(loaded.scores_, pm.scores_)
    given = PerformanceMatrix.from_scores([[0.1, 0.2], [0.3, 0.4]],
                                          [{"alpha": 1.0}, {"alpha": 2.0}], tasks=[0, "b"])
    assert given.tasks_.tolist() == [0, "b"]
    assert given.drop_tasks([0]).tasks_.tolist() == ["b"]
    with pytest.raises(ValueError, match="distinct ids"):
        PerformanceMatrix.from_scores(np.zeros((2, 1)), [{"alpha": 1.0}], tasks=[0, 0])


def test_tuple_dataset_ids_stay_one_id_per_task():
    # Regression: {("uci", 1): ...} gave a 2-D tasks_ whose rows drop_tasks could not find.
    X, y, _ = make_linear_tasks(n_tasks=3, n_samples=20, random_state=0)
    datasets = {("uci", i): (X[20 * i:20 * (i + 1)], y[20 * i:20 * (i + 1)]) for i in range(3)}
    pm = PerformanceMatrix(Ridge(), {"alpha": [0.1]}).fit(datasets)
    assert pm.tasks_.shape == (3,)
    assert pm.tasks_.tolist() == [("uci", 0), ("uci", 1), ("uci", 2)]
    assert pm.drop_tasks([("uci", 1)]).tasks_.tolist() == [("uci", 0), ("uci", 2)]


@pytest.mark.parametrize("grid", [{}, [], [{}]])
def test_an_empty_grid_is_refused(grid):
    # Regression: an empty grid left the estimator's own values as the only "setting",
    # and LearnedDefault silently "learned" them.
    X, y, _ = make_linear_tasks(n_tasks=2, n_samples=20, random_state=0)
    datasets = [(X[:20], y[:20]), (X[20:], y[20:])]
    with pytest.raises(ValueError, match="names no parameter"):
        LearnedDefault(grid).fit(Ridge(), datasets)
    with pytest.raises(ValueError, match="names no parameter"):
        PerformanceMatrix(Ridge(), param_distributions=grid).fit(datasets)


def test_a_one_class_task_is_refused_on_the_datasets_path():
    # Regression: a tree fits one class, so every setting scored 1.0 there and the task
    # tied silently (MetaEstimator refuses such a task; the datasets path did not).
    datasets = _datasets()
    X_w, y_w = datasets["wine"]
    datasets["wine"] = (X_w[y_w == 0], y_w[y_w == 0])
    with pytest.raises(ValueError, match="Task 'wine' has only one class"):
        PerformanceMatrix(TREE, GRID).fit(datasets)


def test_scaled_settings_resolve_on_a_list_of_rows():
    # Regression: Scaled.resolve read X.shape, so adapt(X.tolist(), y) crashed.
    from sklearn.svm import SVC

    from metasklearn import MetaEstimator
    from metasklearn.datasets import make_checkerboard_tasks
    from metasklearn.hyperparams import Scaled, scaled

    X = np.random.RandomState(0).normal(size=(20, 3))
    assert Scaled(2.0, "inv_n_features").resolve(X.tolist()) == pytest.approx(2.0 / 3)
    assert Scaled(1.0).resolve(X.tolist()) == Scaled(1.0).resolve(X)
    X, y, groups = make_checkerboard_tasks(n_tasks=4, n_samples=30, random_state=0)
    meta = MetaEstimator(SVC(), hyperparams=LearnedDefault({"gamma": scaled([10.0])}),
                         random_state=0).fit(X, y, groups=groups)
    learner = meta.adapt(X[:30].tolist(), y[:30].tolist())
    assert learner.gamma == pytest.approx(10.0 / (2 * X[:30].var()))


@pytest.mark.parametrize("unit", ["D", "ns"])
def test_drop_tasks_finds_datetime_ids_taken_from_tasks_(unit):
    # Regression: drop_tasks' sets compared np.datetime64 ids (as tasks_[:1] gives them)
    # with the datetime.date (or int) of tasks_.tolist() by hash: "Unknown task ids".
    tasks = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype=f"datetime64[{unit}]")
    pm = PerformanceMatrix.from_scores(np.arange(6.0).reshape(3, 2),
                                       [{"alpha": 1.0}, {"alpha": 2.0}], tasks=tasks)
    np.testing.assert_array_equal(pm.drop_tasks(pm.tasks_[:1]).tasks_, tasks[1:])
    np.testing.assert_array_equal(pm.drop_tasks([pm.tasks_[2]]).tasks_, tasks[:2])
    with pytest.raises(ValueError, match="Unknown task ids"):
        pm.drop_tasks([np.datetime64("2021-01-01", unit)])


def test_ragged_tuple_ids_stay_one_id_per_task():
    # Regression: tuple ids of several lengths, or a tuple beside a str, made np.array
    # raise "inhomogeneous shape" in from_scores and on the datasets path.
    from metasklearn.hyperparams._matrix import _as_datasets

    for ids in ([("uci", 1), ("uci", 2, "v2")], [("uci", 1), "local"]):
        pm = PerformanceMatrix.from_scores(np.zeros((2, 1)), [{"alpha": 1.0}], tasks=ids)
        assert pm.tasks_.tolist() == ids
        assert pm.drop_tasks([ids[0]]).tasks_.tolist() == [ids[1]]
        X = np.zeros((4, 1))
        tasks, _ = _as_datasets({ids[0]: (X, np.arange(4.0)), ids[1]: (X, np.arange(4.0))},
                                None, None)
        assert tasks.tolist() == ids


def test_a_task_too_small_for_the_folds_names_the_parameter_of_the_caller():
    # Regression: a standalone matrix was told to set hyperparams__cv, a parameter it does
    # not have; and a task with enough rows but no class big enough for stratified folds
    # failed every setting and got only a pointer to the FitFailedWarnings.
    with pytest.raises(ValueError, match=r"Task 'tiny' has 2 rows, fewer than the 3 folds of "
                                         r"the within-task cross-validation. Use a smaller cv "
                                         r"\(for example cv=2, or hyperparams__cv=2 through "
                                         r"MetaEstimator\)"):
        PerformanceMatrix(TREE, GRID).fit({"tiny": (np.zeros((2, 1)), [0, 1])})
    X, y = _datasets()["iris"]
    with pytest.raises(ValueError, match=r"^Task 'small' has no class with 3 rows \(the largest "
                                         r"has 2\), so the stratified 3-fold within-task "
                                         r"cross-validation cannot split it. Use a smaller cv "
                                         r"\(for example cv=2, or hyperparams__cv=2 through "
                                         r"MetaEstimator\) or drop or merge the small task.$"):
        PerformanceMatrix(TREE, GRID).fit({"iris": (X, y),
                                           "small": (np.zeros((4, 1)), [0, 1, 0, 1])})
    # Two folds split it.
    PerformanceMatrix(TREE, GRID, cv=2).fit({"iris": (X, y),
                                             "small": (np.zeros((4, 1)), [0, 1, 0, 1])})


def test_a_small_one_class_task_is_named_for_its_one_class_not_its_folds():
    # The one-class check runs before the fold checks: the class is the cause, and the
    # fix ("cv=2") the fold message would suggest could not help.
    from sklearn.svm import SVC

    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 2))
    datasets = {"a": (X[:2], np.zeros(2, dtype=int)), "b": (X[2:], np.tile([0, 1], 4))}
    with pytest.raises(ValueError, match="Task 'a' has only one class"):
        PerformanceMatrix(SVC(), {"C": [1.0, 2.0]}).fit(datasets)
