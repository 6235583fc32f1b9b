"""Portfolio: greedy construction on hand-made matrices, selection at adapt by GridSearchCV."""

import numpy as np
import pytest
from sklearn.exceptions import FitFailedWarning, UndefinedMetricWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from metasklearn import MetaEstimator
from metasklearn.datasets import make_checkerboard_tasks
from metasklearn.hyperparams import PerformanceMatrix, Portfolio, greedy_portfolio

# Four tasks, five settings. Setting 0 is a fair generalist (best mean alone); 1 and 2 are
# specialists for tasks {0, 1} and {2, 3}; 3 is never useful; 4 duplicates 1.
HAND = np.array([
    [0.7, 1.0, 0.0, 0.0, 1.0],
    [0.7, 1.0, 0.0, 0.0, 1.0],
    [0.7, 0.0, 1.0, 0.0, 0.0],
    [0.7, 0.0, 1.0, 0.0, 0.0],
])


def test_greedy_picks_the_generalist_then_the_complementary_specialists():
    chosen, regret = greedy_portfolio(HAND, 3)
    # Step 1: the best single setting (regret 0.3). Step 2: either specialist lowers the mean
    # regret to 0.15; they tie and the higher mean normalised score (equal) then the earlier
    # index decides: 1. Step 3: only 2 helps (not its duplicate 4).
    assert chosen == [0, 1, 2]
    np.testing.assert_allclose(regret, [0.3, 0.15, 0.0])


def test_greedy_fills_up_by_mean_score_once_regret_is_zero():
    chosen, regret = greedy_portfolio(HAND, 5)
    assert chosen == [0, 1, 2, 4, 3]  # 4 (mean 0.5) before 3 (mean 0)
    np.testing.assert_allclose(regret[2:], 0.0)


def test_time_aware_greedy_prefers_cheap_settings():
    times = np.ones_like(HAND)
    times[:, 0] = 100.0  # the generalist is slow
    chosen, regret = greedy_portfolio(HAND, 2, fit_times=times)
    # Alone, a specialist halves the regret per second of the generalist's 0.7 / 100.
    assert chosen == [1, 2]
    np.testing.assert_allclose(regret, [0.5, 0.0])


def test_greedy_rejects_impossible_sizes_and_untimed_matrices():
    with pytest.raises(ValueError, match="size 6 cannot be taken from 5"):
        greedy_portfolio(HAND, 6)
    times = np.full(HAND.shape, np.nan)
    with pytest.raises(ValueError, match="time_aware needs the fit time"):
        greedy_portfolio(HAND, 2, fit_times=times)


def test_portfolio_on_a_user_matrix():
    candidates = [{"C": c} for c in (1.0, 10.0, 0.1, 0.5, 10.0001)]
    pm = PerformanceMatrix.from_scores(HAND * 0.5 + 0.4, candidates)
    portfolio = Portfolio(size=3).fit(SVC(), pm)
    assert portfolio.portfolio_ == [{"C": 1.0}, {"C": 10.0}, {"C": 0.1}]
    assert portfolio.best_params_ == {"C": 1.0}
    np.testing.assert_allclose(portfolio.regret_curve_, [0.3, 0.15, 0.0])
    with pytest.raises(ValueError, match="size 9 cannot be taken from 5"):
        Portfolio(size=9).fit(SVC(), pm)


@pytest.fixture(scope="module")
def fitted():
    X, y, groups = make_checkerboard_tasks(n_tasks=6, n_samples=45, random_state=0)
    grid = {"C": [1.0, 100.0], "gamma": [0.1, 10.0]}
    meta = MetaEstimator(SVC(), hyperparams=Portfolio(grid, size=3), random_state=0)
    return meta.fit(X, y, groups=groups)


def test_selection_at_adapt_is_grid_search_over_the_members(fitted):
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=60, random_state=5)
    portfolio = fitted.hyperparams_
    members = portfolio.portfolio_
    grids = [{name: [value] for name, value in params.items()} for params in members]
    search = GridSearchCV(fitted.estimator_, grids, cv=StratifiedKFold(3)).fit(X_new, y_new)
    learner = fitted.adapt(X_new, y_new)
    assert type(learner) is SVC
    chosen = {name: learner.get_params()[name] for name in members[0]}
    assert chosen == search.best_params_
    compared = portfolio.compare(fitted.estimator_, X_new, y_new)
    np.testing.assert_allclose(compared.cv_results_["mean_test_score"],
                               search.cv_results_["mean_test_score"])
    # adapt leaves the strategy as it was: no per-task state is kept.
    assert not hasattr(portfolio, "cv_results_")


