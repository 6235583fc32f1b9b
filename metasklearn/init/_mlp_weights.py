"""Read the settings of, and write starting weights into, MLPClassifier / MLPRegressor.

One job: map a learned starting point onto one task's network (the output
layer depends on the task's labels) and start that network's *own* ``fit``
from it, through ``warm_start=True``.
"""

import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import _get_feature_names, check_array


def check_mlp(estimator, strategy):
    """Return ``"classification"`` or ``"regression"``, or raise for another estimator."""
    if isinstance(estimator, MLPClassifier):
        return "classification"
    if isinstance(estimator, MLPRegressor):
        if estimator.loss != "squared_error":
            raise ValueError(
                f"{strategy} supports MLPRegressor(loss='squared_error'); got "
                f"loss={estimator.loss!r}.")
        return "regression"
    raise ValueError(
        f"{strategy} learns starting weights of a multi-layer perceptron and supports "
        f"MLPClassifier and MLPRegressor; got {type(estimator).__name__}. Use one of "
        "these as the base estimator, or another init strategy."
    )


def hidden_sizes(estimator):
    sizes = estimator.hidden_layer_sizes
    return list(sizes) if hasattr(sizes, "__iter__") else [sizes]


def out_activation(kind, n_labels):
    """The output activation ``fit`` picks for a task with ``n_labels`` classes."""
    if kind == "regression":
        return "identity"
    return "logistic" if n_labels == 2 else "softmax"


def head_map(label_space, n_head, label_idx):
    """Matrix ``M`` with ``task output layer = learned output layer @ M``.

    Parameters
    ----------
    label_space : {"shared", "episodic", "regression"}
    n_head : int
        Width of the learned output layer.
    label_idx : ndarray of int or None
        For "shared", positions of the task's (sorted) labels among the known
        labels; for "episodic", ``arange(n_labels)``; ``None`` for regression.

    Returns
    -------
    M : ndarray of shape (n_head, n_task_outputs)

    Notes
    -----
    A two-label task has one logistic unit. From a softmax head over known
    labels ``i < j`` the equivalent unit is ``w_j - w_i`` (same
    probabilities); in the episodic head all classes share one vector, so
    that unit starts at zero.

    Examples
    --------
    >>> import numpy as np
    >>> head_map("shared", 4, np.array([1, 3]))[:, 0].tolist()
    [0.0, -1.0, 0.0, 1.0]
    >>> head_map("episodic", 1, np.arange(3)).tolist()
    [[1.0, 1.0, 1.0]]
    """
    if label_space == "regression":
        return np.eye(n_head)
    m = len(label_idx)
    if label_space == "episodic":
        return np.zeros((1, 1)) if m == 2 else np.ones((1, m))
    if n_head == 1:  # the known labels are two: the task has both
        return np.ones((1, 1))
    if m == 2:
        M = np.zeros((n_head, 1))
        M[label_idx[1], 0], M[label_idx[0], 0] = 1.0, -1.0
        return M
    return np.eye(n_head)[:, label_idx]


def task_weights(coefs, intercepts, M):
    """Copies of the learned weights with the output layer mapped through ``M``."""
    coefs = [c.copy() for c in coefs[:-1]] + [coefs[-1] @ M]
    intercepts = [b.copy() for b in intercepts[:-1]] + [intercepts[-1] @ M]
    return coefs, intercepts


def fit_from(estimator, X, y, coefs, intercepts, strategy):
    """Fit ``estimator`` by its own ``fit``, starting from the given weights.

    Sets what a first ``fit`` would have set before training (so the run
    equals a fresh ``fit`` whose initialisation drew these weights) and
    restores the user's ``warm_start`` afterwards: a later ``fit`` on the
    returned learner behaves as that setting says (re-initialise, or
    continue from the adapted weights).
    """
    warm_start = estimator.warm_start
    X_checked = check_array(X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
    estimator.n_features_in_ = X_checked.shape[1]
    names = _get_feature_names(X)
    if names is not None:
        estimator.feature_names_in_ = names
    dtype = X_checked.dtype
    estimator.coefs_ = [np.array(c, dtype=dtype) for c in coefs]
    estimator.intercepts_ = [np.array(b, dtype=dtype) for b in intercepts]
    estimator.n_layers_ = len(coefs) + 1
    estimator.n_outputs_ = coefs[-1].shape[1]
    if isinstance(estimator, MLPClassifier):
        binarizer = LabelBinarizer().fit(y)
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
        estimator.out_activation_ = out_activation("classification", len(binarizer.classes_))
    else:
        estimator.out_activation_ = "identity"
    # The state _initialize gives a fresh fit; warm_start would otherwise carry it on.
    estimator.n_iter_ = 0
    estimator.t_ = 0
    estimator.loss_curve_ = []
    estimator._no_improvement_count = 0
    estimator.best_loss_ = None if estimator.early_stopping else np.inf
    estimator.validation_scores_ = [] if estimator.early_stopping else None
    estimator.best_validation_score_ = -np.inf if estimator.early_stopping else None
    estimator._best_coefs = [c.copy() for c in estimator.coefs_]
    estimator._best_intercepts = [b.copy() for b in estimator.intercepts_]
    estimator.set_params(warm_start=True)
    try:
        estimator.fit(X, y)
    except ValueError as exc:
        if "non-finite" not in str(exc):
            raise
        raise ValueError(
            f"{strategy}.adapt: training from the learned start diverged (non-finite "
            f"weights) with solver={estimator.solver!r} and learning_rate_init="
            f"{estimator.learning_rate_init!r}. Lower the base estimator's "
            "learning_rate_init or standardise X."
        ) from exc
    finally:
        estimator.set_params(warm_start=warm_start)
    curve = getattr(estimator, "loss_curve_", None) or []
    # scikit-learn returns huge but finite weights without a word when sgd overshoots;
    # a training loss a thousandfold above its first value is that, not noise.
    if len(curve) > 1 and max(curve) > 1e3 * max(curve[0], np.finfo(float).tiny):
        warnings.warn(
            f"{strategy}.adapt: training from the learned start diverged on this task: the "
            f"training loss rose from {curve[0]:.3g} to {max(curve):.3g} (solver="
            f"{estimator.solver!r}, learning_rate_init={estimator.learning_rate_init!r}); "
            "its predictions are not to be trusted. Lower learning_rate_init, or meta-train "
            "through more of the learner's steps (max_inner_iter).",
            RuntimeWarning,
        )
    return estimator
