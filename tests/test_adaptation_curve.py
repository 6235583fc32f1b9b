"""adaptation_curve and AdaptationCurveDisplay: held-out task scores against shots."""

import sys
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import ExtraTreeRegressor
from sklearn.utils import Bunch
from threadpoolctl import threadpool_limits

import metasklearn._adaptation_curve as curve_module
import metasklearn._adaptation_curve_display as display_module
from metasklearn import MetaEstimator
from metasklearn._adaptation_curve import _nested_supports
from metasklearn._adapting import _adapt_or_fit
from metasklearn.datasets import make_linear_tasks
from metasklearn.hyperparams import LearnedDefault, Portfolio
from metasklearn.init import GaussianPrior
from metasklearn.model_selection import AdaptationCurveDisplay, adaptation_curve


@pytest.fixture(scope="module")
def linear():
    return make_linear_tasks(n_tasks=12, n_samples=30, random_state=0)


def _meta():
    return MetaEstimator(Ridge(), init=GaussianPrior())


def test_supports_are_nested_exact_per_task_and_share_one_query(blobs):
    X, y, groups = blobs
    shots = np.array([1, 2, 4])
    for per_class, labels in [(False, None), (True, y)]:
        masks, is_query = _nested_supports(labels, groups, shots, per_class, 0)
        for k, mask in zip(shots, masks):
            assert not (mask & is_query).any()
            counts = (np.bincount(groups[mask], minlength=6) if labels is None
                      else np.bincount(groups[mask] * 3 + y[mask], minlength=18))
            assert (counts == k).all()
        # Nested: a smaller support set lies inside every larger one.
        assert not (masks[0] & ~masks[1]).any() and not (masks[1] & ~masks[2]).any()
        # The query set is everything outside the largest support set.
        np.testing.assert_array_equal(is_query, ~masks[-1])
    first, _ = _nested_supports(None, groups, shots, False, 0)
    again, _ = _nested_supports(None, groups, shots, False, 0)
    other, _ = _nested_supports(None, groups, shots, False, 1)
    assert all((a == b).all() for a, b in zip(first, again))
    assert not (first[0] == other[0]).all()


def test_each_score_is_that_of_adapting_on_its_support_and_scoring_its_query(linear):
    X, y, groups = linear
    shots = [2, 6]
    result = adaptation_curve(_meta(), X, y, groups, shots=shots, cv=3, random_state=5)
    masks, is_query = _nested_supports(None, groups, np.array(shots), False, 5)
    splits = list(GroupKFold(3).split(X, y, groups))
    train, test = splits[1]
    fitted = _meta().set_params(refit=False).fit(X[train], y[train], groups=groups[train])
    pooled = Ridge().fit(X[train], y[train])
    for task in np.unique(groups[test])[:2]:
        j = np.flatnonzero(result.tasks == task)[0]
        assert result.split[j] == 1
        query = (groups == task) & is_query
        for i, mask in enumerate(masks):
            support = (groups == task) & mask
            expected = fitted.adapt(X[support], y[support]).score(X[query], y[query])
            assert result.scores["meta"][i, j] == pytest.approx(expected, abs=1e-12)
            scratch = Ridge().fit(X[support], y[support]).score(X[query], y[query])
            assert result.scores["scratch"][i, j] == pytest.approx(scratch, abs=1e-12)
            assert result.scores["pooled"][i, j] == pytest.approx(
                pooled.score(X[query], y[query]), abs=1e-12)


def test_a_learned_prior_beats_scratch_at_few_shots_and_the_gap_closes(linear):
    X, y, groups = linear
    result = adaptation_curve(_meta(), X, y, groups, shots=[2, 20], cv=4)
    meta, scratch = result.scores["meta"].mean(axis=1), result.scores["scratch"].mean(axis=1)
    # Measured 0.785 against -0.393 from 2 rows of a 5-feature regression, and
    # 0.963 against 0.955 from 20 rows.
    assert meta[0] > 0.7 and scratch[0] < 0.0
    assert meta[1] > 0.9 and abs(meta[1] - scratch[1]) < 0.05
    # The pooled model does not adapt: the same query rows give the same score.
    assert (result.scores["pooled"] == result.scores["pooled"][0]).all()
    assert result.score_name == "R²"
    np.testing.assert_array_equal(np.sort(result.tasks), np.unique(groups))
    assert result.scores["meta"].shape == (2, 12)