def test_halving_search_races_the_members(fitted):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=90, random_state=6)
    halving = Portfolio(size=3, search="halving").fit(SVC(), fitted.hyperparams_.matrix_)
    results = halving.compare(SVC(), X_new, y_new).cv_results_
    assert "iter" in results and np.max(results["iter"]) >= 1  # a race, not one grid round
    grids = [{name: [value] for name, value in params.items()}
             for params in halving.portfolio_]
    race = HalvingGridSearchCV(SVC(), grids, cv=StratifiedKFold(3), random_state=0,
                               refit=False).fit(X_new, y_new)
    np.testing.assert_allclose(results["mean_test_score"], race.cv_results_["mean_test_score"])
    last = race.cv_results_["iter"] == np.max(race.cv_results_["iter"])
    scores = np.where(last, race.cv_results_["mean_test_score"], -np.inf)
    winners = [race.cv_results_["params"][i] for i in np.flatnonzero(scores == scores.max())]
    first = min(halving.portfolio_.index(w) for w in winners)
    assert halving.select(SVC(), X_new, y_new) == halving.portfolio_[first]


def test_too_small_a_new_task_names_the_fix(fitted):
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=40, random_state=5)
    with pytest.raises(ValueError, match="has 2 rows.*select_cv"):
        fitted.hyperparams_.select(SVC(), X_new[:2], np.array([0, 1]))


@pytest.mark.filterwarnings("ignore:Scoring failed", "ignore:One or more of the test scores")
def test_a_new_task_every_member_fails_on_says_where_the_reason_is(fitted):
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=40, random_state=5)
    X_new = X_new.copy()
    X_new[0, 0] = np.nan  # the strategy's own select does not validate: SVC refuses it
    with pytest.warns(FitFailedWarning, match="Input X contains NaN"), \
            pytest.raises(ValueError, match="Every setting of Portfolio failed or scored NaN on "
                                            "the new task of 40 rows in 3 folds. A failed fit "
                                            "raises a FitFailedWarning that says why"):
        fitted.hyperparams_.select(SVC(), X_new, y_new)


def test_a_new_task_without_a_class_big_enough_for_stratified_folds_names_the_fix(fitted):
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=40, random_state=5)
    rows = np.r_[np.flatnonzero(y_new == 0)[:2], np.flatnonzero(y_new == 1)[:2]]
    with pytest.raises(ValueError, match="stratified 3-fold cross-validation, but no class of "
                                         r"the task has 3 rows \(the largest has 2\).*"
                                         "hyperparams__select_cv=2"):
        fitted.hyperparams_.select(SVC(), X_new[rows], y_new[rows])
    # Called on the strategy itself, the parameter is select_cv (regression: only the
    # MetaEstimator spelling was given).
    with pytest.raises(ValueError, match=r"smaller select_cv \(for example select_cv=2, or "
                                         r"hyperparams__select_cv=2 through MetaEstimator\)"):
        fitted.hyperparams_.select(SVC(), X_new[rows], y_new[rows])
    with pytest.raises(ValueError, match=r"the task has 2 rows. Give more rows or a smaller "
                                         r"select_cv \(for example select_cv=2, or "
                                         r"hyperparams__select_cv=2 through MetaEstimator\)"):
        fitted.hyperparams_.select(SVC(), X_new[rows[1:3]], y_new[rows[1:3]])


@pytest.mark.filterwarnings("ignore:R\\^2 score is not well-defined",
                            "ignore:One or more of the test scores")
def test_a_new_task_too_small_for_its_score_says_so():
    # Regression: R² on one-row test folds is NaN although no fit failed, and the error
    # pointed at FitFailedWarnings that did not exist.
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    X, y, groups = rng.normal(size=(60, 2)), rng.normal(size=60), np.repeat([0, 1, 2], 20)
    meta = MetaEstimator(Ridge(), hyperparams=Portfolio({"alpha": [0.1, 10.0]}, size=2),
                         random_state=0).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match=r"new task of 5 rows in 3 folds.*test folds of 1 row "
                                         r"\(R² needs at least 2\).*hyperparams__select_cv=2"):
        meta.adapt(X[:5], y[:5])
    # Six rows give folds of two: the members are compared, the best one is fitted.
    search = meta.hyperparams_.compare(Ridge(), X[:6], y[:6])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.cv_results_["params"][int(np.argmax(search.cv_results_["mean_test_score"]))]
    assert meta.adapt(X[:6], y[:6]).alpha == best["alpha"]


