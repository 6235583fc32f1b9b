"""MetaEstimator: fit over tasks, adapt, per-task prediction, persistence, errors."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from metasklearn import MetaEstimator
from metasklearn.datasets import make_linear_tasks
from metasklearn.hyperparams import BaseHyperparams, LearnedDefault
from metasklearn.init import BaseInit


def test_default_estimator_is_mlp_classifier(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(random_state=0).fit(X, y, groups=groups)
    assert type(meta.estimator_) is MLPClassifier
    assert meta.estimator is None
    learner = meta.adapt(X[groups == 0], y[groups == 0])
    assert type(learner) is MLPClassifier


@pytest.mark.parametrize(
    "base, kind", [(MLPClassifier(), "classifier"), (Ridge(), "regressor"), (SVC(), "classifier")]
)
def test_estimator_type_follows_base(base, kind):
    from sklearn.utils import get_tags

    assert get_tags(MetaEstimator(base)).estimator_type == kind


def test_fit_learns_per_task_learners_and_population_learner(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), random_state=0).fit(X, y, groups=groups)
    assert meta.n_tasks_ == 6
    np.testing.assert_array_equal(meta.tasks_, np.arange(6))
    np.testing.assert_array_equal(meta.classes_, [0, 1, 2])
    for task in range(6):
        rows = groups == task
        expected = LogisticRegression().fit(X[rows], y[rows])
        np.testing.assert_allclose(meta.learners_[task].coef_, expected.coef_)
        # A training task's rows go to its own learner.
        np.testing.assert_array_equal(
            meta.predict(X[rows], groups=groups[rows]), expected.predict(X[rows])
        )
    pooled = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(meta.population_learner_.coef_, pooled.coef_)
    # Rows without a task, and rows of unseen tasks, go to the population learner.
    np.testing.assert_array_equal(meta.predict(X), pooled.predict(X))
    np.testing.assert_array_equal(
        meta.predict(X, groups=np.full(len(X), 99)), pooled.predict(X)
    )


def test_predict_reassembles_rows_of_interleaved_tasks(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    order = np.random.RandomState(1).permutation(len(X))
    shuffled = meta.predict_proba(X[order], groups=groups[order])
    np.testing.assert_allclose(shuffled, meta.predict_proba(X, groups=groups)[order])
    expected = meta.learners_[3].predict_proba(X[order][groups[order] == 3])
    np.testing.assert_allclose(shuffled[groups[order] == 3], expected)


def test_decision_function_and_unseen_tasks_use_the_right_learner(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    order = np.random.RandomState(2).permutation(len(X))
    decision = meta.decision_function(X[order], groups=groups[order])
    assert decision.shape == (len(X), 3)
    for task in (0, 5):
        rows = groups[order] == task
        np.testing.assert_allclose(decision[rows],
                                   meta.learners_[task].decision_function(X[order][rows]))
    # A task id never seen in fit goes to the population learner, as do rows without groups.
    new_task = np.full(len(X), 99)
    np.testing.assert_allclose(meta.decision_function(X, groups=new_task),
                               meta.population_learner_.decision_function(X))
    np.testing.assert_allclose(meta.decision_function(X),
                               meta.population_learner_.decision_function(X))
    assert not np.allclose(meta.learners_[0].decision_function(X),
                           meta.population_learner_.decision_function(X))


def test_predicting_reads_the_tags_as_often_whatever_the_number_of_tasks(monkeypatch):
    # Reading them per task cost more than many small tasks' own predictions.
    X, y, groups = make_linear_tasks(n_tasks=12, n_samples=10, random_state=0)
    y = (y > np.median(y)).astype(int)
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    reads = []
    tags = MetaEstimator.__sklearn_tags__

    def counted(self):
        reads.append(1)
        return tags(self)

    monkeypatch.setattr(MetaEstimator, "__sklearn_tags__", counted)
    counts = []
    for n_tasks in (2, 12):
        rows = groups < n_tasks
        reads.clear()
        meta.predict_proba(X[rows], groups=groups[rows])
        counts.append(len(reads))
    assert counts[0] == counts[1]


def test_predict_proba_aligns_tasks_that_saw_fewer_classes():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.r_[np.tile([0, 1], 15), np.tile([1, 2], 15)]
    X[np.arange(60), 0] += 3 * y
    groups = np.repeat([0, 1], 30)
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    proba = meta.predict_proba(X, groups=groups)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:30, 2], 0.0)
    np.testing.assert_array_equal(proba[30:, 0], 0.0)
    np.testing.assert_allclose(proba[:30, :2], meta.learners_[0].predict_proba(X[:30]))
    with pytest.raises(ValueError, match="learner of task 0 saw only the labels"):
        meta.decision_function(X, groups=groups)


def test_decision_function_error_points_to_the_task_learner_not_to_its_rows_alone():
    # The message used to advise "call decision_function on that task's rows alone",
    # which raises the same error: a task that saw fewer labels is refused on its own too.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.r_[np.tile([0, 1], 15), np.tile([0, 1, 2], 10)]
    groups = np.repeat([0, 1], 30)
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match=r"learners_\[0\]\.decision_function"):
        meta.decision_function(X[:30], groups=groups[:30])
    assert meta.decision_function(X[30:], groups=groups[30:]).shape == (30, 3)
    assert meta.learners_[0].decision_function(X[:30]).shape == (30,)


def test_string_labels_and_task_ids(blobs):
    X, y, groups = blobs
    labels = np.array(["cat", "dog", "hamster"])[y]
    stores = np.array(["store-a", "b", "c", "d", "e", "f"])[groups]
    meta = MetaEstimator(LogisticRegression()).fit(X, labels, groups=stores)
    assert set(meta.learners_) == set(stores)
    pred = meta.predict(X, groups=stores)
    assert pred.dtype.kind == "U" and set(pred) <= set(labels)
    assert meta.score(X, labels, groups=stores) > 0.8


def test_adapt_returns_plain_fitted_estimator_and_mutates_nothing(blobs):
    X, y, groups = blobs
    base = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50)
    meta = MetaEstimator(base, random_state=0).fit(X, y, groups=groups)
    before_meta, before_base = joblib.hash(meta), joblib.hash(base)
    X_new, y_new = X[groups == 2], y[groups == 2]
    learner = meta.adapt(X_new, y_new)
    assert type(learner) is MLPClassifier
    assert learner is not meta.estimator_ and learner is not base
    assert hasattr(learner, "coefs_")
    assert joblib.hash(meta) == before_meta
    assert joblib.hash(base) == before_base
    assert not hasattr(base, "coefs_")
    # adapt is deterministic for a seeded meta-estimator, and equals the task's learner.
    np.testing.assert_allclose(meta.adapt(X_new, y_new).coefs_[0], learner.coefs_[0])
    np.testing.assert_allclose(meta.learners_[2].coefs_[0], learner.coefs_[0])


def test_adapt_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=20, n_features=2, random_state=0)
    frame = pd.DataFrame(X, columns=["price", "promo"])
    meta = MetaEstimator(Ridge()).fit(frame, y, groups=groups)
    learner = meta.adapt(frame.iloc[:20], y[:20])
    np.testing.assert_array_equal(learner.feature_names_in_, ["price", "promo"])


def _frame_with_text(pd):
    X, y, groups = make_linear_tasks(n_tasks=6, n_samples=20, n_features=2, random_state=0)
    frame = pd.DataFrame(X, columns=["price", "promo"])
    frame["region"] = np.where(X[:, 0] > 0, "north", "south")
    return frame, y, groups


@pytest.mark.parametrize("strategies", ["none", "init", "hyperparams"])
def test_a_pipeline_that_picks_frame_columns_by_name_and_encodes_text(strategies):
    # Regression: MetaEstimator.fit turned X into a numeric array first, so a
    # ColumnTransformer selecting columns by name (or an encoder of text) failed in fit
    # although the same Pipeline fits on its own.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from metasklearn.init import GaussianPrior

    frame, y, groups = _frame_with_text(pd)
    columns = ColumnTransformer([("num", StandardScaler(), ["price", "promo"]),
                                 ("text", OneHotEncoder(), ["region"])])
    base = make_pipeline(columns, Ridge())
    kwargs = {"none": {}, "init": {"init": GaussianPrior()},
              "hyperparams": {"hyperparams": LearnedDefault({"ridge__alpha": [0.1, 10.0]})}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warnings either
        meta = MetaEstimator(base, **kwargs[strategies]).fit(frame, y, groups=groups)
        learner = meta.adapt(frame.iloc[:5], y[:5])
        predictions = meta.predict(frame, groups=groups)
    assert type(learner) is type(base)
    np.testing.assert_array_equal(learner.feature_names_in_, ["price", "promo", "region"])
    rows = groups == groups[0]
    own = meta.learners_[groups[0]].predict(frame[rows])
    np.testing.assert_allclose(predictions[rows], own)
    if strategies == "none":  # each task's learner is the Pipeline fitted on its rows
        alone = clone(base).fit(frame[rows], y[rows])
        np.testing.assert_allclose(own, alone.predict(frame[rows]))
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing:\n- "
                                         "region"):
        meta.adapt(frame[["price", "promo"]], y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"), \
            pytest.raises(ValueError, match="X has 2 features, but MetaEstimator is expecting 3"):
        meta.adapt(frame[["price", "promo"]].to_numpy(), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        meta.adapt(frame.iloc[:5], y[:4])
    with pytest.raises(ValueError, match="MetaEstimator got X with 0 rows"):
        meta.adapt(frame.iloc[:0], y[:0])


def test_a_pipeline_base_keeps_the_frame_for_its_transformer_steps():
    # Regression: the transformer steps of a learned start were fitted on the validated
    # array, so the returned Pipeline warned "X has feature names" on every predict.
    pd = pytest.importorskip("pandas")
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from metasklearn.datasets import make_sinusoid_tasks
    from metasklearn.init import FOMAML

    X, y, groups = make_sinusoid_tasks(n_tasks=6, n_samples=20, random_state=0)
    frame = pd.DataFrame(X, columns=["x"])
    mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, solver="sgd", random_state=0)
    meta = MetaEstimator(make_pipeline(StandardScaler(), mlp), random_state=0, refit=False,
                         init=FOMAML(n_iter=2, meta_batch_size=2, shots=10))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        learner = meta.fit(frame, y, groups=groups).adapt(frame.iloc[:10], y[:10])
        learner.predict(frame.iloc[:10])
    assert not [w for w in record if "feature names" in str(w.message)]
    np.testing.assert_array_equal(learner[0].feature_names_in_, ["x"])


def test_random_state_seeds_unset_base_seed_only(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(MLPClassifier(max_iter=20), random_state=0).fit(X, y, groups=groups)
    # The first draw of the meta-estimator's own generator, so each seed gives its own.
    assert meta.estimator_.random_state == np.random.RandomState(0).randint(2**31 - 1)
    other = MetaEstimator(MLPClassifier(max_iter=20), random_state=1, refit=False)
    assert other.fit(X, y, groups=groups).estimator_.random_state == (
        np.random.RandomState(1).randint(2**31 - 1))
    explicit = MetaEstimator(MLPClassifier(max_iter=20, random_state=7), random_state=0)
    assert explicit.fit(X, y, groups=groups).estimator_.random_state == 7
    unseeded = MetaEstimator(MLPClassifier(max_iter=20)).fit(X, y, groups=groups)
    assert unseeded.estimator_.random_state is None


def test_clone_pickle_and_joblib_round_trip_give_identical_predictions(blobs, tmp_path):
    X, y, groups = blobs
    meta = MetaEstimator(
        MLPClassifier(hidden_layer_sizes=(6,), max_iter=100),
        hyperparams=LearnedDefault({"alpha": [1e-4, 1e-1]}, cv=2),
        random_state=0,
    ).fit(X, y, groups=groups)
    expected = meta.predict_proba(X, groups=groups)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(meta)).predict_proba(X, groups=groups), expected
    )
    joblib.dump(meta, tmp_path / "meta.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "meta.joblib").predict_proba(X, groups=groups), expected
    )
    refit = clone(meta).fit(X, y, groups=groups)
    np.testing.assert_array_equal(refit.predict_proba(X, groups=groups), expected)


def test_adapted_learner_unpickles_without_metasklearn(blobs, tmp_path):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), random_state=0).fit(X, y, groups=groups)
    learner = meta.adapt(X[groups == 1], y[groups == 1])
    with open(tmp_path / "learner.pkl", "wb") as f:
        pickle.dump(learner, f)
    np.save(tmp_path / "X.npy", X)
    script = f"""
