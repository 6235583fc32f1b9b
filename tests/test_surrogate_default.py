"""SurrogateDefault: a default predicted per dataset from its meta-features."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError

from metasklearn import MetaEstimator
from metasklearn.datasets import make_logistic_tasks
from metasklearn.hyperparams import (LearnedDefault, NearestTasks, PerformanceMatrix, Scaled,
                                     SurrogateDefault)
from metasklearn.metafeatures import METAFEATURE_NAMES, compute_metafeatures

# The tree, its depths and the datasets of NearestTasks' tests (tests/ is on sys.path).
from test_nearest_tasks import CANDIDATES, TREE, _dataset

# Small 2-class tasks did best with depth 1, large 5-class tasks with depth 8; depth 1 is
# better on average, so a single learned default gives depth 1 to every dataset.
# (Six large tasks: the default surrogate's leaves hold at least 5 (task, setting) cells.)
SMALL = [_dataset(60 + 5 * i, 2 + i % 2, 2, i) for i in range(7)]
LARGE = [_dataset(500 + 20 * i, 25 + i, 5, 10 + i) for i in range(6)]


def _matrix():
    datasets = SMALL + LARGE
    features = np.array([list(compute_metafeatures(X, y).values()) for X, y in datasets])
    scores = np.full((len(datasets), len(CANDIDATES)), 0.5)
    scores[: len(SMALL), 1] = 0.9
    scores[len(SMALL):, 3] = 0.9
    return PerformanceMatrix.from_scores(scores, CANDIDATES, meta_features=features,
                                         meta_feature_names=list(METAFEATURE_NAMES))


def _encoded(candidates, estimator):
    """SurrogateDefault fitted on three small tasks that score ``candidates`` 0.8, 0.7, 0.6."""
    datasets = SMALL[:3]
    features = np.array([list(compute_metafeatures(X, y).values()) for X, y in datasets])
    pm = PerformanceMatrix.from_scores(np.array([[0.8, 0.7, 0.6]] * 3), candidates,
                                       meta_features=features)
    return SurrogateDefault().fit(estimator, pm, random_state=0)


def test_the_predicted_default_follows_the_dataset_where_one_default_cannot():
    pm = _matrix()
    sd = SurrogateDefault().fit(TREE, pm, random_state=0)
    X_small, y_small = _dataset(65, 2, 2, 99)
    X_large, y_large = _dataset(550, 28, 5, 99)
    assert sd.select(TREE, X_small, y_small) == {"max_depth": 1}
    assert sd.select(TREE, X_large, y_large) == {"max_depth": 8}
    # A single default cannot: it is depth 1, for the large dataset too.
    assert LearnedDefault().fit(TREE, pm).select(TREE, X_large, y_large) == {"max_depth": 1}
    assert sd.best_params_ == {"max_depth": 1}  # for init strategies: the mean-best setting
    predicted = sd.predict_scores(X_large, y_large)
    assert predicted.shape == (4,) and np.argmax(predicted) == 3
    assert predicted[3] > predicted[1] + 0.2


def test_settings_enter_as_log10_numbers_factors_and_one_hot_categories():
    candidates = [
        {"C": 1.0, "gamma": "scale", "shrinking": True},
        {"C": 100.0, "gamma": Scaled(0.1), "shrinking": False},
        {"C": 0.01, "gamma": Scaled(10.0), "shrinking": True},
    ]
    sd = _encoded(candidates, SVC())
    names = sd.setting_feature_names_.tolist()
    assert names == ["C", "gamma", "gamma=scale", "shrinking=False", "shrinking=True"]
    np.testing.assert_allclose(sd.setting_features_, [
        [0.0, 0.0, 1.0, 0.0, 1.0],
        [2.0, -1.0, 0.0, 1.0, 0.0],
        [-2.0, 1.0, 0.0, 0.0, 1.0],
    ])


def test_a_parameter_with_zero_or_negative_values_is_not_put_on_a_log_scale():
    candidates = [{"l1_ratio": 0.0}, {"l1_ratio": 0.5}, {"l1_ratio": 2.0}]
    sd = _encoded(candidates, LogisticRegression())
    np.testing.assert_allclose(sd.setting_features_.ravel(), [0.0, 0.5, 2.0])


def test_a_parameter_a_candidate_does_not_set_is_told_apart_from_any_value():
    # A list of grids: the linear kernel's candidates set no gamma. Encoded as a bare 0 it
    # would read as log10(gamma) = 0, i.e. gamma=1, which the rbf candidates do set.
    candidates = [{"kernel": "linear", "C": 1.0},
                  {"kernel": "rbf", "C": 1.0, "gamma": 1.0},
                  {"kernel": "rbf", "C": 1.0, "gamma": 0.01}]
    sd = _encoded(candidates, SVC())
    names = sd.setting_feature_names_.tolist()
    assert names == ["C", "gamma", "gamma=<not set>", "kernel=linear", "kernel=rbf"]
    np.testing.assert_allclose(sd.setting_features_, [
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
        [0.0, -2.0, 0.0, 0.0, 1.0],
    ])
    # Leaving the kernel's columns out, the linear candidate and the rbf one at gamma=1 still
    # differ (a surrogate may split on gamma before it splits on the kernel).
    assert len({tuple(row) for row in sd.setting_features_[:, :3]}) == 3


def test_design_scales_meta_features_by_the_training_tasks_and_drops_undefined_ones():
    pm = _matrix()
    features = pm.meta_features_.copy()
    features[0, 2] = np.nan  # a meta-feature undefined on one training task
    pm = PerformanceMatrix.from_scores(pm.scores_, pm.candidates_, meta_features=features)
    sd = SurrogateDefault().fit(TREE, pm, random_state=0)
    assert not sd.metafeatures_used_[2] and sd.metafeatures_used_.sum() == features.shape[1] - 1
    low, high = np.nanmin(features, axis=0), np.nanmax(features, axis=0)
    new = (low + high) / 2
    new[0] = high[0] + (high[0] - low[0])  # outside the training range: not clipped
    new[1] = np.nan  # unknown on the new task: mid-range
    design = sd.design(new)
    used = sd.metafeatures_used_
    n_used = used.sum()
    assert design.shape == (4, n_used + sd.setting_features_.shape[1])
    np.testing.assert_array_equal(design[:, n_used:], sd.setting_features_)
    expected = np.where(high > low, 0.5, 0.0)[used]
    expected[0] = 2.0
    expected[1] = 0.5
    np.testing.assert_allclose(design[:, :n_used], np.tile(expected, (4, 1)))


def test_the_surrogate_learns_the_normalised_scores():
    pm = _matrix()
    # A linear surrogate on (meta-features, setting) is fitted to every (task, setting) cell.
    sd = SurrogateDefault(regressor=LinearRegression(), normalize="rank").fit(TREE, pm)
    rows = np.vstack([sd.design(f) for f in pm.meta_features_])  # task by task
    np.testing.assert_array_equal(sd.design(pm.meta_features_), rows)  # all tasks at once
    reference = LinearRegression().fit(rows, pm.normalized("rank").ravel())
    np.testing.assert_allclose(sd.regressor_.coef_, reference.coef_)


def test_given_regressor_is_cloned_not_fitted():
    regressor = KNeighborsRegressor(n_neighbors=3)
    sd = SurrogateDefault(regressor=regressor).fit(TREE, _matrix())
    assert not hasattr(regressor, "n_features_in_")
    assert sd.regressor_ is not regressor and hasattr(sd.regressor_, "n_features_in_")


def test_random_state_seeds_the_default_surrogate():
    pm = _matrix()
    fits = [SurrogateDefault().fit(TREE, pm, random_state=seed) for seed in (0, 0, 1)]
    X_new, y_new = _dataset(300, 10, 3, 99)
    predictions = [sd.predict_scores(X_new, y_new) for sd in fits]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert not np.array_equal(predictions[0], predictions[2])


def test_random_state_seeds_a_given_surrogate_left_unseeded():
    # Regression: a user's RandomForestRegressor() gave other predictions on every fit.
    from sklearn.ensemble import RandomForestRegressor

    pm = _matrix()
    regressor = RandomForestRegressor(n_estimators=5)
    fits = [SurrogateDefault(regressor=regressor).fit(TREE, pm, random_state=seed)
            for seed in (0, 0, 1)]
    X_new, y_new = _dataset(300, 10, 3, 99)
    predictions = [sd.predict_scores(X_new, y_new) for sd in fits]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert not np.array_equal(predictions[0], predictions[2])
    assert regressor.random_state is None
    seeded = SurrogateDefault(regressor=RandomForestRegressor(n_estimators=5, random_state=7))
    assert seeded.fit(TREE, pm, random_state=0).regressor_.random_state == 7


def test_draws_the_same_candidates_as_the_other_strategies_for_a_seed():
    from scipy.stats import loguniform

    datasets = [make_logistic_tasks(n_tasks=1, n_samples=40 + 10 * i, random_state=i)[:2]
                for i in range(3)]
    space = {"C": loguniform(1e-2, 1e2)}
    kwargs = dict(param_distributions=space, n_iter=4, cv=2)
    sd = SurrogateDefault(**kwargs).fit(LogisticRegression(), datasets, random_state=3)
    ld = LearnedDefault(**kwargs).fit(LogisticRegression(), datasets, random_state=3)
    assert sd.candidates_ == ld.candidates_ and len(sd.candidates_) == 5


def test_works_inside_meta_estimator_and_adapt_uses_the_predicted_setting():
    X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=40, random_state=0)
    meta = MetaEstimator(LogisticRegression(), hyperparams=SurrogateDefault(
        {"C": [0.01, 1.0]}, cv=2), random_state=0).fit(X, y, groups=groups)
    X_new, y_new, _ = make_logistic_tasks(n_tasks=1, n_samples=40, random_state=1)
    learner = meta.adapt(X_new, y_new)
    strategy = meta.hyperparams_
    chosen = strategy.select(LogisticRegression(), X_new, y_new)
    # The predicted best, not the first or the mean-best candidate.
    assert chosen == strategy.candidates_[int(np.argmax(strategy.predict_scores(X_new, y_new)))]
    assert isinstance(learner, LogisticRegression) and learner.C == chosen["C"]
    alone = LogisticRegression(C=chosen["C"], random_state=learner.random_state).fit(X_new, y_new)
    np.testing.assert_allclose(learner.coef_, alone.coef_)
    # Above, the predicted best is also the first and the mean-best candidate (C=1): a task
    # whose predicted best is neither tells adapt's setting from best_params_. A 1-nearest-
    # neighbour surrogate predicts a training task's own normalised scores, and task 5
    # scores C=0.01 above C=1.
    knn = MetaEstimator(LogisticRegression(), hyperparams=SurrogateDefault(
        {"C": [0.01, 1.0]}, cv=2, regressor=KNeighborsRegressor(n_neighbors=1)),
        random_state=0).fit(X, y, groups=groups)
    rows = groups == 5
    assert knn.best_params_ == {"C": 1.0} and knn.hyperparams_.candidates_[0] == {"C": 1.0}
    assert knn.hyperparams_.scores_[5, 1] > knn.hyperparams_.scores_[5, 0]
    assert knn.adapt(X[rows], y[rows]).C == 0.01
    assert knn.learners_[5].C == 0.01


def test_scaled_settings_are_resolved_on_the_new_dataset():
    candidates = [{"gamma": "scale"}, {"gamma": Scaled(4.0)}]
    datasets = SMALL[:3]
    features = np.array([list(compute_metafeatures(X, y).values()) for X, y in datasets])
    pm = PerformanceMatrix.from_scores(np.array([[0.5, 0.9]] * 3), candidates,
                                       meta_features=features)
    sd = SurrogateDefault(regressor=KNeighborsRegressor(1)).fit(SVC(), pm)
    X_new, y_new = _dataset(80, 3, 2, 5)
    assert sd.select(SVC(), X_new, y_new) == {"gamma": Scaled(4.0).resolve(X_new)}


def test_bad_input_names_the_problem():
    pm = _matrix()
    with pytest.raises(ValueError, match="regressor must be a regressor.*DecisionTreeClassifier"):
        SurrogateDefault(regressor=DecisionTreeClassifier()).fit(TREE, pm)
    bare = PerformanceMatrix.from_scores(pm.scores_, pm.candidates_)
    with pytest.raises(ValueError, match="SurrogateDefault needs the meta-features"):
        SurrogateDefault().fit(TREE, bare)
    with pytest.raises(InvalidParameterError,
                       match="The 'regressor' parameter of SurrogateDefault must be an "
                             "object implementing 'fit' and 'predict'"):
        SurrogateDefault(regressor="trees").fit(TREE, pm)
    # Regression: other meta-features than compute_metafeatures' were taken as theirs.
    other = PerformanceMatrix.from_scores(pm.scores_, pm.candidates_,
                                          meta_features=pm.meta_features_[:, :3],
                                          meta_feature_names=["a", "b", "c"])
    for strategy in (SurrogateDefault(), NearestTasks()):
        with pytest.raises(ValueError, match=r"compares the matrix's meta-features with what "
                                             r"metasklearn.metafeatures.compute_metafeatures "
                                             r"gives a new task \(10: log_n_samples.*the "
                                             r"matrix has \['a', 'b', 'c'\]"):
            strategy.fit(TREE, other)
    fitted = SurrogateDefault().fit(TREE, pm, random_state=0)
    with pytest.raises(ValueError, match="fitted on 10 meta-features per task and got 3"):
        fitted.design([0.1, 0.2, 0.3])
    sd = SurrogateDefault()
    with pytest.raises(NotFittedError, match="This SurrogateDefault instance is not fitted"):
        sd.predict_scores(*SMALL[0])
    assert clone(sd).get_params() == sd.get_params()


def test_the_default_surrogate_is_documented_extra_trees():
    from sklearn.ensemble import ExtraTreesRegressor

    sd = SurrogateDefault().fit(TREE, _matrix(), random_state=0)
    assert type(sd.regressor_) is ExtraTreesRegressor
    params = sd.regressor_.get_params()
    assert (params["n_estimators"], params["min_samples_leaf"]) == (200, 5)
    expected = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    assert params["random_state"] == expected