def test_classification_per_class_scratch_keeps_the_base_settings(blobs):
    X, y, groups = blobs
    # The base's own C is poor; the learned default picks C=1, scratch keeps 0.001.
    meta = MetaEstimator(LogisticRegression(C=0.001),
                         hyperparams=LearnedDefault({"C": [0.001, 1.0]}))
    result = adaptation_curve(meta, X, y, groups, shots=[3, 1], per_class=True, cv=3,
                              baselines=["scratch"], random_state=2)
    np.testing.assert_array_equal(result.shots, [1, 3])
    assert set(result.scores) == {"meta", "scratch"}
    assert result.score_name == "accuracy" and result.per_class
    for scores in result.scores.values():
        assert scores.shape == (2, 6)
        # Accuracy on 30 - 9 = 21 query rows of each task: multiples of 1/21.
        np.testing.assert_allclose(scores * 21, np.round(scores * 21), atol=1e-9)
    masks, is_query = _nested_supports(y, groups, np.array([1, 3]), True, 2)
    task = result.tasks[0]
    support, query = (groups == task) & masks[1], (groups == task) & is_query
    scratch = LogisticRegression(C=0.001).fit(X[support], y[support])
    assert result.scores["scratch"][1, 0] == scratch.score(X[query], y[query])
    learned = LogisticRegression(C=1.0).fit(X[support], y[support])
    assert result.scores["meta"][1, 0] == learned.score(X[query], y[query])
    assert not np.array_equal(result.scores["meta"], result.scores["scratch"])


def test_only_held_out_tasks_need_more_rows_than_the_shots(linear):
    X, y, groups = linear
    small = np.isin(groups, [0, 1]) & (np.arange(groups.shape[0]) % 30 < 25)
    X, y, groups = X[~small], y[~small], groups[~small]  # tasks 0 and 1 keep 5 rows
    big = np.flatnonzero(groups >= 6)
    splits = [(np.flatnonzero(groups < 6), big)]
    result = adaptation_curve(_meta(), X, y, groups, shots=[2, 10], cv=splits)
    np.testing.assert_array_equal(result.tasks, np.arange(6, 12))
    masks, is_query = _nested_supports(None, groups, np.array([2, 10]), False, 0, rows=big)
    assert not (masks[1] | is_query)[groups < 6].any()
    assert (np.bincount(groups[masks[1]])[6:] == 10).all()
    with pytest.raises(ValueError, match="Task 0 has 5 rows.*shots=10"):
        adaptation_curve(_meta(), X, y, groups, shots=[2, 10],
                         cv=[(big, np.flatnonzero(groups < 6))])


def test_n_jobs_does_not_change_the_result(linear):
    X, y, groups = linear
    # An older OpenBLAS (numpy 1.24's) rounds the prior's products differently on one thread
    # and on two (1e-16), and joblib's workers get cores / n_jobs threads: BLAS is given one
    # thread on both sides, so only metasklearn's own order of work is compared.
    with threadpool_limits(1), parallel_config(backend="loky", inner_max_num_threads=1):
        one = adaptation_curve(_meta(), X, y, groups, shots=[2, 4], cv=3, n_jobs=1)
        two = adaptation_curve(_meta(), X, y, groups, shots=[2, 4], cv=3, n_jobs=2)
    np.testing.assert_array_equal(one.tasks, two.tasks)
    for name in one.scores:
        np.testing.assert_array_equal(one.scores[name], two.scores[name])


@pytest.mark.parametrize("routing_on", [False, True])
def test_a_pipeline_scratch_refits_its_transformers_on_the_support_rows(
        linear, routing_on, request):
    if routing_on:
        request.getfixturevalue("routing")
    X, y, groups = linear
    X = X * 100 + 7  # so scaling matters
    pipe = make_pipeline(StandardScaler(), _meta())
    result = adaptation_curve(pipe, X, y, groups, shots=[3], cv=2, random_state=1)
    masks, is_query = _nested_supports(None, groups, np.array([3]), False, 1)
    j = 0
    task = result.tasks[j]
    support, query = (groups == task) & masks[0], (groups == task) & is_query
    scratch = make_pipeline(StandardScaler(), Ridge()).fit(X[support], y[support])
    assert result.scores["scratch"][0, j] == pytest.approx(scratch.score(X[query], y[query]))
    assert result.scores["meta"].mean() > result.scores["scratch"].mean() + 0.5


def test_the_users_estimator_is_not_fitted_or_changed(linear):
    X, y, groups = linear
    meta = _meta()
    adaptation_curve(meta, X, y, groups, shots=[2], cv=2, baselines=())
    assert meta.refit is True and not hasattr(meta, "init_")