def test_a_score_that_is_nan_on_large_folds_is_not_blamed_on_their_size():
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    X, y, groups = rng.normal(size=(60, 2)), rng.normal(size=60), np.repeat([0, 1], 30)
    with pytest.warns(UndefinedMetricWarning, match="returned NaN or infinity on test folds "
                                                    "of 10 rows; check that the scoring"):
        matrix = PerformanceMatrix(Ridge(), {"alpha": [0.1, 10.0]},
                                   scoring=lambda est, X, y: np.nan).fit(X, y, groups)
    assert np.isnan(matrix.scores_).all()


def test_portfolio_is_the_same_under_n_jobs_1_and_2(monkeypatch):
    from metasklearn.hyperparams import _matrix

    seen = []

    class _Parallel(_matrix.Parallel):  # notes the n_jobs the matrix's loop is given
        def __init__(self, n_jobs=None, **kwargs):
            seen.append(n_jobs)
            super().__init__(n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(_matrix, "Parallel", _Parallel)
    X, y, groups = make_checkerboard_tasks(n_tasks=4, n_samples=30, random_state=1)
    dists = {"C": [0.1, 1.0, 10.0, 100.0], "gamma": [0.1, 1.0, 10.0]}
    results = []
    for n_jobs in (1, 2):
        portfolio = Portfolio(param_distributions=dists, n_iter=5, size=3)
        meta = MetaEstimator(SVC(), hyperparams=portfolio,
                             n_jobs=n_jobs, random_state=0).fit(X, y, groups=groups)
        results.append(meta)
    serial, parallel = results
    assert seen == [1, 2]  # the matrix was scored serially, then by two workers
    assert serial.hyperparams_.portfolio_ == parallel.hyperparams_.portfolio_
    np.testing.assert_array_equal(serial.hyperparams_.scores_, parallel.hyperparams_.scores_)


def test_portfolio_beats_its_best_single_member_on_mixed_tasks():
    """Checkerboards of two cell sizes want different gammas: a pair covers both kinds."""
    def tasks(n_tasks, seed):
        X, y, g = make_checkerboard_tasks(n_tasks=n_tasks, n_samples=80, random_state=seed)
        X = X.copy()
        X[g % 2 == 1] *= 0.1  # odd tasks: ten times finer cells, so they want a larger gamma
        return X, y, g

    X, y, groups = tasks(8, 0)
    grid = {"C": [100.0], "gamma": [1.0, 10.0, 100.0, 1000.0]}
    meta = MetaEstimator(SVC(), hyperparams=Portfolio(grid, size=2), random_state=0)
    meta.fit(X, y, groups=groups)
    X_new, y_new, g_new = tasks(8, 1)
    single, chosen, gammas = [], [], []
    for task in range(8):
        rows = np.flatnonzero(g_new == task)
        support, query = rows[:50], rows[50:]
        learner = meta.adapt(X_new[support], y_new[support])
        chosen.append(learner.score(X_new[query], y_new[query]))
        gammas.append(learner.gamma)
        best = SVC(**meta.best_params_).fit(X_new[support], y_new[support])
        single.append(best.score(X_new[query], y_new[query]))
    assert len({learner_gamma for learner_gamma in gammas}) == 2  # both members get used
    # Measured: portfolio 0.82, its best single member 0.75 (mean query accuracy, 8 tasks).
    assert np.mean(chosen) > np.mean(single) + 0.04


def test_halving_on_a_task_too_small_to_halve_compares_on_all_rows(fitted):
    # Regression: HalvingGridSearchCV refused a 15-row, 3-class task (it needs 2 rows per
    # class and fold in its first round) with an error that named no fix.
    rng = np.random.RandomState(0)
    X_new = rng.normal(size=(15, 2))
    y_new = np.tile([0, 1, 2], 5)
    X_new[:, 0] += y_new
    halving = Portfolio(size=3, search="halving").fit(SVC(), fitted.hyperparams_.matrix_)
    grid = Portfolio(size=3).fit(SVC(), fitted.hyperparams_.matrix_)
    assert halving.select(SVC(), X_new, y_new) == grid.select(SVC(), X_new, y_new)
    assert "iter" not in halving.compare(SVC(), X_new, y_new).cv_results_


def test_verbose_fit_prints_the_portfolio_and_its_training_regret(capsys):
    candidates = [{"C": c} for c in (1.0, 10.0, 0.1)]
    pm = PerformanceMatrix.from_scores([[0.5, 0.9, 0.4], [0.6, 0.8, 0.7]], candidates)
    Portfolio(size=2).fit(SVC(), pm, verbose=1)
    assert capsys.readouterr().out == (
        "[Portfolio] 2 settings, training regret 0.000: [{'C': 10.0}, {'C': 0.1}]\n")
    Portfolio(size=1).fit(SVC(), pm)
    assert capsys.readouterr().out == ""


def test_a_portfolio_of_one_is_that_setting_without_a_search():
    # One member: nothing to compare, so no cross-validation (which 3 rows could not
    # hold), and a Scaled member is resolved on the new task's rows.
    from metasklearn.hyperparams import Scaled

    pm = PerformanceMatrix.from_scores([[0.9, 0.5], [0.8, 0.6]],
                                       [{"gamma": Scaled(0.5)}, {"gamma": "scale"}])
    portfolio = Portfolio(size=1).fit(SVC(), pm)
    X_new, y_new = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 7.0]]), np.array([0, 1, 0])
    assert portfolio.select(SVC(), X_new, y_new) == {"gamma": 0.5 / (2 * X_new.var())}
    learner = portfolio.adapt(SVC(), X_new, y_new)
    assert learner.gamma == 0.5 / (2 * X_new.var())


