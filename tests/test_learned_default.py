"""LearnedDefault: candidates, the tasks x settings table, selection, and its payoff."""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from metasklearn import MetaEstimator
from metasklearn.datasets import make_checkerboard_tasks, make_linear_tasks
from metasklearn.hyperparams import LearnedDefault, PerformanceMatrix
from metasklearn.hyperparams._matrix import _normalize_per_task


def _fit(strategy, estimator, X, y, groups, random_state=0):
    return strategy.fit(estimator, X, y, groups, random_state=random_state)


def test_scores_table_is_within_task_cross_validation():
    X, y, groups = make_checkerboard_tasks(n_tasks=4, n_samples=30, random_state=0)
    ld = _fit(LearnedDefault({"C": [0.1, 10.0]}), SVC(), X, y, groups)
    assert ld.candidates_ == [{"C": 1.0}, {"C": 0.1}, {"C": 10.0}]
    assert ld.scores_.shape == ld.fit_times_.shape == (4, 3)
    assert (ld.fit_times_ > 0).all()
    rows = groups == 2
    expected = cross_val_score(SVC(C=10.0), X[rows], y[rows], cv=StratifiedKFold(3)).mean()
    assert ld.scores_[2, 2] == pytest.approx(expected)


def test_selection_uses_normalised_scores_not_raw_means():
    # Setting 0 wins the raw mean through one easy task; setting 1 is best on two of three.
    scores = np.array([[0.9, 0.1], [0.50, 0.52], [0.50, 0.52]])
    normalized = _normalize_per_task(scores, np.arange(3))
    np.testing.assert_allclose(normalized, [[1, 0], [0, 1], [0, 1]])
    assert scores.mean(axis=0).argmax() == 0
    assert normalized.mean(axis=0).argmax() == 1
    # ... and LearnedDefault itself selects by them: setting 1, not the raw-mean winner.
    pm = PerformanceMatrix.from_scores(scores, [{"alpha": 1.0}, {"alpha": 2.0}])
    ld = LearnedDefault().fit(Ridge(), pm)
    assert ld.best_index_ == 1 and ld.best_params_ == {"alpha": 2.0}
    np.testing.assert_allclose(ld.cv_results_["mean_normalized_score"], [1 / 3, 2 / 3])
    np.testing.assert_array_equal(ld.cv_results_["rank_normalized_score"], [2, 1])


