"""NearestTasks / SurrogateDefault fit with and without reusing the matrix's meta-features.

``MetaEstimator``'s refit selects a setting for every training task; the two
meta-feature strategies take that task's meta-features from the matrix
(keyed by its rows) instead of computing them again. This times ``fit`` on
many tiny tasks both ways, alternating, in one run (BLAS capped at one thread:
small models are overhead-bound), and checks that the fitted learners agree.

    python benchmarks/bench_refit_metafeatures.py            # about 3 min, 2 cores
"""

import argparse
import contextlib
import statistics
import time
import warnings
from unittest import mock

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from metasklearn import MetaEstimator
from metasklearn.datasets import make_logistic_tasks
from metasklearn.hyperparams import NearestTasks, SurrogateDefault
from metasklearn.hyperparams._base import _MatrixStrategy
from metasklearn.metafeatures import compute_metafeatures


def _recompute(self, X, y):
    """The behaviour before the reuse: every call computes the meta-features."""
    return np.array(list(compute_metafeatures(X, y).values()), dtype=float)


def _tasks(n_tasks, n_rows):
    X, y, groups = make_logistic_tasks(n_tasks=n_tasks, n_samples=n_rows, random_state=0)
    # Two rows of each class per task, for the matrix's 2-fold stratified CV.
    ok = [t for t in np.unique(groups)
          if min(np.sum(y[groups == t] == 0), np.sum(y[groups == t] == 1)) >= 2]
    keep = np.isin(groups, ok)
    return X[keep], y[keep], groups[keep]


def _fit(strategy, X, y, groups, reuse):
    meta = MetaEstimator(LogisticRegression(), hyperparams=strategy, random_state=0)
    patch = (contextlib.nullcontext() if reuse
             else mock.patch.object(_MatrixStrategy, "_task_metafeatures", _recompute))
    with patch:
        start = time.perf_counter()
        meta.fit(X, y, groups=groups)
        seconds = time.perf_counter() - start
    coefs = np.array([meta.learners_[t].coef_ for t in meta.tasks_.tolist()])
    return seconds, coefs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tasks", type=int, default=200,
                        help="generated tasks before keeping those with 2 rows per class")
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y, groups = _tasks(args.n_tasks, args.rows)
    print(f"{np.unique(groups).size} tasks of {args.rows} rows, LogisticRegression, "
          f"C in [0.1, 1, 10], cv=2; {args.repeats} alternating repeats, BLAS at 1 thread")
    print(f"{'strategy':18s} {'recompute s':>12s} {'reuse s':>9s} {'ratio':>7s}  learners equal")
    for name, make in [("NearestTasks", NearestTasks), ("SurrogateDefault", SurrogateDefault)]:
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _fit(make({"C": [0.1, 1, 10]}, cv=2), X, y, groups, True)  # warm-up, untimed
        times = {True: [], False: []}
        equal = True
        for repeat in range(args.repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)
            results = {}
            for reuse in order:
                with threadpool_limits(1), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    seconds, coefs = _fit(make({"C": [0.1, 1, 10]}, cv=2), X, y, groups,
                                          reuse)
                times[reuse].append(seconds)
                results[reuse] = coefs
            equal &= np.array_equal(results[True], results[False])
        old, new = statistics.median(times[False]), statistics.median(times[True])
        print(f"{name:18s} {old:12.2f} {new:9.2f} {new / old:7.3f}  {equal}")


if __name__ == "__main__":
    main()
