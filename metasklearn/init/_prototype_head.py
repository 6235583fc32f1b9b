"""Output layers of episodic tasks started from class prototypes (Proto-MAML).

One job: the starting output layer of an N-way task computed from its
support rows, and the gradient of anything that depends on that layer back
to the body weights and the learned scale.

With ``mu_c`` the mean last-hidden activation of class ``c``'s support rows,
a nearest-prototype rule in squared Euclidean distance is the linear layer
``w_c = 2 mu_c``, ``b_c = -||mu_c||^2`` (Triantafillou et al., 2020). We
scale it by a learned ``s > 0`` (a temperature: it sets how confident the
start is, which matters for the fine-tuning that follows) and add the
learned shared vector that every class starts from otherwise.
"""

import numpy as np
from sklearn.utils.validation import check_array, column_or_1d

from ..engine._mlp import _derivative, _matmul, forward
from ._task_batches import task_targets


def _one_hot(Y):
    """Full one-hot targets from what ``fit`` trains on (one column for two labels)."""
    if Y.shape[-1] == 1:
        return np.concatenate([1.0 - Y, Y], axis=-1)
    return Y


def _to_task_outputs(A):
    """Map per-class columns to the task's outputs: two labels get one logistic unit."""
    if A.shape[-1] == 2:
        return A[..., 1:] - A[..., :1]
    return A


def _from_task_outputs(G, n_labels):
    """Adjoint of :func:`_to_task_outputs`: per-class gradients from output gradients."""
    if n_labels == 2:
        return np.concatenate([-G, G], axis=-1)
    return G


def prototype_layer(body_coefs, body_intercepts, X, Y, activation, scale):
    """Per-task prototype output layer ``(W, b, cache)`` for stacked tasks.

    Parameters
    ----------
    body_coefs, body_intercepts : list of ndarray
        Hidden layers with a leading task axis (broadcast views are fine).
    X : ndarray of shape (n_tasks, n_rows, n_features)
        Support rows.
    Y : ndarray of shape (n_tasks, n_rows, n_outputs)
        Targets as ``fit`` sees them (one column for two labels).
    activation : str
        Hidden activation.
    scale : float
        The learned scale ``s``.

    Returns
    -------
    W : ndarray of shape (n_tasks, n_hidden, n_outputs)
    b : ndarray of shape (n_tasks, n_outputs)
    cache : tuple
        For :func:`prototype_layer_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[[0.0], [2.0], [5.0]]])
    >>> Y = np.array([[[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]])
    >>> W, b, _ = prototype_layer([np.ones((1, 1, 1))], [np.zeros((1, 1))], X, Y, "relu", 1.0)
    >>> (X[0] @ W[0] + b).argmax(axis=1).tolist()  # each row is nearest its own prototype
    [0, 1, 2]
    """
    activations = forward(body_coefs, body_intercepts, X, activation, activation)
    Y = _one_hot(Y)
    counts = Y.sum(axis=1)  # (n_tasks, n_labels), >= 1 for every label of the support
    means = np.matmul(np.swapaxes(Y, 1, 2), activations[-1]) / counts[..., None]
    W = _to_task_outputs(2.0 * scale * np.swapaxes(means, 1, 2))
    b = _to_task_outputs(-scale * (means**2).sum(axis=-1))
    return W, b, (activations, Y, counts, means, scale)


def prototype_layer_backward(cache, grad_W, grad_b, body_coefs, activation):
    """Gradients of the body (summed over tasks) and of ``log s`` from the layer's gradients.

    Returns
    -------
    coef_grads, intercept_grads : list of ndarray
        Summed over tasks, one per hidden layer.
    log_scale_grad : float
        Summed over tasks.
    """
    activations, Y, counts, means, scale = cache
    n_labels = Y.shape[-1]
    gW = _from_task_outputs(grad_W, n_labels)  # (n_tasks, n_hidden, n_labels)
    gb = _from_task_outputs(grad_b, n_labels)  # (n_tasks, n_labels)
    gW_means = np.swapaxes(gW, 1, 2)
    # W and b are both proportional to s, so d/d(log s) is the layer's pairing with itself.
    log_scale_grad = float(2.0 * scale * np.einsum("tch,tch->", gW_means, means)
                           - scale * np.einsum("tc,tc->", gb, (means**2).sum(axis=-1)))
    grad_means = scale * (2.0 * gW_means - 2.0 * means * gb[..., None])
    # Each support row carries its class mean's gradient divided by the class count.
    delta = np.matmul(Y, grad_means / counts[..., None])
    n_layers = len(body_coefs)
    coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
    for i in range(n_layers - 1, -1, -1):
        _derivative(activation, activations[i + 1], delta)
        A = activations[i]
        flat_delta = delta.reshape(-1, delta.shape[-1])
        coef_grads[i] = A.reshape(-1, A.shape[-1]).T @ flat_delta
        intercept_grads[i] = flat_delta.sum(axis=0)
        if i:
            delta = _matmul(delta, np.swapaxes(body_coefs[i], 1, 2))
    return coef_grads, intercept_grads, log_scale_grad


def prototype_start(coefs, intercepts, X, y, activation, scale):
    """The output layer a new episodic task starts from: shared vector plus its prototypes.

    ``coefs`` / ``intercepts`` are the task's starting weights (output layer:
    the learned vector for each of its classes); ``X``, ``y`` its support
    rows. Returns the output layer's ``(coef, intercept)``.
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64)
    X = X.toarray() if hasattr(X, "toarray") else X
    Y, _ = task_targets(column_or_1d(y)[None, :], True)  # y as a column, as fit takes it
    W, b, _ = prototype_layer([c[None] for c in coefs[:-1]], [b[None] for b in intercepts[:-1]],
                              X[None], Y, activation, scale)
    return coefs[-1] + W[0], intercepts[-1] + b[0]
