"""Forward pass, loss, gradient and Hessian-vector product of many MLPs at once.

Every array carries a leading *task* axis: ``coefs[i]`` has shape
``(n_tasks, fan_in, fan_out)``, ``intercepts[i]`` ``(n_tasks, fan_out)``, a
batch ``X`` ``(n_tasks, n_samples, n_features)``. Each operation is the one
scikit-learn's ``BaseMultilayerPerceptron`` applies to a single network, so
that one task gives the same numbers as ``MLP*.fit`` up to rounding (a few
are done in another order, where that is much faster: within 2e-15 after 20
epochs in the test matrix).
"""

from functools import lru_cache
from math import prod

import numpy as np
from scipy.special import expit, xlogy

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def param_shapes(coefs, intercepts):
    """The per-task shapes of ``coefs + intercepts``: the layout of their flat form."""
    return tuple(W.shape[1:] for W in coefs) + tuple(b.shape[1:] for b in intercepts)


@lru_cache(maxsize=256)
def _bounds(shapes):
    bounds, start = [], 0
    for shape in shapes:
        bounds.append((start, start + prod(shape), shape))
        start += prod(shape)
    return tuple(bounds), start


def unflatten(flat, shapes):
    """Views, one per layer, into ``flat`` of shape ``(n_tasks, n_params)``.

    The optimiser and the meta-gradient work on the flat form: one
    operation per step over all layers instead of one per layer, which is
    most of the cost of a step on small networks. A broadcast ``flat``
    (stride 0 on tasks) gives broadcast layers.

    Parameters
    ----------
    flat : ndarray of shape (n_tasks, n_params)
        Parameters of every task in flat form.
    shapes : sequence of tuple of int
        Per-task shape of each layer, in the order of ``flat`` (``param_shapes``).

    Returns
    -------
    layers : list of ndarray
        One view per shape, of shape ``(n_tasks,) + shape``.

    Examples
    --------
    >>> import numpy as np
    >>> [v.shape for v in unflatten(np.zeros((2, 11)), ((3, 2), (2, 1), (2,), (1,)))]
    [(2, 3, 2), (2, 2, 1), (2, 2), (2, 1)]
    """
    try:
        bounds, size = _bounds(shapes)
    except TypeError:  # shapes given as lists: the cache needs them hashable
        bounds, size = _bounds(tuple(tuple(shape) for shape in shapes))
    if flat.shape[-1] != size:
        raise ValueError(
            f"unflatten got {flat.shape[-1]} parameters per task but the layer shapes hold "
            f"{size}; pass the shapes the flat form was made from (param_shapes).")
    lead = flat.shape[:-1]
    # a 1-D layer (intercepts) is already its slice: no reshape call
    return [flat[..., a:b] if len(shape) == 1 else flat[..., a:b].reshape(lead + shape)
            for a, b, shape in bounds]


def flatten(params):
    """``(n_tasks, n_params)`` form of per-layer arrays with a task axis.

    When every layer is the same for all tasks (stride 0 on the task axis),
    the result is a broadcast view too, so the first step's products stay
    single large ones.

    Parameters
    ----------
    params : list of ndarray
        Per-layer arrays with a leading task axis, such as ``coefs + intercepts``.

    Returns
    -------
    flat : ndarray of shape (n_tasks, n_params)
        Each task's layers raveled and concatenated in order.

    Examples
    --------
    >>> import numpy as np
    >>> flat = flatten([np.ones((2, 3, 1)), np.zeros((2, 1))])
    >>> flat.shape, flat[0].tolist()
    ((2, 4), [1.0, 1.0, 1.0, 0.0])
    """
    n_tasks = params[0].shape[0]
    if n_tasks > 1 and all(p.strides[0] == 0 for p in params):
        return repeat_view(np.concatenate([p[0].ravel() for p in params]), n_tasks)
    return np.concatenate([p.reshape(n_tasks, -1) for p in params], axis=1)