import pickle, sys
import numpy as np
sys.modules["metasklearn"] = None  # any import of metasklearn now fails
with open({str(tmp_path / "learner.pkl")!r}, "rb") as f:
    learner = pickle.load(f)
X = np.load({str(tmp_path / "X.npy")!r})
print(type(learner).__name__, ",".join(map(str, learner.predict(X))))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    name, predictions = out.stdout.strip().split(" ")
    assert name == "LogisticRegression"
    assert predictions == ",".join(map(str, learner.predict(X)))


def _record_parallel(monkeypatch, module, seen):
    """Make ``module``'s joblib Parallel note the n_jobs it is given (and run as before)."""

    class _Parallel(module.Parallel):
        def __init__(self, n_jobs=None, **kwargs):
            seen.append((module.__name__, n_jobs))
            super().__init__(n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(module, "Parallel", _Parallel)


def test_n_jobs_does_not_change_the_result(blobs, monkeypatch):
    import metasklearn._meta_estimator as meta_module
    from metasklearn.hyperparams import _matrix

    X, y, groups = blobs
    seen = []
    for module in (meta_module, _matrix):
        _record_parallel(monkeypatch, module, seen)

    def fit(n_jobs):
        return MetaEstimator(
            MLPClassifier(hidden_layer_sizes=(6,), max_iter=60),
            hyperparams=LearnedDefault({"alpha": [1e-4, 1e-2, 1.0]}, cv=2),
            n_jobs=n_jobs,
            random_state=0,
        ).fit(X, y, groups=groups)

    serial, parallel = fit(1), fit(2)
    # The comparison means something only if n_jobs=2 reached both parallel loops: the
    # matrix's (task, setting) cross-validations and the per-task refits.
    assert seen == [(_matrix.__name__, 1), (meta_module.__name__, 1),
                    (_matrix.__name__, 2), (meta_module.__name__, 2)]
    np.testing.assert_array_equal(serial.hyperparams_.scores_, parallel.hyperparams_.scores_)
    assert serial.best_params_ == parallel.best_params_
    for task in serial.tasks_:
        for a, b in zip(serial.learners_[task].coefs_, parallel.learners_[task].coefs_):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        serial.predict_proba(X, groups=groups), parallel.predict_proba(X, groups=groups)
    )