def test_a_tie_keeps_the_first_member():
    candidates = [{"C": c} for c in (1.0, 2.0, 3.0)]
    pm = PerformanceMatrix.from_scores([[1.0, 0.9, 0.8], [0.7, 0.8, 1.0]], candidates)
    portfolio = Portfolio(size=3).fit(SVC(), pm)
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=30, random_state=0)
    X_new = X_new + 10 * (2 * y_new[:, None] - 1)  # every member separates it
    scores = portfolio.compare(SVC(), X_new, y_new).cv_results_["mean_test_score"]
    np.testing.assert_array_equal(scores, 1.0)
    assert portfolio.select(SVC(), X_new, y_new) == portfolio.portfolio_[0]


def test_time_aware_greedy_passes_over_a_setting_that_failed_everywhere():
    # Regression: a setting that failed on every task (no fit time) aborted the fit.
    times = np.ones_like(HAND)
    times[:, 3] = np.nan  # column 3 is normalised 0 on every task: a failed setting
    chosen, _ = greedy_portfolio(HAND, 5, fit_times=times)
    assert chosen[-1] == 3
    times[:, 1] = np.nan  # a useful setting without a time is still an error
    with pytest.raises(ValueError, match="time_aware needs the fit time"):
        greedy_portfolio(HAND, 2, fit_times=times)


def test_time_aware_best_params_is_the_best_setting_not_the_cheapest():
    # Regression: best_params_ (what init strategies train with) was the first member,
    # which a time-aware portfolio picks for being cheap.
    candidates = [{"C": c} for c in (1.0, 10.0, 100.0)]
    pm = PerformanceMatrix.from_scores([[0.85, 0.90, 0.60]] * 2, candidates,
                                       fit_times=[[0.01, 1.0, 1.0]] * 2)
    portfolio = Portfolio(size=2, time_aware=True).fit(SVC(), pm)
    assert portfolio.portfolio_[0] == {"C": 1.0}
    assert portfolio.best_index_ == 1 and portfolio.best_params_ == {"C": 10.0}