def repeat_view(a, n_tasks):
    """``np.broadcast_to(a, (n_tasks,) + a.shape)``: a read-only view, stride 0 on tasks.

    Built directly on ``a``'s buffer when it is contiguous: broadcast_to's
    checks cost more than a meta-iteration's arithmetic on small layers.

    Parameters
    ----------
    a : ndarray
        Array to repeat, such as one network's flat parameters.
    n_tasks : int
        Length of the new leading axis.

    Returns
    -------
    view : ndarray of shape (n_tasks, *a.shape)
        Read-only view of ``a``'s data.

    Examples
    --------
    >>> import numpy as np
    >>> view = repeat_view(np.arange(3.0), 4)
    >>> view.shape, view.strides[0], view[2].tolist()
    ((4, 3), 0, [0.0, 1.0, 2.0])
    """
    if not a.flags.c_contiguous:
        return np.broadcast_to(a, (n_tasks,) + a.shape)
    view = np.ndarray((n_tasks,) + a.shape, a.dtype, a, 0, (0,) + a.strides)
    view.flags.writeable = False
    return view


def init_params(layer_units, activation, random_state):
    """Glorot-uniform weights of one network, drawn as ``MLP*._initialize`` draws them.

    For each layer in turn: the ``(fan_in, fan_out)`` weights, then the
    ``fan_out`` intercepts, from ``U(-b, b)`` with ``b = sqrt(f / (fan_in +
    fan_out))``, ``f = 2`` for logistic units and ``6`` otherwise.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        Hidden activation.
    random_state : numpy.random.RandomState
        Source of the draws (consumed in place, like scikit-learn's).

    Returns
    -------
    coefs, intercepts : list of ndarray
        Without a task axis.

    Examples
    --------
    >>> import numpy as np
    >>> coefs, intercepts = init_params([3, 4, 1], "relu", np.random.RandomState(0))
    >>> [c.shape for c in coefs], [b.shape for b in intercepts]
    ([(3, 4), (4, 1)], [(4,), (1,)])
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def _matmul(A, W):
    """``A @ W`` per task; one 2-D product when every task has the same ``W``.

    Meta-training starts each task from the same weights, passed as a
    broadcast view (stride 0 on the task axis): then a single large product
    replaces ``n_tasks`` small ones.
    """
    if A.shape[-1] == 1:
        # an outer product (one input feature, or the delta of one output unit): the
        # same single products, without a matrix product's overhead
        return A * (W[0] if W.strides[0] == 0 else W)
    if W.strides[0] == 0 and W.shape[0] > 1:
        out = A.reshape(-1, A.shape[-1]) @ W[0]
        return out.reshape(A.shape[:-1] + (W.shape[-1],))
    return np.matmul(A, W)


def _activate(name, Z):
    """Apply an activation in place over the last axis (as ``ACTIVATIONS``)."""
    if name == "relu":
        np.maximum(Z, 0, out=Z)
    elif name == "tanh":
        np.tanh(Z, out=Z)
    elif name == "logistic":
        expit(Z, out=Z)
    elif name == "softmax":
        tmp = Z - Z.max(axis=-1, keepdims=True)
        np.exp(tmp, out=Z)
        Z /= Z.sum(axis=-1, keepdims=True)
    elif name != "identity":
        # a typo ("sigmoid") must not pass as the identity
        raise ValueError(_unknown_activation(name))


def _derivative(name, A, delta):
    """Multiply ``delta`` in place by the activation's derivative, from its output ``A``."""
    if name == "relu":
        # scikit-learn's delta[Z == 0] = 0 at a sixth of the cost (a masked write is
        # slow on a random mask); differs only by the sign of zeros (which no later sum
        # sees) and on non-finite deltas (an error then)
        delta *= A > 0
    elif name == "tanh":
        delta *= 1 - A**2
    elif name == "logistic":
        delta *= A
        delta *= 1 - A
    elif name != "identity":
        raise ValueError(_unknown_activation(name))


def _unknown_activation(name):
    return (f"Unknown activation {name!r}: the engine has {', '.join(HIDDEN_ACTIVATIONS)} "
            "(and softmax for the output layer), as scikit-learn's MLPs.")


def forward(coefs, intercepts, X, activation, out_activation):
    """Activations of every layer; ``[X, hidden..., output]``.

    Parameters
    ----------
    coefs : list of ndarray
        Weights of each layer, of shape (n_tasks, fan_in, fan_out).
    intercepts : list of ndarray
        Intercepts of each layer, of shape (n_tasks, fan_out).
    X : ndarray of shape (n_tasks, n_samples, n_features)
        Input rows of each task.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation.

    Returns
    -------
    activations : list of ndarray
        ``X``, then the output of each layer, of shape (n_tasks, n_samples, fan_out).

    Examples
    --------
    >>> import numpy as np
    >>> coefs = [np.ones((2, 3, 1))]; intercepts = [np.zeros((2, 1))]
    >>> forward(coefs, intercepts, np.ones((2, 5, 3)), "relu", "identity")[-1].shape
    (2, 5, 1)
    """
    activations = [X]
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = _matmul(activations[-1], W)
        Z += b[:, None, :]
        _activate(out_activation if i == last else activation, Z)
        activations.append(Z)
    return activations


