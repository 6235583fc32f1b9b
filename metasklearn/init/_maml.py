"""MAML, first-order MAML and Reptile: learned starting weights for MLPs.

The inner loop *is* the base estimator's own ``fit`` (its solver, learning
rate, batches, epochs, stopping rule), replayed for a meta-batch of tasks at
once by :mod:`metasklearn.engine`; ``adapt`` runs that ``fit`` itself from
the learned weights. The classes differ only in the meta-gradient.
"""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_features, check_array, check_is_fitted

from .._validation import TaskRows
from ..engine import (
    DivergedError,
    backprop_flat,
    backward_training_flat,
    config_from_estimator,
    data_loss,
    fit_stochastic,
    forward,
    init_params,
    repeat_view,
    unflatten,
)
from ..engine._optim import adam_init, adam_updates
from ._base import BaseInit
from ._maml_params_doc import MLP_META_INIT_PARAMS
from ._mlp_weights import (check_mlp, fit_from, head_map, hidden_sizes, out_activation,
                           task_weights)
from ._pipeline import (attach, check_finite_rows, check_same_kind, check_step_width,
                        fit_transformer, split_pipeline, transform)
from ._prototype_head import prototype_layer, prototype_layer_backward, prototype_start
from ._task_batches import (coded_targets, detect_label_space, draw_tasks, gather,
                            hold_out_tasks, split_rows, task_targets)

_CHUNK = 512  # tasks per vectorised call; fixed so that n_jobs never changes a sum's order
_VALIDATIONS = 20  # validation checkpoints per meta-training run
_MAX_VALIDATION_TASKS = 500  # held-out tasks checked at each (a fixed random subset)


