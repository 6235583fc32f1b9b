"""``MLP*.fit`` with a stochastic solver, for many tasks at once, and its reverse mode.

:func:`fit_stochastic` replays ``BaseMultilayerPerceptron._fit_stochastic``
(without ``early_stopping``): the same batches from ``gen_batches``, the
same shuffles, the same optimiser, loss curve, learning-rate schedule and
stopping rule, applied to every task of the batch in lock-step. A task that
stops (``n_iter_no_change``) is frozen while the others go on.
:func:`backward_training` differentiates the trained weights with respect to the
starting weights (second-order MAML).
"""

from dataclasses import dataclass

import numpy as np

from ._mlp import backprop_flat, flatten, hessian_vector_product_flat, param_shapes, unflatten
from ._optim import _per_task_rates, adam_init, adam_updates, sgd_init, sgd_updates


@dataclass(frozen=True)
class TrainConfig:
    """The settings of an ``MLPClassifier``/``MLPRegressor`` that training depends on.

    Parameters
    ----------
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden activation.
    out_activation : {"identity", "logistic", "softmax"}, default="identity"
        Output activation; it picks the loss (see :func:`data_loss`).
    solver : {"sgd", "adam"}, default="adam"
        Optimiser.
    alpha : float, default=0.0001
        L2 penalty.
    batch_size : int or "auto", default="auto"
        Minibatch size, resolved by :func:`resolve_batch_size`.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the learning rate of ``"sgd"``.
    learning_rate_init : float, default=0.001
        Initial learning rate.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the rows before every epoch.
    tol : float, default=1e-4
        An epoch whose training loss is not ``tol`` below the best so far
        counts as one without improvement.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``"sgd"``.
    beta_1 : float, default=0.9
        Decay rate of ``"adam"``'s first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of ``"adam"``'s second-moment estimate.
    epsilon : float, default=1e-8
        Term added to ``"adam"``'s denominator for numerical stability.
    n_iter_no_change : int or float, default=10
        A task stops after more than this many epochs in a row without
        improvement; with ``"sgd"`` and ``"adaptive"``, its learning rate is
        divided by 5 instead, and it stops once the rate is at most 1e-6.
    """

    activation: str = "relu"
    out_activation: str = "identity"
    solver: str = "adam"
    alpha: float = 0.0001
    batch_size: object = "auto"
    learning_rate: str = "constant"
    learning_rate_init: float = 0.001
    power_t: float = 0.5
    max_iter: int = 200
    shuffle: bool = True
    tol: float = 1e-4
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    n_iter_no_change: float = 10


_FIELDS = [name for name in TrainConfig.__dataclass_fields__ if name != "out_activation"]


def config_from_estimator(estimator, out_activation, *, max_iter=None):
    """The :class:`TrainConfig` of an MLP estimator's ``fit``.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Its parameters (from ``get_params``) fill the config; it may be unfitted.
    out_activation : {"identity", "logistic", "softmax"}
        Output activation, which scikit-learn picks from the targets at fit.
    max_iter : int, default=None
        Truncates the horizon: the config's ``max_iter`` is the smaller of
        this and the estimator's. ``None`` keeps the estimator's.

    Returns
    -------
    config : TrainConfig
        The estimator's training settings.

    Raises
    ------
    ValueError
        For settings the engine does not replay (``solver="lbfgs"``,
        ``early_stopping=True``, ``MLPRegressor(loss="poisson")``).
    """
    params = estimator.get_params()
    # scikit-learn >= 1.7: loss="poisson" trains an "exp" output on the Poisson deviance
    if params.get("loss", "squared_error") != "squared_error":
        raise ValueError(
            f"loss={params['loss']!r}: the engine replays the squared error of "
            "MLPRegressor(loss='squared_error') and the log-loss of MLPClassifier only."
        )
    if params["solver"] not in ("sgd", "adam"):
        raise ValueError(
            f"solver={params['solver']!r}: meta-learning the starting weights needs a "
            "stochastic solver, solver='sgd' or solver='adam' (lbfgs runs a line search "
            "that cannot be differentiated or batched over tasks)."
        )
    if params["early_stopping"]:
        raise ValueError(
            "early_stopping=True is not supported for meta-training: the validation "
            "split it draws changes every task's data. Set early_stopping=False on the "
            "base estimator (and bound training with max_iter)."
        )
    values = {name: params[name] for name in _FIELDS}
    if max_iter is not None:
        values["max_iter"] = min(values["max_iter"], max_iter)
    return TrainConfig(out_activation=out_activation, **values)


