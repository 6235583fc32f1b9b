"""Metadata routing: GridSearchCV, cross_validate and Pipeline hand each fit its tasks."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from metasklearn import MetaEstimator
from metasklearn.datasets import make_linear_tasks
from metasklearn.hyperparams import BaseHyperparams, LearnedDefault
from metasklearn.model_selection import make_few_shot_scorer
from metasklearn.tasks import SupportQuerySplit

# Filled by the recording strategy below; module level because clone() deep-copies
# parameters, so a list passed as a parameter would not be shared.
SEEN_TASKS = []


class _RecordingHyperparams(BaseHyperparams):
    """Records which tasks each fit receives; learns nothing."""

    def __init__(self, tag=0):
        self.tag = tag

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        SEEN_TASKS.append(tuple(np.unique(groups).tolist()))
        self.best_params_ = {}
        return self


@pytest.fixture
def collection():
    X, y, groups = make_linear_tasks(n_tasks=9, n_samples=15, n_features=3, random_state=0)
    # The first feature is the row number, so a test can tell which rows a call saw.
    return np.column_stack([np.arange(len(y)), X]), y, groups


def test_grid_search_fits_see_exactly_their_fold_training_tasks(collection, routing):
    X, y, groups = collection
    SEEN_TASKS.clear()
    meta = MetaEstimator(Ridge(), hyperparams=_RecordingHyperparams())
    search = GridSearchCV(meta, {"hyperparams__tag": [0, 1]}, cv=GroupKFold(3))
    search.fit(X, y, groups=groups)
    folds = [tuple(np.unique(groups[train]).tolist()) for train, _ in
             GroupKFold(3).split(X, y, groups)]
    # Two candidates times three folds, then the refit on every task.
    assert sorted(SEEN_TASKS) == sorted(folds * 2 + [tuple(range(9))])
    assert search.best_estimator_.n_tasks_ == 9


def test_few_shot_scorer_adapts_only_on_support_rows_of_held_out_tasks(
    collection, routing, monkeypatch
):
    X, y, groups = collection
    adapted_rows = []
    original_adapt = MetaEstimator.adapt

    def recording_adapt(self, X_support, y_support):
        adapted_rows.append((frozenset(self.tasks_.tolist()), tuple(X_support[:, 0].astype(int))))
        return original_adapt(self, X_support, y_support)

    monkeypatch.setattr(MetaEstimator, "adapt", recording_adapt)
    scorer = make_few_shot_scorer(shots=5, random_state=3)
    search = GridSearchCV(
        MetaEstimator(Ridge()), {"estimator__alpha": [1.0]}, cv=GroupKFold(3),
        scoring=scorer, refit=False,
    )
    search.fit(X, y, groups=groups)

    expected = []
    for train, test in GroupKFold(3).split(X, y, groups):
        support, _ = next(SupportQuerySplit(5, random_state=3).split(X[test], None, groups[test]))
        for task in np.unique(groups[test]):
            rows = test[support][groups[test][support] == task]
            expected.append((frozenset(np.unique(groups[train]).tolist()), tuple(rows)))
    assert sorted(adapted_rows, key=str) == sorted(expected, key=str)
    for seen_tasks, rows in adapted_rows:
        assert len(rows) == 5
        assert not set(groups[list(rows)].tolist()) & seen_tasks


def test_cross_validate_with_few_shot_scorer_matches_manual_loop(collection, routing):
    X, y, groups = collection
    scorer = make_few_shot_scorer(shots=5)
    result = cross_validate(
        MetaEstimator(Ridge()), X, y, cv=GroupKFold(3), scoring=scorer,
        params={"groups": groups},
    )
    manual = []
    for train, test in GroupKFold(3).split(X, y, groups):
        meta = MetaEstimator(Ridge()).fit(X[train], y[train], groups=groups[train])
        manual.append(scorer(meta, X[test], y[test], groups=groups[test]))
    np.testing.assert_allclose(result["test_score"], manual)


def test_score_receives_held_out_groups(collection, routing):
    X, y, groups = collection
    result = cross_validate(
        MetaEstimator(Ridge()), X, y, cv=GroupKFold(3), params={"groups": groups},
        return_train_score=True,
    )
    manual, train_manual, train_pooled = [], [], []
    for train, test in GroupKFold(3).split(X, y, groups):
        meta = MetaEstimator(Ridge()).fit(X[train], y[train], groups=groups[train])
        manual.append(meta.score(X[test], y[test], groups=groups[test]))
        train_manual.append(meta.score(X[train], y[train], groups=groups[train]))
        train_pooled.append(meta.score(X[train], y[train]))
    np.testing.assert_allclose(result["test_score"], manual)
    # Held-out tasks all go to the population learner; on the training rows the groups
    # decide between each task's own learner and the population one, so they must arrive.
    np.testing.assert_allclose(result["train_score"], train_manual)
    assert not np.allclose(train_manual, train_pooled)


def test_pipeline_routes_groups_to_the_meta_estimator(collection, routing):
    X, y, groups = collection
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("meta", MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [0.1, 10.0]}))),
    ])
    pipe.fit(X, y, groups=groups)
    meta = pipe.named_steps["meta"]
    assert meta.n_tasks_ == 9
    Xt = pipe.named_steps["scale"].transform(X)
    np.testing.assert_allclose(pipe.predict(X, groups=groups), meta.predict(Xt, groups=groups))
    np.testing.assert_allclose(
        meta.predict(Xt[groups == 4], groups=groups[groups == 4]),
        meta.learners_[4].predict(Xt[groups == 4]),
    )
    assert pipe.score(X, y, groups=groups) == pytest.approx(meta.score(Xt, y, groups=groups))


def test_few_shot_scorer_adapts_a_pipeline_ending_in_a_meta_estimator(collection, routing):
    # Regression: the scorer refitted such a Pipeline on one task's support rows, so
    # LearnedDefault failed on a single task and GridSearchCV scored every candidate NaN.
    X, y, groups = collection
    train, test = groups < 6, groups >= 6
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("meta", MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [0.1, 30.0]}))),
    ]).fit(X[train], y[train], groups=groups[train])
    scorer = make_few_shot_scorer(shots=5, random_state=0)
    support, query = next(SupportQuerySplit(5, random_state=0).split(X[test], None,
                                                                     groups[test]))
    scale, meta = pipe.named_steps["scale"], pipe.named_steps["meta"]
    Xs, Xq, ys, yq, gs, gq = (X[test][support], X[test][query], y[test][support],
                              y[test][query], groups[test][support], groups[test][query])
    expected = [meta.adapt(scale.transform(Xs[gs == t]), ys[gs == t])
                .score(scale.transform(Xq[gq == t]), yq[gq == t]) for t in (6, 7, 8)]
    assert scorer(pipe, X[test], y[test], groups=groups[test]) == pytest.approx(
        np.mean(expected))
    search = GridSearchCV(pipe, {"meta__hyperparams__cv": [2, 3]}, cv=GroupKFold(3),
                          scoring=scorer).fit(X, y, groups=groups)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_few_shot_scorer_adapts_a_one_step_pipeline_without_transforming(collection, routing):
    # A Pipeline that is only the meta-estimator has no transformers to apply: each task's
    # learner is the meta-estimator adapted to the support rows as they are.
    X, y, groups = collection
    train, test = groups < 6, groups >= 6
    pipe = Pipeline([
        ("meta", MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [0.1, 30.0]}))),
    ]).fit(X[train], y[train], groups=groups[train])
    meta = pipe.named_steps["meta"]
    support, query = next(SupportQuerySplit(5, random_state=0).split(X[test], None,
                                                                     groups[test]))
    Xs, Xq, ys, yq, gs, gq = (X[test][support], X[test][query], y[test][support],
                              y[test][query], groups[test][support], groups[test][query])
    expected = [meta.adapt(Xs[gs == t], ys[gs == t]).score(Xq[gq == t], yq[gq == t])
                for t in (6, 7, 8)]
    scorer = make_few_shot_scorer(shots=5, random_state=0)
    assert scorer(pipe, X[test], y[test], groups=groups[test]) == pytest.approx(
        np.mean(expected), rel=1e-12)


def test_few_shot_scorer_names_rows_of_x_and_y_that_differ(collection):
    X, y, groups = collection
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[134, 135\]"):
        make_few_shot_scorer()(Ridge(), X[:-1], y, groups=groups)


def test_without_routing_a_pipeline_predicts_by_task_but_scores_pooled(collection):
    # What the user guide says of routing off: Pipeline.predict passes groups on,
    # Pipeline.score drops them (scikit-learn's behaviour), so it scores the population
    # learner.
    X, y, groups = collection
    pipe = Pipeline([("scale", StandardScaler()), ("meta", MetaEstimator(Ridge()))])
    pipe.fit(X, y, meta__groups=groups)
    meta, Xt = pipe.named_steps["meta"], pipe.named_steps["scale"].transform(X)
    np.testing.assert_allclose(pipe.predict(X, groups=groups), meta.predict(Xt, groups=groups))
    assert pipe.score(X, y, groups=groups) == pytest.approx(meta.score(Xt, y))
    assert abs(meta.score(Xt, y) - meta.score(Xt, y, groups=groups)) > 0.01


def test_score_requests_sample_weight_and_the_fits_stay_unweighted(collection, routing):
    X, y, groups = collection
    weights = np.where(groups < 3, 5.0, 1.0)
    meta = MetaEstimator(Ridge()).set_score_request(sample_weight=True)
    result = cross_validate(meta, X, y, cv=GroupKFold(3),
                            params={"groups": groups, "sample_weight": weights})
    expected = []
    for train, test in GroupKFold(3).split(X, y, groups):
        fitted = MetaEstimator(Ridge()).fit(X[train], y[train], groups=groups[train])
        expected.append(fitted.score(X[test], y[test], groups=groups[test],
                                     sample_weight=weights[test]))
    np.testing.assert_allclose(result["test_score"], expected)
    with pytest.raises(TypeError, match="sample_weight"):
        MetaEstimator(Ridge()).fit(X, y, groups=groups, sample_weight=weights)


def test_without_routing_a_search_that_needs_tasks_fails_loudly(collection):
    X, y, groups = collection
    meta = MetaEstimator(Ridge(), hyperparams=LearnedDefault({"alpha": [0.1, 10.0]}))
    search = GridSearchCV(meta, {"estimator__fit_intercept": [True]}, cv=GroupKFold(3),
                          error_score="raise")
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        search.fit(X, y, groups=groups)


def test_few_shot_scorer_without_groups_explains_routing(collection):
    X, y, groups = collection
    meta = MetaEstimator(Ridge()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="needs the task id of each row"):
        make_few_shot_scorer()(meta, X, y)


def test_few_shot_scorer_on_a_plain_estimator_is_the_scratch_baseline(collection):
    X, y, groups = collection
    scorer = make_few_shot_scorer(shots=5, random_state=0)
    support, query = next(SupportQuerySplit(5, random_state=0).split(X, None, groups))
    expected = []
    for task in range(9):
        s, q = support[groups[support] == task], query[groups[query] == task]
        expected.append(Ridge().fit(X[s], y[s]).score(X[q], y[q]))
    assert scorer(Ridge(), X, y, groups=groups) == pytest.approx(np.mean(expected))


def test_few_shot_scorer_per_class_for_episodes(routing):
    from metasklearn.datasets import load_digits_episodes

    X, y, groups = load_digits_episodes(n_way=3, k_shot=2, n_query=5, n_episodes=4,
                                        random_state=0)
    scorer = make_few_shot_scorer("accuracy", shots=2, per_class=True)
    score = scorer(LogisticRegression(), X, y, groups=groups)
    assert 0.6 < score <= 1.0  # far above the 1/3 of guessing
    # Two support rows per class of each episode, scored on the other five per class.
    support, query = next(SupportQuerySplit(2, per_class=True, random_state=0).split(
        X, y, groups))
    expected = []
    for task in np.unique(groups):
        s, q = support[groups[support] == task], query[groups[query] == task]
        assert np.bincount(y[s]).max() == 2 and len(q) == 15
        expected.append(LogisticRegression().fit(X[s], y[s]).score(X[q], y[q]))
    assert score == pytest.approx(np.mean(expected))


@pytest.mark.parametrize("shots", [0, -1, 2.5, True])
def test_make_few_shot_scorer_rejects_bad_shots(shots):
    with pytest.raises(ValueError, match="shots must be a positive int"):
        make_few_shot_scorer(shots=shots)


@pytest.mark.parametrize("scoring, match", [
    ("r2_scroe", "'r2_scroe' is not a valid scoring value"),
    (["r2"], "scoring must be one metric"),
])
def test_make_few_shot_scorer_rejects_a_bad_scoring_when_made(scoring, match):
    # Regression: the scoring was first looked at when scoring, so a search scored every
    # candidate NaN (one warning per fit) and returned the first as the best.
    with pytest.raises(ValueError, match=match):
        make_few_shot_scorer(scoring, shots=5)


def test_few_shot_scorer_names_per_class_with_a_regressor():
    # Regression: SupportQuerySplit asked to "pass y" (which was passed) when per_class=True
    # met a regressor; adaptation_curve already named the estimator.
    X, y, groups = make_linear_tasks(n_tasks=4, n_samples=20, random_state=0)
    meta = MetaEstimator(Ridge()).fit(X, y, groups=groups)
    scorer = make_few_shot_scorer(shots=3, per_class=True)
    for estimator in (meta, Pipeline([("scale", StandardScaler()), ("meta", meta)]), Ridge()):
        with pytest.raises(ValueError, match="but Ridge is not a classifier"):
            scorer(estimator, X, y, groups=groups)


def test_few_shot_scorer_does_not_stratify_integer_regression_targets():
    from sklearn.linear_model import Ridge
    from metasklearn.model_selection import make_few_shot_scorer
    from metasklearn.tasks import SupportQuerySplit

    rng = np.random.RandomState(0)
    groups = np.repeat([0, 1, 2], 12)
    X = rng.standard_normal((36, 2))
    y = np.round(3 * X[:, 0] + rng.standard_normal(36)).astype(int)  # many integer values
    score = make_few_shot_scorer(shots=4, random_state=0)(Ridge(), X, y, groups=groups)
    support, _ = next(SupportQuerySplit(4, random_state=0).split(X, None, groups))
    expected = []
    for t in range(3):
        s = support[groups[support] == t]
        q = np.setdiff1d(np.flatnonzero(groups == t), s)
        expected.append(Ridge().fit(X[s], y[s]).score(X[q], y[q]))
    assert score == pytest.approx(np.mean(expected), abs=1e-12)


# Building the DIA input of a dense X warns (many diagonals); the scorer itself does not.
@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
def test_few_shot_scorer_takes_sparse_formats_without_row_indexing(collection):
    # Regression: a COO X failed with "'coo_matrix' object is not subscriptable".
    import scipy.sparse as sp

    X, y, groups = collection
    meta = MetaEstimator(Ridge()).fit(X, y, groups=groups)
    scorer = make_few_shot_scorer(shots=5)
    expected = scorer(meta, X, y, groups=groups)
    for fmt in ("coo", "dia", "bsr"):
        X_sparse = sp.csr_matrix(X).asformat(fmt)
        assert scorer(meta, X_sparse, y, groups=groups) == pytest.approx(expected)