def test_bad_input_is_refused_with_the_fix(linear):
    X, y, groups = linear
    kfold = KFold(3, shuffle=True, random_state=0)
    with pytest.raises(ValueError, match="both sides.*GroupKFold"), \
            pytest.warns(UserWarning, match="groups parameter is ignored by KFold"):
        adaptation_curve(_meta(), X, y, groups, shots=[2], cv=kfold)
    with pytest.raises(TypeError, match="must have adapt.*MetaEstimator\\(Ridge"):
        adaptation_curve(Ridge(), X, y, groups)
    with pytest.raises(ValueError, match="needs the task id"):
        adaptation_curve(_meta(), X, y, None)
    for shots in ([], [0], [1.5], True, [2, 2]):
        with pytest.raises(ValueError, match="shots must"):
            adaptation_curve(_meta(), X, y, groups, shots=shots)
    for baselines in (["oracle"], [("tuned", "Ridge")], [("tuned", Ridge(), 1)]):
        with pytest.raises(ValueError, match="Each baseline must be one of"):
            adaptation_curve(_meta(), X, y, groups, baselines=baselines)
    for baselines in (["scratch", "scratch"], [("meta", Ridge())],
                      ["pooled", ("pooled", Ridge())]):
        with pytest.raises(ValueError, match="distinct and not 'meta'"):
            adaptation_curve(_meta(), X, y, groups, baselines=baselines)
    with pytest.raises(ValueError, match="between 2 and 12 folds"):
        adaptation_curve(_meta(), X, y, groups, cv=1)
    with pytest.raises(ValueError, match="Expected `?cv`? as an integer"):
        adaptation_curve(_meta(), X, y, groups, cv="tasks")
    with pytest.raises(ValueError, match="30 rows.*shots=30"):
        adaptation_curve(_meta(), X, y, groups, shots=[2, 30])


def test_cv_none_is_five_folds_by_task_as_in_scikit_learn(linear):
    X, y, groups = linear
    # cv=None is scikit-learn's 5-fold default; it must not become a KFold that splits tasks.
    none = adaptation_curve(_meta(), X, y, groups, shots=[2], cv=None)
    five = adaptation_curve(_meta(), X, y, groups, shots=[2], cv=5)
    np.testing.assert_array_equal(none.tasks, five.tasks)
    np.testing.assert_array_equal(none.scores["meta"], five.scores["meta"])


def test_a_split_holding_out_only_part_of_a_task_is_refused(linear):
    X, y, groups = linear
    position = np.arange(groups.shape[0]) % 30
    # The last 5 rows of every held-out task in neither side: some supports would lose rows.
    splits = [(train, test[position[test] < 25])
              for train, test in GroupKFold(3).split(X, y, groups)]
    with pytest.raises(ValueError, match="only some rows of task.*every row of a held-out"):
        adaptation_curve(_meta(), X, y, groups, shots=[2, 5], cv=splits)


class _Unfittable(_meta().__class__):
    def fit(self, X, y, groups=None):
        raise AssertionError("fitted before the scoring was checked")


def test_scoring_is_checked_before_any_fit(linear):
    X, y, groups = linear
    for scoring in (["r2"], {"r2": "r2"}):
        with pytest.raises(ValueError, match="scoring must be one metric"):
            adaptation_curve(_Unfittable(Ridge()), X, y, groups, shots=[2], cv=2,
                             scoring=scoring)
    with pytest.raises(ValueError, match="'r3' is not a valid scoring value"):
        adaptation_curve(_Unfittable(Ridge()), X, y, groups, shots=[2], cv=2, scoring="r3")


def test_per_class_with_a_regressor_says_it_is_not_a_classifier(linear):
    X, y, groups = linear
    y = np.round(y).astype(int)  # integer-valued, but Ridge makes it a regression target
    with pytest.raises(ValueError, match="Ridge is not a classifier.*per_class=False"):
        adaptation_curve(MetaEstimator(Ridge()), X, y, groups, shots=[2], per_class=True)


def test_a_seeded_meta_estimator_makes_the_baselines_repeatable(linear):
    X, y, groups = linear
    meta = MetaEstimator(ExtraTreeRegressor(), random_state=0)
    one = adaptation_curve(meta, X, y, groups, shots=[3, 8], cv=3, n_jobs=1)
    two = adaptation_curve(meta, X, y, groups, shots=[3, 8], cv=3, n_jobs=2)
    for name in one.scores:
        np.testing.assert_array_equal(one.scores[name], two.scores[name])
    assert meta.estimator.random_state is None  # seeded clones, not the user's tree
    # A RandomState instance is copied, not advanced.
    rng = np.random.RandomState(0)
    state = rng.get_state()[1].copy()
    adaptation_curve(MetaEstimator(ExtraTreeRegressor(), random_state=rng), X, y, groups,
                     shots=[3], cv=2)
    np.testing.assert_array_equal(rng.get_state()[1], state)


