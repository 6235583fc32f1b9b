"""``python -m metasklearn``: meta-learned vs scratch vs pooled on held-out tasks."""

import argparse
import contextlib
import sys
import time
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.svm import SVC
from sklearn.utils.parallel import Parallel, delayed

from ._meta_estimator import MetaEstimator
from .datasets import load_digits_episodes, make_checkerboard_tasks, make_sinusoid_tasks
from .hyperparams import LearnedDefault
from .model_selection import make_few_shot_scorer
from .tasks import SupportQuerySplit, iter_tasks


@dataclass(frozen=True)
class _Collection:
    help: str
    make: object  # (n_tasks, shots, split, seed) -> X, y, groups
    estimator: object
    grid: dict
    scoring: str
    metric: str
    sizes: tuple  # default (n_train_tasks, n_test_tasks, shots)
    shots_range: tuple  # leaves a query row in every task (every class of an episode)
    per_class: bool = False  # shots per class (episodes) rather than per task
    pooled_na: str = None  # why a pooled model is meaningless, if it is


COLLECTIONS = {
    "sinusoid": _Collection(
        help="MAML sinusoids (20 rows/task), MLPRegressor, query MSE",
        make=lambda n, shots, split, seed: make_sinusoid_tasks(n, 20, random_state=seed),
        estimator=MLPRegressor(),
        # Checked on held-out tasks: activation and learning_rate_init move the MSE
        # most; max_iter and layer sizes little once the rate is >= 1e-2. The
        # default (relu, 1e-3) is always a candidate too.
        grid={"activation": ["relu", "tanh"], "learning_rate_init": [1e-2, 3e-2]},
        scoring="neg_mean_squared_error", metric="MSE", sizes=(20, 50, 10),
        shots_range=(1, 19)),
    "checkerboard": _Collection(
        help="shifted 2-D checkerboards (60 rows/task), SVC, accuracy",
        make=lambda n, shots, split, seed: make_checkerboard_tasks(n, 60, random_state=seed),
        estimator=SVC(),
        grid={"C": [0.1, 1, 10, 100], "gamma": [0.1, 1, 10, 100]},
        # 40 shots: the within-task 3-fold CV of LearnedDefault trains on 40 rows too.
        # At least 2 shots: the stratified support set needs a row of each class.
        scoring="accuracy", metric="accuracy", sizes=(20, 50, 40), shots_range=(2, 59)),
    "digits": _Collection(
        help="5-way digit episodes (0-4 meta-train, 5-9 held out), MLPClassifier, accuracy",
        # Meta-training episodes keep 5 query rows per class: the within-task CV then
        # trains on about a support set's worth of rows, and the population learner
        # that MetaEstimator.fit also trains on all rows stays cheap.
        make=lambda n, shots, split, seed: load_digits_episodes(
            n_way=5, k_shot=shots, n_query=5 if split == "train" else 15, n_episodes=n,
            split=split, random_state=seed),
        estimator=MLPClassifier(),
        grid={"learning_rate_init": [1e-2], "alpha": [1e-4, 1e-1]},
        # The rarest held-out digit has 174 images, 15 of which are query rows.
        scoring="accuracy", metric="accuracy", sizes=(20, 30, 5), shots_range=(1, 159),
        per_class=True,
        pooled_na="labels are permuted per episode and held-out digits are unseen"),
}


def _sizes(spec, n_train_tasks, n_test_tasks, shots):
    """Fill in defaults and fail before the slow meta-fit rather than when scoring."""
    sizes = [d if v is None else v for v, d in zip((n_train_tasks, n_test_tasks, shots),
                                                   spec.sizes)]
    if min(sizes[:2]) < 2:
        raise ValueError(f"n_train_tasks (LearnedDefault compares tasks) and n_test_tasks "
                         f"(for a standard error) must be >= 2; got {sizes[:2]}.")
    low, high = spec.shots_range
    if not low <= sizes[2] <= high:
        raise ValueError(f"shots must be between {low} and {high} for this collection; "
                         f"got {sizes[2]}.")
    return sizes


def _pooled_score(model, X, y, groups, *, splitter, scoring):
    """Score the fitted pooled model on the query rows the few-shot scorer uses."""
    # Same splitter, seed and labels argument as FewShotScorer, hence the same rows.
    _, query = next(splitter.split(X, y if is_classifier(model) else None, groups))
    return check_scoring(model, scoring)(model, X[query], y[query])


def _timed(score, estimator, X, y):
    start = time.perf_counter()
    value = score(estimator, X, y, groups=np.zeros(y.shape[0], dtype=int))
    return value, time.perf_counter() - start


def _evaluate(score, estimator, tasks, n_jobs, sign):
    # One call per task, so every task has its own score for the standard error.
    results = Parallel(n_jobs=n_jobs)(delayed(_timed)(score, estimator, X, y)
                                      for _, X, y in tasks)
    scores = sign * np.array([value for value, _ in results])
    return {"score": float(scores.mean()),
            "sem": float(scores.std(ddof=1) / np.sqrt(scores.shape[0])),
            "time_per_task": float(np.mean([t for _, t in results])), "scores": scores}


