"""``sgd`` (momentum, Nesterov) and ``adam`` steps over a task axis.

The maths of ``sklearn/neural_network/_stochastic_optimizers.py``, with the
learning rate a per-task array (schedules and ``adaptive`` act per task).
Parameters are the list ``coefs + intercepts``; states are lists alike.
"""

import numpy as np


def sgd_init(params, momentum=0.9):
    # without momentum the velocities are never read: do not allocate them. np.zeros,
    # not zeros_like: a broadcast start would give Fortran-ordered velocities.
    return {"velocities": [np.zeros(p.shape, p.dtype) for p in params] if momentum else None}


def _per_task_rates(rate, grads):
    """A ``(n_tasks,)`` rate broadcast against each parameter's task axis.

    A rate all tasks share stays a Python float (decided once): the same
    products, fewer temporaries.
    """
    if rate.shape[0] == 1 or (rate == rate[0]).all():
        return [float(rate[0])] * len(grads)
    # in g's dtype, as scikit-learn's Python-float rate keeps float32 updates float32
    return [rate.reshape((-1,) + (1,) * (g.ndim - 1)).astype(g.dtype) for g in grads]


def sgd_updates(state, grads, learning_rate, momentum, nesterov):
    """The values ``SGDOptimizer._get_updates`` adds to the parameters."""
    rates = _per_task_rates(learning_rate, grads)
    if momentum == 0:
        # 0 * v - lr * g == (-lr) * g exactly; skips the velocity arithmetic.
        return [-r * g for r, g in zip(rates, grads)]
    updates = [momentum * v - r * g for v, r, g in zip(state["velocities"], rates, grads)]
    state["velocities"] = updates
    if nesterov:
        updates = [momentum * v - r * g for v, r, g in zip(state["velocities"], rates, grads)]
    return updates


def adam_init(params):
    return {"t": 0, "ms": [np.zeros(p.shape, p.dtype) for p in params],
            "vs": [np.zeros(p.shape, p.dtype) for p in params]}


def adam_updates(state, grads, learning_rate_init, beta_1, beta_2, epsilon):
    """The values ``AdamOptimizer._get_updates`` adds to the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> state = adam_init([np.zeros(2)])
    >>> [u.round(6).tolist() for u in adam_updates(state, [np.array([1.0, -2.0])],
    ...                                            0.001, 0.9, 0.999, 1e-8)]
    [[-0.001, 0.001]]
    """
    state["t"] += 1
    t = state["t"]
    state["ms"] = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["ms"], grads)]
    state["vs"] = [beta_2 * v + (1 - beta_2) * (g**2) for v, g in zip(state["vs"], grads)]
    learning_rate = learning_rate_init * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return [-learning_rate * m / (np.sqrt(v) + epsilon) for m, v in zip(state["ms"], state["vs"])]
