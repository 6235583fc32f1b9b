"""MAML, FOMAML and Reptile: the inner loop is the estimator's fit, and the start helps."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from metasklearn import MetaEstimator
from metasklearn.datasets import load_digits_episodes, make_sinusoid_tasks
from metasklearn.engine import DivergedError, config_from_estimator, fit_stochastic, forward
from metasklearn.init import FOMAML, MAML, Reptile
from metasklearn.init import _maml
from metasklearn._validation import TaskRows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _sgd_mlp(**params):
    defaults = dict(hidden_layer_sizes=(20, 20), solver="sgd", learning_rate_init=0.01,
                    momentum=0.0, batch_size=10, max_iter=5, shuffle=False, alpha=0.0,
                    random_state=0)
    return MLPRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def sinusoid():
    X, y, groups = make_sinusoid_tasks(n_tasks=200, n_samples=20, random_state=0)
    X_new, y_new, g_new = make_sinusoid_tasks(n_tasks=30, n_samples=60, random_state=1)
    return X, y, groups, X_new, y_new, g_new


def _few_shot_mse(strategy, mlp, X_new, y_new, g_new, shots=10):
    errors = []
    for task in np.unique(g_new):
        rows = g_new == task
        Xt, yt = X_new[rows], y_new[rows]
        learner = clone(mlp)
        if strategy is None:
            learner.fit(Xt[:shots], yt[:shots])
        else:
            learner = strategy.adapt(learner, Xt[:shots], yt[:shots])
        errors.append(np.mean((learner.predict(Xt[shots:]) - yt[shots:]) ** 2))
    return float(np.mean(errors))


@pytest.mark.parametrize("Strategy", [MAML, FOMAML, Reptile])
def test_learned_start_beats_scratch_on_new_sinusoids(sinusoid, Strategy):
    X, y, groups, X_new, y_new, g_new = sinusoid
    mlp = _sgd_mlp()
    strategy = Strategy(n_iter=300, meta_batch_size=10, shots=10, meta_learning_rate=1e-2)
    strategy.fit(mlp, X, y, groups, random_state=0)
    scratch = _few_shot_mse(None, mlp, X_new, y_new, g_new)
    learned = _few_shot_mse(strategy, mlp, X_new, y_new, g_new)
    assert scratch > 2.5
    assert learned < 0.5 * scratch, (learned, scratch)
    # meta-loss went down
    assert strategy.loss_curve_[-50:].mean() < 0.7 * strategy.loss_curve_[:50].mean()


def test_second_order_beats_first_order_on_one_step(sinusoid):
    X, y, groups, X_new, y_new, g_new = sinusoid
    mlp = _sgd_mlp(max_iter=1, learning_rate_init=0.05)
    scores = {}
    for Strategy in (MAML, FOMAML):
        s = Strategy(n_iter=300, meta_batch_size=10, shots=10, meta_learning_rate=3e-3)
        scores[Strategy.__name__] = _few_shot_mse(s.fit(mlp, X, y, groups, random_state=0), mlp,
                                                  X_new, y_new, g_new)
    assert scores["MAML"] < scores["FOMAML"], scores


def test_adapt_is_the_estimators_own_fit_from_the_learned_weights(sinusoid):
    X, y, groups, X_new, y_new, _ = sinusoid
    mlp = _sgd_mlp(solver="adam", shuffle=True, batch_size=4, max_iter=7, random_state=3)
    strategy = FOMAML(n_iter=5, meta_batch_size=4, shots=10).fit(mlp, X, y, groups,
                                                                 random_state=0)
    learned = [c.copy() for c in strategy.coefs_ + strategy.intercepts_]
    learner = strategy.adapt(clone(mlp), X_new[:10], y_new[:10])
    # the engine from the same start with the fit's own (fresh, warm-start) random state
    res = fit_stochastic([c[None] for c in strategy.coefs_],
                         [b[None] for b in strategy.intercepts_], X_new[None, :10],
                         y_new[None, :10, None], config_from_estimator(mlp, "identity"),
                         np.random.RandomState(3))
    for mine, theirs in zip(res.coefs + res.intercepts, learner.coefs_ + learner.intercepts_):
        np.testing.assert_allclose(mine[0], theirs, rtol=0, atol=1e-12)
    assert learner.n_iter_ == 7 and learner.t_ == 70 and len(learner.loss_curve_) == 7
    assert learner.warm_start is False  # the user's setting is back
    for before, after in zip(learned, strategy.coefs_ + strategy.intercepts_):
        np.testing.assert_array_equal(before, after)  # adapt did not touch the strategy


def test_meta_estimator_adapt_returns_a_plain_picklable_mlp():
    X, y, groups = load_digits_episodes(n_way=3, k_shot=3, n_query=3, n_episodes=12,
                                        random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    meta = MetaEstimator(mlp, init=Reptile(n_iter=3, meta_batch_size=4, shots=9),
                         random_state=0).fit(X, y, groups=groups)
    rows = groups == 0
    learner = meta.adapt(X[rows][:9], y[rows][:9])
    assert type(learner) is MLPClassifier
    payload = pickle.dumps(learner)
    assert b"metasklearn" not in payload
    np.testing.assert_array_equal(pickle.loads(payload).predict(X), learner.predict(X))
    assert mlp.get_params() == MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                             random_state=0).get_params()
    assert not hasattr(mlp, "coefs_")


@pytest.mark.parametrize("Strategy", [MAML, Reptile])
def test_pipeline_base_estimator_equals_the_bare_mlp_on_transformed_rows(sinusoid, Strategy):
    # A Pipeline's scaler is fitted once on all meta-training rows; meta-training and
    # adapt then see exactly what the bare MLP sees on rows scaled by that scaler.
    X, y, groups, X_new, y_new, _ = sinusoid
    X_units = 1000.0 * X + 3.0  # units a scaler should remove
    mlp = _sgd_mlp()
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    strategy = Strategy(n_iter=20, meta_batch_size=5, shots=10)
    strategy.fit(pipe, X_units, y, groups, random_state=0)
    scaler = StandardScaler().fit(X_units)
    np.testing.assert_allclose(strategy.transformer_[0].mean_, scaler.mean_)
    bare = Strategy(n_iter=20, meta_batch_size=5, shots=10)
    bare.fit(mlp, scaler.transform(X_units), y, groups, random_state=0)
    for mine, theirs in zip(strategy.coefs_ + strategy.intercepts_,
                            bare.coefs_ + bare.intercepts_):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)

    support = 1000.0 * X_new[:10] + 3.0
    learner = strategy.adapt(clone(pipe), support, y_new[:10])
    expected = bare.adapt(clone(mlp), scaler.transform(support), y_new[:10])
    assert isinstance(learner, Pipeline) and [n for n, _ in learner.steps] == ["scale", "mlp"]
    np.testing.assert_allclose(learner[0].mean_, scaler.mean_)  # not the 10 rows' mean
    np.testing.assert_allclose(learner.predict(1000.0 * X_new + 3.0),
                               expected.predict(scaler.transform(1000.0 * X_new + 3.0)),
                               rtol=1e-10)
    # Each learner owns its scaler: refitting one leaves the strategy and others intact.
    other = strategy.adapt(clone(pipe), support, y_new[:10])
    learner.fit(X_new, y_new)
    np.testing.assert_allclose(other[0].mean_, scaler.mean_)
    np.testing.assert_allclose(strategy.transformer_[0].mean_, scaler.mean_)
    with pytest.raises(ValueError, match="bare vs Pipeline"):
        strategy.adapt(clone(mlp), support, y_new[:10])


def test_pipeline_adapt_refuses_nan_that_a_transformer_passes_through(sinusoid):
    X, y, groups, X_new, y_new, _ = sinusoid
    pipe = make_pipeline(StandardScaler(), _sgd_mlp())
    strategy = MAML(n_iter=2, meta_batch_size=5, shots=10)
    strategy.fit(pipe, X, y, groups, random_state=0)
    support = X_new[:10].copy()
    support[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity as the MLP step sees them.*MAML "
                                         "cannot adapt"):
        strategy.adapt(clone(pipe), support, y_new[:10])


def test_meta_estimator_with_a_pipeline_adapts_a_fitted_pipeline(sinusoid):
    X, y, groups, X_new, y_new, _ = sinusoid
    pipe = make_pipeline(StandardScaler(), _sgd_mlp())
    meta = MetaEstimator(pipe, init=FOMAML(n_iter=20, meta_batch_size=5, shots=10),
                         refit=False, random_state=0).fit(X, y, groups=groups)
    learner = meta.adapt(X_new[:10], y_new[:10])
    assert type(learner) is Pipeline and type(learner[-1]) is MLPRegressor
    assert learner[-1].n_iter_ == 5
    assert not hasattr(pipe[0], "mean_")  # the user's pipeline is untouched
    assert np.isfinite(learner.predict(X_new)).all()


def _episode(seed, n_way=4, shots=3):
    X, y, groups = load_digits_episodes(n_way=n_way, k_shot=shots, n_query=5, n_episodes=1,
                                        split="test", random_state=seed)
    return X, y


@pytest.mark.parametrize("head", ["vector", "prototype"])
@pytest.mark.parametrize("n_way", [3, 4])
def test_episodic_predictions_do_not_depend_on_label_order(n_way, head):
    X, y, groups = load_digits_episodes(n_way=n_way, k_shot=3, n_query=3, n_episodes=20,
                                        random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(10,), max_iter=10, shuffle=False, random_state=0)
    strategy = FOMAML(n_iter=10, meta_batch_size=5, shots=3 * n_way, episodic_head=head)
    strategy.fit(mlp, X, y, groups, random_state=0)
    assert strategy.label_space_ == "episodic"
    Xe, ye = _episode(1, n_way=n_way)
    support = np.concatenate([np.flatnonzero(ye == c)[:3] for c in range(n_way)])
    perm = np.random.RandomState(0).permutation(n_way)
    a = strategy.adapt(clone(mlp), Xe[support], ye[support])
    b = strategy.adapt(clone(mlp), Xe[support], perm[ye[support]])
    np.testing.assert_allclose(b.predict_proba(Xe)[:, perm], a.predict_proba(Xe), atol=1e-10)
    np.testing.assert_array_equal(b.predict(Xe), perm[a.predict(Xe)])
    # the shared head does depend on label order: the test above can fail
    shared = FOMAML(n_iter=10, meta_batch_size=5, shots=3 * n_way, label_space="shared")
    shared.fit(mlp, X, y, groups, random_state=0)
    a = shared.adapt(clone(mlp), Xe[support], ye[support])
    b = shared.adapt(clone(mlp), Xe[support], perm[ye[support]])
    assert np.abs(b.predict_proba(Xe)[:, perm] - a.predict_proba(Xe)).max() > 1e-3


@pytest.mark.parametrize("n_way", [2, 3])
def test_prototype_head_starts_as_the_nearest_class_mean_rule(n_way):
    # Before the learner moves (a vanishing step), the adapted network classifies each
    # row by the nearest support-class mean of its last hidden layer: the shared vector
    # adds the same logit to every class, and two labels use one logistic unit.
    X, y, groups = load_digits_episodes(n_way=n_way, k_shot=3, n_query=3, n_episodes=20,
                                        random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(12, 8), solver="sgd", learning_rate_init=1e-12,
                        max_iter=1, random_state=0)
    strategy = FOMAML(n_iter=20, meta_batch_size=5, shots=3 * n_way, label_space="episodic",
                      episodic_head="prototype", meta_learning_rate=1e-2)
    strategy.fit(mlp, X, y, groups, random_state=0)
    assert strategy.prototype_scale_ > 0 and strategy.prototype_scale_ != 1.0  # learned
    Xe, ye = _episode(2, n_way=n_way)
    support = np.concatenate([np.flatnonzero(ye == c)[:3] for c in range(n_way)])
    learner = strategy.adapt(clone(mlp), Xe[support], ye[support] + 10)

    def embed(Z):
        for W, b in zip(strategy.coefs_[:-1], strategy.intercepts_[:-1]):
            Z = np.maximum(Z @ W + b, 0)
        return Z

    H, Hs = embed(Xe), embed(Xe[support])
    means = np.stack([Hs[ye[support] == c].mean(axis=0) for c in range(n_way)])
    nearest = ((H[:, None, :] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)
    np.testing.assert_array_equal(learner.predict(Xe), nearest + 10)
    assert len(np.unique(nearest)) == n_way  # not a constant prediction


def test_prototype_head_adapts_sparse_rows_as_dense_ones():
    from scipy import sparse

    X, y, groups = load_digits_episodes(n_way=3, k_shot=3, n_query=3, n_episodes=20,
                                        random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    strategy = FOMAML(n_iter=5, meta_batch_size=5, shots=9, label_space="episodic",
                      episodic_head="prototype").fit(mlp, X, y, groups, random_state=0)
    Xe, ye = _episode(3, n_way=3)
    support = np.concatenate([np.flatnonzero(ye == c)[:3] for c in range(3)])
    dense = strategy.adapt(clone(mlp), Xe[support], ye[support])
    sparse_ = strategy.adapt(clone(mlp), sparse.csr_matrix(Xe[support]), ye[support])
    assert dense.coefs_[-1].shape == (8, 3)
    for a, b in zip(dense.coefs_, sparse_.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_prototype_head_beats_the_shared_vector_on_new_episodes():
    X, y, groups = load_digits_episodes(n_way=5, k_shot=2, n_query=4, n_episodes=200,
                                        random_state=0)
    Xt, yt, gt = load_digits_episodes(n_way=5, k_shot=2, n_query=4, n_episodes=40,
                                      split="test", random_state=1)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, solver="sgd", momentum=0.0,
                        learning_rate_init=0.1, shuffle=False, random_state=0)

    def accuracy(strategy):
        scores = []
        for task in np.unique(gt):
            rows = np.flatnonzero(gt == task)
            support = np.concatenate([rows[yt[rows] == c][:2] for c in np.unique(yt[rows])])
            query = np.setdiff1d(rows, support)
            if strategy is None:
                learner = clone(mlp).fit(Xt[support], yt[support])
            else:
                learner = strategy.adapt(clone(mlp), Xt[support], yt[support])
            scores.append(learner.score(Xt[query], yt[query]))
        return np.mean(scores)

    fitted = {head: FOMAML(n_iter=30, meta_batch_size=10, shots=10, meta_learning_rate=1e-2,
                           episodic_head=head).fit(mlp, X, y, groups, random_state=0)
              for head in ("vector", "prototype")}
    scratch, vector, prototype = accuracy(None), *map(accuracy, fitted.values())
    # measured 0.356, 0.463, 0.570
    assert vector > scratch + 0.05
    assert prototype > vector + 0.05


def test_prototype_head_applies_to_episodic_tasks_only(blobs, sinusoid):
    X, y, groups = blobs
    mlp = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    shared = FOMAML(n_iter=2, shots=6, label_space="shared", episodic_head="prototype")
    assert shared.fit(mlp, X, y, groups, random_state=0).prototype_scale_ is None
    regression = FOMAML(n_iter=2, shots=10, episodic_head="prototype")
    regression.fit(_sgd_mlp(), *sinusoid[:3], random_state=0)
    assert regression.prototype_scale_ is None
    assert [c.shape for c in shared.coefs_] == [(4, 5), (5, 3)]  # one output per label


def test_label_space_is_detected_from_the_data(blobs):
    mlp = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    X, y, groups = load_digits_episodes(n_way=5, k_shot=2, n_query=2, n_episodes=30,
                                        random_state=0)
    assert Reptile(n_iter=1, shots=10).fit(mlp, X, y, groups).label_space_ == "episodic"
    X, y, groups = blobs
    shared = Reptile(n_iter=1, shots=6).fit(mlp, X, y, groups)
    assert shared.label_space_ == "shared"
    assert [c.shape[1] for c in shared.coefs_] == [5, 3]
    with pytest.raises(ValueError, match=r"labels \[7\] that were not seen"):
        shared.adapt(clone(mlp), X[:6], np.array([0, 1, 2, 7, 0, 1]))


def test_shared_head_maps_two_label_tasks_onto_one_unit(blobs):
    X, y, groups = blobs
    keep = (y != 2) | (groups < 3)  # tasks 3..5 see only labels 0 and 1
    mlp = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", max_iter=3, random_state=0)
    maml = MAML(n_iter=3, meta_batch_size=6, shots=6, label_space="shared")
    maml.fit(mlp, X[keep], y[keep], groups[keep], random_state=0)
    learner = maml.adapt(clone(mlp), X[:6], np.array([0, 2, 0, 2, 0, 2]))
    assert learner.coefs_[-1].shape == (5, 1)
    assert learner.classes_.tolist() == [0, 2]
    # Labels 0 and 2 start from the difference of *their* learned columns (not 1 - 0).
    frozen = clone(mlp).set_params(learning_rate_init=1e-12, max_iter=1)
    start = maml.adapt(frozen, X[:6], np.array([0, 2, 0, 2, 0, 2]))
    W, b = maml.coefs_[-1], maml.intercepts_[-1]
    np.testing.assert_allclose(start.coefs_[-1][:, 0], W[:, 2] - W[:, 0], atol=1e-9)
    np.testing.assert_allclose(start.intercepts_[-1][0], b[2] - b[0], atol=1e-9)


@pytest.mark.parametrize("label_space, solver, head", [
    ("shared", "sgd", "vector"), ("episodic", "sgd", "vector"), ("shared", "adam", "vector"),
    ("episodic", "sgd", "prototype"), ("episodic", "adam", "prototype")])
def test_maml_meta_gradient_matches_finite_differences(blobs, label_space, solver, head):
    # With the prototype head the start's output layer depends on the body (through the
    # class means) and on the learned scale: both paths are part of the gradient.
    X, y, groups = blobs
    keep = (y != 2) | (groups < 3)  # mixes 3-label and 2-label tasks
    X, y, groups = X[keep], y[keep], groups[keep]
    mlp = MLPClassifier(hidden_layer_sizes=(4, 3), activation="tanh", solver=solver,
                        batch_size=3, max_iter=2, learning_rate_init=0.2, momentum=0.5,
                        alpha=0.01, shuffle=False, n_iter_no_change=100)
    maml = MAML(n_iter=1, meta_batch_size=6, shots=6, label_space=label_space,
                episodic_head=head)
    maml.fit(mlp, X, y, groups, random_state=0)
    assert (maml.prototype_scale_ is not None) == (head == "prototype")
    maml._estimator, maml._configs = mlp, {}
    y_codes = np.unique(y, return_inverse=True)[1]
    _check_meta_gradient(maml, X, y_codes, groups, shots=6)


def _check_meta_gradient(maml, X, y, groups, shots):
    """The meta-gradient against central differences of the meta-loss, along a direction."""
    rows = TaskRows(groups)
    maml._prototypes = maml.prototype_scale_ is not None

    def meta(params, seed=5):
        return maml._meta_gradient(params, X, y, rows, np.arange(6), shots,
                                   np.random.RandomState(seed), None)

    params = maml.coefs_ + maml.intercepts_
    if maml._prototypes:
        params = params + [np.log([maml.prototype_scale_])]
    grad, _ = meta(params)  # flat, in the layout of the flattened params
    rng = np.random.RandomState(1)
    direction = [rng.normal(size=p.shape) for p in params]
    eps = 1e-6
    plus = meta([p + eps * d for p, d in zip(params, direction)])[1]
    minus = meta([p - eps * d for p, d in zip(params, direction)])[1]
    analytic = grad @ np.concatenate([d.ravel() for d in direction])
    assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-5)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_maml_regression_meta_gradient_matches_finite_differences(sinusoid, activation):
    # Regression tasks of equal size take the vectorised support/query draw and keep
    # the start as a broadcast view (one large product): the gradient must not change.
    X, y, groups = sinusoid[:3]
    mlp = _sgd_mlp(hidden_layer_sizes=(6, 5), activation=activation, max_iter=3, alpha=0.01,
                   batch_size=4, learning_rate_init=0.05)
    maml = MAML(n_iter=1, meta_batch_size=6, shots=8).fit(mlp, X, y, groups, random_state=0)
    maml._estimator, maml._configs = mlp, {}
    _check_meta_gradient(maml, X, y, groups, shots=8)


def test_maml_meta_gradient_is_exact_for_several_outputs(sinusoid):
    # regression: with a 2-D y the meta-gradient was the number of outputs times the
    # gradient of the meta-loss (the mean over outputs) it reports
    X, y, groups = sinusoid[:3]
    Y = np.c_[y, np.cos(y)]
    mlp = _sgd_mlp(hidden_layer_sizes=(5, 4), activation="tanh", max_iter=3, alpha=0.01,
                   batch_size=4, learning_rate_init=0.05)
    maml = MAML(n_iter=1, meta_batch_size=6, shots=8).fit(mlp, X, Y, groups, random_state=0)
    assert maml.coefs_[-1].shape[1] == 2
    maml._estimator, maml._configs = mlp, {}
    _check_meta_gradient(maml, X, Y, groups, shots=8)


def test_n_jobs_does_not_change_the_result(sinusoid, monkeypatch):
    monkeypatch.setattr(_maml, "_CHUNK", 3)  # several chunks per meta-batch
    X, y, groups = sinusoid[:3]
    mlp = _sgd_mlp(max_iter=2, shuffle=True, batch_size=4, random_state=None)
    fits = [FOMAML(n_iter=5, meta_batch_size=8, shots=10).fit(
        mlp, X, y, groups, n_jobs=n_jobs, random_state=0) for n_jobs in (1, 2)]
    for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fits[0].loss_curve_, fits[1].loss_curve_)


def test_huge_inner_learning_rate_raises_and_names_it(sinusoid):
    X, y, groups = sinusoid[:3]
    # DivergedError: the engine's own ValueError, which the strategies tell from others
    with pytest.raises(DivergedError, match=r"learning_rate_init=1e\+20"):
        FOMAML(n_iter=2, shots=10).fit(_sgd_mlp(learning_rate_init=1e20), X, y, groups)
    strategy = FOMAML(n_iter=2, shots=10).fit(_sgd_mlp(), X, y, groups, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sklearn's own overflow
        with pytest.raises(ValueError, match=r"FOMAML.adapt.*learning_rate_init=1e\+20"):
            strategy.adapt(_sgd_mlp(learning_rate_init=1e20), X[:10], y[:10] * 1e3)


def test_adapt_warns_when_the_learner_diverges_without_overflow(sinusoid):
    # scikit-learn's fit returns huge finite weights when sgd overshoots (seen on one
    # sinusoid task from a FOMAML start): adapt must say so, naming the learning rate.
    X, y, groups = sinusoid[:3]
    strategy = FOMAML(n_iter=2, shots=10).fit(_sgd_mlp(), X, y, groups, random_state=0)
    with pytest.warns(RuntimeWarning, match=r"diverged on this task.*learning_rate_init=1\.0"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            strategy.adapt(_sgd_mlp(learning_rate_init=1.0, max_iter=8), X[:10], y[:10])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a sound step size: no warning
        strategy.adapt(_sgd_mlp(learning_rate_init=0.1, max_iter=8), X[:10], y[:10])


def test_huge_meta_learning_rate_raises_and_names_it(sinusoid):
    X, y, groups = sinusoid[:3]
    with pytest.raises(ValueError, match=r"meta_learning_rate=1e\+200"):
        Reptile(n_iter=5, shots=10, meta_learning_rate=1e200).fit(_sgd_mlp(), X, y, groups)


def test_shots_must_hold_one_row_of_each_class_of_the_richest_task():
    # Label counts per task are computed for all tasks at once: the richest task decides.
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(4), 8)
    y = np.tile([0, 1], 16)
    y[groups == 2] = np.arange(8) % 3  # one task with three labels
    X = rng.normal(size=(32, 2))
    mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="a training task has 3 classes"):
        FOMAML(n_iter=1, shots=2, label_space="shared").fit(mlp, X, y, groups)
    FOMAML(n_iter=1, shots=3, label_space="shared").fit(mlp, X, y, groups, random_state=0)


@pytest.mark.parametrize("strategy, cause", [
    (MAML, "carrying it back through up to 4 inner epochs overflowed"),
    # regression: first-order strategies carry nothing back, yet were told they did
    (FOMAML, "up to 4 inner epochs left weights so large that the gradient at them overflowed"),
    (Reptile, "up to 4 inner epochs left weights so large"),
])
def test_non_finite_meta_gradient_raises_and_names_the_horizon(sinusoid, monkeypatch,
                                                               strategy, cause):
    # An overflow in the meta-gradient with finite inner fits must stop meta-training
    # with advice that fits the strategy, never hand NaN to the outer optimiser.
    X, y, groups = sinusoid[:3]
    real = strategy._meta_gradient

    def overflowing(self, *args):
        grad, loss = real(self, *args)
        return np.full_like(grad, np.inf), loss

    monkeypatch.setattr(strategy, "_meta_gradient", overflowing)
    meta = strategy(n_iter=3, shots=10, max_inner_iter=4)
    with pytest.raises(ValueError, match=rf"non-finite at meta-iteration 1 .*{cause}.*"
                                         r"max_inner_iter"):
        meta.fit(_sgd_mlp(max_iter=5), X, y, groups, random_state=0)
    assert not hasattr(meta, "coefs_")


@pytest.mark.parametrize("estimator, strategy, match", [
    (SVC(), FOMAML(), "supports MLPClassifier and MLPRegressor"),
    (MLPRegressor(solver="lbfgs"), FOMAML(), "stochastic solver"),
    (MLPRegressor(), FOMAML(shots=20), "shots between 1 and 19"),
    (MLPRegressor(), Reptile(shots=21), "shots between 1 and 20"),
    (MLPRegressor(), FOMAML(n_iter=0), "n_iter"),
    (MLPRegressor(), MAML(episodic_head="proto"), "episodic_head"),
])
def test_bad_settings_raise_clear_errors(sinusoid, estimator, strategy, match):
    X, y, groups = sinusoid[:3]
    with pytest.raises(ValueError, match=match):
        strategy.fit(estimator, X, y, groups)


def test_adapt_checks_the_architecture(sinusoid):
    X, y, groups = sinusoid[:3]
    strategy = Reptile(n_iter=1, shots=10).fit(_sgd_mlp(), X, y, groups)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(20, 20\).*\(7,\)"):
        strategy.adapt(_sgd_mlp(hidden_layer_sizes=(7,)), X[:10], y[:10])


@pytest.mark.parametrize("where", ["X", "y"])
def test_missing_values_are_refused_by_name_not_reported_as_divergence(where):
    # regression: NaN reached the engine and came back as "Training diverged ... lower
    # learning_rate_init", advice that cannot help
    X, y, groups = make_sinusoid_tasks(n_tasks=10, n_samples=20, random_state=0)
    X, y = X.copy(), y.copy()
    (X if where == "X" else y)[5] = np.nan
    with pytest.raises(ValueError, match=f"Input {where} contains NaN"):
        FOMAML(n_iter=2, shots=10).fit(_sgd_mlp(), X, y, groups, random_state=0)


def test_missing_labels_of_a_classifier_are_refused_by_name():
    rng = np.random.RandomState(0)
    X, groups = rng.normal(size=(60, 2)), np.repeat(np.arange(6), 10)
    labels = np.where(np.arange(60) == 5, np.nan, np.arange(60) % 2)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MAML(n_iter=2, shots=4).fit(MLPClassifier(max_iter=2), X, labels, groups,
                                    random_state=0)


def test_adapt_names_a_feature_count_that_differs_from_fit():
    # regression: the strategy's own adapt failed inside numpy's matmul
    rng = np.random.RandomState(0)
    X, y, groups = rng.normal(size=(60, 4)), rng.normal(size=60), np.repeat(np.arange(6), 10)
    mlp = _sgd_mlp(hidden_layer_sizes=(3,), batch_size=5)
    strategy = Reptile(n_iter=1, shots=5).fit(mlp, X, y, groups, random_state=0)
    with pytest.raises(ValueError, match="adapt got 3 features for the MLP step but Reptile "
                                         "was fitted with 4"):
        strategy.adapt(clone(mlp), X[:5, :3], y[:5])
    assert strategy.adapt(clone(mlp), X[:5], y[:5]).n_features_in_ == 4


def test_verbose_prints_progress(sinusoid, capsys):
    X, y, groups = sinusoid[:3]
    Reptile(n_iter=10, shots=10).fit(_sgd_mlp(), X, y, groups, verbose=1)
    out = capsys.readouterr().out
    assert "[Reptile] meta-iteration 10/10, meta-loss" in out


def test_truncated_inner_horizon(sinusoid):
    X, y, groups = sinusoid[:3]
    mlp = _sgd_mlp(max_iter=50)
    a = FOMAML(n_iter=3, shots=10, max_inner_iter=2).fit(mlp, X, y, groups, random_state=0)
    b = FOMAML(n_iter=3, shots=10).fit(mlp.set_params(max_iter=2), X, y, groups, random_state=0)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert a.adapt(_sgd_mlp(max_iter=50), X[:10], y[:10]).n_iter_ == 50


def _drifting_fomaml(**params):
    # A meta-learning rate this large makes the validation loss bottom out at
    # meta-iteration 12 of 20 and rise after (sinusoid tasks, seed 0).
    X, y, groups = make_sinusoid_tasks(n_tasks=60, n_samples=20, random_state=0)
    mlp = _sgd_mlp(hidden_layer_sizes=(20,), max_iter=3)
    strategy = FOMAML(n_iter=20, meta_batch_size=5, shots=10, meta_learning_rate=0.05,
                      validation_fraction=0.25, **params)
    return strategy, mlp, (X, y, groups)


def test_validation_keeps_the_best_start_not_the_last():
    strategy, mlp, data = _drifting_fomaml()
    strategy.fit(mlp, *data, random_state=0)
    curve = strategy.validation_loss_curve_
    np.testing.assert_array_equal(strategy.validation_iter_, np.arange(1, 21))
    assert strategy.best_iter_ == strategy.validation_iter_[np.argmin(curve)] < 20
    assert curve[-1] > curve.min() + 0.02  # the run did drift after its best point
    # Validation draws nothing from the meta-training stream, so the run stopped at
    # best_iter_ ends with exactly the weights kept.
    short, _, _ = _drifting_fomaml()
    short.set_params(n_iter=strategy.best_iter_).fit(mlp, *data, random_state=0)
    assert short.best_iter_ == strategy.best_iter_
    for a, b in zip(strategy.coefs_ + strategy.intercepts_, short.coefs_ + short.intercepts_):
        np.testing.assert_array_equal(a, b)
    no_validation = clone(strategy).set_params(validation_fraction=None)
    no_validation.fit(mlp, *data, random_state=0)
    assert no_validation.best_iter_ == 20 and no_validation.validation_loss_curve_ is None


def test_validation_tasks_are_never_trained_on(monkeypatch):
    held_out, trained = [], []
    hold_out, split = _maml.hold_out_tasks, _maml.split_rows

    def spy_hold_out(rng, rows, fraction, *args):
        train, checked = hold_out(rng, rows, fraction, *args)
        held_out.extend(np.setdiff1d(np.arange(len(rows)), train).tolist())
        return train, checked

    def spy_split(rng, y, rows, picks, *args):
        trained.append(picks.copy())
        return split(rng, y, rows, picks, *args)

    monkeypatch.setattr(_maml, "hold_out_tasks", spy_hold_out)
    monkeypatch.setattr(_maml, "split_rows", spy_split)
    strategy, mlp, data = _drifting_fomaml()
    strategy.fit(mlp, *data, random_state=0)
    assert len(held_out) == 15
    checked, training = trained[0], np.concatenate(trained[1:])  # the first split: validation
    np.testing.assert_array_equal(checked, held_out)  # 15 < 500: all of them are checked
    assert len(trained) == 21 and not np.isin(training, held_out).any()


@pytest.mark.parametrize("fraction, shots, match", [
    (0.001, 10, "holds out 0 tasks"),
    (0.999, 10, "one training task"),
    (0.2, 20, "no query rows"),
    (1.5, 10, "validation_fraction"),
])
def test_validation_errors_name_the_fix(fraction, shots, match):
    X, y, groups = make_sinusoid_tasks(n_tasks=10, n_samples=20, random_state=0)
    strategy = Reptile(n_iter=2, meta_batch_size=2, shots=shots, validation_fraction=fraction)
    with pytest.raises(ValueError, match=match):
        strategy.fit(_sgd_mlp(), X, y, groups, random_state=0)


def test_a_start_that_diverges_a_validation_task_is_never_kept(monkeypatch):
    strategy, mlp, data = _drifting_fomaml()
    calls = []
    query_loss = FOMAML._chunk_query_loss

    def diverge_at_the_best(self, *args):
        calls.append(1)
        if len(calls) == 12:  # the checkpoint that is best in the drifting run
            raise DivergedError("Training diverged: the loss or weights of 1 of 15 tasks ...")
        return query_loss(self, *args)

    monkeypatch.setattr(FOMAML, "_chunk_query_loss", diverge_at_the_best)
    strategy.fit(mlp, *data, random_state=0)
    assert np.isinf(strategy.validation_loss_curve_[11])
    assert strategy.best_iter_ != 12 and np.isfinite(strategy.validation_loss_curve_).sum() == 19


def test_a_validation_error_that_is_not_a_divergence_is_raised(monkeypatch):
    strategy, mlp, data = _drifting_fomaml()

    def broken(self, *args):
        raise ValueError("diverged-looking text, but another error")

    monkeypatch.setattr(FOMAML, "_chunk_query_loss", broken)
    with pytest.raises(ValueError, match="another error"):
        strategy.fit(mlp, *data, random_state=0)


def test_validation_runs_the_whole_fit_not_the_horizon(monkeypatch):
    horizons = {"train": set(), "validation": set()}
    fit = _maml.fit_stochastic

    def spy(start_c, start_b, Xs, Ys, config, state, **kwargs):
        res = fit(start_c, start_b, Xs, Ys, config, state, **kwargs)
        validating = Xs.shape[0] == 15  # the held-out tasks; meta-batches hold 5
        horizons["validation" if validating else "train"].update(res.n_iter.tolist())
        return res

    monkeypatch.setattr(_maml, "fit_stochastic", spy)
    strategy, mlp, data = _drifting_fomaml(max_inner_iter=1)
    strategy.fit(mlp, *data, random_state=0)
    assert horizons == {"train": {1}, "validation": {3}}  # mlp: max_iter=3


@pytest.mark.parametrize("kind", ["episodic-prototype", "regression"])
def test_validation_loss_is_the_query_loss_of_what_adapt_returns(monkeypatch, kind):
    # The validation loss of the kept start must be the mean query loss of the learners
    # adapt() fits on the held-out tasks' support rows (cross-entropy, or half the MSE as
    # MLPRegressor minimises): validation measures exactly what users get.
    seen = []
    query_loss = _maml._MLPMetaInit._chunk_query_loss

    def record(self, params, X, y, S, Q, state):
        seen.append((S.copy(), Q.copy()))
        return query_loss(self, params, X, y, S, Q, state)

    monkeypatch.setattr(_maml._MLPMetaInit, "_chunk_query_loss", record)
    if kind == "regression":
        X, y, groups = make_sinusoid_tasks(n_tasks=40, n_samples=20, random_state=0)
        # Batches smaller than the support, shuffled: the replay must shuffle with the
        # estimator's own seed, as adapt's fit does, or the weights differ.
        mlp = _sgd_mlp(hidden_layer_sizes=(16,), max_iter=4, batch_size=3, shuffle=True,
                       random_state=3)
        strategy = MAML(n_iter=10, meta_batch_size=5, shots=10, validation_fraction=0.25)
    else:
        X, y, groups = load_digits_episodes(n_way=3, k_shot=2, n_query=2, n_episodes=40,
                                            random_state=0)
        mlp = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.1,
                            max_iter=4, random_state=0)
        strategy = MAML(n_iter=10, meta_batch_size=5, shots=6, label_space="episodic",
                        episodic_head="prototype", validation_fraction=0.25)
    # Meta-training replays 2 epochs; validation, like adapt, all 4.
    strategy.set_params(max_inner_iter=2).fit(mlp, X, y, groups, random_state=0)
    S, Q = seen[0]
    assert all((s == S).all() and (q == Q).all() for s, q in seen)  # a fixed split
    losses = []
    for s, q in zip(S, Q):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            learner = strategy.adapt(clone(mlp), X[s], y[s])
        if kind == "regression":
            losses.append(0.5 * np.mean((learner.predict(X[q]) - y[q]) ** 2))
        else:
            proba = learner.predict_proba(X[q])
            losses.append(-np.mean(np.log(proba[np.arange(len(q)),
                                                np.searchsorted(learner.classes_, y[q])])))
    best = strategy.validation_loss_curve_.min()
    np.testing.assert_allclose(np.mean(losses), best, rtol=1e-10)


def _iterates(strategy, mlp, data, n_iter):
    """The starts after 1 .. n_iter meta-iterations of one run (the stream does not depend
    on n_iter)."""
    runs = [clone(strategy).set_params(n_iter=n).fit(mlp, *data, random_state=0)
            for n in range(1, n_iter + 1)]
    return [np.concatenate([p.ravel() for p in r.coefs_ + r.intercepts_]) for r in runs]


@pytest.mark.parametrize("strategy", [MAML(meta_batch_size=4, shots=10),
                                      Reptile(meta_batch_size=4, shots=10)])
def test_ema_decay_returns_the_bias_corrected_average_of_the_iterates(strategy):
    X, y, groups = make_sinusoid_tasks(n_tasks=20, n_samples=20, random_state=0)
    mlp = _sgd_mlp(hidden_layer_sizes=(8,), max_iter=2)
    iterates = _iterates(strategy, mlp, (X, y, groups), 4)
    decay = 0.6
    weights = (1 - decay) * decay ** np.arange(3, -1, -1)
    expected = weights @ np.array(iterates) / (1 - decay**4)
    averaged = clone(strategy).set_params(n_iter=4, ema_decay=decay).fit(
        mlp, X, y, groups, random_state=0)
    got = np.concatenate([p.ravel() for p in averaged.coefs_ + averaged.intercepts_])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)
    assert np.abs(got - iterates[-1]).max() > 1e-4  # it is not the last start
    last = clone(strategy).set_params(n_iter=4, ema_decay=0.0).fit(mlp, X, y, groups,
                                                                   random_state=0)
    np.testing.assert_array_equal(  # decay 0 is the last start
        np.concatenate([p.ravel() for p in last.coefs_ + last.intercepts_]), iterates[-1])


def test_ema_decay_validates_and_keeps_averaged_starts():
    strategy, mlp, data = _drifting_fomaml(ema_decay=0.5)
    strategy.fit(mlp, *data, random_state=0)
    best = strategy.best_iter_
    assert best < 20  # it drifts after its best point, averaged or not
    # The averaged start of the same run stopped at best_iter_ is what was kept.
    short, _, _ = _drifting_fomaml(ema_decay=0.5)
    short.set_params(n_iter=best).fit(mlp, *data, random_state=0)
    for a, b in zip(strategy.coefs_ + strategy.intercepts_, short.coefs_ + short.intercepts_):
        np.testing.assert_array_equal(a, b)
    plain, _, _ = _drifting_fomaml()
    plain.fit(mlp, *data, random_state=0)
    assert not np.allclose(strategy.validation_loss_curve_, plain.validation_loss_curve_)


def test_ema_decay_of_one_is_refused_by_name():
    X, y, groups = make_sinusoid_tasks(n_tasks=10, n_samples=20, random_state=0)
    with pytest.raises(ValueError, match="ema_decay"):
        Reptile(n_iter=2, ema_decay=1.0).fit(_sgd_mlp(), X, y, groups, random_state=0)


def test_fomaml_meta_loss_is_the_query_loss_after_the_inner_fit(monkeypatch):
    # The finite-difference tests cannot see which rows the meta-loss uses (the gradient
    # follows the loss): check that it is measured on the query rows, not the support.
    splits, fits = [], []
    split, fit = _maml.split_rows, _maml.fit_stochastic

    def spy_split(*args):
        out = split(*args)
        splits.append(out)
        return out

    def spy_fit(*args, **kwargs):
        res = fit(*args, **kwargs)
        fits.append(res)
        return res

    monkeypatch.setattr(_maml, "split_rows", spy_split)
    monkeypatch.setattr(_maml, "fit_stochastic", spy_fit)
    X, y, groups = make_sinusoid_tasks(n_tasks=12, n_samples=20, random_state=0)
    mlp = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01,
                       momentum=0.0, batch_size=5, max_iter=3, shuffle=False, random_state=0)
    strategy = FOMAML(n_iter=1, meta_batch_size=6, shots=8).fit(mlp, X, y, groups,
                                                                random_state=0)
    ((S, Q),) = splits[0].values()
    res = fits[0]
    P = forward(res.coefs, res.intercepts, X[Q], "relu", "identity")[-1]
    query = 0.5 * ((P[..., 0] - y[Q]) ** 2).mean(axis=1)
    assert strategy.loss_curve_[0] == pytest.approx(query.mean(), rel=1e-12)
    P_s = forward(res.coefs, res.intercepts, X[S], "relu", "identity")[-1]
    support = 0.5 * ((P_s[..., 0] - y[S]) ** 2).mean(axis=1)
    assert abs(support.mean() - query.mean()) > 1e-3  # the two are told apart here


def test_prototype_start_adds_the_prototype_layer_to_the_shared_vector():
    from metasklearn.init._prototype_head import prototype_start

    X = np.array([[0.0], [2.0], [5.0], [1.0]])
    y = np.array([0, 1, 2, 0])  # class means of the hidden unit: 0.5, 2, 5
    coefs = [np.ones((1, 1)), np.array([[0.1, 0.2, 0.3]])]
    intercepts = [np.zeros(1), np.array([1.0, 2.0, 3.0])]
    coef, intercept = prototype_start(coefs, intercepts, X, y, "relu", 2.0)
    # W_c = 2 s mu_c, b_c = -s mu_c^2 with s = 2, plus the starting vector
    np.testing.assert_allclose(coef, [[0.1 + 2.0, 0.2 + 8.0, 0.3 + 20.0]])
    np.testing.assert_allclose(intercept, [1.0 - 0.5, 2.0 - 8.0, 3.0 - 50.0])


def test_two_shared_labels_learn_one_logistic_unit_that_tasks_start_from(blobs):
    # All tasks share the labels {0, 1}: the learned head is the task's own logistic unit,
    # so a new task starts from it as it is.
    X, y, groups = blobs
    keep = y != 2
    X, y, groups = X[keep], y[keep], groups[keep]
    mlp = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", max_iter=3, random_state=0)
    maml = MAML(n_iter=3, meta_batch_size=6, shots=6).fit(mlp, X, y, groups, random_state=0)
    assert maml.label_space_ == "shared"
    assert [c.shape for c in maml.coefs_] == [(4, 5), (5, 1)]
    frozen = clone(mlp).set_params(learning_rate_init=1e-12, max_iter=1)
    start = maml.adapt(frozen, X[:6], y[:6])
    np.testing.assert_allclose(start.coefs_[-1], maml.coefs_[-1], atol=1e-9)
    np.testing.assert_allclose(start.intercepts_[-1], maml.intercepts_[-1], atol=1e-9)
    assert start.classes_.tolist() == [0, 1]
    # The meta-gradient is exact through this head too.
    maml._estimator, maml._configs = mlp, {}
    _check_meta_gradient(maml, X, y, groups, shots=6)


def test_a_non_finite_meta_loss_stops_meta_training(sinusoid, monkeypatch):
    X, y, groups = sinusoid[:3]
    real = FOMAML._meta_gradient

    def infinite_loss(self, *args):
        grad, _ = real(self, *args)
        return grad, np.inf

    monkeypatch.setattr(FOMAML, "_meta_gradient", infinite_loss)
    meta = FOMAML(n_iter=3, shots=10, meta_learning_rate=0.05)
    with pytest.raises(ValueError, match=r"^FOMAML diverged at meta-iteration 1: the learned "
                                         r"weights or the meta-loss became non-finite with "
                                         r"meta_learning_rate=0.05\. Lower meta_learning_rate"):
        meta.fit(_sgd_mlp(hidden_layer_sizes=(5,)), X, y, groups, random_state=0)
    assert not hasattr(meta, "coefs_")


def test_verbose_prints_each_validation_loss(sinusoid, capsys):
    X, y, groups = sinusoid[:3]
    strategy = Reptile(n_iter=3, shots=10, validation_fraction=0.25)
    strategy.fit(_sgd_mlp(hidden_layer_sizes=(5,)), X[:800], y[:800], groups[:800],
                 random_state=0, verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if "validation" in line]
    assert lines == [f"[Reptile] meta-iteration {it}, validation loss {loss:.5f}"
                     for it, loss in zip(strategy.validation_iter_,
                                         strategy.validation_loss_curve_)]
    assert strategy.validation_iter_.tolist() == [1, 2, 3]


def test_a_random_state_instance_of_the_mlp_shuffles_as_its_seed_and_is_not_consumed(
        sinusoid):
    # The learner's shuffling draws from copies of the user's RandomState: it is left as it
    # was, and meta-training is that of the seed it was made from.
    X, y, groups = sinusoid[:3]

    def fit(random_state):
        mlp = _sgd_mlp(hidden_layer_sizes=(5,), shuffle=True, batch_size=2,
                       random_state=random_state)
        strategy = FOMAML(n_iter=2, shots=10).fit(mlp, X, y, groups, random_state=0)
        return strategy.coefs_ + strategy.intercepts_

    rs = np.random.RandomState(7)
    before = rs.get_state()[1].copy()
    from_instance = fit(rs)
    np.testing.assert_array_equal(rs.get_state()[1], before)
    for a, b in zip(from_instance, fit(7)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(from_instance[0], fit(8)[0])  # the shuffling matters


@pytest.mark.skipif("loss" not in MLPRegressor().get_params(),
                    reason="MLPRegressor has a loss parameter from scikit-learn 1.7 on")
def test_an_mlp_regressor_with_another_loss_is_refused(sinusoid):
    X, y, groups = sinusoid[:3]
    with pytest.raises(ValueError, match=r"^Reptile supports MLPRegressor\(loss='squared_error'"
                                         r"\); got loss='poisson'\.$"):
        Reptile(n_iter=1, shots=10).fit(_sgd_mlp(loss="poisson"), X, y, groups)


def test_adapt_to_a_dataframe_records_its_column_names(sinusoid):
    pd = pytest.importorskip("pandas")
    X, y, groups = sinusoid[:3]
    mlp = _sgd_mlp(hidden_layer_sizes=(5,))
    strategy = Reptile(n_iter=1, shots=10).fit(mlp, X, y, groups, random_state=0)
    frame = pd.DataFrame(X[:10], columns=["x"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="X (does not have valid|has) feature names")
        learner = strategy.adapt(clone(mlp), frame, y[:10])
        learner.predict(frame)
    assert learner.feature_names_in_.tolist() == ["x"]
    with pytest.raises(ValueError, match="The feature names should match those that were "
                                         "passed during fit"):
        learner.predict(frame.rename(columns={"x": "z"}))


def test_adapt_passes_on_the_learners_own_errors(sinusoid):
    # Only a divergence is reworded; any other error of the learner's fit is its own.
    X, y, groups = sinusoid[:3]
    mlp = _sgd_mlp(hidden_layer_sizes=(5,))
    strategy = Reptile(n_iter=1, shots=10).fit(mlp, X, y, groups, random_state=0)
    y_bad = y[:10].copy()
    y_bad[3] = np.nan
    with pytest.raises(ValueError, match=r"^Input y contains NaN\.$"):
        strategy.adapt(clone(mlp), X[:10], y_bad)


def test_meta_training_on_sparse_rows_equals_dense_rows(blobs):
    from scipy import sparse

    X, y, groups = blobs
    mlp = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", max_iter=3, shuffle=False,
                        random_state=0)
    dense = FOMAML(n_iter=3, meta_batch_size=4, shots=6).fit(mlp, X, y, groups,
                                                             random_state=0)
    sparse_ = FOMAML(n_iter=3, meta_batch_size=4, shots=6).fit(mlp, sparse.csr_matrix(X), y,
                                                               groups, random_state=0)
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse_.coefs_ + sparse_.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense.loss_curve_, sparse_.loss_curve_, rtol=1e-12)


def _fixed_meta_gradients(monkeypatch, gradients):
    """Make every meta-iteration's gradient the next of ``gradients`` (scalars, times ones)."""
    steps = iter(gradients)

    def fixed(self, params, *args):
        return np.full(sum(p.size for p in params), next(steps)), 0.0

    monkeypatch.setattr(_maml._MLPMetaInit, "_meta_gradient", fixed)