def run(collection="sinusoid", *, n_train_tasks=None, n_test_tasks=None, shots=None,
        n_jobs=-1, random_state=0, verbose=True, out=None):
    """Meta-train, adapt to held-out tasks, and print the comparison table.

    Parameters
    ----------
    collection : {"sinusoid", "checkerboard", "digits"}, default="sinusoid"
        Task collection, base estimator and metric (see ``COLLECTIONS``).
    n_train_tasks, n_test_tasks, shots : int, default=None
        Meta-training tasks, held-out tasks, and support rows per held-out
        task (per class for digits); ``None`` takes the collection's default.
    n_jobs : int, default=-1
        Joblib jobs for meta-fitting and for scoring held-out tasks.
    random_state : int or None, default=0
        Seeds the collections, the support/query split and every estimator.
    verbose : bool, default=True
        Print progress lines.
    out : file-like, default=None
        Where to print; ``None`` means ``sys.stdout``.

    Returns
    -------
    results : dict
        ``methods`` maps "meta-learned", "scratch" and "pooled" to ``score``
        (mean over held-out tasks in the metric's units, so MSE is positive),
        ``sem``, ``scores`` (per task), ``fit_time`` and ``time_per_task``;
        pooled has ``score=None`` and a ``note`` where it is meaningless.
        Also ``best_params``, ``default_params`` and the ranked ``candidates``.
    """
    out = sys.stdout if out is None else out
    if collection not in COLLECTIONS:
        raise ValueError(f"collection must be one of {sorted(COLLECTIONS)}; got {collection!r}.")
    spec = COLLECTIONS[collection]
    n_train_tasks, n_test_tasks, shots = _sizes(spec, n_train_tasks, n_test_tasks, shots)

    def log(message):
        if verbose:
            print(f"[demo] {message}", file=out, flush=True)

    # Independent streams: held-out tasks never share a seed, so rows, with training tasks.
    train_seed, test_seed, split_seed = (
        int(s) for s in np.random.SeedSequence(random_state).generate_state(3))
    sign = -1.0 if spec.scoring.startswith("neg_") else 1.0
    base, per_class = spec.estimator, spec.per_class
    # Scratch keeps every scikit-learn default; only the seed is fixed, for reproducibility.
    scratch = clone(base).set_params(random_state=random_state)
    methods = {}
    with warnings.catch_warnings():
        # MLPs on a few rows hit max_iter; the warnings would drown the table.
        # sklearn.utils.parallel hands these filters on to the joblib workers (from
        # scikit-learn 1.7 on; 1.6 hands on the configuration only).
        warnings.simplefilter("ignore", ConvergenceWarning)
        log(f"generating {n_train_tasks} meta-training and {n_test_tasks} held-out "
            f"{collection} tasks")
        X, y, groups = spec.make(n_train_tasks, shots, "train", train_seed)
        held_out = list(iter_tasks(*spec.make(n_test_tasks, shots, "test", test_seed)))

        log(f"meta-fitting MetaEstimator({type(base).__name__}(), LearnedDefault)")
        meta = MetaEstimator(clone(base), n_jobs=n_jobs, random_state=random_state,
                             hyperparams=LearnedDefault(spec.grid, scoring=spec.scoring),
                             verbose=int(verbose))
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):  # its progress lines go where ours go
            meta.fit(X, y, groups=groups)
        meta_time = time.perf_counter() - start

        log("scoring held-out tasks (adapt on support rows, score query rows)")
        scorer = make_few_shot_scorer(spec.scoring, shots=shots, per_class=per_class,
                                      random_state=split_seed)
        for name, estimator, fit_time in [("meta-learned", meta, meta_time),
                                          ("scratch", scratch, None)]:
            methods[name] = dict(_evaluate(scorer, estimator, held_out, n_jobs, sign),
                                 fit_time=fit_time)
        if spec.pooled_na is not None:
            methods["pooled"] = {"score": None, "sem": None, "fit_time": None,
                                 "time_per_task": None, "note": spec.pooled_na}
        else:
            log(f"fitting pooled {type(base).__name__} on all {y.shape[0]} meta-training rows")
            start = time.perf_counter()
            pooled = clone(scratch).fit(X, y)
            pooled_time = time.perf_counter() - start
            splitter = SupportQuerySplit(shots, per_class=per_class, random_state=split_seed)
            score = partial(_pooled_score, splitter=splitter, scoring=spec.scoring)
            methods["pooled"] = dict(_evaluate(score, pooled, held_out, n_jobs, sign),
                                     fit_time=pooled_time)
    cv = meta.hyperparams_.cv_results_
    candidates = [{"rank": int(cv["rank_normalized_score"][i]), "params": cv["params"][i],
                   "mean_normalized_score": float(cv["mean_normalized_score"][i]),
                   "mean_score": float(sign * cv["mean_score"][i])}
                  for i in np.argsort(cv["rank_normalized_score"], kind="stable")]
    results = {
        "collection": collection, "estimator": type(base).__name__, "metric": spec.metric,
        "lower_is_better": sign < 0, "n_train_tasks": n_train_tasks,
        "n_test_tasks": n_test_tasks, "shots": shots, "per_class": per_class,
        "methods": methods, "best_params": dict(meta.best_params_),
        "default_params": {k: base.get_params()[k] for k in meta.best_params_},
        "candidates": candidates,
    }
    _print_report(results, out)
    return results