def test_verbose_prints_progress(blobs, capsys):
    X, y, groups = blobs
    MetaEstimator(
        Ridge(), hyperparams=LearnedDefault({"alpha": [1.0, 2.0]}), verbose=1
    ).fit(X, y, groups=groups)
    out = capsys.readouterr().out
    assert "[MetaEstimator] learned settings:" in out
    assert "2 settings x 6 tasks" in out  # alpha=1.0 is the default: once


# --- bad input -------------------------------------------------------------------------


def test_groups_of_wrong_length(blobs):
    X, y, groups = blobs
    with pytest.raises(ValueError, match="groups has 179 entries but X has 180 rows"):
        MetaEstimator(Ridge()).fit(X, y, groups=groups[:-1])
    meta = MetaEstimator(Ridge()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="groups has 2 entries but X has 3 rows"):
        meta.predict(X[:3], groups=groups[:2])


def test_missing_or_unorderable_task_ids_name_the_problem(blobs):
    # Regression: None or a mix of int and str ids failed with numpy's "'<' not supported".
    X, y, groups = blobs
    ids = groups.astype(object)
    ids[0] = None
    with pytest.raises(ValueError, match="groups contains None; every row needs a task id"):
        MetaEstimator(Ridge()).fit(X, y, groups=ids)
    ids[0] = "a"
    with pytest.raises(ValueError, match=r"groups mixes task ids of types \['int', 'str'\]"):
        MetaEstimator(Ridge()).fit(X, y, groups=ids)
    ids = groups.astype(str).astype(object)  # one type in an object array is fine
    assert len(MetaEstimator(Ridge()).fit(X, y, groups=ids).learners_) == 6