def resolve_batch_size(batch_size, n_samples):
    """The batch size ``_fit_stochastic`` uses for ``n_samples`` rows.

    Parameters
    ----------
    batch_size : int or "auto"
        The estimator's ``batch_size``.
    n_samples : int
        Rows per task.

    Returns
    -------
    batch_size : int
        ``min(200, n_samples)`` for ``"auto"``, else ``batch_size`` clipped
        to ``[1, n_samples]``.
    """
    if batch_size == "auto":
        return min(200, n_samples)
    return min(max(int(batch_size), 1), n_samples)  # np.clip, at Python speed


def batch_slices(n_samples, batch_size):
    """The slices of ``sklearn.utils.gen_batches(n_samples, batch_size)``.

    Re-implemented because ``gen_batches`` validates its arguments on every
    call, which costs more than a small batch's arithmetic.

    Examples
    --------
    >>> batch_slices(7, 3)
    [slice(0, 3, None), slice(3, 6, None), slice(6, 7, None)]
    """
    return [slice(start, min(start + batch_size, n_samples))
            for start in range(0, n_samples, batch_size)]


class _Shuffler:
    """Sample orders per epoch, drawn as ``sklearn.utils.shuffle`` draws them.

    ``random_state`` is one RandomState shared by every task (each task's
    fit seeded alike draws the same orders) or a list with one per task.
    """

    def __init__(self, random_state, n_tasks, n_samples):
        self.shared = not isinstance(random_state, list)
        self.states = random_state
        if self.shared:
            self.idx = np.arange(n_samples, dtype=int)
        else:
            self.idx = np.tile(np.arange(n_samples, dtype=int), (n_tasks, 1))

    @staticmethod
    def _draw(state, n):
        indices = np.arange(n)
        state.shuffle(indices)
        return indices

    def next_epoch(self):
        n = self.idx.shape[-1]
        if self.shared:
            self.idx = self.idx[self._draw(self.states, n)]
        else:
            for row, state in zip(self.idx, self.states):
                row[:] = row[self._draw(state, n)]
        return self.idx


def _take(A, idx):
    """Rows ``idx`` of every task: ``idx`` shared ``(b,)``, per task ``(T, b)`` or a slice."""
    if isinstance(idx, slice) or idx.ndim == 1:
        return A[:, idx]
    return np.take_along_axis(A, idx[:, :, None], axis=1)


@dataclass
class TrainResult:
    """What :func:`fit_stochastic` returns (the fitted attributes of each task).

    Parameters
    ----------
    coefs : list of ndarray
        Trained weights of each layer, of shape (n_tasks, fan_in, fan_out);
        views into ``params``.
    intercepts : list of ndarray
        Trained intercepts of each layer, of shape (n_tasks, fan_out); views
        into ``params``.
    loss_curve : ndarray of shape (n_epochs, n_tasks)
        Training loss of each epoch; NaN after a task stopped.
    n_iter : ndarray of shape (n_tasks,)
        Epochs each task ran.
    trajectory : list, default=None
        With ``record=True``, one entry per step: the weights, activations,
        deltas, learning rates, active tasks and adam state that
        :func:`backward_training` goes back through; else ``None``.
    params : ndarray of shape (n_tasks, n_params), default=None
        The trained weights in flat form.
    shapes : tuple of tuple of int, default=None
        Their layout (``param_shapes``).
    moved : ndarray of shape (n_tasks, n_params), default=None
        Sum of the updates, with ``track_moved=True``; else ``None``.
    """

    coefs: list
    intercepts: list
    loss_curve: np.ndarray  # (n_epochs, n_tasks); NaN after a task stopped
    n_iter: np.ndarray
    trajectory: list = None
    params: np.ndarray = None  # the trained weights in flat form; coefs, intercepts view it
    shapes: tuple = None  # its layout (``param_shapes``)
    moved: np.ndarray = None  # sum of the updates, flat (``track_moved=True``)


class DivergedError(ValueError):
    """The inner training of some task became non-finite.

    A ``ValueError``, so callers that only know scikit-learn's errors still catch it.
    """


def _diverged(config, epoch, bad, n_tasks):
    return DivergedError(
        f"Training diverged: the loss or weights of {int(bad.sum())} of {n_tasks} "
        f"tasks became non-finite (NaN or overflow) in epoch {epoch} with "
        f"solver={config.solver!r} and learning_rate_init={config.learning_rate_init!r}. "
        "Lower the base estimator's learning_rate_init (or standardise X); "
        "no weights were kept."
    )