def test_the_score_name_is_not_r2_where_the_learner_scores_otherwise(linear):
    X, y, groups = linear
    # PoissonRegressor.score is D², not R²: the axis must not claim R².
    result = adaptation_curve(MetaEstimator(PoissonRegressor()), X, np.exp(y / 10), groups,
                              shots=[5], cv=2, baselines=())
    assert result.score_name == "score"
    pipe = make_pipeline(StandardScaler(), MetaEstimator(make_pipeline(StandardScaler(),
                                                                       LogisticRegression())))
    y_class = (y > np.median(y)).astype(int)
    assert adaptation_curve(pipe, X, y_class, groups, shots=[5], cv=2,
                            baselines=()).score_name == "accuracy"


def test_default_shots_give_every_stratified_support_each_class(linear):
    X, y, groups = linear
    y_class = (y > np.median(y)).astype(int)
    meta = MetaEstimator(LogisticRegression())
    binary = adaptation_curve(meta, X, y_class, groups, cv=2, baselines=())
    np.testing.assert_array_equal(binary.shots, [2, 4, 10, 20])
    keep = ~np.isin(groups, [0, 6, 11])  # tasks with 10 rows or fewer of a class
    per_class = adaptation_curve(meta, X[keep], y_class[keep], groups[keep], per_class=True,
                                 cv=2, baselines=())
    np.testing.assert_array_equal(per_class.shots, [1, 2, 5, 10])
    regression = adaptation_curve(_meta(), X, y, groups, cv=2, baselines=())
    np.testing.assert_array_equal(regression.shots, [1, 2, 5, 10])
    y_class[::30] = 2  # a third class in every task: 3, 6, 15 and 30 rows, too many
    with pytest.raises(ValueError, match="has 30 rows.*shots=30"):
        adaptation_curve(meta, X, y_class, groups, cv=2, baselines=())


def test_a_nested_pipeline_is_refused_with_the_flat_form(linear):
    X, y, groups = linear
    nested = make_pipeline(StandardScaler(), make_pipeline(StandardScaler(), _meta()))
    with pytest.raises(TypeError, match="nested in a Pipeline.*make_pipeline"):
        adaptation_curve(nested, X, y, groups)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11+")
def test_an_error_inside_the_curve_says_which_task_shot_count_and_split(linear):
    X, y, groups = linear
    # Portfolio compares its settings by 3-fold CV at adapt: 2 support rows are too few.
    meta = MetaEstimator(Ridge(), hyperparams=Portfolio({"alpha": [0.01, 100.0]}, size=2))
    with pytest.raises(ValueError, match="select_cv=2") as raised:
        adaptation_curve(meta, X, y, groups, shots=[2, 5], cv=2)
    assert raised.value.__notes__ == [
        "adaptation_curve: while adapting to held-out task 1 with shots=2 (2 support rows) "
        "in split 0"]
    bad = ("bad", LogisticRegression())  # a classifier on regression targets
    with pytest.raises(ValueError, match="Unknown label type") as raised:
        adaptation_curve(_meta(), X, y, groups, shots=[5], cv=2, baselines=[bad])
    assert raised.value.__notes__ == [
        "adaptation_curve: while fitting baseline 'bad' on held-out task 1 with shots=5 "
        "(5 support rows) in split 0"]
    with pytest.raises(ValueError) as raised:
        adaptation_curve(MetaEstimator(LogisticRegression()), X, y, groups, shots=[5], cv=2,
                         baselines=())
    assert raised.value.__notes__ == [
        "adaptation_curve: while meta-fitting on the training tasks of split 0"]


def test_error_score_scores_a_failed_adapt_and_says_where(linear):
    X, y, groups = linear
    # Portfolio compares its settings by 3-fold CV at adapt: 2 support rows are too few,
    # 10 are enough.
    meta = MetaEstimator(Ridge(), hyperparams=Portfolio({"alpha": [0.01, 100.0]}, size=2))
    with pytest.warns(FitFailedWarning) as record:
        result = adaptation_curve(meta, X, y, groups, shots=[2, 10], cv=2,
                                  error_score=np.nan)
    assert np.isnan(result.scores["meta"][0]).all()
    assert np.isfinite(result.scores["meta"][1]).all()
    assert np.isfinite(result.scores["scratch"]).all()  # the baselines did not fail
    failed = [str(w.message) for w in record if w.category is FitFailedWarning]
    assert len(failed) == 12 and all("shots=2 (2 support rows)" in m for m in failed)
    assert failed[0].startswith(
        "adaptation_curve: while adapting to held-out task 1 with shots=2 (2 support rows) in "
        "split 0: ValueError: Portfolio compares its settings")
    assert failed[0].endswith("The task scores error_score=nan there.")
    bad = ("bad", LogisticRegression())  # a classifier on regression targets
    with pytest.warns(FitFailedWarning, match="baseline 'bad'"):
        result = adaptation_curve(_meta(), X, y, groups, shots=[5], cv=2, baselines=[bad],
                                  error_score=-1.0)
    assert (result.scores["bad"] == -1.0).all() and (result.scores["meta"] > 0).all()
    for error_score in ("ignore", True, None):
        with pytest.raises(ValueError, match="error_score must be 'raise' or a number"):
            adaptation_curve(_meta(), X, y, groups, error_score=error_score)