def test_one_class_task_is_an_error_naming_the_task(blobs):
    X, y, groups = blobs
    y = y.copy()
    y[groups == 4] = 1
    with pytest.raises(ValueError, match=r"Task 4 has only one class \(1\)"):
        MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)


def test_a_collection_of_one_class_is_refused_whatever_the_strategy(blobs):
    # Regression: with GaussianPrior (which allows one-class tasks) it was accepted and
    # predicted [0.5, 0.5] for a classes_ of one label.
    from metasklearn.init import GaussianPrior

    X, y, groups = blobs
    for init in (None, GaussianPrior()):
        with pytest.raises(ValueError, match=r"y holds one class \(0\) in every task"):
            MetaEstimator(LogisticRegression(), init=init).fit(X, np.zeros_like(y),
                                                               groups=groups)


def test_adapt_with_one_class(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="adapt got only one class"):
        meta.adapt(X[:5], np.zeros(5, dtype=int))


def test_too_few_tasks_for_a_strategy_explains_groups_and_routing(blobs):
    X, y, _ = blobs
    meta = MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="needs at least 2 training tasks.*enable_metadata"):
        meta.fit(X, y)


def test_task_smaller_than_cv_folds(blobs):
    X, y, groups = blobs
    groups = groups.copy()
    groups[:2] = 99  # task 99 gets two rows
    y = y.copy()
    y[:2] = [0, 1]
    meta = MetaEstimator(LogisticRegression(), hyperparams=LearnedDefault({"C": [1.0]}, cv=3))
    with pytest.raises(ValueError, match="Task 99 has 2 rows, fewer than the 3 folds"):
        meta.fit(X, y, groups=groups)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_rejected_for_base_that_does_not_accept_them(blobs, bad):
    X, y, groups = blobs
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        MetaEstimator(MLPClassifier()).fit(X, y, groups=groups)