def fit_stochastic(coefs, intercepts, X, Y, config, random_state, *, record=False,
                   track_moved=False):
    """Train every task's network from the given weights, as ``MLP*.fit`` would.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        Starting weights with a task axis (not modified).
    X : ndarray of shape (n_tasks, n_samples, n_features)
        Training rows of each task.
    Y : ndarray of shape (n_tasks, n_samples, n_outputs)
        Targets as the estimator sees them (label-binarised for classifiers).
    config : TrainConfig
        Settings of the estimator's fit (:func:`config_from_estimator`).
    random_state : RandomState or list of RandomState
        The fit's ``_random_state`` after initialisation: one shared by all
        tasks or one per task. Only used when ``config.shuffle``.
    record : bool, default=False
        Keep every step's weights, activations and deltas for
        :func:`backward_training`.
    track_moved : bool, default=False
        Also return ``moved``, the sum of the updates (trained minus
        starting weights, without the cancellation of that difference).

    Returns
    -------
    result : TrainResult
        Trained weights, loss curves and epoch counts of every task.

    Raises
    ------
    DivergedError
        A ``ValueError``, when a loss or weight becomes non-finite; the message names the
        learning rate.
    """
    n_tasks, n_samples = X.shape[:2]
    batch_size = resolve_batch_size(config.batch_size, n_samples)
    n_layers = len(coefs)
    shapes = param_shapes(coefs, intercepts)
    # One (n_tasks, n_params) array, the layers views into it: the optimiser step, the
    # update and the finiteness check are one operation each, not one per layer.
    theta, moved = flatten(list(coefs) + list(intercepts)), None
    sgd = config.solver == "sgd"
    state = sgd_init([theta], config.momentum) if sgd else adam_init([theta])
    learning_rate = np.full(n_tasks, float(config.learning_rate_init))
    best_loss = np.full(n_tasks, np.inf)
    no_improvement = np.zeros(n_tasks, dtype=int)
    active = np.ones(n_tasks, dtype=bool)
    n_iter = np.zeros(n_tasks, dtype=int)
    loss_curve, trajectory = [], [] if record else None
    shuffler = _Shuffler(random_state, n_tasks, n_samples) if config.shuffle else None
    time_step = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(config.max_iter):
            order = shuffler.next_epoch() if shuffler is not None else None
            accumulated = np.zeros(n_tasks)
            all_active = active.all()
            for batch in batch_slices(n_samples, batch_size):
                idx = batch if order is None else order[..., batch]
                Xb, Yb = _take(X, idx), _take(Y, idx)
                layers = unflatten(theta, shapes)
                loss, grad, acts, deltas = backprop_flat(
                    layers[:n_layers], layers[n_layers:], Xb, Yb, config.activation,
                    config.out_activation, config.alpha)
                accumulated += loss * (batch.stop - batch.start)
                if sgd:
                    (update,) = sgd_updates(state, [grad], learning_rate, config.momentum,
                                            config.nesterovs_momentum)
                else:
                    (update,) = adam_updates(state, [grad], config.learning_rate_init,
                                             config.beta_1, config.beta_2, config.epsilon)
                if not all_active:
                    # Stopped tasks keep their weights: their fit has returned.
                    update = np.where(active[:, None], update, 0.0)
                if record:
                    aux = None if sgd else (state["ms"], state["vs"], [grad], state["t"])
                    trajectory.append((theta, acts, deltas, learning_rate.copy(),
                                       active.copy(), aux))
                # as fit's in-place `param += update`: a float32 network stays float32
                theta = (theta + update).astype(theta.dtype, copy=False)
                if track_moved:
                    moved = update if moved is None else moved + update

            loss_ = accumulated / n_samples
            bad = active & ~np.isfinite(loss_)
            if bad.any():
                raise _diverged(config, epoch + 1, bad, n_tasks)
            n_iter += active
            time_step += n_samples
            loss_curve.append(loss_ if all_active else np.where(active, loss_, np.nan))
            # _update_no_improvement_count (training loss; no early stopping)
            worse = loss_ > best_loss - config.tol
            no_improvement = np.where(worse, no_improvement + 1, 0)
            best_loss = np.where(loss_ < best_loss, loss_, best_loss)
            if sgd and config.learning_rate == "invscaling":
                learning_rate[:] = (
                    float(config.learning_rate_init) / (time_step + 1) ** config.power_t)
            trigger = active & (no_improvement > config.n_iter_no_change)
            if sgd and config.learning_rate == "adaptive":
                stop = trigger & (learning_rate <= 1e-6)
                reduce = trigger & ~stop
                learning_rate[reduce] /= 5.0
                no_improvement[reduce] = 0
            else:
                stop = trigger
            active &= ~stop
            if not active.any():
                break
        # One sum: a finite sum means finite weights (an overflowing sum of finite
        # weights only triggers the exact check below).
        if not np.isfinite(theta.sum()):
            bad = ~np.isfinite(theta).all(axis=1)
            if bad.any():
                raise _diverged(config, len(loss_curve), bad, n_tasks)
    layers = unflatten(theta, shapes)
    return TrainResult(layers[:n_layers], layers[n_layers:], np.array(loss_curve), n_iter,
                       trajectory, theta, shapes, moved)