class _Adapter(Ridge):
    def fit(self, X, y, groups=None):
        return super().fit(X, y)

    def adapt(self, X, y):
        return Ridge().fit(X, y)


def test_baselines_need_a_meta_estimator_but_the_curve_does_not(linear):
    X, y, groups = linear
    with pytest.raises(TypeError, match="baselines=\\(\\)"):
        adaptation_curve(_Adapter(), X, y, groups, shots=[4], cv=2)
    splits = list(GroupKFold(2).split(X, y, groups))  # an iterable of splits works as cv
    result = adaptation_curve(_Adapter(), X, y, groups, shots=[4], cv=splits, baselines=())
    assert set(result.scores) == {"meta"}
    # An adapter that refits Ridge on the support rows is the scratch baseline.
    scratch = adaptation_curve(_meta(), X, y, groups, shots=[4], cv=2, baselines=["scratch"])
    np.testing.assert_allclose(result.scores["meta"], scratch.scores["scratch"])


def test_a_baseline_of_ones_own_is_fitted_on_the_support_rows(linear):
    X, y, groups = linear
    tuned = GridSearchCV(Ridge(), {"alpha": [0.01, 100.0]}, cv=2)
    result = adaptation_curve(_meta(), X, y, groups, shots=[4, 8], cv=3, random_state=3,
                              baselines=[("tuned", tuned), "pooled"])
    assert list(result.scores) == ["meta", "tuned", "pooled"]
    masks, is_query = _nested_supports(None, groups, np.array([4, 8]), False, 3)
    task = result.tasks[-1]
    query = (groups == task) & is_query
    for i, mask in enumerate(masks):
        support = (groups == task) & mask
        expected = clone(tuned).fit(X[support], y[support]).score(X[query], y[query])
        assert result.scores["tuned"][i, -1] == pytest.approx(expected, abs=1e-12)
    assert not hasattr(tuned, "best_params_")  # the user's search is cloned, not fitted


def test_a_scoring_scores_the_meta_estimator_and_every_baseline_and_names_the_axis(linear):
    X, y, groups = linear
    result = adaptation_curve(_meta(), X, y, groups, shots=[3], cv=2, random_state=4,
                              scoring="neg_mean_absolute_error")
    assert result.score_name == "neg_mean_absolute_error"
    masks, is_query = _nested_supports(None, groups, np.array([3]), False, 4)
    train, _ = next(GroupKFold(2).split(X, y, groups))
    task = result.tasks[0]
    support, query = (groups == task) & masks[0], (groups == task) & is_query

    def neg_mae(model):
        return -mean_absolute_error(y[query], model.predict(X[query]))

    fitted = _meta().set_params(refit=False).fit(X[train], y[train], groups=groups[train])
    expected = {"meta": neg_mae(fitted.adapt(X[support], y[support])),
                "scratch": neg_mae(Ridge().fit(X[support], y[support])),
                "pooled": neg_mae(Ridge().fit(X[train], y[train]))}
    for name, value in expected.items():
        assert result.scores[name][0, 0] == pytest.approx(value, abs=1e-12)
        assert value < 0  # an error, not an R²
    # A callable scorer is applied as well, but its name is not known.
    scorer = make_scorer(mean_absolute_error, greater_is_better=False)
    by_callable = adaptation_curve(_meta(), X, y, groups, shots=[3], cv=2, random_state=4,
                                   scoring=scorer)
    assert by_callable.score_name == "score"
    for name in expected:
        np.testing.assert_allclose(by_callable.scores[name], result.scores[name])


def test_default_shots_count_the_classes_of_the_held_out_tasks_the_most_of_them(linear):
    X, y, groups = linear
    y_class = (y > np.median(y)).astype(int)
    y_class[0] = 2  # task 0 alone has a third class
    meta = MetaEstimator(LogisticRegression())
    first, last = np.flatnonzero(groups < 6), np.flatnonzero(groups >= 6)
    # Task 0 only in meta-training: its third class does not count.
    result = adaptation_curve(meta, X, y_class, groups, cv=[(first, last)], baselines=())
    np.testing.assert_array_equal(result.shots, [2, 4, 10, 20])
    # Task 0 held out: 3 classes, the most of any held-out task, so 3, 6, 15 and 30 rows.
    with pytest.raises(ValueError, match="has 30 rows.*shots=30"):
        adaptation_curve(meta, X, y_class, groups, cv=[(last, first)], baselines=())