def test_nan_accepted_when_base_accepts_it():
    from sklearn.ensemble import HistGradientBoostingRegressor

    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=40, random_state=0)
    X[::7, 0] = np.nan
    y = y.copy()
    y[::7] += 10.0  # missingness carries information only a model that sees NaN can use
    base = HistGradientBoostingRegressor(max_iter=5)
    meta = MetaEstimator(base).fit(X, y, groups=groups)
    assert np.isfinite(meta.predict(X, groups=groups)).all()
    for task in range(3):  # each learner is the base estimator fitted on its raw NaN rows
        rows = groups == task
        np.testing.assert_allclose(meta.learners_[task].predict(X[rows]),
                                   clone(base).fit(X[rows], y[rows]).predict(X[rows]))


def test_score_honours_sample_weight(blobs):
    from sklearn.metrics import accuracy_score

    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    predicted = meta.predict(X, groups=groups)
    weights = np.where(predicted == y, 1.0, 10.0)  # the mistakes weigh ten times more
    weighted = meta.score(X, y, groups=groups, sample_weight=weights)
    assert weighted == pytest.approx(accuracy_score(y, predicted, sample_weight=weights))
    assert weighted < meta.score(X, y, groups=groups) - 0.05


def test_feature_count_mismatch_in_adapt_and_predict(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    message = "X has 3 features, but MetaEstimator is expecting 4 features"
    with pytest.raises(ValueError, match=message):
        meta.adapt(X[:, :3], y)
    with pytest.raises(ValueError, match=message):
        meta.predict(X[:, :3], groups=groups)


class _SharedLabelInit(BaseInit):
    """A minimal init strategy whose learned outputs are tied to the training labels."""

    _min_tasks = 1

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        self.classes_ = np.unique(y)
        return self

    def adapt(self, estimator, X, y):
        self._check_known_labels(y)
        return estimator.fit(X, y)


def test_labels_an_init_strategy_cannot_map(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), init=_SharedLabelInit()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match=r"adapt got labels \[7\] that were not seen"):
        meta.adapt(X[:6], np.array([0, 1, 7, 0, 1, 7]))
    assert type(meta.adapt(X[:6], y[:6])) is LogisticRegression


def test_invalid_strategy_type_is_rejected(blobs):
    X, y, groups = blobs
    with pytest.raises(ValueError, match="'hyperparams' parameter of MetaEstimator"):
        MetaEstimator(Ridge(), hyperparams={"alpha": [1.0]}).fit(X, y, groups=groups)


def test_unfitted_meta_estimator_raises_not_fitted(blobs):
    from sklearn.exceptions import NotFittedError

    X, y, _ = blobs
    with pytest.raises(NotFittedError):
        MetaEstimator(Ridge()).adapt(X, y)


def test_regression_score_is_r2_of_predict():
    from sklearn.metrics import r2_score

    X, y, groups = make_linear_tasks(n_tasks=5, n_samples=30, random_state=0)
    meta = MetaEstimator(MLPRegressor(max_iter=50), random_state=0).fit(X, y, groups=groups)
    assert meta.score(X, y, groups=groups) == pytest.approx(
        r2_score(y, meta.predict(X, groups=groups))
    )