class _MLPMetaInit(BaseInit):
    """Shared machinery: meta-batches, the outer Adam loop, ``adapt``."""

    _parameter_constraints = {
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "meta_batch_size": [Interval(Integral, 1, None, closed="left")],
        "meta_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "shots": [Interval(Integral, 1, None, closed="left"), None],
        "max_inner_iter": [Interval(Integral, 1, None, closed="left"), None],
        "label_space": [StrOptions({"auto", "shared", "episodic"})],
        "episodic_head": [StrOptions({"vector", "prototype"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
    }
    _needs_query = True
    _second_order = False

    def __init__(self, *, n_iter=1000, meta_batch_size=25, meta_learning_rate=1e-3, shots=None,
                 max_inner_iter=None, label_space="auto", episodic_head="vector",
                 validation_fraction=None, ema_decay=None):
        self.n_iter = n_iter
        self.meta_batch_size = meta_batch_size
        self.meta_learning_rate = meta_learning_rate
        self.shots = shots
        self.max_inner_iter = max_inner_iter
        self.label_space = label_space
        self.episodic_head = episodic_head
        self.validation_fraction = validation_fraction
        self.ema_decay = ema_decay

    # ------------------------------------------------------------------ fit
    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        """Meta-train the starting weights of ``estimator`` on the tasks of ``(X, y, groups)``.

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor, or a Pipeline ending in one
            Unfitted; its settings define the inner loop. A Pipeline's
            transformers are fitted once, on all rows of ``X``.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Rows of all training tasks.
        y : ndarray of shape (n_samples,)
            Their targets: labels (classifier) or values (regressor).
        groups : ndarray of shape (n_samples,)
            Task id of each row.
        n_jobs : int, default=None
            Threads over chunks of a meta-batch (results do not depend on it).
        random_state : int, RandomState instance or None, default=None
            Initial weights and task / row sampling.
        verbose : int, default=0
            Progress lines when > 0.

        Returns
        -------
        self : object
            The strategy, with the learned start in ``coefs_`` and ``intercepts_``.
        """
        self._validate_params()
        # A regressor sets no classes_: a refit must not keep a classifier's.
        self.__dict__.pop("classes_", None)
        name = type(self).__name__
        self.transformer_, X = fit_transformer(estimator, X, y)
        _, estimator = split_pipeline(estimator)
        self._kind = check_mlp(estimator, name)
        classification = self._kind == "classification"
        # NaN would otherwise surface as a diverged inner fit, with the wrong advice
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64,
                        input_name="X" if self.transformer_ is None else "X (as the MLP step "
                        "sees it)")
        y = check_array(y, ensure_2d=False, dtype=None if classification else "numeric",
                        input_name="y")
        self._inner_random_state = estimator.random_state
        self._configs = {}
        self._estimator = estimator
        rows = TaskRows(groups)
        sizes = rows.sizes
        if classification:
            self.classes_, y = np.unique(y, return_inverse=True)
            # distinct (task, label) pairs, counted per task: no loop over tasks
            pairs = np.unique(rows.codes * len(self.classes_) + y)
            n_labels = np.bincount(pairs // len(self.classes_), minlength=len(rows))
            space = self.label_space
            if space == "auto":
                space = detect_label_space(y, rows, X)
            self.label_space_ = space
            n_head = 1 if space == "episodic" or len(self.classes_) == 2 else len(self.classes_)
        else:
            self.label_space_ = "regression"
            n_head = 1 if y.ndim == 1 else y.shape[1]
            n_labels = np.zeros(len(rows), dtype=int)
        shots = self._check_shots(sizes, n_labels)
        rng = check_random_state(random_state)
        units = [X.shape[1], *hidden_sizes(estimator), n_head]
        coefs, intercepts = init_params(units, estimator.activation, rng)
        self._prototypes = self.label_space_ == "episodic" and self.episodic_head == "prototype"
        extra = [np.zeros(1)] if self._prototypes else []  # log of the prototype scale
        # One flat vector with the layers as views into it: the outer Adam step and the
        # finiteness check are a few operations per meta-iteration, not a few per layer.
        flat = np.concatenate([p.ravel() for p in coefs + intercepts + extra])
        shapes = tuple(p.shape for p in coefs + intercepts + extra)
        params = unflatten(flat, shapes)
        state = adam_init([flat])
        decay = self.ema_decay
        averaged = np.zeros_like(flat) if decay is not None else None
        n_layers = len(coefs)
        curve = []
        train_tasks = np.arange(len(rows))
        validation = self.validation_fraction is not None
        if validation:
            train_tasks, checked = hold_out_tasks(rng, rows, self.validation_fraction, shots,
                                                  _MAX_VALIDATION_TASKS, name)
            val_chunks, n_checked = self._chunks(y, rows, checked, shots, rng), len(checked)
            every = -(-self.n_iter // _VALIDATIONS)
            val_curve, val_iter, best_loss = [], [], np.inf
        best_iter = self.n_iter
        for it in range(self.n_iter):
            picks = train_tasks[draw_tasks(rng, len(train_tasks), self.meta_batch_size)]
            try:
                flat_grad, loss = self._meta_gradient(params, X, y, rows, picks, shots, rng,
                                                      n_jobs)
            except DivergedError as exc:
                if it == 0:
                    raise
                raise ValueError(
                    f"{name}: the inner fit diverged at meta-iteration {it + 1}, from weights "
                    f"moved by meta_learning_rate={self.meta_learning_rate!r}; lower "
                    f"meta_learning_rate (or learning_rate_init). {exc}") from exc
            if not np.isfinite(flat_grad).all():
                epochs = estimator.max_iter if self.max_inner_iter is None else min(
                    estimator.max_iter, self.max_inner_iter)
                # only MAML carries the gradient back through the epochs; for the
                # first-order strategies the adapted weights themselves were too large
                cause = (f"carrying it back through up to {epochs} inner epochs overflowed"
                         if self._second_order else f"up to {epochs} inner epochs left "
                         "weights so large that the gradient at them overflowed")
                raise ValueError(
                    f"{name}: the meta-gradient became non-finite at meta-iteration {it + 1} "
                    f"although the inner fits stayed finite: {cause}. Shorten the horizon "
                    "with max_inner_iter, or lower the base estimator's learning_rate_init."
                )
            flat += adam_updates(state, [flat_grad], self.meta_learning_rate, 0.9, 0.999,
                                 1e-8)[0]
            if not (np.isfinite(flat).all() and np.isfinite(loss)):
                raise ValueError(
                    f"{name} diverged at meta-iteration {it + 1}: the learned weights or "
                    f"the meta-loss became non-finite with meta_learning_rate="
                    f"{self.meta_learning_rate!r}. Lower meta_learning_rate (or the base "
                    "estimator's learning_rate_init)."
                )
            if decay is not None:
                averaged *= decay
                averaged += (1.0 - decay) * flat
            curve.append(loss)
            if verbose and ((it + 1) % max(1, self.n_iter // 10) == 0 or it == 0):
                print(f"[{name}] meta-iteration {it + 1}/{self.n_iter}, meta-loss {loss:.5f}",
                      flush=True)
            if validation and ((it + 1) % every == 0 or it + 1 == self.n_iter):
                start = self._start(flat, averaged, it + 1)
                val_loss = self._validation_loss(unflatten(start, shapes), X, y, val_chunks,
                                                 n_checked)
                val_curve.append(val_loss)
                val_iter.append(it + 1)
                if verbose:
                    print(f"[{name}] meta-iteration {it + 1}, validation loss {val_loss:.5f}",
                          flush=True)
                if val_loss < best_loss:
                    best_loss, best_iter, best_flat = val_loss, it + 1, start.copy()
        np.copyto(flat, best_flat if validation and best_iter != self.n_iter
                  else self._start(flat, averaged, self.n_iter))
        self.best_iter_ = best_iter
        self.validation_loss_curve_ = np.array(val_curve) if validation else None
        self.validation_iter_ = np.array(val_iter) if validation else None
        params = [p.copy() for p in params]  # own arrays, not views of the work vector
        self.coefs_, self.intercepts_ = params[:n_layers], params[n_layers:2 * n_layers]
        self.prototype_scale_ = float(np.exp(params[-1][0])) if self._prototypes else None
        self.loss_curve_ = np.array(curve)
        self.shots_ = shots
        del self._estimator, self._configs, self._prototypes
        return self

    def _start(self, flat, averaged, n_done):
        """The start the run would return after ``n_done`` meta-iterations."""
        if averaged is None:
            return flat
        # bias-corrected as Adam's moments: a weighted mean of the iterates so far
        return averaged / (1.0 - self.ema_decay ** n_done)

    def _check_shots(self, sizes, n_labels):
        name = type(self).__name__
        shots = int(sizes.min() // 2) if self.shots is None else self.shots
        limit = sizes.min() - (1 if self._needs_query else 0)
        # shots=None is not what the user should read back as "got shots=0".
        given = (f"shots={shots}" if self.shots is not None
                 else f"shots=None (half the smallest task's rows: {shots})")
        if shots < 1 or shots > limit:
            if limit < 1:
                raise ValueError(
                    f"{name} splits every training task into support and query rows, but "
                    f"the smallest training task has {sizes.min()} row; drop or merge the "
                    "tasks of fewer than 2 rows."
                )
            raise ValueError(
                f"{name} needs shots between 1 and {limit} (the smallest training task has "
                f"{sizes.min()} row{'' if sizes.min() == 1 else 's'}"
                f"{' and must keep query rows' if self._needs_query else ''})"
                f"; got {given}. Choose shots as the number of rows new tasks will "
                "have in adapt."
            )
        if n_labels.max(initial=0) > shots:
            raise ValueError(
                f"{given} cannot hold one row of each class: a training task has "
                f"{n_labels.max()} classes. Raise shots to at least that.")
        return shots

    def _inner_state(self, rng):
        """The RandomState the learner's warm-started ``fit`` shuffles with (no init draws)."""
        rs = self._inner_random_state
        if not self._estimator.shuffle:
            return None
        if rs is None:
            return np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        if isinstance(rs, Integral):
            return np.random.RandomState(rs)
        return copy.deepcopy(rs)

    def _config(self, out, full=False):
        """The engine's replay of the inner ``fit``: truncated to ``max_inner_iter``
        unless ``full`` (all of ``fit``, as ``adapt`` runs it)."""
        if (out, full) not in self._configs:
            self._configs[out, full] = config_from_estimator(
                self._estimator, out, max_iter=None if full else self.max_inner_iter)
        return self._configs[out, full]

    def _chunks(self, y, rows, picks, shots, rng):
        """``(S, Q, inner random state)`` per chunk of tasks with equal shapes."""
        split = split_rows(rng, y, rows, picks, shots, self._kind)
        jobs = []
        for key in sorted(split):
            S_all, Q_all = split[key]
            state = self._inner_state(rng)
            for start in range(0, len(S_all), _CHUNK):
                S, Q = S_all[start:start + _CHUNK], Q_all[start:start + _CHUNK]
                jobs.append((S, Q, copy.deepcopy(state) if state is not None else None))
        return jobs

    def _validation_loss(self, params, X, y, chunks, n_checked):
        try:
            loss = sum(self._chunk_query_loss(params, X, y, S, Q, copy.deepcopy(state))
                       for S, Q, state in chunks)
        except DivergedError:
            return np.inf  # a start that makes a held-out task diverge is never kept
        return loss / n_checked

    def _meta_gradient(self, params, X, y, rows, picks, shots, rng, n_jobs):
        jobs = self._chunks(y, rows, picks, shots, rng)
        if n_jobs in (None, 1) or len(jobs) == 1:
            results = [self._chunk_gradient(params, X, y, *job) for job in jobs]
        else:
            results = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(self._chunk_gradient)(params, X, y, *job) for job in jobs)
        total, loss = results[0]
        for grad, chunk_loss in results[1:]:  # in job order, whatever n_jobs is
            total = total + grad
            loss += chunk_loss
        return total / len(picks), loss / len(picks)

    def _chunk_start(self, params, X, y, S, Q, full=False):
        """Starting weights, rows and targets of tasks with equal shapes.

        ``params`` are the coefs, the intercepts and (prototype head) the log
        of the prototype scale. Returns a dict: ``start_c``, ``start_b`` (per
        layer, with a leading task axis), ``Xs``, ``Ys``, ``Xq``, ``Yq``, the
        engine ``config``, the output activation ``out``, the head maps ``Ms``
        (per task, shared labels) / ``M`` (one for all, episodic labels) and
        the prototype layer's ``cache``. ``full``: the engine config of the
        whole inner ``fit``, not the meta-training horizon.
        """
        n_layers = len(params) // 2
        coefs, intercepts = params[:n_layers], params[n_layers:2 * n_layers]
        B = S.shape[0]
        Xs, Xq = gather(X, S), gather(X, Q)
        Ms, M, cache = None, None, None
        if self._kind == "classification":
            Ys, Yq, labels = coded_targets(y[S], y[Q])
            m = labels.shape[1]
            # The output layer of each task is the learned one times a map M: per task
            # (Ms) for shared labels, one M for all (M) for episodic ones.
            if self.label_space_ == "shared":
                Ms = np.stack([head_map("shared", coefs[-1].shape[1], lab) for lab in labels])
            else:
                M = head_map("episodic", 1, np.arange(m))
            out = out_activation("classification", m)
        else:
            Ys, _ = task_targets(y[S], False)
            Yq, _ = task_targets(y[Q], False)
            out = "identity"  # the learned output layer itself
        config = self._config(out, full)
        if Ms is None:
            # Every task starts from the same weights: broadcast views, so that the first
            # step's products are single large ones.
            last_c = coefs[-1] if M is None else coefs[-1] @ M
            last_b = intercepts[-1] if M is None else intercepts[-1] @ M
            start_c = [repeat_view(c, B) for c in coefs[:-1] + [last_c]]
            start_b = [repeat_view(b, B) for b in intercepts[:-1] + [last_b]]
            if self._prototypes:
                scale = float(np.exp(params[-1][0]))
                proto_c, proto_b, cache = prototype_layer(start_c[:-1], start_b[:-1], Xs, Ys,
                                                          config.activation, scale)
                start_c[-1] = start_c[-1] + proto_c
                start_b[-1] = start_b[-1] + proto_b
        else:
            start_c = [repeat_view(c, B) for c in coefs[:-1]]
            start_c.append(np.matmul(coefs[-1], Ms))
            start_b = [repeat_view(b, B) for b in intercepts[:-1]]
            start_b.append(np.matmul(intercepts[-1], Ms))
        return dict(start_c=start_c, start_b=start_b, Xs=Xs, Ys=Ys, Xq=Xq, Yq=Yq,
                    config=config, out=out, Ms=Ms, M=M, cache=cache)

    def _chunk_gradient(self, params, X, y, S, Q, inner_state):
        """Summed meta-gradient and meta-loss of tasks with equal shapes.

        The gradient comes back flat, in the layout of the flat form of
        ``params`` (see :meth:`_chunk_start`).
        """
        n_layers = len(params) // 2
        B = S.shape[0]
        if not self._needs_query:
            Q = Q[:, :0]  # Reptile learns from the support rows only
        c = self._chunk_start(params, X, y, S, Q)
        start_c, start_b, config, M, Ms = c["start_c"], c["start_b"], c["config"], c["M"], c["Ms"]
        res = fit_stochastic(start_c, start_b, c["Xs"], c["Ys"], config, inner_state,
                             record=self._second_order, track_moved=not self._needs_query)
        grad, query_loss = self._task_gradient(res, c["Xq"], c["Yq"], config, c["out"])
        if query_loss is not None:
            loss = float(query_loss.sum())
        else:  # Reptile: each task's training loss in the last epoch it ran
            loss = float(res.loss_curve[res.n_iter - 1, np.arange(B)].sum())
        if Ms is None and M is None:
            # the tasks' layout is the learned one: one sum over tasks, already flat
            return grad.sum(axis=0), loss
        layers = unflatten(grad, res.shapes)
        gc, gb = layers[:n_layers], layers[n_layers:]
        if Ms is None:
            grads = [g.sum(axis=0) for g in gc] + [g.sum(axis=0) for g in gb]
            grads[len(gc) - 1] = grads[len(gc) - 1] @ M.T
            grads[-1] = grads[-1] @ M.T
            if self._prototypes:
                body_c, body_b, log_scale = prototype_layer_backward(
                    c["cache"], gc[-1], gb[-1], start_c[:-1], config.activation)
                for i in range(n_layers - 1):
                    grads[i] += body_c[i]
                    grads[n_layers + i] += body_b[i]
                grads.append(np.array([log_scale]))
        else:
            Mt = np.swapaxes(Ms, 1, 2)
            grads = [g.sum(axis=0) for g in gc[:-1]] + [np.matmul(gc[-1], Mt).sum(axis=0)]
            grads += [g.sum(axis=0) for g in gb[:-1]]
            grads.append(np.matmul(gb[-1][:, None, :], Mt)[:, 0, :].sum(axis=0))
        return np.concatenate([g.ravel() for g in grads]), loss

    def _chunk_query_loss(self, params, X, y, S, Q, inner_state):
        """Summed query loss after the whole inner ``fit`` (no gradient): the validation loss."""
        c = self._chunk_start(params, X, y, S, Q, full=True)
        res = fit_stochastic(c["start_c"], c["start_b"], c["Xs"], c["Ys"], c["config"],
                             inner_state, record=False)
        P = forward(res.coefs, res.intercepts, c["Xq"], c["config"].activation, c["out"])[-1]
        return float(data_loss(P, c["Yq"], c["out"]).sum())

    # --------------------------------------------------------------- adapt
    def adapt(self, estimator, X, y):
        """Fit ``estimator`` on one new task by its own ``fit``, from the learned weights.

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor, or a Pipeline ending in one
            Unfitted clone for the new task (of the kind given to ``fit``).
        X : array-like of shape (n_samples, n_features)
            The new task's rows.
        y : array-like of shape (n_samples,)
            Their targets; for shared labels, labels seen in :meth:`fit`.

        Returns
        -------
        estimator : MLPClassifier or MLPRegressor, or Pipeline
            Fitted; ``warm_start`` keeps the value it came with. A Pipeline
            gets copies of the transformers fitted in :meth:`fit`.
        """
        check_is_fitted(self, "coefs_")
        name = type(self).__name__
        pipeline, (_, estimator) = estimator, split_pipeline(estimator)
        check_mlp(estimator, name)
        check_same_kind(pipeline, self.transformer_, name)
        expected = [c.shape[1] for c in self.coefs_[:-1]]
        if hidden_sizes(estimator) != expected:
            raise ValueError(
                f"{name} learned weights for hidden_layer_sizes={tuple(expected)}, but the "
                f"estimator to adapt has {tuple(hidden_sizes(estimator))}. Keep the "
                "architecture fixed between fit and adapt.")
        if self.label_space_ == "regression":
            M = head_map("regression", self.coefs_[-1].shape[1], None)
        elif self.label_space_ == "shared":
            self._check_known_labels(y)
            M = head_map("shared", self.coefs_[-1].shape[1],
                         np.searchsorted(self.classes_, np.unique(y)))
        else:
            M = head_map("episodic", 1, np.arange(len(np.unique(y))))
        coefs, intercepts = task_weights(self.coefs_, self.intercepts_, M)
        Xt = transform(self.transformer_, X)
        if self.transformer_ is not None:
            check_finite_rows(Xt, "MLP", name)
        check_step_width(_num_features(Xt), self.coefs_[0].shape[0], "MLP", name)
        if self.prototype_scale_ is not None:
            coefs[-1], intercepts[-1] = prototype_start(coefs, intercepts, Xt, y,
                                                        estimator.activation,
                                                        self.prototype_scale_)
        fitted = fit_from(estimator, Xt, y, coefs, intercepts, name)
        return attach(pipeline, self.transformer_, fitted)


class FOMAML(_MLPMetaInit):
    __doc__ = """First-order MAML: starting weights that train well in a few steps.

    For each task of a meta-batch, run the base estimator's own ``fit``
    (replayed exactly by the engine) on ``shots`` support rows from the
    learned weights, and move the weights along the gradient of the query
    loss at the adapted weights (Finn et al., 2017, first-order variant).
    """ + MLP_META_INIT_PARAMS + """
    Examples
    --------
    >>> from sklearn.neural_network import MLPRegressor
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_sinusoid_tasks
    >>> from metasklearn.init import FOMAML
    >>> X, y, groups = make_sinusoid_tasks(n_tasks=20, n_samples=20, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(20,), solver="sgd", learning_rate_init=0.01,
    ...                    momentum=0.0, batch_size=10, max_iter=3, random_state=0)
    >>> init = FOMAML(n_iter=20, meta_batch_size=5, shots=10)
    >>> meta = MetaEstimator(mlp, init=init, random_state=0).fit(X, y, groups=groups)
    >>> meta.init_.loss_curve_.shape
    (20,)
    >>> type(meta.adapt(X[:10], y[:10])).__name__
    'MLPRegressor'
    """

    def _task_gradient(self, res, Xq, Yq, config, out):
        """``(flat gradient per task, per-task query loss or None)`` of a chunk."""
        loss, grad, _, _ = backprop_flat(res.coefs, res.intercepts, Xq, Yq, config.activation,
                                         out, 0.0)
        if out == "identity" and Yq.shape[-1] > 1:
            # scikit-learn's squared loss averages over the outputs but its gradient sums
            # over them; the meta-loss is the average, so this is its gradient
            grad /= Yq.shape[-1]
        return grad, loss


class MAML(FOMAML):
    __doc__ = """Model-agnostic meta-learning, second order through the inner ``fit``.

    As :class:`FOMAML`, but the query-loss gradient is carried back through
    every inner step to the starting weights, with exact Hessian-vector
    products (Pearlmutter's R-operator, no autodiff), through ``sgd``
    (momentum, Nesterov) and ``adam`` alike.
    """ + MLP_META_INIT_PARAMS + """
    Examples
    --------
    >>> from sklearn.base import clone
    >>> from sklearn.neural_network import MLPRegressor
    >>> from metasklearn.datasets import make_sinusoid_tasks
    >>> from metasklearn.init import MAML
    >>> X, y, groups = make_sinusoid_tasks(n_tasks=10, n_samples=20, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(20,), solver="sgd", learning_rate_init=0.01,
    ...                    momentum=0.0, batch_size=10, max_iter=2, random_state=0)
    >>> maml = MAML(n_iter=10, meta_batch_size=5, shots=10).fit(mlp, X, y, groups,
    ...                                                         random_state=0)
    >>> learner = maml.adapt(clone(mlp), X[:10], y[:10])  # adapt fits what it is given
    >>> learner.n_iter_
    2
    """
    _second_order = True

    def _task_gradient(self, res, Xq, Yq, config, out):
        grad, loss = super()._task_gradient(res, Xq, Yq, config, out)
        return backward_training_flat(res, grad, config), loss


class Reptile(_MLPMetaInit):
    __doc__ = """Reptile: move the starting weights towards each task's trained weights.

    For each task of a meta-batch, run the base estimator's own ``fit`` on
    ``shots`` rows from the learned weights; the meta-gradient is the start
    minus the trained weights (Nichol et al., 2018), fed to Adam. No query
    rows are needed (rows beyond ``shots`` are not used); ``loss_curve_``
    is the inner ``fit``'s training loss in its last epoch.
    """ + MLP_META_INIT_PARAMS + """
    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> from metasklearn.datasets import load_digits_episodes
    >>> from metasklearn.init import Reptile
    >>> X, y, groups = load_digits_episodes(n_way=3, k_shot=2, n_query=2, n_episodes=10,
    ...                                     random_state=0)
    >>> mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> reptile = Reptile(n_iter=5, meta_batch_size=4, shots=6, label_space="episodic")
    >>> reptile = reptile.fit(mlp, X, y, groups, random_state=0)
    >>> [c.shape for c in reptile.coefs_]
    [(64, 16), (16, 1)]
    """
    _needs_query = False

    def _task_gradient(self, res, Xq, Yq, config, out):
        return -res.moved, None  # start - trained weights, summed step by step