def _print_report(r, out):
    p = partial(print, file=out)
    better = "lower is better" if r["lower_is_better"] else "higher is better"
    p(f"\n== {r['collection']}: {r['estimator']}, query {r['metric']} ({better}) ==")
    p(f"meta-train: {r['n_train_tasks']} tasks; held out: {r['n_test_tasks']} new tasks, "
      f"{r['shots']} support rows per {'class' if r['per_class'] else 'task'}, "
      "scored on the rest\n")
    p(f"{'method':<14}{r['metric'] + ' ± s.e.':>18}{'fit time':>12}{'time/task':>12}")
    for name, m in r["methods"].items():
        fit = "-" if m["fit_time"] is None else f"{m['fit_time']:.2f} s"
        if m["score"] is None:
            p(f"{name:<14}{'n/a':>18}{fit:>12}{'-':>12}   ({m['note']})")
        else:
            score = f"{m['score']:.3f} ± {m['sem']:.3f}"
            p(f"{name:<14}{score:>18}{fit:>12}{m['time_per_task'] * 1e3:>9.1f} ms")
    p("(fit time: meta-fit or pooled fit, once; time/task: adapt or fit + predict on one "
      "held-out task, pooled: predict only)\n")
    p("learned settings (best_params_) vs the base estimator's defaults:")
    for name, value in r["best_params"].items():
        p(f"  {name:<22}learned {value!r:<12}default {r['default_params'][name]!r}")
    n = len(r["candidates"])
    p(f"\ntop {min(5, n)} of {n} candidates by within-task CV on the meta-training tasks:")
    p(f"  {'rank':>4}  {'mean norm.':>10}  {'mean ' + r['metric']:>13}  params")
    for row in r["candidates"][:5]:
        p(f"  {row['rank']:>4}  {row['mean_normalized_score']:>10.3f}  "
          f"{row['mean_score']:>13.3f}  {row['params']}")


def _int_at_least(low, high=None):
    within = f">= {low}" if high is None else f"between {low} and {high}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:  # argparse would say "invalid parse value"
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected an integer {within}, got {text!r}")
        return value
    return parse


def main(argv=None):
    """Command line entry point of ``python -m metasklearn``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; bad arguments exit with status 2, the argparse way.
    """
    parser = argparse.ArgumentParser(
        prog="python -m metasklearn", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Meta-train on a task collection, adapt to held-out tasks, and compare "
                    "meta-learned settings with scratch (scikit-learn defaults on the "
                    "support rows) and pooled (one model on all meta-training rows).",
        epilog="collections:\n" + "\n".join(
            f"  {name:<14}{spec.help}\n{'':16}default: {spec.sizes[0]} train tasks, "
            f"{spec.sizes[1]} held-out tasks, {spec.sizes[2]} shots"
            for name, spec in COLLECTIONS.items()))
    parser.add_argument("--collection", choices=list(COLLECTIONS), default="sinusoid")
    parser.add_argument("--n-train-tasks", type=_int_at_least(2), help="meta-training tasks")
    parser.add_argument("--n-test-tasks", type=_int_at_least(2), help="held-out tasks")
    parser.add_argument("--shots", type=_int_at_least(1),
                        help="support rows per held-out task (per class for digits)")
    parser.add_argument("--n-jobs", type=int, default=-1, help="joblib jobs (default -1)")
    # The estimators take seeds up to 2**32 - 1 (numpy's); a larger one failed after the
    # data were drawn, with a traceback.
    parser.add_argument("--random-state", type=_int_at_least(0, 2**32 - 1), default=0,
                        help="seed of everything (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.n_jobs == 0:
        parser.error("--n-jobs 0 means no worker at all; use 1, a larger number, or -1.")
    try:
        # Size errors are usage errors: report them the argparse way, before any work.
        _sizes(COLLECTIONS[args.collection], args.n_train_tasks, args.n_test_tasks, args.shots)
    except ValueError as exc:
        parser.error(str(exc))
    run(args.collection, n_train_tasks=args.n_train_tasks, n_test_tasks=args.n_test_tasks,
        shots=args.shots, n_jobs=args.n_jobs, random_state=args.random_state,
        verbose=not args.quiet)
    return 0