def test_single_class_tasks_allowed_only_for_strategies_that_handle_them(blobs):
    from metasklearn.init import GaussianPrior

    X, y, groups = blobs
    y = (y == 2).astype(int)
    y[groups == 4] = 0  # task 4 holds one class
    meta = MetaEstimator(LogisticRegression(), init=GaussianPrior()).fit(X, y, groups=groups)
    np.testing.assert_array_equal(meta.learners_[4].classes_, [0, 1])
    learner = meta.adapt(X[:4], np.zeros(4, dtype=int))
    assert learner.predict_proba(X[:4]).shape == (4, 2)
    # Within-task CV cannot score a one-class task: with a hyperparameter strategy it stays an
    # error.
    with pytest.raises(ValueError, match="Task 4 has only one class"):
        MetaEstimator(LogisticRegression(), init=GaussianPrior(),
                      hyperparams=LearnedDefault({"C": [1.0]})).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="Task 4 has only one class"):
        MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)


def test_refit_false_keeps_no_learners_and_adapts_the_same(blobs):
    X, y, groups = blobs
    kwargs = dict(hyperparams=LearnedDefault({"C": [0.1, 10.0]}), random_state=0)
    full = MetaEstimator(LogisticRegression(), **kwargs).fit(X, y, groups=groups)
    lean = MetaEstimator(LogisticRegression(), refit=False, **kwargs).fit(X, y, groups=groups)
    assert lean.best_params_ == full.best_params_
    assert not hasattr(lean, "learners_") and not hasattr(lean, "population_learner_")
    for method in ("predict", "predict_proba", "decision_function", "score"):
        assert not hasattr(lean, method)
    with pytest.raises(AttributeError) as info:
        lean.predict(X)
    # scikit-learn's available_if re-raises; the traceback shows the reason as the cause.
    assert "refit=False) keeps no learners to call predict" in str(info.value.__cause__)
    np.testing.assert_array_equal(
        lean.adapt(X[:30], y[:30]).coef_, full.adapt(X[:30], y[:30]).coef_
    )


def test_a_refit_leaves_nothing_of_the_previous_fit_behind(blobs):
    # Regression: refit=False after refit=True kept the old learners_ (of other tasks), and
    # a classifier's classes_ stayed after switching the base estimator to a regressor.
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    assert set(meta.learners_) == set(range(6)) and meta.classes_.tolist() == [0, 1, 2]
    meta.set_params(refit=False).fit(X[groups < 2], y[groups < 2], groups=groups[groups < 2])
    assert meta.n_tasks_ == 2
    assert not hasattr(meta, "learners_") and not hasattr(meta, "population_learner_")
    meta.set_params(estimator=Ridge(), refit=True).fit(X, X[:, 0], groups=groups)
    assert not hasattr(meta, "classes_") and set(meta.learners_) == set(range(6))


def test_adapt_without_init_is_the_estimators_own_fit_on_the_rows_as_given(blobs):
    # Order-sensitive base (mini-batches, no shuffle): adapt must be exactly fit(X, y).
    X, y, groups = blobs
    base = MLPClassifier(hidden_layer_sizes=(5,), batch_size=4, shuffle=False, max_iter=5)
    meta = MetaEstimator(base, random_state=0, refit=False).fit(X, y, groups=groups)
    Xt, yt = X[groups == 1], y[groups == 1]
    learner = meta.adapt(Xt, yt)
    expected = clone(meta.estimator_).fit(Xt, yt)
    for a, b in zip(learner.coefs_ + learner.intercepts_, expected.coefs_ + expected.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_random_state_seeds_the_unset_seeds_of_a_pipelines_steps(blobs):
    X, y, groups = blobs
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=5))
    fits = [MetaEstimator(pipe, random_state=0, refit=False).fit(X, y, groups=groups)
            for _ in range(2)]
    seed = fits[0].estimator_.get_params()["mlpclassifier__random_state"]
    assert isinstance(seed, (int, np.integer))
    a, b = (m.adapt(X[groups == 1], y[groups == 1]) for m in fits)
    np.testing.assert_array_equal(a[-1].coefs_[0], b[-1].coefs_[0])
    explicit = pipe.set_params(mlpclassifier__random_state=7)
    meta = MetaEstimator(explicit, random_state=0, refit=False).fit(X, y, groups=groups)
    assert meta.estimator_.get_params()["mlpclassifier__random_state"] == 7