def test_one_baseline_name_as_a_string_is_that_baseline(linear):
    X, y, groups = linear
    result = adaptation_curve(_meta(), X, y, groups, shots=[2], cv=2, baselines="pooled")
    assert list(result.scores) == ["meta", "pooled"]
    assert (result.scores["pooled"] > 0.5).all()


class _RefitRecorder(MetaEstimator):
    refits = []

    def fit(self, X, y, groups=None):
        _RefitRecorder.refits.append(self.refit)
        return super().fit(X, y, groups=groups)


def test_the_meta_estimator_is_fitted_with_refit_off_also_in_a_pipeline(linear):
    X, y, groups = linear
    for estimator in (_RefitRecorder(Ridge(), init=GaussianPrior()),
                      make_pipeline(StandardScaler(),
                                    _RefitRecorder(Ridge(), init=GaussianPrior()))):
        _RefitRecorder.refits.clear()
        adaptation_curve(estimator, X, y, groups, shots=[2], cv=2, baselines=())
        assert _RefitRecorder.refits == [False, False]  # one fit per split, no learners
    assert estimator[-1].refit is True


def test_leave_one_task_out_is_as_many_folds_as_tasks(linear):
    X, y, groups = linear
    result = adaptation_curve(_meta(), X, y, groups, shots=[2], cv=12, baselines=())
    np.testing.assert_array_equal(result.split, np.arange(12))  # one task per split
    np.testing.assert_array_equal(np.sort(result.tasks), np.arange(12))


def test_lists_are_accepted_and_x_y_and_groups_must_have_as_many_rows(linear):
    X, y, groups = linear
    as_lists = adaptation_curve(_meta(), X.tolist(), y.tolist(), groups.tolist(), shots=[2],
                                cv=2, baselines=["scratch"])
    arrays = adaptation_curve(_meta(), X, y, groups, shots=[2], cv=2, baselines=["scratch"])
    for name in arrays.scores:
        np.testing.assert_array_equal(as_lists.scores[name], arrays.scores[name])
    # Also with splits given as an iterable, which no splitter checks.
    splits = list(GroupKFold(2).split(X, y, groups))
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[359, 360\\]"):
        adaptation_curve(_meta(), X[:-1], y, groups, shots=[2], cv=splits)


def test_groups_of_the_wrong_length_are_named(linear):
    # Regression: scikit-learn's "inconsistent numbers of samples: [360, 360, 359]" did
    # not say which of X, y and groups was off.
    X, y, groups = linear
    with pytest.raises(ValueError, match="groups has 359 entries but X has 360 rows"):
        adaptation_curve(_meta(), X, y, groups[:-1], shots=[2], cv=2)


class _UnfittableAdapter(_Adapter):
    def fit(self, X, y, groups=None):
        raise AssertionError("fitted before the baselines were checked")


def test_a_missing_base_estimator_is_refused_before_any_fit(linear):
    X, y, groups = linear
    with pytest.raises(TypeError, match="_UnfittableAdapter does not name.*baselines=\\(\\)"):
        adaptation_curve(_UnfittableAdapter(), X, y, groups, shots=[4], cv=2)


def test_own_baselines_alone_need_no_base_estimator(linear):
    X, y, groups = linear
    result = adaptation_curve(_Adapter(), X, y, groups, shots=[4], cv=2,
                              baselines=[("ridge", Ridge())])
    assert list(result.scores) == ["meta", "ridge"]
    # _Adapter.adapt is a Ridge fit on the support rows: the same model as the baseline.
    np.testing.assert_allclose(result.scores["ridge"], result.scores["meta"])


