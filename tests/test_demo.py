"""The ``python -m metasklearn`` demo: table, numbers and command line."""

import dataclasses
import io
import math

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyClassifier, DummyRegressor

from metasklearn._demo import COLLECTIONS, SupportQuerySplit, _evaluate, _pooled_score, main, run
from metasklearn.datasets import make_checkerboard_tasks, make_sinusoid_tasks
from metasklearn.model_selection import make_few_shot_scorer
from metasklearn.tasks import iter_tasks

METHODS = ("meta-learned", "scratch", "pooled")
# Tiny sizes: every collection end to end in a second or two.
TINY = {
    "sinusoid": dict(n_train_tasks=2, n_test_tasks=2, shots=5),
    "checkerboard": dict(n_train_tasks=3, n_test_tasks=3, shots=10),
    "digits": dict(n_train_tasks=2, n_test_tasks=2, shots=1),
}


@pytest.fixture(scope="module")
def tiny_runs():
    runs = {}
    for name, sizes in TINY.items():
        out = io.StringIO()
        runs[name] = run(name, n_jobs=1, random_state=0, verbose=name == "sinusoid",
                         out=out, **sizes), out.getvalue()
    return runs


@pytest.mark.parametrize("name", list(TINY))
def test_table_has_three_methods_and_sane_scores(tiny_runs, name):
    results, text = tiny_runs[name]
    assert list(results["methods"]) == list(METHODS)
    rows = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert set(METHODS) <= rows
    regression = name == "sinusoid"
    assert results["lower_is_better"] is regression
    assert ("lower is better" in text) is regression
    scored = METHODS if name != "digits" else METHODS[:2]
    for method in scored:
        m = results["methods"][method]
        assert math.isfinite(m["score"]) and math.isfinite(m["sem"]) and m["sem"] >= 0
        assert m["time_per_task"] > 0
        assert m["scores"].shape == (TINY[name]["n_test_tasks"],)
        if regression:
            assert m["score"] >= 0  # MSE printed positive
        else:
            assert 0 <= m["score"] <= 1
    assert results["methods"]["meta-learned"]["fit_time"] > 0
    # What was learned is shown next to the defaults, and the candidates ranked.
    assert set(results["best_params"]) == set(results["default_params"])
    assert set(results["best_params"]) <= set(COLLECTIONS[name].grid)
    assert [row["rank"] for row in results["candidates"]][0] == 1
    assert results["candidates"][0]["params"] == results["best_params"]
    assert "learned settings" in text and "candidates" in text


def test_pooled_is_na_for_digits(tiny_runs):
    results, text = tiny_runs["digits"]
    pooled = results["methods"]["pooled"]
    assert pooled["score"] is None and "permuted" in pooled["note"]
    line = next(line for line in text.splitlines() if line.startswith("pooled"))
    assert "n/a" in line and "permuted" in line


def test_progress_lines_only_when_verbose(tiny_runs):
    assert "[demo] generating" in tiny_runs["sinusoid"][1]
    assert "[demo]" not in tiny_runs["checkerboard"][1]


@pytest.mark.parametrize(
    "make, dummy, scoring",
    [
        (make_sinusoid_tasks, DummyRegressor(strategy="constant", constant=0.0),
         "neg_mean_squared_error"),
        (make_checkerboard_tasks, DummyClassifier(strategy="constant", constant=1), "accuracy"),
    ],
)
def test_pooled_scored_on_the_few_shot_scorers_query_rows(make, dummy, scoring):
    # A constant model scores the same whether fitted on support (scratch) or not
    # (pooled), so equal scores mean equal query rows.
    tasks = list(iter_tasks(*make(n_tasks=4, n_samples=20, random_state=3)))
    scorer = make_few_shot_scorer(scoring, shots=6, random_state=7)
    splitter = SupportQuerySplit(6, random_state=7)
    scratch = _evaluate(scorer, dummy, tasks, 1, 1.0)
    pooled = _evaluate(lambda m, X, y, groups: _pooled_score(
        m, X, y, groups, splitter=splitter, scoring=scoring),
        dummy.fit(tasks[0][1], tasks[0][2]), tasks, 1, 1.0)
    np.testing.assert_allclose(pooled["scores"], scratch["scores"])


class _Constant(RegressorMixin, BaseEstimator):
    """Predicts ``constant`` whatever it was fitted on; takes a seed as the demo sets one."""

    def __init__(self, constant=0.0, random_state=None):
        self.constant = constant
        self.random_state = random_state

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.full(np.asarray(X).shape[0], float(self.constant))


def test_run_scores_pooled_on_the_query_rows_of_the_scratch_column(monkeypatch):
    # The test above hands _pooled_score a splitter it built itself; run() must build the
    # one that matches its few-shot scorer (same shots and seed). With a constant model
    # scratch and pooled then score the same rows per task: equal scores, task by task.
    spec = dataclasses.replace(COLLECTIONS["sinusoid"], estimator=_Constant(),
                               grid={"constant": [0.0]})
    monkeypatch.setitem(COLLECTIONS, "sinusoid", spec)
    results = run("sinusoid", n_train_tasks=3, n_test_tasks=4, shots=5, n_jobs=1,
                  verbose=False, out=io.StringIO())
    m = results["methods"]
    assert np.ptp(m["scratch"]["scores"]) > 0  # the tasks' query rows do differ
    np.testing.assert_allclose(m["pooled"]["scores"], m["scratch"]["scores"], rtol=1e-12)
    np.testing.assert_allclose(m["meta-learned"]["scores"], m["scratch"]["scores"], rtol=1e-12)