def test_a_refit_that_fails_leaves_no_learner_to_predict_with(blobs):
    from sklearn.exceptions import NotFittedError

    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X, y, groups=groups)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        meta.fit(bad, y, groups=groups)
    with pytest.raises(NotFittedError):
        meta.predict(X, groups=groups)


def test_a_refit_that_fails_leaves_no_settings_to_adapt_with(blobs):
    # Regression: only the learners were dropped. adapt went on with the previous fit's
    # estimator_ (its learned C) beside the new, unfitted strategies: a learner of the
    # old settings for X of the failed fit's feature count, or LearnedDefault's
    # NotFittedError, not the meta-estimator's.
    from sklearn.exceptions import NotFittedError

    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), refit=False,
                         hyperparams=LearnedDefault({"C": [0.01, 100.0]}, cv=2))
    meta.fit(X, y, groups=groups)
    wider = np.hstack([X, X[:, :1]])
    with pytest.raises(ValueError, match="groups has 179 entries"):
        meta.fit(wider, y, groups=groups[:-1])
    with pytest.raises(NotFittedError, match="This MetaEstimator instance is not fitted"):
        meta.adapt(wider[:30], y[:30])
    meta.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="needs at least 2 training tasks"):
        meta.fit(X, y)
    with pytest.raises(NotFittedError, match="This MetaEstimator instance is not fitted"):
        meta.adapt(X[:30], y[:30])


def test_datasets_import_under_python_oo():
    # python -OO strips docstrings; building the shared parameter docs must not fail then.
    out = subprocess.run([sys.executable, "-OO", "-c", "import metasklearn.datasets as d; "
                          "print(d.make_linear_tasks.__doc__)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None"


class _FixedSetting(BaseHyperparams):
    """A minimal hyperparameter strategy that learns the setting it is given."""

    _min_tasks = 2

    def __init__(self, params=None):
        self.params = params

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        self.best_params_ = dict(self.params)
        return self


def test_a_single_task_learner_is_the_population_learner(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression()).fit(X[groups == 0], y[groups == 0])
    assert list(meta.learners_) == [0]
    assert meta.learners_[0] is meta.population_learner_


def test_methods_are_those_of_the_learners_with_the_learned_settings(blobs):
    # SGDClassifier has predict_proba only for a probabilistic loss: what counts is the
    # fitted learners' loss, not the base estimator's.
    from sklearn.linear_model import SGDClassifier

    X, y, groups = blobs
    learned = MetaEstimator(SGDClassifier(random_state=0),
                            hyperparams=_FixedSetting({"loss": "log_loss"}))
    assert not hasattr(learned, "predict_proba")  # unfitted: the base estimator decides
    learned.fit(X, y, groups=groups)
    assert hasattr(learned, "predict_proba")
    assert learned.predict_proba(X[:4], groups=groups[:4]).shape == (4, 3)
    unlearned = MetaEstimator(SGDClassifier(loss="log_loss", random_state=0),
                              hyperparams=_FixedSetting({"loss": "hinge"}))
    assert hasattr(unlearned, "predict_proba")
    assert not hasattr(unlearned.fit(X, y, groups=groups), "predict_proba")


def test_best_params_is_a_copy_that_cannot_change_what_adapt_uses(blobs):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), hyperparams=_FixedSetting({"C": 0.5}),
                         refit=False).fit(X, y, groups=groups)
    meta.best_params_["C"] = 99.0
    assert meta.hyperparams_.best_params_ == {"C": 0.5}
    assert meta.adapt(X[groups == 1], y[groups == 1]).C == 0.5


def test_exactly_as_many_tasks_as_a_strategy_needs_are_enough(blobs):
    X, y, groups = blobs
    two = groups < 2
    meta = MetaEstimator(LogisticRegression(), hyperparams=_FixedSetting({"C": 0.5}))
    assert meta.fit(X[two], y[two], groups=groups[two]).n_tasks_ == 2
    with pytest.raises(ValueError, match="_FixedSetting needs at least 2 training tasks, but "
                                         r"fit received 1 \(groups=None means one task\)"):
        meta.fit(X[two], y[two])


class _FaultyInit(BaseInit):
    """An init strategy whose adapt makes one of the mistakes MetaEstimator must catch."""

    _min_tasks = 1

    def __init__(self, mistake="none"):
        self.mistake = mistake

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        return self

    def adapt(self, estimator, X, y):
        if self.mistake == "returns None":
            estimator.fit(X, y)
            return None
        if self.mistake == "unfitted":
            return estimator
        from sklearn.linear_model import LinearRegression
        return LinearRegression().fit(X, y)


