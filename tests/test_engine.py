"""The engine computes what scikit-learn's MLP computes, for many tasks at once."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer

from metasklearn.engine import (
    DivergedError,
    backprop,
    backprop_flat,
    backward_training,
    config_from_estimator,
    data_loss,
    fit_stochastic,
    flatten,
    forward,
    hessian_vector_product,
    init_params,
    repeat_view,
    unflatten,
)

RNG = np.random.RandomState(0)
X = RNG.normal(size=(37, 3))
TARGETS = {
    "binary": (X[:, 0] > 0).astype(int),
    "multiclass": np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5]),
    "regression": X @ [1.0, -2.0, 0.5] + np.sin(X[:, 0]),
}
SETTINGS = {
    "constant": {},
    "invscaling-plain-momentum": dict(learning_rate="invscaling", nesterovs_momentum=False),
    # tol so large that the stopping rule / lr reduction fires within 20 epochs
    "adaptive-stopping": dict(learning_rate="adaptive", momentum=0.5, tol=0.1,
                              n_iter_no_change=2),
}


def _targets(kind, y):
    if kind == "regression":
        return y.reshape(-1, 1).astype(float), "identity"
    Y = LabelBinarizer().fit_transform(y).astype(float)
    return Y, "logistic" if Y.shape[1] == 1 else "softmax"


def _engine_fit(est, X, y, kind, seed):
    Y, out = _targets(kind, y)
    rs = np.random.RandomState(seed)
    coefs, intercepts = init_params([X.shape[1], *est.hidden_layer_sizes, Y.shape[1]],
                                    est.activation, rs)
    config = config_from_estimator(est, out)
    return fit_stochastic([c[None] for c in coefs], [b[None] for b in intercepts],
                          X[None], Y[None], config, rs)


@pytest.mark.parametrize(
    "activation, solver, kind, setting",
    list(itertools.product(["identity", "logistic", "tanh", "relu"], ["sgd", "adam"],
                           TARGETS, SETTINGS)),
)
def test_weights_equal_sklearn_after_20_epochs(activation, solver, kind, setting):
    y = TARGETS[kind]
    Est = MLPRegressor if kind == "regression" else MLPClassifier
    est = Est(hidden_layer_sizes=(5, 4), activation=activation, solver=solver, max_iter=20,
              batch_size=8, random_state=1,
              learning_rate_init=0.005 if kind == "regression" else 0.05,
              **SETTINGS[setting])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    res = _engine_fit(est, X, y, kind, seed=1)
    for mine, theirs in zip(res.coefs + res.intercepts, est.coefs_ + est.intercepts_):
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-10)
    assert res.n_iter[0] == est.n_iter_
    curve = res.loss_curve[: est.n_iter_, 0]
    np.testing.assert_allclose(curve, est.loss_curve_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_networks_stay_float32_as_in_fit(solver):
    # scikit-learn keeps float32 weights for float32 data; the engine must not train a
    # float64 network instead (regression: the flat gradient was allocated as float64).
    X32 = X.astype(np.float32)
    y32 = TARGETS["regression"].astype(np.float32)
    est = MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=20, batch_size=8,
                       random_state=1, learning_rate_init=0.01, momentum=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X32, y32)
    rs = np.random.RandomState(1)
    coefs, intercepts = init_params([3, 5, 1], "relu", rs)
    res = fit_stochastic([c.astype(np.float32)[None] for c in coefs],
                         [b.astype(np.float32)[None] for b in intercepts], X32[None],
                         y32[None, :, None], config_from_estimator(est, "identity"), rs)
    assert est.coefs_[0].dtype == np.float32
    for mine, theirs in zip(res.coefs + res.intercepts, est.coefs_ + est.intercepts_):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-6)


def test_stopping_rule_fires_in_the_matrix():
    # Guards the matrix above: at least one setting really stops early.
    est = MLPClassifier(hidden_layer_sizes=(5, 4), solver="adam", max_iter=20, batch_size=8,
                        random_state=1, learning_rate_init=0.05, **SETTINGS["adaptive-stopping"])
    est.fit(X, TARGETS["binary"])
    assert est.n_iter_ < 20
    assert _engine_fit(est, X, TARGETS["binary"], "binary", 1).n_iter[0] == est.n_iter_


@pytest.mark.parametrize("settings", [
    dict(solver="sgd"),
    # per-task learning rates: each task's adaptive schedule divides its own by 5
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05, max_iter=12),
    dict(solver="adam", learning_rate_init=0.05),
])
def test_tasks_in_one_batch_equal_tasks_one_by_one(settings, monkeypatch):
    from metasklearn.engine import _optim

    rates_seen = []
    per_task_rates = _optim._per_task_rates

    def spy(rate, grads):
        rates_seen.append(rate.copy())
        return per_task_rates(rate, grads)

    monkeypatch.setattr(_optim, "_per_task_rates", spy)
    rng = np.random.RandomState(3)
    T, n = 4, 12
    Xs = rng.normal(size=(T, n, 2))
    Ys = (Xs[..., :1] * rng.normal(size=(T, 1, 1)))
    c, b = init_params([2, 6, 1], "tanh", rng)
    coefs = [np.stack([w + 0.1 * k for k in range(T)]) for w in c]
    intercepts = [np.stack([w] * T) for w in b]
    config = config_from_estimator(
        MLPRegressor(activation="tanh", batch_size=5, **{"max_iter": 7, **settings},
                     tol=0.05, n_iter_no_change=1), "identity")
    together = fit_stochastic(coefs, intercepts, Xs, Ys, config,
                              [np.random.RandomState(k) for k in range(T)])
    if settings.get("learning_rate") == "adaptive":  # the tasks' rates part ways
        assert any(len(set(rate.tolist())) > 1 for rate in rates_seen)
    else:
        assert len(set(together.n_iter.tolist())) > 1  # tasks stop at different epochs
    for k in range(T):
        alone = fit_stochastic([w[k:k + 1] for w in coefs], [w[k:k + 1] for w in intercepts],
                               Xs[k:k + 1], Ys[k:k + 1], config, [np.random.RandomState(k)])
        for a, t in zip(alone.coefs + alone.intercepts, together.coefs + together.intercepts):
            np.testing.assert_allclose(a[0], t[k], rtol=0, atol=1e-12)
        assert alone.n_iter[0] == together.n_iter[k]
        # the curve of a task that stopped is NaN from then on
        np.testing.assert_array_equal(together.loss_curve[:alone.n_iter[0], k],
                                      alone.loss_curve[:, 0])
        assert np.isnan(together.loss_curve[alone.n_iter[0]:, k]).all()


def test_unflatten_takes_shapes_as_lists_too():
    # regression: the cached layout needed hashable shapes, a list of lists raised TypeError
    views = unflatten(np.arange(10.0)[None], [[2, 3], [4]])
    assert [v.shape for v in views] == [(1, 2, 3), (1, 4)]


def test_unflatten_names_a_layout_that_does_not_fit():
    with pytest.raises(ValueError, match="got 11 parameters per task but the layer shapes "
                                         "hold 10"):
        unflatten(np.zeros((2, 11)), ((2, 3), (4,)))


def test_flat_form_round_trips_and_keeps_a_shared_start_shared():
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([3, 4, 2], "relu", rng)
    layers = coefs + intercepts
    shapes = tuple(p.shape for p in layers)
    # a start shared by 5 tasks stays one vector seen 5 times: the first step's products
    # are single large ones only while the task stride is 0
    shared = flatten([repeat_view(p, 5) for p in layers])
    assert shared.shape == (5, 3 * 4 + 4 * 2 + 4 + 2) and shared.strides[0] == 0
    for view, p in zip(unflatten(shared, shapes), layers):
        assert view.strides[0] == 0
        np.testing.assert_array_equal(view[3], p)
    per_task = [np.stack([p + k for k in range(5)]) for p in layers]
    flat = flatten(per_task)
    for view, p in zip(unflatten(flat, shapes), per_task):
        np.testing.assert_array_equal(view, p)
        assert np.shares_memory(view, flat)


def test_repeat_view_of_a_non_contiguous_array_is_a_read_only_broadcast():
    base = np.arange(12.0).reshape(3, 4)
    # transposed, reversed and strided views: not C-contiguous
    for a in (base.T, base[::-1], base[1:, ::2], base[0, ::-1]):
        view = repeat_view(a, 4)
        assert view.shape == (4,) + a.shape and view.strides[0] == 0
        for k in range(4):
            np.testing.assert_array_equal(view[k], a)
        assert not view.flags.writeable
        assert np.shares_memory(view, base)


def test_a_shared_start_reaches_the_first_products_as_one_matrix(monkeypatch):
    # The first step's products are single 2-D ones only if the start shared by all
    # tasks arrives at _matmul with stride 0 on the task axis (most of the engine's speed
    # at small meta-batches); the flat layout must not copy it per task.
    from metasklearn.engine import _mlp

    strides = []
    matmul = _mlp._matmul

    def spy(A, W):
        strides.append(W.strides[0])
        return matmul(A, W)

    monkeypatch.setattr(_mlp, "_matmul", spy)
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([2, 6, 3, 1], "relu", rng)
    config = config_from_estimator(
        MLPRegressor(solver="sgd", batch_size=8, max_iter=1, momentum=0.0), "identity")
    fit_stochastic([repeat_view(c, 5) for c in coefs], [repeat_view(b, 5) for b in intercepts],
                   rng.normal(size=(5, 8, 2)), rng.normal(size=(5, 8, 1)), config,
                   np.random.RandomState(0))
    assert len(strides) == 5  # three layers forward, two deltas back
    assert all(stride == 0 for stride in strides)


def test_moved_is_trained_minus_starting_weights():
    # Reptile's meta-gradient is -moved; it must be the weights' displacement, also for
    # tasks that stop early (their later updates are masked) and with momentum.
    rng = np.random.RandomState(3)
    T, n = 4, 12
    Xs = rng.normal(size=(T, n, 2))
    Ys = Xs[..., :1] * rng.normal(size=(T, 1, 1))
    c, b = init_params([2, 6, 1], "tanh", rng)
    config = config_from_estimator(
        MLPRegressor(activation="tanh", solver="sgd", batch_size=5, max_iter=7, tol=0.05,
                     n_iter_no_change=1, momentum=0.5), "identity")
    res = fit_stochastic([np.stack([w] * T) for w in c], [np.stack([w] * T) for w in b], Xs,
                         Ys, config, [np.random.RandomState(k) for k in range(T)],
                         track_moved=True)
    assert len(set(res.n_iter.tolist())) > 1  # tasks stop at different epochs
    trained = np.concatenate([p.reshape(T, -1) for p in res.coefs + res.intercepts], axis=1)
    start = np.concatenate([w.ravel() for w in c + b])
    np.testing.assert_allclose(res.moved, trained - start, rtol=0, atol=1e-12)
    assert (np.abs(res.moved).max(axis=1) > 1e-3).all()  # every task moved
    assert fit_stochastic([np.stack([w] * T) for w in c], [np.stack([w] * T) for w in b], Xs,
                          Ys, config, [np.random.RandomState(k) for k in range(T)]).moved is None


def _random_net(rng, units, T=2):
    coefs = [rng.normal(scale=0.7, size=(T, a, b)) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rng.normal(scale=0.3, size=(T, b)) for b in units[1:]]
    return coefs, intercepts


def _flat_grad(coefs, intercepts, Xb, Yb, activation, out, alpha):
    _, cg, ig, _, _ = backprop(coefs, intercepts, Xb, Yb, activation, out, alpha)
    return cg + ig


@pytest.mark.parametrize("activation, out", [("tanh", "softmax"), ("logistic", "logistic"),
                                             ("relu", "identity"), ("identity", "softmax")])
def test_hessian_vector_product_matches_finite_differences(activation, out):
    rng = np.random.RandomState(0)
    units = [3, 4, 5, 3 if out == "softmax" else 1]
    coefs, intercepts = _random_net(rng, units)
    Xb = rng.normal(size=(2, 9, 3))
    Yb = (np.eye(units[-1])[rng.randint(units[-1], size=(2, 9))] if out == "softmax"
          else rng.randint(2, size=(2, 9, 1)).astype(float))
    vc, vi = _random_net(rng, units)
    _, _, _, acts, deltas = backprop(coefs, intercepts, Xb, Yb, activation, out, 0.3)
    hc, hi = hessian_vector_product(coefs, acts, deltas, vc, vi, activation, out, 0.3)
    eps = 1e-6
    plus = _flat_grad([c + eps * v for c, v in zip(coefs, vc)],
                      [b + eps * v for b, v in zip(intercepts, vi)], Xb, Yb, activation, out, 0.3)
    minus = _flat_grad([c - eps * v for c, v in zip(coefs, vc)],
                       [b - eps * v for b, v in zip(intercepts, vi)], Xb, Yb, activation, out,
                       0.3)
    for h, p, m in zip(hc + hi, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-5, atol=1e-7)
    assert max(np.abs(h).max() for h in hc) > 1e-3  # not trivially zero


@pytest.mark.parametrize("solver, nesterov, schedule", [
    ("sgd", True, {}), ("sgd", False, {}), ("adam", False, {}),
    # per-task rates that part ways, and a task that stops while the other trains on
    ("sgd", True, dict(learning_rate="adaptive", tol=0.02, n_iter_no_change=1, max_iter=8)),
    ("adam", False, dict(tol=0.005, n_iter_no_change=1, max_iter=8)),
])
def test_backward_through_training_matches_finite_differences(solver, nesterov, schedule):
    rng = np.random.RandomState(1)
    units = [2, 5, 1]
    coefs, intercepts = _random_net(rng, units)
    Xs, Xq = rng.normal(size=(2, 8, 2)), rng.normal(size=(2, 6, 2))
    Ys, Yq = np.sin(Xs[..., :1]), np.sin(Xq[..., :1])
    config = config_from_estimator(
        MLPRegressor(activation="tanh", solver=solver, batch_size=3,
                     **{"max_iter": 3, **schedule}, learning_rate_init=0.1, momentum=0.5,
                     nesterovs_momentum=nesterov, alpha=0.01), "identity")

    def query_loss(c, b, record=False):
        res = fit_stochastic(c, b, Xs, Ys, config, np.random.RandomState(0), record=record)
        P = forward(res.coefs, res.intercepts, Xq, "tanh", "identity")[-1]
        return data_loss(P, Yq, "identity").sum(), res

    _, res = query_loss(coefs, intercepts, record=True)
    _, cg, ig, _, _ = backprop(res.coefs, res.intercepts, Xq, Yq, "tanh", "identity", 0.0)
    gc, gi = backward_training(res, cg, ig, config)
    vc, vi = _random_net(rng, units)
    eps = 1e-6
    fd = (query_loss([c + eps * v for c, v in zip(coefs, vc)],
                     [b + eps * v for b, v in zip(intercepts, vi)])[0]
          - query_loss([c - eps * v for c, v in zip(coefs, vc)],
                       [b - eps * v for b, v in zip(intercepts, vi)])[0]) / (2 * eps)
    analytic = sum(np.sum(g * v) for g, v in zip(gc + gi, vc + vi))
    first_order = sum(np.sum(g * v) for g, v in zip(cg + ig, vc + vi))
    assert analytic == pytest.approx(fd, rel=1e-6)
    assert abs(first_order - fd) > 1e-3 * abs(fd)  # the second-order terms matter here


def test_divergence_raises_naming_the_learning_rate():
    rng = np.random.RandomState(0)
    coefs, intercepts = _random_net(rng, [2, 4, 1], T=1)
    config = config_from_estimator(
        MLPRegressor(solver="sgd", learning_rate_init=1e6, max_iter=5), "identity")
    with pytest.raises(ValueError, match=r"learning_rate_init=1000000.0"):
        fit_stochastic(coefs, intercepts, rng.normal(size=(1, 10, 2)) * 100,
                       rng.normal(size=(1, 10, 1)), config, np.random.RandomState(0))


@pytest.mark.parametrize("params, match", [(dict(solver="lbfgs"), "stochastic solver"),
                                           (dict(early_stopping=True), "early_stopping")])
def test_unsupported_settings_raise(params, match):
    with pytest.raises(ValueError, match=match):
        config_from_estimator(MLPRegressor(**params), "identity")


def test_a_poisson_regressor_is_refused_rather_than_replayed_with_the_squared_error():
    # scikit-learn >= 1.7 trains loss="poisson" with an "exp" output: not what the engine does
    est = MLPRegressor()
    if "loss" not in est.get_params():
        pytest.skip("MLPRegressor has no loss parameter before scikit-learn 1.7")
    with pytest.raises(ValueError, match=r"loss='poisson'"):
        config_from_estimator(est.set_params(loss="poisson"), "identity")


def test_batches_are_gen_batches():
    from sklearn.utils import gen_batches

    from metasklearn.engine._train import batch_slices

    for n in range(1, 30):
        for size in range(1, n + 1):
            assert batch_slices(n, size) == list(gen_batches(n, size))


def test_auto_batch_size_is_200_rows_as_in_fit():
    # Every engine test uses batch_size=8 or fewer than 200 rows, where "auto" is all rows.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(450, 3))
    y = X @ [1.0, -2.0, 0.5]
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", batch_size="auto", max_iter=2,
                       learning_rate_init=0.01, random_state=0).fit(X, y)
    res = _engine_fit(est, X, y, "regression", est.random_state)
    for mine, theirs in zip(res.coefs + res.intercepts, est.coefs_ + est.intercepts_):
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.loss_curve[:, 0], est.loss_curve_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("rate", [1e-5, 1e-6])
def test_adaptive_schedule_stops_once_the_rate_is_at_most_1e_6(rate):
    # The matrix's adaptive setting stops through tol long before the rate gets small;
    # here tol is so large that every second epoch triggers, and the rate runs out:
    # 1e-5 -> 2e-6 -> 4e-7 (<= 1e-6: stop at the next trigger); 1e-6 stops at the first.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = np.sin(X[:, 0])
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive",
                       learning_rate_init=rate, tol=10.0, n_iter_no_change=1, batch_size=8,
                       max_iter=50, random_state=0).fit(X, y)
    assert est.n_iter_ < 50 and est._optimizer.learning_rate <= 1e-6
    res = _engine_fit(est, X, y, "regression", est.random_state)
    assert res.n_iter[0] == est.n_iter_
    for mine, theirs in zip(res.coefs + res.intercepts, est.coefs_ + est.intercepts_):
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-12)


def test_squared_loss_of_several_outputs_is_half_the_mean_over_rows_and_outputs():
    # scikit-learn's squared_loss: ((y - p) ** 2).mean() / 2, the mean over outputs too.
    # data_loss gives the validation loss of multi-output regression; backprop_flat's fast
    # path gives the training loss: both must be that number.
    rng = np.random.RandomState(0)
    P, Y = rng.normal(size=(3, 7, 2)), rng.normal(size=(3, 7, 2))
    expected = [0.5 * np.mean((Y[t] - P[t]) ** 2) for t in range(3)]
    np.testing.assert_allclose(data_loss(P, Y, "identity"), expected, rtol=1e-14)
    coefs, intercepts = [rng.normal(size=(3, 4, 2))], [rng.normal(size=(3, 2))]
    X = rng.normal(size=(3, 7, 4))
    out = forward(coefs, intercepts, X, "relu", "identity")[-1]
    loss = backprop_flat(coefs, intercepts, X, Y, "relu", "identity", 0.0)[0]
    np.testing.assert_allclose(loss, data_loss(out, Y, "identity"), rtol=1e-14)


@pytest.mark.parametrize("max_iter, match", [
    # The loss of the last epoch is computed before its update, so only the check of the
    # final weights sees an update that overflowed: it must raise, not return inf weights.
    (1, "epoch 1"),
    # The update of epoch 1 overflows; the loss of epoch 2, computed at those weights, is the
    # first that is not finite.
    (3, "of 1 of 1 tasks became non-finite .* in epoch 2 "),
])
def test_an_overflowing_update_raises_diverged_naming_its_epoch(max_iter, match):
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([2, 4, 1], "relu", rng)
    X, Y = rng.normal(size=(1, 10, 2)) * 10, rng.normal(size=(1, 10, 1)) * 10
    config = config_from_estimator(
        MLPRegressor(solver="sgd", momentum=0.0, learning_rate_init=1e307, max_iter=max_iter,
                     batch_size=10, shuffle=False), "identity")
    with pytest.raises(DivergedError, match=match):
        fit_stochastic([c[None] for c in coefs], [b[None] for b in intercepts], X, Y, config,
                       None)


def test_an_epoch_exactly_as_good_as_the_best_is_no_worse_with_tol_0():
    # A rate too small to move the weights: every epoch's loss equals the first. With tol=0
    # scikit-learn counts that as no worse ("loss > best - tol"), so training never stops.
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e-30,
                       momentum=0.0, tol=0.0, n_iter_no_change=2, max_iter=8, batch_size=37,
                       shuffle=False, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, TARGETS["regression"])
    assert est.n_iter_ == 8 and len(set(est.loss_curve_)) == 1
    res = _engine_fit(est, X, TARGETS["regression"], "regression", seed=1)
    assert res.n_iter[0] == 8


@pytest.mark.parametrize("per_task", [False, True])
def test_shuffles_over_epochs_are_fit_s_with_a_shared_or_a_per_task_random_state(per_task):
    # fit shuffles the previous epoch's order again; a list of one RandomState per task
    # (a learner's RandomState instance) must draw the orders the shared one draws.
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=6, batch_size=8,
                       random_state=1, learning_rate_init=0.01, momentum=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, TARGETS["regression"])
    rs = np.random.RandomState(1)
    coefs, intercepts = init_params([3, 5, 1], "relu", rs)
    res = fit_stochastic([c[None] for c in coefs], [b[None] for b in intercepts], X[None],
                         TARGETS["regression"][None, :, None],
                         config_from_estimator(est, "identity"), [rs] if per_task else rs)
    for mine, theirs in zip(res.coefs + res.intercepts, est.coefs_ + est.intercepts_):
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-10)


def test_resolve_batch_size_clips_as_fit_does():
    from metasklearn.engine import resolve_batch_size

    for batch_size in [1, 7, 37, 38, 500]:
        assert resolve_batch_size(batch_size, 37) == np.clip(batch_size, 1, 37)
    assert resolve_batch_size("auto", 37) == 37
    assert resolve_batch_size("auto", 450) == 200


def test_a_truncated_horizon_never_exceeds_the_estimator_s_max_iter():
    est = MLPRegressor(max_iter=3)
    assert config_from_estimator(est, "identity", max_iter=10).max_iter == 3
    assert config_from_estimator(est, "identity", max_iter=2).max_iter == 2
    assert config_from_estimator(est, "identity").max_iter == 3


def test_an_unknown_activation_is_refused_not_taken_for_the_identity():
    # Regression: forward computed the identity for a typo ("sigmoid"), and data_loss the
    # categorical log-loss for any output name it did not know.
    coefs, intercepts = init_params([3, 4, 1], "relu", np.random.RandomState(0))
    coefs, intercepts = [c[None] for c in coefs], [b[None] for b in intercepts]
    X = np.ones((1, 5, 3))
    with pytest.raises(ValueError, match="Unknown activation 'sigmoid'"):
        forward(coefs, intercepts, X, "sigmoid", "identity")
    with pytest.raises(ValueError, match="Unknown activation 'exp'"):
        forward(coefs, intercepts, X, "relu", "exp")
    with pytest.raises(ValueError, match="Unknown output activation 'exp'"):
        data_loss(np.full((1, 5, 1), 0.5), np.ones((1, 5, 1)), "exp")