def test_n_jobs_is_handed_to_joblib(linear, monkeypatch):
    X, y, groups = linear
    seen = []

    class _Parallel(curve_module.Parallel):
        def __init__(self, n_jobs=None, **kwargs):
            seen.append(n_jobs)
            super().__init__(n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(curve_module, "Parallel", _Parallel)
    adaptation_curve(_meta(), X, y, groups, shots=[2], cv=2, baselines=(), n_jobs=1)
    assert seen == [1]
    # 1 is also what a curve that ignored n_jobs would use: 2 must arrive as 2.
    adaptation_curve(_meta(), X, y, groups, shots=[2], cv=2, baselines=(), n_jobs=2)
    assert seen == [1, 2]


def test_a_learner_that_does_not_adapt_is_fitted_as_a_clone(linear):
    X, y, groups = linear
    ridge = Ridge(alpha=3.0)
    learner = _adapt_or_fit(ridge, X[:10], y[:10])
    assert learner is not ridge and learner.alpha == 3.0 and hasattr(learner, "coef_")
    assert not hasattr(ridge, "coef_")  # the caller's estimator is left unfitted


# The Display ---------------------------------------------------------------

@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_display_draws_the_mean_and_its_95_percent_band(pyplot):
    scores = {"meta": np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]),
              "scratch": np.array([[0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])}
    display = AdaptationCurveDisplay(shots=[1, 5], scores=scores, score_name="R²").plot()
    np.testing.assert_allclose(display.lines_["meta"].get_ydata(), [2.0, 4.0])
    np.testing.assert_allclose(display.lines_["scratch"].get_ydata(), [1.0, 2.0])
    band = display.fill_between_["meta"].get_paths()[0].vertices[:, 1]
    half = 1.96 * 1.0 / np.sqrt(3)  # sd 1 over 3 tasks at 1 shot, 0 at 5
    assert band.min() == pytest.approx(2.0 - half) and band.max() == pytest.approx(4.0)
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == [
        "meta-learned", "scratch"]
    assert display.ax_.get_xlabel() == "shots per task"
    assert display.ax_.get_ylabel() == "R²"
    assert display.ax_.get_xscale() == "linear"
    assert display.figure_ is display.ax_.figure


def test_display_uses_a_log_axis_over_an_order_of_magnitude_and_the_given_axes(pyplot):
    _, ax = pyplot.subplots()
    scores = {"meta": np.ones((2, 4))}
    display = AdaptationCurveDisplay(shots=[1, 10], scores=scores, per_class=True).plot(
        ax, line_kw={"linestyle": "--"})
    assert display.ax_ is ax and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10"]
    assert len(ax.xaxis.get_minorticklocs()) == 0
    assert ax.get_xlabel() == "shots per class" and ax.get_ylabel() == "score"
    assert display.lines_["meta"].get_linestyle() == "--"


def test_display_from_estimator_plots_the_curve(linear, pyplot):
    X, y, groups = linear
    display = AdaptationCurveDisplay.from_estimator(_meta(), X, y, groups, shots=[2, 6], cv=3)
    result = adaptation_curve(_meta(), X, y, groups, shots=[2, 6], cv=3)
    for name, scores in result.scores.items():
        np.testing.assert_allclose(display.lines_[name].get_ydata(), scores.mean(axis=1))
    assert display.ax_.get_ylabel() == "R²"


def test_display_refuses_scores_of_the_wrong_shape(pyplot):
    display = AdaptationCurveDisplay(shots=[1, 2, 3], scores={"meta": np.ones((2, 5))})
    with pytest.raises(ValueError, match="one row per shot count \\(3\\)"):
        display.plot()


def test_display_without_matplotlib_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    display = AdaptationCurveDisplay(shots=[1], scores={"meta": np.ones((1, 2))})
    with pytest.raises(ImportError, match="pip install matplotlib"):
        display.plot()


def test_display_from_estimator_without_matplotlib_fails_before_the_curve(monkeypatch):
    # Regression: the whole curve was computed, then lost to plot's ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)

    def curve(*args, **kwargs):
        raise AssertionError("adaptation_curve ran without matplotlib")

    monkeypatch.setattr(display_module, "adaptation_curve", curve)
    with pytest.raises(ImportError, match="from_estimator needs matplotlib"):
        AdaptationCurveDisplay.from_estimator(_meta(), np.ones((4, 1)), np.ones(4),
                                              [0, 0, 1, 1])


def test_display_line_kw_overrides_the_default_marker(pyplot):
    # Regression: a marker in line_kw raised "got multiple values for keyword 'marker'".
    scores = {"meta": np.ones((2, 3)), "scratch": np.zeros((2, 3))}
    display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot(
        line_kw={"marker": "s"})
    assert {line.get_marker() for line in display.lines_.values()} == {"s"}
    display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot()
    assert display.lines_["meta"].get_marker() == "o"  # the default is kept


def test_display_warns_when_a_nan_score_hides_a_point(pyplot):
    scores = {"meta": np.array([[0.5, np.nan], [0.7, 0.8]]), "scratch": np.ones((2, 2))}
    with pytest.warns(UserWarning, match="scores\\['meta'\\] holds NaN at shots \\[1\\]"):
        display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot()
    assert np.isnan(display.lines_["meta"].get_ydata()[0])


def test_display_band_is_symmetric_in_its_line_colour_and_takes_fill_between_kw(pyplot):
    from matplotlib.colors import to_rgba

    scores = {"meta": np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]])}
    display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot(
        line_kw={"color": "k"}, fill_between_kw={"alpha": 0.5})
    band = display.fill_between_["meta"]
    vertices = band.get_paths()[0].vertices
    at_one = vertices[vertices[:, 0] == 1, 1]
    half = 1.96 * 1.0 / np.sqrt(3)
    assert at_one.min() == pytest.approx(2.0 - half) and at_one.max() == pytest.approx(2.0 + half)
    assert band.get_alpha() == 0.5
    np.testing.assert_allclose(band.get_facecolor()[0], to_rgba("k", 0.5))