def _flat(strategy):
    return np.concatenate([p.ravel() for p in strategy.coefs_ + strategy.intercepts_])


def test_the_outer_optimiser_is_adam_with_its_default_moments(monkeypatch):
    X, y, groups = make_sinusoid_tasks(n_tasks=6, n_samples=20, random_state=0)
    mlp = _sgd_mlp(hidden_layer_sizes=(4,), max_iter=1)
    _fixed_meta_gradients(monkeypatch, [0.0])
    start = _flat(Reptile(n_iter=1, meta_batch_size=2, shots=10).fit(mlp, X, y, groups,
                                                                     random_state=0))
    _fixed_meta_gradients(monkeypatch, [2.0, -1.0])
    rate = 0.01
    got = _flat(Reptile(n_iter=2, meta_batch_size=2, shots=10, meta_learning_rate=rate).fit(
        mlp, X, y, groups, random_state=0))
    step = start.copy()
    m = v = 0.0
    for t, g in enumerate([2.0, -1.0], start=1):
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        step -= rate * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(got, step, rtol=1e-12)


def test_validation_checks_every_ceil_n_iter_over_20_and_keeps_the_first_of_ties(monkeypatch):
    # A zero meta-gradient leaves the start where it is: every checkpoint ties, and the
    # earliest is kept, as early stopping keeps its first best.
    X, y, groups = make_sinusoid_tasks(n_tasks=8, n_samples=20, random_state=0)
    _fixed_meta_gradients(monkeypatch, [0.0] * 25)
    strategy = Reptile(n_iter=25, meta_batch_size=2, shots=10, validation_fraction=0.25)
    strategy.fit(_sgd_mlp(hidden_layer_sizes=(4,), max_iter=1), X, y, groups, random_state=0)
    np.testing.assert_array_equal(strategy.validation_iter_, [*range(2, 25, 2), 25])
    assert len(set(strategy.validation_loss_curve_.tolist())) == 1
    assert strategy.best_iter_ == 2


