"""Meta-training speed of this checkout against an earlier revision, side by side in one process.

The earlier revision's package is exported with ``git archive`` and imported under another
name, so both run in the same process on the same tasks, alternating (this 2-core VM has slow
phases lasting seconds; alternating and keeping each side's best run is what makes a ratio
trustworthy). Meta-training tasks per CPU second on the sinusoid net of
``bench_mlp_meta.py throughput`` (1-40-40-1, one inner SGD step, one BLAS thread).

    python benchmarks/compare_engines.py --rev 4a36168 --rounds 9

prints, per strategy and meta-batch size, the best rate of each side, their ratio, and the
median of the ratios of adjacent runs.

    python benchmarks/compare_engines.py --rev 4a36168 --same-start 70000

checks instead that both revisions learn the same start: ``MAML`` on the sinusoid protocol
(1 inner step, meta-batch 25, seed 0, that many meta-iterations), then the largest weight
difference and the MSE after one step on the protocol's 100 test tasks for each.
"""

import argparse
import importlib
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from metasklearn.datasets import make_sinusoid_tasks

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def _import_revision(rev, where):
    """Import ``metasklearn`` as of ``rev`` under the name ``metasklearn_<rev>``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "metasklearn"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse unsafe members
            tar.extractall(where, filter="data")
        else:  # our own git archive of our own package
            tar.extractall(where)
    name = f"metasklearn_{rev}"
    (Path(where) / "metasklearn").rename(Path(where) / name)  # relative imports only
    sys.path.insert(0, str(where))
    return importlib.import_module(f"{name}.init")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier git revision")
    parser.add_argument("--rounds", type=int, default=9, help="alternating runs per side")
    parser.add_argument("--n-iter", type=int, default=100, help="meta-iterations at 25")
    parser.add_argument("--strategies", nargs="*", default=["MAML", "FOMAML", "Reptile"])
    parser.add_argument("--same-start", type=int, default=None, metavar="N_ITER",
                        help="compare the MAML starts both learn instead of the speed")
    args = parser.parse_args(argv)
    import bench_mlp_meta as bench
    import metasklearn.init as current

    with tempfile.TemporaryDirectory() as where:
        earlier = _import_revision(args.rev, where)
        if args.same_start is not None:
            _same_start(bench, earlier, current, args.rev, args.same_start)
            return
        X, y, groups = bench._sinusoid_pool(20000)
        learner = bench.sinusoid_learner(1)
        print(f"meta-training tasks per CPU second, best of {args.rounds} alternating runs, "
              f"one thread: {args.rev} against this checkout")
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in args.strategies:
                for batch, n_iter in ((25, args.n_iter), (500, max(2, args.n_iter // 20))):
                    rates = {"earlier": [], "now": []}
                    for _ in range(args.rounds):
                        for side, module in (("earlier", earlier), ("now", current)):
                            strategy = getattr(module, name)(n_iter=n_iter,
                                                             meta_batch_size=batch, shots=10)
                            start = time.process_time()
                            strategy.fit(learner, X, y, groups, random_state=0)
                            rates[side].append(n_iter * batch / (time.process_time() - start))
                    old, new = max(rates["earlier"]), max(rates["now"])
                    # a slow phase hits neighbouring runs alike: the median of the ratios of
                    # adjacent runs is the steadier figure, the ratio of the bests the other
                    paired = np.median(np.array(rates["now"]) / np.array(rates["earlier"]))
                    print(f"{name:8} meta-batch {batch:4d}: {args.rev} {old:7.0f}  now "
                          f"{new:7.0f}  ratio of bests {new / old:.2f}, median paired ratio "
                          f"{paired:.2f}", flush=True)


def _same_start(bench, earlier, current, rev, n_iter):
    X, y, groups = bench._sinusoid_pool(25 * n_iter)
    X_test, y_test, g_test = make_sinusoid_tasks(n_tasks=100, n_samples=bench.K + 100,
                                                 random_state=12345)
    starts = {}
    with threadpool_limits(1):
        for side, module in ((rev, earlier), ("now", current)):
            strategy = module.MAML(n_iter=n_iter, meta_batch_size=25, meta_learning_rate=1e-3,
                                   shots=bench.K)
            starts[side] = strategy.fit(bench.sinusoid_learner(1), X, y, groups,
                                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for side, strategy in starts.items():
            mse, _ = bench._mse_after(strategy.adapt, X_test, y_test, g_test, 1)
            print(f"{side:>8}: MSE after 1 step on the protocol's test tasks {mse:.10f}")
    weights = [np.concatenate([p.ravel() for p in s.coefs_ + s.intercepts_])
               for s in starts.values()]
    print(f"largest weight difference after {n_iter} meta-iterations: "
          f"{np.abs(weights[0] - weights[1]).max():.3g} (largest weight "
          f"{np.abs(weights[0]).max():.3g})")


if __name__ == "__main__":
    main()