def data_loss(P, Y, out_activation):
    """Per-task loss of predictions ``P`` as scikit-learn's ``LOSS_FUNCTIONS`` compute it.

    Parameters
    ----------
    P : ndarray of shape (n_tasks, n_samples, n_outputs)
        Predictions: the output layer's activations.
    Y : ndarray of shape (n_tasks, n_samples, n_outputs)
        Targets (label-binarised for classifiers).
    out_activation : {"identity", "logistic", "softmax"}
        Output activation; it picks the loss: half the squared error, the
        binary or the categorical log-loss.

    Returns
    -------
    loss : ndarray of shape (n_tasks,)
        Loss of each task, averaged over its rows, without the ``alpha`` penalty.
    """
    if out_activation == "identity":
        return 0.5 * ((Y - P) ** 2).mean(axis=1).mean(axis=-1)
    if out_activation not in ("logistic", "softmax"):
        raise ValueError(f"Unknown output activation {out_activation!r}: the engine has "
                         "identity, logistic and softmax, as scikit-learn's MLPs.")
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    if out_activation == "logistic":
        return -(xlogy(Y, P) + xlogy(1 - Y, 1 - P)).mean(axis=1).sum(axis=-1)
    return -xlogy(Y, P).mean(axis=1).sum(axis=-1)


def backprop(coefs, intercepts, X, Y, activation, out_activation, alpha):
    """Loss and gradient per task, as ``BaseMultilayerPerceptron._backprop``.

    The loss adds ``alpha / (2 n) * sum ||W||^2`` (``n`` rows in the batch) and
    the gradient is scikit-learn's: ``(A^T delta + alpha W) / n`` for weights,
    ``sum(delta) / n`` for intercepts.

    Parameters
    ----------
    coefs : list of ndarray
        Weights of each layer, of shape (n_tasks, fan_in, fan_out).
    intercepts : list of ndarray
        Intercepts of each layer, of shape (n_tasks, fan_out).
    X : ndarray of shape (n_tasks, n_samples, n_features)
        Batch rows of each task.
    Y : ndarray of shape (n_tasks, n_samples, n_outputs)
        Targets of the batch (label-binarised for classifiers).
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation; it picks the loss (see :func:`data_loss`).
    alpha : float
        L2 penalty, the estimator's ``alpha``.

    Returns
    -------
    loss : ndarray of shape (n_tasks,)
        Loss of each task on the batch, penalty included.
    coef_grads : list of ndarray
        Gradient with respect to each layer's weights, shaped like ``coefs``.
    intercept_grads : list of ndarray
        Gradient with respect to each layer's intercepts, shaped like ``intercepts``.
    activations : list of ndarray
        Output of :func:`forward`, kept for :func:`hessian_vector_product`.
    deltas : list of ndarray
        Backward signal at each layer, of shape (n_tasks, n_samples, fan_out),
        kept for :func:`hessian_vector_product` (the deltas of the mean loss:
        scikit-learn's divided by the batch size).
    """
    loss, grad, activations, deltas = backprop_flat(coefs, intercepts, X, Y, activation,
                                                    out_activation, alpha)
    grads = unflatten(grad, param_shapes(coefs, intercepts))
    return loss, grads[:len(coefs)], grads[len(coefs):], activations, deltas