def backward_training(result, cot_coefs, cot_intercepts, config):
    """Vector-Jacobian product of :func:`fit_stochastic` (run with ``record=True``).

    Given ``d loss / d final weights``, return ``d loss / d starting
    weights`` through every step of ``sgd`` (momentum and Nesterov
    included) or ``adam`` (through its moment estimates): the learning rates
    and the stopping decisions are taken as constants, and each step's
    Hessian enters through an exact Hessian-vector product.

    Parameters
    ----------
    result : TrainResult
        Of :func:`fit_stochastic` run with ``record=True``.
    cot_coefs : list of ndarray
        ``d loss / d`` trained weights, shaped like ``result.coefs``.
    cot_intercepts : list of ndarray
        ``d loss / d`` trained intercepts, shaped like ``result.intercepts``.
    config : TrainConfig
        The settings the training ran with.

    Returns
    -------
    coefs_grad : list of ndarray
        ``d loss / d`` starting weights, of shape (n_tasks, fan_in, fan_out)
        per layer.
    intercepts_grad : list of ndarray
        ``d loss / d`` starting intercepts, of shape (n_tasks, fan_out) per layer.
    """
    n_layers = len(cot_coefs)
    grad = backward_training_flat(result, flatten(list(cot_coefs) + list(cot_intercepts)),
                                  config)
    grad = unflatten(grad, result.shapes)
    return grad[:n_layers], grad[n_layers:]


def backward_training_flat(result, cotangent, config):
    """:func:`backward_training` in flat form: ``(n_tasks, n_params)`` in and out.

    Parameters
    ----------
    result : TrainResult
        Of :func:`fit_stochastic` run with ``record=True``.
    cotangent : ndarray of shape (n_tasks, n_params)
        ``d loss / d`` trained weights, laid out as ``result.params``.
    config : TrainConfig
        The settings the training ran with.

    Returns
    -------
    grad : ndarray of shape (n_tasks, n_params)
        ``d loss / d`` starting weights, in the same layout.
    """
    n_layers = len(result.shapes) // 2
    theta_bar = cotangent
    sgd = config.solver == "sgd"
    mu = config.momentum
    # adjoints of the optimiser state: sgd's velocity, adam's two moments
    velocity = sgd and mu != 0
    v_bar = np.zeros(theta_bar.shape) if velocity or not sgd else None
    m_bar = None if sgd else np.zeros(theta_bar.shape)
    for theta, acts, deltas, lr, active, aux in reversed(result.trajectory):
        u_bar = theta_bar if active.all() else np.where(active[:, None], theta_bar, 0.0)
        (rate,) = _per_task_rates(lr, [u_bar])
        if not sgd:
            g_bar, m_bar, v_bar = _adam_backward(u_bar, m_bar, v_bar, aux, config)
        elif not velocity:
            g_bar = -rate * u_bar  # the step is theta - lr * g
        else:
            if config.nesterovs_momentum:
                v_bar = v_bar + mu * u_bar
                g_bar = -rate * u_bar - rate * v_bar
            else:
                v_bar = v_bar + u_bar
                g_bar = -rate * v_bar
            v_bar = mu * v_bar
        layers = unflatten(theta, result.shapes)
        direction = unflatten(g_bar, result.shapes)
        theta_bar = theta_bar + hessian_vector_product_flat(
            layers[:n_layers], acts, deltas, direction[:n_layers], direction[n_layers:],
            config.activation, config.out_activation, config.alpha)
    return theta_bar


def _adam_backward(u_bar, m_bar, v_bar, aux, config):
    """Adjoint of one adam step: ``(d/d grad, moment adjoints one step back)``."""
    (m,), (v,), (g,), t = aux
    b1, b2 = config.beta_1, config.beta_2
    rate = config.learning_rate_init * np.sqrt(1 - b2**t) / (1 - b1**t)
    root = np.sqrt(v)
    denom = root + config.epsilon
    m_bar = m_bar - rate * u_bar / denom
    safe = np.where(root > 0, root, 1.0)  # v == 0 only where every g was 0
    v_bar = v_bar + np.where(root > 0, rate * u_bar * m / (denom**2 * 2 * safe), 0.0)
    g_bar = (1 - b1) * m_bar + (1 - b2) * 2 * g * v_bar
    return g_bar, b1 * m_bar, b2 * v_bar
