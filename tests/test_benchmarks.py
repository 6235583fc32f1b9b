"""Regression tests for defects found in the benchmark scripts (benchmarks/ is not a package).

The scripts' heavy references (statsmodels, torch) are benchmark-only extras, so these tests
stand in for them with recording fakes: they check what the scripts ask of those libraries.
"""

import argparse
import sys
import types
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    """Import a benchmark script by name, as it runs: with benchmarks/ on ``sys.path``."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def load(name):
        monkeypatch.delitem(sys.modules, name, raising=False)
        return __import__(name)

    return load


class _RecordingMixedGLM:
    """Stands in for statsmodels' BinomialBayesMixedGLM; records the start of each fit."""

    starts = []

    def __init__(self, endog, exog, exog_vc, ident, vcp_p, fe_p):
        self.k_fep, self.k_vc = exog.shape[1], exog_vc.shape[1]
        self.k_vcp = len(np.unique(ident))

    def fit_vb(self, mean=None, sd=None):
        self.starts.append(sd)
        return types.SimpleNamespace(fe_mean=np.zeros(self.k_fep), vc_mean=np.zeros(self.k_vc))


def test_the_mixed_logistic_baseline_starts_every_fit_from_the_same_seeded_values(
        bench, monkeypatch):
    # statsmodels' fit_vb draws its start at random when given none, and the variational fit
    # ends where its start leads: guPrenat's "mixed" column changed from run to run.
    fake = types.ModuleType("statsmodels.genmod.bayes_mixed_glm")
    fake.BinomialBayesMixedGLM = _RecordingMixedGLM
    monkeypatch.setitem(sys.modules, "statsmodels.genmod.bayes_mixed_glm", fake)
    monkeypatch.setattr(_RecordingMixedGLM, "starts", [])
    linear_prior = bench("bench_linear_prior")
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 3), rng.randint(0, 2, 40)
    groups = np.repeat(np.arange(4), 10)
    fit_rows = np.arange(34)  # task 3's support rows are fitted with the others
    episodes = {3: (np.arange(30, 34), np.arange(34, 40))}
    for _ in range(2):
        preds, _ = linear_prior._mixed_binomial(X, y, groups, fit_rows, episodes, strong=0,
                                                repeats=2)
        np.testing.assert_allclose(preds[3], 0.5)
    starts = _RecordingMixedGLM.starts
    assert len(starts) == 4 and all(sd is not None for sd in starts)
    # 4 fixed effects, 2 variance parameters, an intercept and a slope per group
    assert starts[0].shape == (4 + 2 + 2 * 4,)
    assert np.all(np.isfinite(starts[0])) and np.all(starts[0] > 0)
    for sd in starts[1:]:
        np.testing.assert_array_equal(sd, starts[0])


def test_the_throughput_part_runs_only_the_strategies_asked_for(bench, monkeypatch):
    mlp_meta = bench("bench_mlp_meta")
    timed = []
    monkeypatch.setattr(mlp_meta, "_sinusoid_pool", lambda n_tasks: (None, None, None))
    monkeypatch.setattr(mlp_meta, "_sklearn_loop_rate",
                        lambda name, *rest: timed.append(("loop", name)) or 1.0)
    monkeypatch.setattr(mlp_meta, "_our_rate",
                        lambda Strategy, *rest: timed.append(("ours", Strategy.__name__)) or 2.0)
    monkeypatch.setattr(mlp_meta, "_torch_rate",
                        lambda name, *rest: timed.append(("torch", name)) or 1.0)
    monkeypatch.setattr(mlp_meta, "_stacked_matmul_times", lambda repeats: None)
    args = argparse.Namespace(strategies=["Reptile"], repeats=1, throughput_tasks=100,
                              loop_tasks=2)
    mlp_meta.part_throughput(args)
    assert {name for _, name in timed} == {"Reptile"}
    assert ("loop", "Reptile") in timed and ("ours", "Reptile") in timed


def test_the_letters_hindsight_start_never_meta_trains_on_a_row_of_the_test_episodes(
        bench, monkeypatch):
    # The hindsight row of bench_letters_bound.py may see the meta-test *classes*, never the
    # rows its test episodes are cut from; the benchmark's own start must see neither.
    bound = bench("bench_letters_bound")
    rng = np.random.RandomState(0)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    X, y = rng.randn(26 * 40, 16), np.repeat(letters, 40)
    X[:, 0] = np.arange(len(y))  # a row id that survives the standardisation's order
    monkeypatch.setattr(bound, "letters_split", lambda split, test_size: (
        X, y, letters[:13], letters[13:]))
    drawn = []

    def episodes(X_, y_, classes, n_episodes, random_state):
        drawn.append((X_[:, 0].copy(), set(classes)))
        return X_[:1], y_[:1], np.zeros(1, dtype=int)

    class FakeStrategy:
        def __init__(self, **params):
            pass

        def fit(self, *args, **kwargs):
            return self

        def adapt(self, est, a, b):
            return est

    monkeypatch.setattr(bound, "_episodes", episodes)
    monkeypatch.setattr(bound, "episode_accuracy", lambda *args: np.array([1.0]))
    monkeypatch.setattr(bound, "STRATEGIES", {"MAML": FakeStrategy})
    runs = {}
    for job in bound._jobs(["hindsight"], "MAML"):
        drawn.clear()
        bound._run(job, 600)
        (test_rows, test_classes), (train_rows, train_classes) = drawn
        runs[bool(job.get("hindsight"))] = (test_rows, test_classes, train_rows, train_classes)
    for hindsight, (test_rows, test_classes, train_rows, train_classes) in runs.items():
        assert test_classes == set(letters[13:])
        assert train_classes == (set(letters[13:]) if hindsight else set(letters[:13]))
        if hindsight:
            assert not np.isin(train_rows, test_rows).any()
            assert len(train_rows) + len(test_rows) == len(y)
    # both rows of the part are scored on the same test rows
    np.testing.assert_array_equal(runs[True][0], runs[False][0])