def backprop_flat(coefs, intercepts, X, Y, activation, out_activation, alpha):
    """:func:`backprop` with the gradient in flat form, ``(n_tasks, n_params)``.

    Parameters
    ----------
    coefs : list of ndarray
        Weights of each layer, of shape (n_tasks, fan_in, fan_out).
    intercepts : list of ndarray
        Intercepts of each layer, of shape (n_tasks, fan_out).
    X : ndarray of shape (n_tasks, n_samples, n_features)
        Batch rows of each task.
    Y : ndarray of shape (n_tasks, n_samples, n_outputs)
        Targets of the batch.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation.
    alpha : float
        L2 penalty.

    Returns
    -------
    loss : ndarray of shape (n_tasks,)
        As in :func:`backprop`.
    grad : ndarray of shape (n_tasks, n_params)
        Gradient, laid out as :func:`flatten` lays out ``coefs + intercepts``.
    activations : list of ndarray
        As in :func:`backprop`.
    deltas : list of ndarray
        As in :func:`backprop`.

    Examples
    --------
    >>> import numpy as np
    >>> coefs, intercepts = [np.ones((2, 3, 1))], [np.zeros((2, 1))]
    >>> X, Y = np.ones((2, 5, 3)), np.full((2, 5, 1), 2.0)
    >>> loss, grad, _, _ = backprop_flat(coefs, intercepts, X, Y, "relu", "identity", 0.0)
    >>> loss.tolist(), grad[0].tolist()  # half the MSE of 3 - 2; d/dw = x * (3 - 2)
    ([0.5, 0.5], [1.0, 1.0, 1.0, 1.0])
    """
    n = X.shape[1]
    activations = forward(coefs, intercepts, X, activation, out_activation)
    error = activations[-1] - Y
    if out_activation == "identity":
        # data_loss's value (half the mean squared error) from the error we need anyway
        loss = np.square(error).sum(axis=(1, 2)) * (0.5 / error[0].size)
    else:
        loss = data_loss(activations[-1], Y, out_activation)
    if alpha:  # with alpha == 0 scikit-learn adds exact zeros
        values = 0
        for W in coefs:
            values = values + np.einsum("tij,tij->t", W, W)
        loss = loss + (0.5 * alpha) * values / n

    shapes = param_shapes(coefs, intercepts)
    # the dtype of the forward pass: float32 weights and data stay float32, as in fit
    grad = np.empty((X.shape[0], _bounds(shapes)[1]), dtype=error.dtype)
    views = unflatten(grad, shapes)
    last = len(coefs) - 1
    deltas = [None] * len(coefs)
    # scikit-learn divides each gradient by n; backprop is linear in the output delta,
    # so dividing that small array instead gives the same gradients (up to rounding) for
    # a fraction of the cost. The deltas kept are therefore those of the mean loss.
    error /= n
    deltas[last] = error
    # sums over rows as products: faster than np.sum over a middle axis
    ones = np.ones(n, dtype=error.dtype)
    for i in range(last, -1, -1):
        if i < last:
            deltas[i] = _matmul(deltas[i + 1], coefs[i + 1].transpose(0, 2, 1))
            _derivative(activation, activations[i + 1], deltas[i])
        np.matmul(activations[i].transpose(0, 2, 1), deltas[i], out=views[i])
        if alpha:
            views[i] += (alpha / n) * coefs[i]
        np.matmul(ones, deltas[i], out=views[last + 1 + i])
    return loss, grad, activations, deltas


def _output_jvp(out_activation, P, RZ):
    """Directional derivative of the output activation, from its output ``P``."""
    if out_activation == "identity":
        return RZ
    if out_activation == "logistic":
        return P * (1 - P) * RZ
    return P * (RZ - np.sum(P * RZ, axis=-1, keepdims=True))


def _hidden_jvp(activation, A, RZ):
    """``f'(z) * RZ`` from the output ``A``; ``RZ`` is a temporary and may be reused."""
    if activation == "relu":
        RZ *= A > 0  # np.where(A == 0, 0, RZ) up to the sign of zeros, faster
        return RZ
    if activation == "tanh":
        return (1 - A**2) * RZ
    if activation == "logistic":
        return A * (1 - A) * RZ
    return RZ


def _derivative_jvp(activation, A, RA):
    """R{f'(z)} / f'(z)-free form: the change of the derivative along ``RA``."""
    if activation == "tanh":
        return -2 * A * RA
    if activation == "logistic":
        return (1 - 2 * A) * RA
    return None  # relu and identity: f'' = 0 almost everywhere


