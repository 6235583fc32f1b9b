"""LearnedDefault against the scikit-learn default and per-task grid search, on held-out tasks.

Run from the repository root after ``python -m pip install -e ".[bench]"``::

    python benchmarks/bench_learned_default.py [--seeds 3] [--n-jobs 2]

For each collection and seed: meta-train on ``n_train`` generated tasks, then on
``n_test`` *other* tasks (another seed; no row seen in fit) take ``shots`` support
rows and score the rest. Methods:

* default       the base estimator with scikit-learn's defaults, fitted on the support rows
* learned       ``MetaEstimator(base, hyperparams=LearnedDefault(grid)).adapt(support)``
* per-task grid ``GridSearchCV(base, grid, cv=3)`` on the support rows of each task (what a
                user would otherwise do; the same grid the learned default chose from)
* pooled        the base estimator fitted once on all meta-training rows

Times: ``meta-fit`` is the one-off cost over the collection; ``per task`` is the mean
wall time to get a fitted model for one new task and predict its query rows. BLAS is
capped at one thread (threadpoolctl): these are many tiny fits, overhead-bound.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

import _plotting  # benchmarks/ is on sys.path when a script here runs

from metasklearn import MetaEstimator
from metasklearn.datasets import make_checkerboard_tasks, make_sinusoid_tasks
from metasklearn.hyperparams import LearnedDefault
from metasklearn.tasks import SupportQuerySplit

COLLECTIONS = {
    "checkerboard / SVC (accuracy)": dict(
        make=lambda n, rows, seed: make_checkerboard_tasks(n, rows, random_state=seed),
        base=SVC(),
        grid={"C": [0.1, 1, 10, 100], "gamma": [0.1, 1, 10, 100]},
        scoring="accuracy",
        n_train=30, train_rows=60, n_test=50, test_rows=160, shots=60,
    ),
    "sinusoid / MLPRegressor (MSE)": dict(
        make=lambda n, rows, seed: make_sinusoid_tasks(n, rows, random_state=seed)[:3],
        base=MLPRegressor(),
        grid={"learning_rate_init": [1e-3, 1e-2, 3e-2], "max_iter": [200, 1000],
              "hidden_layer_sizes": [(100,), (40, 40)]},
        scoring="neg_mean_squared_error",
        n_train=30, train_rows=20, n_test=50, test_rows=110, shots=10,
    ),
}


def _score(model, X, y, scoring):
    pred = model.predict(X)
    if scoring == "accuracy":
        return float(np.mean(pred == y))
    return float(np.mean((pred - y) ** 2))


def _held_out(fit_one, X, y, groups, shots, scoring, seed):
    """Mean query score and mean seconds per task of ``fit_one(X_support, y_support)``."""
    support, query = next(SupportQuerySplit(shots, random_state=seed).split(X, None, groups))
    scores, start = [], time.perf_counter()
    for task in np.unique(groups):
        s, q = support[groups[support] == task], query[groups[query] == task]
        scores.append(_score(fit_one(X[s], y[s]), X[q], y[q], scoring))
    return np.mean(scores), (time.perf_counter() - start) / len(scores)


def run_collection(spec, seed, n_jobs):
    base, grid, scoring = spec["base"], spec["grid"], spec["scoring"]
    X, y, groups = spec["make"](spec["n_train"], spec["train_rows"], seed)
    X_test, y_test, g_test = spec["make"](spec["n_test"], spec["test_rows"], seed + 1000)
    seeded = clone(base).set_params(**(
        {"random_state": seed} if "random_state" in base.get_params() else {}))
    rows = {}

    start = time.perf_counter()
    meta = MetaEstimator(base, hyperparams=LearnedDefault(grid, scoring=scoring),
                         n_jobs=n_jobs, random_state=seed).fit(X, y, groups=groups)
    meta_fit = time.perf_counter() - start

    def held(fit_one):
        return _held_out(fit_one, X_test, y_test, g_test, spec["shots"], scoring, seed)

    rows["default"] = (*held(lambda a, b: clone(seeded).fit(a, b)), 0.0)
    rows["learned"] = (*held(meta.adapt), meta_fit)
    # In-process, as the other methods: worker processes would only add their start-up
    # and transfer costs to 48 fits of a millisecond.
    rows["per-task grid"] = (*held(lambda a, b: GridSearchCV(
        seeded, grid, cv=3, scoring=scoring, n_jobs=1).fit(a, b).best_estimator_), 0.0)
    start = time.perf_counter()
    pooled = clone(seeded).fit(X, y)
    pooled_fit = time.perf_counter() - start
    rows["pooled"] = (*held(lambda a, b: pooled), pooled_fit)
    return rows, meta.best_params_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--plot", default="benchmarks/results/learned_default.png")
    args = parser.parse_args(argv)

    results = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, spec in COLLECTIONS.items():
            for seed in range(args.seeds):
                rows, best = run_collection(spec, seed, args.n_jobs)
                print(f"{name}  seed {seed}: learned {best}", flush=True)
                for method, row in rows.items():
                    results.setdefault(name, {}).setdefault(method, []).append(row)

    print(f"\nheld-out tasks, mean over {args.seeds} seeds (± std over seeds)")
    print(f"{'collection':32} {'method':14} {'score':>16} {'per task s':>11} {'meta-fit s':>11}")
    for name, methods in results.items():
        for method, rows in methods.items():
            rows = np.array(rows)
            print(f"{name:32} {method:14} {rows[:, 0].mean():9.3f} ± {rows[:, 0].std():.3f}"
                  f" {rows[:, 1].mean():11.4f} {rows[:, 2].mean():11.2f}")
    _plot(results, args.plot)


def _plot(results, path):
    figure = _plotting.subplots(len(results), 5, 3.5)
    if figure is None:
        return
    fig, axes = figure
    for ax, (name, methods) in zip(axes, results.items()):
        means = [np.mean(np.array(rows)[:, 0]) for rows in methods.values()]
        errors = [np.std(np.array(rows)[:, 0]) for rows in methods.values()]
        ax.bar(list(methods), means, yerr=errors, color=["grey", "C0", "C1", "C2"])
        ax.set_title(name)
    _plotting.save(fig, path)


if __name__ == "__main__":
    main()