def test_display_of_one_task_draws_its_scores_without_a_band(pyplot):
    scores = {"meta": np.array([[0.5], [0.7]])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "degrees of freedom" warning from std
        display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot()
    np.testing.assert_allclose(display.lines_["meta"].get_ydata(), [0.5, 0.7])
    vertices = display.fill_between_["meta"].get_paths()[0].vertices
    assert np.isfinite(vertices).all() and set(vertices[:, 1]) == {0.5, 0.7}


def test_display_refuses_scores_of_one_dimension(pyplot):
    display = AdaptationCurveDisplay(shots=[1, 5], scores={"meta": np.ones(2)})
    with pytest.raises(ValueError, match="one row per shot count \\(2\\).*shape \\(2,\\)"):
        display.plot()


def test_display_from_result_labels_shots_per_class(pyplot):
    result = Bunch(shots=np.array([1, 2]), scores={"meta": np.ones((2, 3))},
                   score_name="accuracy", per_class=True)
    display = AdaptationCurveDisplay.from_result(result)
    assert display.ax_.get_xlabel() == "shots per class"
    assert display.ax_.get_ylabel() == "accuracy"


def test_display_from_estimator_passes_every_option_on(linear, pyplot):
    X, y, groups = linear
    _, ax = pyplot.subplots()
    options = dict(shots=[2, 6], cv=3, baselines=["scratch"], random_state=7,
                   scoring="neg_mean_absolute_error")
    display = AdaptationCurveDisplay.from_estimator(_meta(), X, y, groups, ax=ax,
                                                    fill_between_kw={"alpha": 0.5}, **options)
    result = adaptation_curve(_meta(), X, y, groups, **options)
    assert display.ax_ is ax and list(display.lines_) == ["meta", "scratch"]
    for name, scores in result.scores.items():
        np.testing.assert_allclose(display.lines_[name].get_ydata(), scores.mean(axis=1))
    assert ax.get_ylabel() == "neg_mean_absolute_error"
    assert display.fill_between_["scratch"].get_alpha() == 0.5
    with pytest.raises(ValueError, match="Ridge is not a classifier"):
        AdaptationCurveDisplay.from_estimator(_meta(), X, y, groups, shots=[2], per_class=True)


def test_display_negates_neg_scores_and_takes_a_score_name(pyplot):
    scores = {"meta": -np.array([[1.0, 3.0], [0.5, 0.5]])}
    display = AdaptationCurveDisplay(shots=[1, 5], scores=scores,
                                     score_name="neg_mean_squared_error")
    display.plot(negate_score=True)
    np.testing.assert_allclose(display.lines_["meta"].get_ydata(), [2.0, 0.5])
    assert display.ax_.get_ylabel() == "mean_squared_error"
    display.plot(score_name="MSE of the query rows")
    np.testing.assert_allclose(display.lines_["meta"].get_ydata(), [-2.0, -0.5])
    assert display.ax_.get_ylabel() == "MSE of the query rows"


def test_display_from_estimator_hands_on_error_score_and_negation(linear, pyplot):
    X, y, groups = linear
    meta = MetaEstimator(Ridge(), hyperparams=Portfolio({"alpha": [0.01, 100.0]}, size=2))
    with pytest.warns(FitFailedWarning), pytest.warns(UserWarning, match="holds NaN"):
        display = AdaptationCurveDisplay.from_estimator(
            meta, X, y, groups, shots=[2, 10], cv=2, error_score=np.nan,
            scoring="neg_mean_squared_error", negate_score=True)
    meta_line = display.lines_["meta"].get_ydata()
    assert np.isnan(meta_line[0]) and meta_line[1] > 0
    assert display.ax_.get_ylabel() == "mean_squared_error"


def test_sparse_formats_without_row_indexing_are_taken(linear):
    # Regression: a COO X failed with "'coo_matrix' object is not subscriptable".
    import scipy.sparse as sp

    X, y, groups = linear
    expected = adaptation_curve(MetaEstimator(Ridge()), X, y, groups, shots=[2, 5], cv=3)
    result = adaptation_curve(MetaEstimator(Ridge()), sp.coo_matrix(X), y, groups,
                              shots=[2, 5], cv=3)
    for name, scores in expected.scores.items():
        # Ridge solves sparse rows iteratively: the same scores, to its tolerance
        np.testing.assert_allclose(result.scores[name], scores, rtol=1e-3)