def test_held_out_tasks_share_no_rows_with_training_tasks(monkeypatch):
    spec = COLLECTIONS["checkerboard"]
    calls = []

    def make(n, shots, split, seed):
        calls.append((split, seed, spec.make(n, shots, split, seed)))
        return calls[-1][2]

    monkeypatch.setitem(COLLECTIONS, "checkerboard", dataclasses.replace(spec, make=make))
    run("checkerboard", n_train_tasks=2, n_test_tasks=2, shots=10, n_jobs=1,
        verbose=False, out=io.StringIO())
    (train_split, train_seed, (X_train, *_)), (test_split, test_seed, (X_test, *_)) = calls
    assert (train_split, test_split) == ("train", "test") and train_seed != test_seed
    assert not set(map(tuple, X_train.tolist())) & set(map(tuple, X_test.tolist()))


def test_meta_learned_beats_scratch_on_checkerboard():
    results = run("checkerboard", n_train_tasks=8, n_test_tasks=20, shots=40, n_jobs=1,
                  random_state=0, verbose=False, out=io.StringIO())
    m = results["methods"]
    assert m["meta-learned"]["score"] > m["scratch"]["score"] + 0.03
    # Pooled rows come from tasks with other phases: close to chance.
    assert m["pooled"]["score"] < m["meta-learned"]["score"]


def test_main_prints_table(capsys):
    assert main(["--collection", "checkerboard", "--n-train-tasks", "3", "--n-test-tasks",
                 "2", "--shots", "10", "--n-jobs", "1", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "[demo]" not in text and "[MetaEstimator]" not in text
    for method in METHODS:
        assert f"\n{method}" in text


def test_help_lists_collections(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for name in COLLECTIONS:
        assert name in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--shots", "0"], "expected an integer >= 1"),
        (["--shots", "many"], "expected an integer >= 1"),
        (["--shots", "20"], "shots must be between 1 and 19"),
        (["--collection", "checkerboard", "--shots", "1"], "between 2 and 59"),
        (["--collection", "digits", "--shots", "160"], "between 1 and 159"),
        (["--n-train-tasks", "1"], "expected an integer >= 2"),
        (["--collection", "nope"], "invalid choice"),
        (["--n-jobs", "0"], "--n-jobs 0"),
        # Regressions: a seed above 2**32 - 1 was a traceback from MetaEstimator after the
        # collections were drawn (exit 1); "--5" was "invalid parse value".
        (["--random-state", str(2**32)], "expected an integer between 0 and 4294967295"),
        (["--shots=--5"], "expected an integer >= 1, got '--5'"),
    ],
)
def test_bad_arguments_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_run_rejects_bad_sizes_before_fitting(monkeypatch):
    # Before fitting: a meta-fit here fails the test (the error alone could come after it).
    from metasklearn import _demo

    def no_fit(*args, **kwargs):
        raise AssertionError("run() built the meta-estimator before checking the sizes")

    monkeypatch.setattr(_demo, "MetaEstimator", no_fit)
    with pytest.raises(ValueError, match="shots must be between 1 and 19"):
        run("sinusoid", shots=20, out=io.StringIO())
    with pytest.raises(ValueError, match="collection must be one of"):
        run("moons", out=io.StringIO())
    # The command line refuses these in argparse; run itself must too (a single training
    # task leaves LearnedDefault nothing to compare, one held-out task no standard error).
    with pytest.raises(ValueError, match=r"must be >= 2; got \[1, 50\]"):
        run("sinusoid", n_train_tasks=1, out=io.StringIO())
    with pytest.raises(ValueError, match=r"must be >= 2; got \[3, 1\]"):
        run("checkerboard", n_train_tasks=3, n_test_tasks=1, out=io.StringIO())


def test_python_dash_m_runs_the_command_line(monkeypatch, capsys):
    import runpy
    import sys

    monkeypatch.setattr(sys, "argv", ["python -m metasklearn", "--help"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("metasklearn", run_name="__main__")
    assert exc.value.code == 0
    assert "usage: python -m metasklearn" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["python -m metasklearn", "--shots", "0"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("metasklearn", run_name="__main__")
    assert exc.value.code == 2
    assert "expected an integer >= 1, got '0'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["sinusoid", "checkerboard"])
def test_standard_error_is_the_sample_sd_over_root_n(tiny_runs, name):
    results, _ = tiny_runs[name]
    for method in ("meta-learned", "scratch", "pooled"):
        m = results["methods"][method]
        scores = m["scores"]
        assert m["score"] == pytest.approx(scores.mean(), rel=1e-12)
        assert m["sem"] == pytest.approx(scores.std(ddof=1) / np.sqrt(len(scores)), rel=1e-12)


def test_candidates_mean_score_is_in_the_metric_s_units(tiny_runs):
    results, text = tiny_runs["sinusoid"]
    means = [row["mean_score"] for row in results["candidates"]]
    assert all(value > 0 for value in means)  # MSE, as in the table, not neg MSE
    table = text[text.index("top "):]
    printed = [float(line.split()[2]) for line in table.splitlines()[2:] if line.strip()]
    np.testing.assert_allclose(printed, np.round(means[:5], 3))


def test_default_params_are_the_base_estimator_s_own(tiny_runs):
    results, text = tiny_runs["checkerboard"]
    assert results["default_params"] == {"C": 1.0, "gamma": "scale"}
    assert "default 'scale'" in text