def hessian_vector_product(coefs, activations, deltas, v_coefs, v_intercepts,
                           activation, out_activation, alpha):
    """Hessian of the loss of :func:`backprop` times a direction, per task.

    Pearlmutter's R-operator: one forward and one backward pass that carry
    the directional derivatives ``R{.}`` of every quantity of
    :func:`backprop` along ``(v_coefs, v_intercepts)``. Exact (no finite
    difference); ``activations`` and ``deltas`` come from :func:`backprop`
    at the same point and batch.

    Parameters
    ----------
    coefs : list of ndarray
        Weights of each layer, of shape (n_tasks, fan_in, fan_out), at which
        the Hessian is taken.
    activations : list of ndarray
        From :func:`backprop` at these weights on the batch.
    deltas : list of ndarray
        From the same :func:`backprop` call.
    v_coefs : list of ndarray
        Direction for the weights, shaped like ``coefs``.
    v_intercepts : list of ndarray
        Direction for the intercepts, of shape (n_tasks, fan_out) per layer.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation, as given to :func:`backprop`.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation, as given to :func:`backprop`.
    alpha : float
        L2 penalty, as given to :func:`backprop`.

    Returns
    -------
    h_coefs : list of ndarray
        The product's part for the weights, shaped like ``v_coefs``.
    h_intercepts : list of ndarray
        The product's part for the intercepts, shaped like ``v_intercepts``.
    """
    h = hessian_vector_product_flat(coefs, activations, deltas, v_coefs, v_intercepts,
                                    activation, out_activation, alpha)
    h = unflatten(h, param_shapes(v_coefs, v_intercepts))
    return h[:len(coefs)], h[len(coefs):]


def hessian_vector_product_flat(coefs, activations, deltas, v_coefs, v_intercepts,
                                activation, out_activation, alpha):
    """:func:`hessian_vector_product` in flat form, ``(n_tasks, n_params)``.

    Parameters
    ----------
    coefs : list of ndarray
        Weights of each layer, of shape (n_tasks, fan_in, fan_out).
    activations : list of ndarray
        From :func:`backprop` at these weights on the batch.
    deltas : list of ndarray
        From the same :func:`backprop` call.
    v_coefs : list of ndarray
        Direction for the weights, shaped like ``coefs``.
    v_intercepts : list of ndarray
        Direction for the intercepts, of shape (n_tasks, fan_out) per layer.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation.
    alpha : float
        L2 penalty.

    Returns
    -------
    h : ndarray of shape (n_tasks, n_params)
        The product, laid out as :func:`flatten` lays out ``v_coefs + v_intercepts``.
    """
    n = activations[0].shape[1]
    last = len(coefs) - 1
    R_act = [None] * len(activations)  # R{a_0} = 0: X does not depend on the weights
    for i in range(len(coefs)):
        RZ = _matmul(activations[i], v_coefs[i])
        if R_act[i] is not None:
            RZ += _matmul(R_act[i], coefs[i])
        RZ += v_intercepts[i][:, None, :]
        if i == last:
            R_act[i + 1] = _output_jvp(out_activation, activations[i + 1], RZ)
        else:
            R_act[i + 1] = _hidden_jvp(activation, activations[i + 1], RZ)

    shapes = param_shapes(v_coefs, v_intercepts)
    ones = np.ones(n, dtype=R_act[-1].dtype)
    out = np.empty((activations[0].shape[0], _bounds(shapes)[1]), dtype=R_act[-1].dtype)
    views = unflatten(out, shapes)
    R_delta = R_act[-1] / n  # delta_last = (P - Y) / n: the deltas are the mean loss's
    for i in range(last, -1, -1):
        if i < last:
            R_back = _matmul(R_delta, coefs[i + 1].transpose(0, 2, 1))
            R_back += _matmul(deltas[i + 1], v_coefs[i + 1].transpose(0, 2, 1))
            R_new = _hidden_jvp(activation, activations[i + 1], R_back)
            extra = _derivative_jvp(activation, activations[i + 1], R_act[i + 1])
            if extra is not None:  # tanh, logistic: f'' enters through the backward signal
                back = _matmul(deltas[i + 1], coefs[i + 1].transpose(0, 2, 1))
                R_new += back * extra
            R_delta = R_new
        h = np.matmul(activations[i].transpose(0, 2, 1), R_delta, out=views[i])
        if R_act[i] is not None:
            h += np.matmul(R_act[i].transpose(0, 2, 1), deltas[i])
        if alpha:
            h += (alpha / n) * v_coefs[i]
        np.matmul(ones, R_delta, out=views[last + 1 + i])
    return out