def test_verbose_prints_the_first_meta_iteration_and_every_tenth_of_the_run(sinusoid, capsys):
    X, y, groups = sinusoid[:3]
    Reptile(n_iter=20, shots=10).fit(_sgd_mlp(hidden_layer_sizes=(4,)), X, y, groups,
                                     verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"[Reptile] meta-iteration {it}/20" for it in (1, *range(2, 21, 2))]


@pytest.mark.parametrize("sizes", [[20], 20])
def test_hidden_layer_sizes_as_a_list_or_an_int_mean_what_they_mean_to_fit(sinusoid, sizes):
    # MLPRegressor takes hidden_layer_sizes as any array-like or an int
    X, y, groups, X_new, y_new, _ = sinusoid
    learners = []
    for hidden in (sizes, (20,)):
        mlp = _sgd_mlp(hidden_layer_sizes=hidden)
        strategy = FOMAML(n_iter=2, meta_batch_size=4, shots=10).fit(mlp, X, y, groups,
                                                                     random_state=0)
        learners.append(strategy.adapt(clone(mlp), X_new[:10], y_new[:10]))
    np.testing.assert_array_equal(learners[0].predict(X_new), learners[1].predict(X_new))


def test_adapt_to_float32_rows_trains_a_float32_network_as_fit_does(sinusoid):
    X, y, groups, X_new, y_new, _ = sinusoid
    mlp = _sgd_mlp()
    strategy = FOMAML(n_iter=2, meta_batch_size=4, shots=10).fit(mlp, X, y, groups,
                                                                 random_state=0)
    X32, y32 = X_new[:10].astype(np.float32), y_new[:10].astype(np.float32)
    learner = strategy.adapt(clone(mlp), X32, y32)
    own = clone(mlp).fit(X32, y32)
    assert [p.dtype for p in learner.coefs_ + learner.intercepts_] == [
        p.dtype for p in own.coefs_ + own.intercepts_] == [np.float32] * 6
    assert learner.predict(X32).dtype == np.float32