def test_normalisation_of_ties_and_failures():
    scores = np.array([[0.7, 0.7, np.nan], [0.2, np.nan, 0.6]])
    np.testing.assert_allclose(_normalize_per_task(scores, np.arange(2)), [[1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError,
                       match="Every candidate setting failed or scored NaN on task 'b'") as info:
        _normalize_per_task(np.array([[0.1], [np.nan]]), np.array(["a", "b"]))
    # the way out names both paths: the matrix's drop_tasks, and the rows for MetaEstimator
    assert "drop_tasks(['b']) on a fitted matrix, or drop its rows" in str(info.value)


def test_a_task_every_setting_fails_on_is_named_with_the_reason_in_a_warning():
    # NaN rows reach LearnedDefault directly (MetaEstimator would refuse them first): the
    # error names the task and where the reason is, and the warning carries the reason.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 2)), np.tile([0, 1], 30)
    X[3, 0] = np.nan
    groups = np.repeat(["a", "b", "c"], 20)
    with pytest.warns(FitFailedWarning, match="task 'a'.*Input X contains NaN"), \
            pytest.raises(ValueError, match=r"failed or scored NaN on task 'a'\. The warnings "
                                            r"raised .* FitFailedWarning for a failed fit "
                                            r"\(error_score='raise'"):
        LearnedDefault({"C": [1, 10]}).fit(SVC(), X, y, groups)


def test_median_aggregate_differs_from_mean():
    ld = LearnedDefault({"alpha": [0.01, 30.0, 1000.0]}, aggregate="median")
    X, y, groups = make_linear_tasks(n_tasks=5, n_samples=12, random_state=0)
    _fit(ld, Ridge(), X, y, groups)
    normalized = _normalize_per_task(ld.scores_, ld.tasks_)
    assert not np.allclose(np.median(normalized, axis=0), normalized.mean(axis=0))
    # Regression: the median was stored under mean_normalized_score.
    np.testing.assert_allclose(ld.cv_results_["median_normalized_score"],
                               np.median(normalized, axis=0))
    np.testing.assert_allclose(ld.cv_results_["mean_normalized_score"],
                               normalized.mean(axis=0))
    assert ld.best_index_ == int(np.argmax(np.median(normalized, axis=0)))


def test_estimator_defaults_come_first_once_and_win_ties():
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    # Ridge's alpha=1.0 equals the grid's int 1: one candidate, listed first.
    ld = _fit(LearnedDefault({"alpha": [10, 1], "fit_intercept": [True]}), Ridge(), X, y, groups)
    assert ld.candidates_ == [{"alpha": 1.0, "fit_intercept": True},
                              {"alpha": 10, "fit_intercept": True}]
    # Identical settings tie on every task; the default is kept.
    tie = _fit(LearnedDefault({"copy_X": [True, False]}), Ridge(copy_X=False), X, y, groups)
    np.testing.assert_array_equal(tie.scores_[:, 0], tie.scores_[:, 1])
    assert tie.best_params_ == {"copy_X": False}


def test_param_distributions_are_seeded():
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    dists = {"alpha": loguniform(1e-3, 1e3)}
    a = _fit(LearnedDefault(param_distributions=dists, n_iter=4), Ridge(), X, y, groups, 1)
    b = _fit(LearnedDefault(param_distributions=dists, n_iter=4), Ridge(), X, y, groups, 1)
    c = _fit(LearnedDefault(param_distributions=dists, n_iter=4), Ridge(), X, y, groups, 2)
    assert len(a.candidates_) == 5 and a.candidates_[0] == {"alpha": 1.0}
    assert a.candidates_ == b.candidates_
    assert a.candidates_ != c.candidates_


def test_a_random_state_instance_draws_the_settings_once():
    # Regression: the strategy's up-front check drew settings from a RandomState instance
    # before the matrix drew its own, so the settings checked were not the ones scored and
    # differed from a PerformanceMatrix given the same state.
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    dists = {"alpha": loguniform(1e-3, 1e3)}
    strategy = LearnedDefault(param_distributions=dists, n_iter=4).fit(
        Ridge(), X, y, groups, random_state=np.random.RandomState(0))
    matrix = PerformanceMatrix(Ridge(), param_distributions=dists, n_iter=4,
                               random_state=np.random.RandomState(0)).fit(X, y, groups)
    assert strategy.candidates_ == matrix.candidates_


def test_results_table_turns_into_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    ld = _fit(LearnedDefault({"alpha": [0.01, 100.0]}), Ridge(), X, y, groups)
    table = pd.DataFrame(ld.cv_results_)
    assert table.shape[0] == 3
    np.testing.assert_allclose(table["task_1_score"], ld.scores_[1])
    assert table.loc[table["rank_normalized_score"] == 1, "params"].item() == ld.best_params_
    assert ld.best_params_ == ld.candidates_[ld.best_index_]


def test_a_failing_setting_scores_worst_and_warns():
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    ld = LearnedDefault({"alpha": [0.5, -1.0]})  # Ridge rejects a negative alpha
    with pytest.warns(FitFailedWarning):
        _fit(ld, Ridge(), X, y, groups)
    assert np.isnan(ld.scores_[:, 2]).all()
    assert ld.cv_results_["mean_normalized_score"][2] == 0.0
    with pytest.raises(ValueError, match="alpha"):
        _fit(LearnedDefault({"alpha": [-1.0]}, error_score="raise"), Ridge(), X, y, groups)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one of param_grid"),
        ({"param_grid": {"alpha": [1]}, "param_distributions": {"alpha": [1]}},
         "exactly one of param_grid"),
        ({"param_grid": {"alpah": [1.0]}}, "'alpah', which Ridge does not have. Did you mean "
                                           "'alpha'"),
        ({"param_grid": {"alpha": [1.0]}, "aggregate": "max"}, "'aggregate' parameter"),
    ],
)
def test_invalid_configuration(kwargs, message):
    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    with pytest.raises(ValueError, match=message):
        _fit(LearnedDefault(**kwargs), Ridge(), X, y, groups)