@pytest.mark.parametrize("mistake, error, match", [
    ("returns None", TypeError, r"_FaultyInit\.adapt returned None; an init strategy must "
                                "return the Ridge it is given"),
    ("unfitted", NotFittedError, r"_FaultyInit\.adapt returned an unfitted Ridge"),
    ("another class", TypeError, r"_FaultyInit\.adapt returned LinearRegression; an init "
                                 "strategy must return the Ridge"),
])
@pytest.mark.parametrize("refit", [True, False])
def test_an_init_strategy_s_wrong_learner_is_an_error_naming_it(mistake, error, match, refit):
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    meta = MetaEstimator(Ridge(), init=_FaultyInit(mistake), refit=refit)
    if refit:
        with pytest.raises(error, match=match):
            meta.fit(X, y, groups=groups)
        return
    with pytest.raises(error, match=match):
        meta.fit(X, y, groups=groups).adapt(X[:6], y[:6])


class _NoDictSetting(_FixedSetting):
    """best_params_ set from ``params`` as given; ``select`` forgets to return its dict."""

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        self.best_params_ = self.params
        return self

    def select(self, estimator, X, y):
        dict(self.best_params_)


@pytest.mark.parametrize("params, match", [
    (None, r"_NoDictSetting\.fit gave best_params_ = None of type NoneType; a hyperparameter "
           "strategy must give a dict"),
    ({"C": 0.5}, r"_NoDictSetting\.select gave settings = None of type NoneType"),
])
def test_settings_that_are_not_a_dict_are_an_error_naming_the_strategy(blobs, params, match):
    X, y, groups = blobs
    meta = MetaEstimator(LogisticRegression(), hyperparams=_NoDictSetting(params))
    with pytest.raises(TypeError, match=match):
        meta.fit(X, y, groups=groups)


@pytest.mark.parametrize("base", [LogisticRegression(),
                                  MLPClassifier(hidden_layer_sizes=(8,), max_iter=50,
                                                random_state=0)])
def test_rows_of_unseen_tasks_reach_the_population_learner_in_one_call(blobs, base):
    # One call per unseen task cost a whole validation each (held-out tasks scored inside
    # GridSearchCV: 50-100x slower on 5,000 tasks), and an MLP's outputs then depended on
    # how the rows were cut (BLAS rounds by batch size): predict(X, groups=new) must be
    # predict(X) exactly, seen tasks' rows still going to their own learners.
    X, y, groups = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        meta = MetaEstimator(base).fit(X, y, groups=groups)
    population = meta.population_learner_
    calls = []
    original = population.predict_proba
    population.predict_proba = lambda X_: calls.append(len(X_)) or original(X_)
    unseen = groups + 100
    np.testing.assert_array_equal(meta.predict_proba(X, groups=unseen), original(X))
    assert calls == [len(X)]
    mixed = np.where(groups < 3, groups, unseen)  # tasks 0-2 seen, the rest not
    calls.clear()
    proba = meta.predict_proba(X, groups=mixed)
    assert calls == [int((groups >= 3).sum())]
    np.testing.assert_array_equal(proba[groups >= 3], original(X[groups >= 3]))
    for task in range(3):
        rows = groups == task
        np.testing.assert_array_equal(proba[rows], meta.learners_[task].predict_proba(X[rows]))


class _SubclassInit(BaseInit):
    """A legitimate init strategy whose adapt returns a subclass of the learner's class."""

    _min_tasks = 1

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        return self

    def adapt(self, estimator, X, y):
        return _TaggedRidge(**estimator.get_params()).fit(X, y)


class _TaggedRidge(Ridge):
    pass


@pytest.mark.parametrize("refit", [True, False])
def test_an_init_strategy_may_return_a_subclass_of_the_learner_s_class(refit):
    # Regression: the check of adapt's result compared type() exactly, so a fitted
    # instance of a Ridge subclass was refused as "another class".
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    meta = MetaEstimator(Ridge(), init=_SubclassInit(), refit=refit).fit(X, y, groups=groups)
    assert type(meta.adapt(X[:6], y[:6])) is _TaggedRidge
    if refit:
        assert all(type(learner) is _TaggedRidge for learner in meta.learners_.values())