def test_adapt_with_early_stopping_keeps_the_epoch_of_the_best_validation_score(sinusoid):
    # fit refuses early_stopping; adapt's own fit may use it, from the state a fresh fit has
    X, y, groups, X_new, y_new, _ = sinusoid
    mlp = _sgd_mlp()
    strategy = FOMAML(n_iter=2, meta_batch_size=4, shots=10).fit(mlp, X, y, groups,
                                                                 random_state=0)
    learner = strategy.adapt(clone(mlp).set_params(early_stopping=True, max_iter=8),
                             X_new[:30], y_new[:30])
    assert len(learner.validation_scores_) == learner.n_iter_ == 8
    assert learner.best_validation_score_ == max(learner.validation_scores_)
    assert learner.best_loss_ is None


def test_prototype_head_adapts_to_a_column_y_as_the_mlp_s_fit_does():
    # MetaEstimator.adapt and MLPClassifier.fit take y of shape (n, 1) (with a
    # DataConversionWarning); the prototype start failed on it with a bare matmul error.
    X, y, groups = load_digits_episodes(n_way=3, k_shot=3, n_query=3, n_episodes=20,
                                        random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    meta = MetaEstimator(mlp, init=FOMAML(n_iter=3, meta_batch_size=5, shots=9,
                                          label_space="episodic", episodic_head="prototype"),
                         refit=False, random_state=0).fit(X, y, groups=groups)
    Xe, ye = _episode(3, n_way=3)
    support = np.concatenate([np.flatnonzero(ye == c)[:3] for c in range(3)])
    flat = meta.adapt(Xe[support], ye[support])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        column = meta.adapt(Xe[support], ye[support][:, None])
    for a, b in zip(flat.coefs_ + flat.intercepts_, column.coefs_ + column.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_a_refit_on_a_regressor_keeps_no_classes():
    # Regression: classes_ of an earlier fit on a classifier outlived a refit on a regressor.
    X, y, groups = load_digits_episodes(n_way=3, k_shot=3, n_query=3, n_episodes=12,
                                        random_state=0)
    strategy = Reptile(n_iter=2, meta_batch_size=4, shots=9)
    strategy.fit(MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=2), X, y, groups)
    assert hasattr(strategy, "classes_")
    strategy.fit(_sgd_mlp(hidden_layer_sizes=(8,), max_iter=2), X, y.astype(float), groups)
    assert not hasattr(strategy, "classes_")


def test_default_shots_on_a_tiny_task_do_not_report_a_value_the_user_never_gave():
    # Regression: shots=None on a one-row task said "needs shots between 1 and 0 ... got
    # shots=0", a range that is empty and a value the user did not pass.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(7, 2)), rng.normal(size=7)
    groups = np.r_[0, 0, np.arange(1, 6)]  # tasks 1..5 have one row
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5)
    with pytest.raises(ValueError, match=r"^MAML splits every training task into support and "
                                         r"query rows, but the smallest training task has 1 "
                                         r"row; drop or merge the tasks of fewer than 2 rows.$"):
        MAML(n_iter=1).fit(mlp, X, y, groups)
    with pytest.raises(ValueError, match=r"Reptile needs shots between 1 and 1 \(the smallest "
                                         r"training task has 1 row\); got shots=None \(half "
                                         r"the smallest task's rows: 0\)"):
        Reptile(n_iter=1).fit(mlp, X, y, groups)
    with pytest.raises(ValueError, match=r"^shots=None \(half the smallest task's rows: 2\) "
                                         r"cannot hold one row of each class: a training task "
                                         r"has 3 classes"):
        MAML(n_iter=1).fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5),
                           rng.normal(size=(8, 2)), np.r_[0, 1, 2, 0, 0, 1, 0, 1],
                           np.repeat([0, 1], 4))