def test_learned_default_beats_the_default_on_held_out_tasks():
    """SVC()'s C=1, gamma='scale' underfit checkerboards; a learned default does not.

    Held-out tasks are generated with another seed: no row of them is seen in fit.
    """
    X, y, groups = make_checkerboard_tasks(n_tasks=12, n_samples=60, random_state=0)
    grid = {"C": [1.0, 100.0], "gamma": [1.0, 10.0]}
    meta = MetaEstimator(SVC(), hyperparams=LearnedDefault(grid), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may fail silently
        meta.fit(X, y, groups=groups)
    assert meta.best_params_ == {"C": 100.0, "gamma": 10.0}

    X_new, y_new, groups_new = make_checkerboard_tasks(n_tasks=20, n_samples=160, random_state=1)
    learned, default = [], []
    for task in range(20):
        rows = np.flatnonzero(groups_new == task)
        support, query = rows[:60], rows[60:]
        learned.append(meta.adapt(X_new[support], y_new[support]).score(X_new[query], y_new[query]))
        default.append(SVC().fit(X_new[support], y_new[support]).score(X_new[query], y_new[query]))
    # Measured: learned 0.87, default 0.77 (mean query accuracy over 20 held-out tasks).
    assert np.mean(learned) > np.mean(default) + 0.05
    assert np.mean(np.array(learned) >= np.array(default)) >= 0.75


def test_rank_normalisation_variant():
    # Setting 1 wins one task by far, setting 2 two tasks narrowly: min-max and rank agree
    # on 2 here, but only rank ignores the margin of setting 1's win.
    from metasklearn.hyperparams import PerformanceMatrix

    scores = np.array([[0.5, 1.0, 0.4], [0.5, 0.0, 0.6], [0.5, 0.45, 0.55], [0.5, 0.49, 0.51]])
    pm = PerformanceMatrix.from_scores(scores, [{"alpha": a} for a in (1.0, 2.0, 3.0)])
    minmax = LearnedDefault().fit(Ridge(), pm)
    rank = LearnedDefault(normalize="rank").fit(Ridge(), pm)
    np.testing.assert_allclose(minmax.cv_results_["mean_normalized_score"],
                               [(1 / 6 + 5 / 6 + 0.5 + 0.5) / 4, (1 + 0 + 0 + 0) / 4,
                                (0 + 1 + 1 + 1) / 4])
    np.testing.assert_allclose(rank.cv_results_["mean_normalized_score"],
                               [(0.5 + 0.5 + 0.5 + 0.5) / 4, (1 + 0 + 0 + 0) / 4, 0.75])
    assert minmax.best_params_ == rank.best_params_ == {"alpha": 3.0}


def test_list_of_datasets_with_different_feature_counts():
    rng = np.random.RandomState(0)
    datasets = []
    for n_features in (2, 5, 9):
        X = rng.normal(size=(40, n_features))
        datasets.append((X, X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=40)))
    ld = LearnedDefault({"alpha": [1e-3, 1e3]}).fit(Ridge(), datasets)
    assert ld.tasks_.tolist() == [0, 1, 2]
    assert ld.best_params_ == {"alpha": 1e-3}  # nearly noiseless linear targets
    learner = ld.adapt(Ridge(), datasets[1][0], datasets[1][1])
    assert learner.alpha == 1e-3 and learner.coef_.shape == (5,)


def test_adapt_never_fits_nor_shares_the_users_step_objects():
    # Regression: settings were handed out as the objects themselves, so adapt fitted the
    # user's own step (kept as the default) and two learners shared one fitted step.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.utils.validation import check_is_fitted

    X, y, groups = make_checkerboard_tasks(n_tasks=4, n_samples=30, random_state=0)
    users_step, grid_step = LogisticRegression(), DecisionTreeClassifier(max_depth=1)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", users_step)])
    ld = _fit(LearnedDefault({"clf": [grid_step]}), pipe, X, y, groups)
    first = ld.adapt(pipe, X[:30], y[:30])
    second = ld.adapt(pipe, X[30:60], 1 - y[30:60])
    assert first.named_steps["clf"] is not second.named_steps["clf"]
    np.testing.assert_array_equal(first.predict(X[:30]),
                                  first.named_steps["clf"].predict(first[:-1].transform(X[:30])))
    for obj in (users_step, grid_step):
        with pytest.raises(NotFittedError, match="not fitted"):
            check_is_fitted(obj)
    meta = MetaEstimator(pipe, hyperparams=LearnedDefault({"clf": [grid_step]})).fit(
        X, y, groups=groups)
    steps = [learner.named_steps["clf"] for learner in meta.learners_.values()]
    assert len({id(step) for step in steps}) == len(steps)
    for obj in (users_step, grid_step):
        with pytest.raises(NotFittedError, match="not fitted"):
            check_is_fitted(obj)


def test_an_int_setting_is_kept_beside_an_equal_float_default_when_it_means_otherwise():
    # Regression: max_features=1 (one feature) was dropped as a repeat of the default 1.0
    # (all features). For alpha, 1 is 1.0 (the test above): one candidate.
    from sklearn.ensemble import RandomForestRegressor

    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=12, random_state=0)
    ld = _fit(LearnedDefault({"max_features": [1, "sqrt"]}),
              RandomForestRegressor(n_estimators=5), X, y, groups)
    assert ld.candidates_ == [{"max_features": 1.0}, {"max_features": 1},
                              {"max_features": "sqrt"}]
    assert [type(c["max_features"]) for c in ld.candidates_] == [float, int, str]