def test_too_large_a_size_is_refused_before_the_matrix_is_scored(monkeypatch):
    # Regression: the whole matrix was cross-validated before the size was checked.
    from metasklearn.hyperparams import _matrix

    def no_scoring(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("the matrix was scored")

    monkeypatch.setattr(_matrix, "_score_setting", no_scoring)
    X, y, groups = make_checkerboard_tasks(n_tasks=3, n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="size 8 cannot be taken from 3 candidate settings"):
        Portfolio({"C": [0.1, 10.0]}).fit(SVC(), X, y, groups)


def test_time_aware_mean_fit_time_leaves_out_tasks_without_a_time():
    # Setting 0 took 2 s on the one task where it ran (failed on the other: NaN time,
    # normalised 0): its mean time is 2 s, not 1 s, so the 1.5 s setting 1 with the same
    # mean score goes first (0.5 / 1.5 > 0.5 / 2).
    normalized = np.array([[1.0, 0.5], [0.0, 0.5]])
    times = np.array([[2.0, 1.5], [np.nan, 1.5]])
    chosen, regret = greedy_portfolio(normalized, 1, fit_times=times)
    assert chosen == [1]
    np.testing.assert_allclose(regret, [0.5])


def test_equal_gains_tie_despite_float_noise():
    # Both first columns lower the mean regret by 0.6 (0.3 + 0.9 and 0.7 + 0.5 differ in the
    # last bit): a tie, which goes to the earlier setting.
    normalized = np.array([[0.7, 0.3, 0.0], [0.5, 0.9, 0.3]])
    chosen, regret = greedy_portfolio(normalized, 3)
    assert chosen == [0, 1, 2]
    np.testing.assert_allclose(regret, [0.4, 0.2, 0.2])


def test_time_aware_with_zero_fit_times_still_ranks_by_gain():
    # Fit times of 0 (rounded in a user's matrix): no division by zero making every
    # setting equally infinite; the larger gain (0.05 for setting 0, 0.025 for setting 2)
    # still wins over the higher mean (setting 2).
    normalized = np.array([[1.0, 0.9, 0.95], [0.2, 0.9, 0.8]])
    chosen, regret = greedy_portfolio(normalized, 2, fit_times=np.zeros_like(normalized))
    assert chosen == [1, 0]
    np.testing.assert_allclose(regret, [0.1, 0.05])


def test_equal_mean_scores_tie_despite_float_noise():
    # Regression: the mean-score tie-break was not rounded, so float noise decided.
    # Equal gains (0.15) and equal mean scores (0.0 + 0.3 and 0.1 + 0.2, over 2): the earlier
    # setting should win, as the docstring says.
    chosen, _ = greedy_portfolio(np.array([[0.0, 0.1], [0.3, 0.2]]), 1)
    assert chosen == [0]


def _ridge_portfolio(**params):
    """A two-member Ridge portfolio fitted on a user matrix (no fits)."""
    from sklearn.linear_model import Ridge

    pm = PerformanceMatrix.from_scores([[0.9, 0.1], [0.1, 0.9]],
                                       [{"alpha": 0.1}, {"alpha": 10.0}])
    return Portfolio(size=2, **params).fit(Ridge(), pm)


def test_a_new_task_of_exactly_select_cv_rows_is_compared():
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(3, 2)), rng.normal(size=3)
    portfolio = _ridge_portfolio(scoring="neg_mean_squared_error")
    search = portfolio.compare(Ridge(), X, y)
    expected = [cross_val_score(Ridge(alpha=a), X, y, cv=3,
                                scoring="neg_mean_squared_error").mean() for a in (0.1, 10.0)]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected)


@pytest.mark.filterwarnings("ignore:The least populated class")
def test_stratified_folds_need_only_one_class_as_large_as_select_cv(fitted):
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=40, random_state=5)
    rows = np.r_[np.flatnonzero(y_new == 0)[:4], np.flatnonzero(y_new == 1)[:2]]
    search = fitted.hyperparams_.compare(SVC(), X_new[rows], y_new[rows])
    assert len(search.cv_results_["mean_test_score"]) == 3


def test_halving_races_a_task_with_exactly_its_smallest_round_of_rows(fitted):
    # 2 rows per class and fold: 2 * 3 * 2 = 12 rows is the smallest task halving takes.
    X_new, y_new, _ = make_checkerboard_tasks(n_tasks=1, n_samples=40, random_state=6)
    rows = np.r_[np.flatnonzero(y_new == 0)[:6], np.flatnonzero(y_new == 1)[:6]]
    halving = Portfolio(size=3, search="halving").fit(SVC(), fitted.hyperparams_.matrix_)
    assert "iter" in halving.compare(SVC(), X_new[rows], y_new[rows]).cv_results_
    assert "iter" not in halving.compare(SVC(), X_new[rows[1:]], y_new[rows[1:]]).cv_results_


def test_halving_picks_among_the_last_rounds_survivors_only():
    # A scoring that depends on the fold size: alpha=1 leads the small first round and
    # drops in the second; the winner is the last round's best (alpha=2), never a score
    # from an earlier round on fewer rows.
    from sklearn.linear_model import Ridge

    first_round = {1.0: 1.0, 2.0: 0.9, 3.0: 0.1, 4.0: 0.0}
    last_round = {1.0: 0.2, 2.0: 0.5, 3.0: 0.0, 4.0: 0.0}

    def by_round(estimator, X, y):
        return (first_round if len(y) <= 2 else last_round)[estimator.alpha]

    pm = PerformanceMatrix.from_scores([[0.4, 0.3, 0.2, 0.1]] * 2,
                                       [{"alpha": a} for a in (1.0, 2.0, 3.0, 4.0)])
    portfolio = Portfolio(size=4, search="halving", scoring=by_round).fit(Ridge(), pm)
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(18, 2)), rng.normal(size=18)
    results = portfolio.compare(Ridge(), X, y).cv_results_
    assert results["iter"].tolist() == [0, 0, 0, 0, 1, 1]  # a race of 4, then 2
    assert portfolio.select(Ridge(), X, y) == {"alpha": 2.0}