def test_leave_one_out_cross_validation_within_tasks():
    # Regression: LeaveOneOut.get_n_splits needs X; it raised TypeError.
    from sklearn.model_selection import LeaveOneOut

    X, y, groups = make_linear_tasks(n_tasks=3, n_samples=8, random_state=0)
    ld = _fit(LearnedDefault({"alpha": [0.1, 10.0]}, cv=LeaveOneOut(),
                             scoring="neg_mean_squared_error"), Ridge(), X, y, groups)
    rows = groups == groups[0]
    expected = cross_val_score(Ridge(alpha=10.0), X[rows], y[rows], cv=LeaveOneOut(),
                               scoring="neg_mean_squared_error").mean()
    assert ld.scores_[0, 2] == pytest.approx(expected)


def test_a_list_of_grids_may_swap_a_pipeline_step():
    # Regression: clf__gamma was refused because the pipeline's own clf (a
    # LogisticRegression) has no gamma; GridSearchCV accepts this grid.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, groups = make_checkerboard_tasks(n_tasks=3, n_samples=30, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    grid = [{"clf": [LogisticRegression()], "clf__C": [0.1]},
            {"clf": [SVC()], "clf__gamma": [0.1, 1.0]}]
    ld = _fit(LearnedDefault(grid), pipe, X, y, groups)
    assert [sorted(c) for c in ld.candidates_] == [["clf", "clf__C"], ["clf", "clf__C"],
                                                   ["clf", "clf__gamma"], ["clf", "clf__gamma"]]
    assert ld.candidates_[0]["clf"] is pipe.named_steps["clf"]
    assert np.isfinite(ld.scores_).all()
    learner = ld.adapt(pipe, X[:30], y[:30])
    assert type(learner.named_steps["clf"]) is type(ld.best_params_["clf"])
    misspelt = [{"clf": [SVC()], "clf__gama": [0.1]}]
    with pytest.raises(ValueError, match="'clf__gama', which Pipeline does not have. Did you "
                                         "mean 'clf__gamma'"):
        _fit(LearnedDefault(misspelt), pipe, X, y, groups)


def test_median_aggregate_ranks_by_the_median():
    # Setting 0: best on two of three tasks (median 1, mean 2/3); setting 1: 0.9 everywhere
    # (median 0.9, mean 0.9). The median picks 0 and ranks it first.
    scores = np.array([[1.0, 0.9, 0.0], [1.0, 0.9, 0.0], [0.0, 0.9, 1.0]])
    pm = PerformanceMatrix.from_scores(scores, [{"alpha": a} for a in (1.0, 2.0, 3.0)])
    ld = LearnedDefault(aggregate="median").fit(Ridge(), pm)
    assert ld.best_params_ == {"alpha": 1.0}
    np.testing.assert_array_equal(ld.cv_results_["rank_normalized_score"], [1, 2, 3])
    mean = LearnedDefault().fit(Ridge(), pm)
    assert mean.best_params_ == {"alpha": 2.0}
    np.testing.assert_array_equal(mean.cv_results_["rank_normalized_score"], [2, 1, 3])


def test_the_inherited_select_hands_out_a_copy_of_best_params():
    # BaseHyperparams.select, the default of a user's strategy: changing what it returned
    # must not change the setting the strategy learned.
    from metasklearn.hyperparams import BaseHyperparams

    class Fixed(BaseHyperparams):
        def fit(self, estimator, X, y, groups, **kwargs):
            self.best_params_ = {"alpha": 2.0}
            return self

    fixed = Fixed().fit(Ridge(), None, None, None)
    fixed.select(Ridge(), None, None)["alpha"] = -1.0
    assert fixed.best_params_ == {"alpha": 2.0}


def test_a_tuple_of_datasets_keeps_scaled_settings_unresolved_as_a_list_does():
    # There are no pooled rows to resolve Scaled on: each new dataset resolves it at adapt.
    from metasklearn.hyperparams import Scaled

    X, y, groups = make_checkerboard_tasks(n_tasks=3, n_samples=40, random_state=0)
    datasets = [(X[groups == g] * (g + 1), y[groups == g]) for g in range(3)]
    grid = {"gamma": [Scaled(1.0)]}
    as_list = LearnedDefault(grid).fit(SVC(gamma=1e-4), datasets)
    as_tuple = LearnedDefault(grid).fit(SVC(gamma=1e-4), tuple(datasets))
    assert as_tuple.best_params_ == as_list.best_params_ == {"gamma": Scaled(1.0)}
