"""GaussianPrior: EM recovers a known prior; adapt is the exact MAP, as a plain estimator."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.feature_selection import SelectKBest, f_regression
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVR
from sklearn.utils._param_validation import InvalidParameterError

from metasklearn import MetaEstimator
from metasklearn.datasets import make_linear_tasks, make_logistic_tasks
from metasklearn.init import GaussianPrior

TRUE_COV = np.array([[0.50, 0.20, 0.00],
                     [0.20, 0.30, -0.10],
                     [0.00, -0.10, 0.20]])
TRUE_MEAN = np.array([1.0, -0.5, 2.0])


def _linear(n_tasks, n_samples=20, random_state=0, **kwargs):
    return make_linear_tasks(n_tasks=n_tasks, n_samples=n_samples, n_features=2,
                             prior_mean=TRUE_MEAN, prior_cov=TRUE_COV, noise=0.5,
                             return_params=True, random_state=random_state, **kwargs)


def _neg_log_posterior_map(loss, x0):
    return minimize(loss, x0, method="BFGS", options={"gtol": 1e-10}).x


# --------------------------------------------------------------------- meta-fit


def test_learned_prior_converges_to_the_true_one_as_tasks_grow():
    errors = []
    for n_tasks in [20, 500]:
        X, y, groups, _ = _linear(n_tasks)
        prior = GaussianPrior("full").fit(Ridge(), X, y, groups)
        errors.append((np.abs(prior.mean_ - TRUE_MEAN).max(),
                       np.abs(prior.covariance_ - TRUE_COV).max()))
    (mean_small, cov_small), (mean_big, cov_big) = errors
    assert mean_big < 0.06 and cov_big < 0.06
    assert mean_big < mean_small and cov_big < cov_small
    assert prior.noise_variance_ == pytest.approx(0.25, rel=0.05)
    # The correlations are learned, with the right signs.
    assert prior.covariance_[0, 1] > 0.1 and prior.covariance_[1, 2] < -0.05


def test_logistic_prior_is_recovered():
    cov = np.diag([0.5, 0.3, 0.2])
    X, y, groups = make_logistic_tasks(n_tasks=300, n_samples=40, n_features=2,
                                       prior_mean=TRUE_MEAN, prior_cov=cov, random_state=0)
    prior = GaussianPrior("diag").fit(LogisticRegression(), X, y, groups)
    np.testing.assert_allclose(prior.mean_, TRUE_MEAN, atol=0.15)
    np.testing.assert_allclose(np.diag(prior.covariance_), np.diag(cov), atol=0.15)
    assert prior.noise_variance_ is None
    np.testing.assert_array_equal(prior.classes_, [0, 1])


def test_diag_covariance_is_diagonal_and_shrinkage_scales_off_diagonals():
    X, y, groups, _ = _linear(30)
    diag = GaussianPrior("diag").fit(Ridge(), X, y, groups).covariance_
    np.testing.assert_array_equal(diag, np.diag(np.diag(diag)))
    full = GaussianPrior("full", shrinkage=0.0).fit(Ridge(), X, y, groups).covariance_
    shrunk = GaussianPrior("full", shrinkage=1e6).fit(Ridge(), X, y, groups).covariance_
    assert np.abs(full[0, 1]) > 0.05
    assert np.abs(shrunk - np.diag(np.diag(shrunk))).max() < 1e-3


def test_em_increases_the_marginal_likelihood():
    X, y, groups, _ = _linear(15, n_samples=6)
    logliks = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for max_iter in [1, 4, 7, 10, 13, 16, 19]:  # 1, then whole accelerated cycles of 3
            prior = GaussianPrior("full", shrinkage=0, reg_covar=0, max_iter=max_iter, tol=0)
            logliks.append(prior.fit(Ridge(), X, y, groups).log_marginal_likelihood_)
    assert np.all(np.diff(logliks) > 0)


def test_not_converging_warns():
    X, y, groups, _ = _linear(10)
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        GaussianPrior(max_iter=1, tol=0).fit(Ridge(), X, y, groups)


# ----------------------------------------------------------------------- adapt


def test_ridge_adapt_is_the_exact_posterior_mode():
    X, y, groups, _ = _linear(40)
    prior = GaussianPrior().fit(Ridge(alpha=123.0), X, y, groups)
    Xn, yn, _, _ = _linear(1, n_samples=4, random_state=1)
    learner = prior.adapt(Ridge(alpha=123.0), Xn, yn)
    prec = np.linalg.inv(prior.covariance_)

    def loss(theta):
        r = yn - theta[0] - Xn @ theta[1:]
        return r @ r / (2 * prior.noise_variance_) + (theta - prior.mean_) @ prec @ (
            theta - prior.mean_) / 2

    theta = _neg_log_posterior_map(loss, np.zeros(3))
    assert learner.intercept_ == pytest.approx(theta[0], abs=1e-6)
    np.testing.assert_allclose(learner.coef_, theta[1:], atol=1e-6)
    assert learner.alpha == 123.0  # the user's alpha is kept, not used


def test_zero_rows_give_the_prior_mean_and_many_rows_the_task_fit():
    X, y, groups, _ = _linear(40)
    prior = GaussianPrior().fit(Ridge(), X, y, groups)
    empty = prior.adapt(Ridge(), X[:0], y[:0])
    assert empty.intercept_ == pytest.approx(prior.mean_[0])
    np.testing.assert_allclose(empty.coef_, prior.mean_[1:])

    Xn, yn, _, params = _linear(1, n_samples=[20000], random_state=3)
    ols = LinearRegression().fit(Xn, yn)
    big = prior.adapt(Ridge(), Xn, yn)
    np.testing.assert_allclose(big.coef_, ols.coef_, atol=2e-3)
    assert big.intercept_ == pytest.approx(ols.intercept_, abs=2e-3)
    small = prior.adapt(Ridge(), Xn[:3], yn[:3])
    # With three rows the fit sits between the prior mean and the task's own parameters.
    truth = np.r_[params.intercepts, params.coefs[0]]
    theta = np.r_[small.intercept_, small.coef_]
    assert np.linalg.norm(theta - truth) < np.linalg.norm(prior.mean_ - truth)


def _softmax_tasks(n_tasks, n_samples, random_state):
    rng = np.random.RandomState(random_state)
    W_mean = np.array([[0.5, 1.0, 0.0], [0.0, -1.0, 1.0], [-0.5, 0.0, -1.0]])
    X, y, groups = [], [], []
    for t in range(n_tasks):
        W = W_mean + 0.3 * rng.standard_normal(W_mean.shape)
        Xt = rng.standard_normal((n_samples, 2))
        logits = W[:, 0] + Xt @ W[:, 1:].T
        p = np.exp(log_softmax(logits, axis=1))
        y.append([rng.choice(3, p=row) for row in p])
        X.append(Xt)
        groups.append(np.full(n_samples, t))
    return np.vstack(X), np.concatenate(y), np.concatenate(groups)


@pytest.mark.parametrize("multiclass", [False, True])
def test_logistic_adapt_is_the_exact_posterior_mode(multiclass):
    if multiclass:
        X, y, groups = _softmax_tasks(30, 20, 0)
        Xn, yn, _ = _softmax_tasks(1, 6, 1)
    else:
        X, y, groups = make_logistic_tasks(n_tasks=30, n_samples=20, n_features=2,
                                           random_state=0)
        Xn, yn, _ = make_logistic_tasks(n_tasks=1, n_samples=6, n_features=2, random_state=1)
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    learner = prior.adapt(LogisticRegression(C=1e-3), Xn, yn)
    prec = np.linalg.inv(prior.covariance_)
    n_blocks = 3 if multiclass else 1

    def loss(w):
        W = w.reshape(n_blocks, 3)
        logits = W[:, 0] + Xn @ W[:, 1:].T
        if not multiclass:
            logits = np.hstack([np.zeros((len(yn), 1)), logits])
        nll = -log_softmax(logits, axis=1)[np.arange(len(yn)), yn].sum()
        return nll + (w - prior.mean_) @ prec @ (w - prior.mean_) / 2

    W = _neg_log_posterior_map(loss, prior.mean_.copy()).reshape(n_blocks, 3)
    # BFGS is the less precise of the two solvers: 1e-4 is its accuracy, not ours.
    np.testing.assert_allclose(learner.intercept_, W[:, 0], atol=1e-4)
    np.testing.assert_allclose(learner.coef_, W[:, 1:], atol=1e-4)
    assert learner.coef_.shape == (n_blocks, 2)
    np.testing.assert_array_equal(learner.classes_, np.arange(3 if multiclass else 2))


def test_classifier_adapt_with_one_class_or_no_rows_keeps_every_class():
    X, y, groups = make_logistic_tasks(n_tasks=30, n_samples=20, n_features=2, random_state=0)
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    empty = prior.adapt(LogisticRegression(), X[:0], y[:0])
    np.testing.assert_allclose(np.r_[empty.intercept_, empty.coef_[0]], prior.mean_)
    ones = prior.adapt(LogisticRegression(), X[:4], np.ones(4, dtype=int))
    np.testing.assert_array_equal(ones.classes_, [0, 1])
    p_one, p_prior = ones.predict_proba(X[:4])[:, 1], empty.predict_proba(X[:4])[:, 1]
    assert np.all(p_one > p_prior)  # pulled toward the only class seen, not to certainty
    assert np.all(p_one < 1 - 1e-3)
    with pytest.raises(ValueError, match=r"labels \[7\] that were not seen"):
        prior.adapt(LogisticRegression(), X[:2], np.array([0, 7]))


def test_single_class_training_tasks_are_used_not_refused():
    X, y, groups = make_logistic_tasks(n_tasks=30, n_samples=20, n_features=2, random_state=0)
    y = y.copy()
    y[groups < 5] = 1  # five tasks hold only class 1
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    baseline = GaussianPrior().fit(LogisticRegression(), X[groups >= 5], y[groups >= 5],
                                   groups[groups >= 5])
    assert np.isfinite(prior.covariance_).all()
    assert prior.mean_[0] > baseline.mean_[0]  # they raise the typical intercept


def test_dataframe_feature_names_are_kept():
    pd = pytest.importorskip("pandas")
    X, y, groups, _ = _linear(10)
    frame = pd.DataFrame(X, columns=["a", "b"])
    prior = GaussianPrior().fit(Ridge(), X, y, groups)
    learner = prior.adapt(Ridge(), frame.iloc[:4], y[:4])
    np.testing.assert_array_equal(learner.feature_names_in_, ["a", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.predict(frame)


def test_string_labels():
    X, y, groups = make_logistic_tasks(n_tasks=10, n_samples=20, n_features=2, random_state=0)
    labels = np.array(["no", "yes"])[y]
    prior = GaussianPrior().fit(LogisticRegression(), X, labels, groups)
    learner = prior.adapt(LogisticRegression(), X[:5], labels[:5])
    assert set(learner.predict(X)) <= {"no", "yes"}
    assert learner.score(X, labels) > 0.6


# ------------------------------------------------- estimators, pickling, pipelines


def _rows():
    Xr, yr, gr, _ = _linear(20)
    Xc, yc, gc = make_logistic_tasks(n_tasks=20, n_samples=20, n_features=2, random_state=0)
    return (Xr, yr, gr), (Xc, yc, gc)


ESTIMATORS = [
    Ridge(), SGDRegressor(), LogisticRegression(), SGDClassifier(loss="log_loss"),
    make_pipeline(StandardScaler(), Ridge()),
    make_pipeline(StandardScaler(), LogisticRegression()),
]


@pytest.mark.parametrize("sgd, exact", [
    (SGDRegressor(), Ridge()), (SGDClassifier(loss="log_loss"), LogisticRegression())])
def test_sgd_estimators_get_the_same_map_as_the_exact_ones(sgd, exact):
    # The adapters write each family's own attributes; the MAP, intercept included, is
    # the one prior's (the shape test above holds for any weights).
    rows = _rows()[1 if hasattr(exact, "predict_proba") else 0]
    X = rows[0]
    learner = _adapted(sgd)[0]
    reference = _adapted(exact)[0]
    np.testing.assert_allclose(np.ravel(learner.intercept_), np.ravel(reference.intercept_),
                               atol=1e-10)
    np.testing.assert_allclose(np.ravel(learner.coef_), np.ravel(reference.coef_), atol=1e-10)
    if hasattr(exact, "predict_proba"):
        np.testing.assert_allclose(learner.predict_proba(X), reference.predict_proba(X),
                                   atol=1e-10)
    else:
        np.testing.assert_allclose(learner.predict(X), reference.predict(X), atol=1e-10)


def _mixed_model_deviance(params, X, y, groups, reml):
    """-2 log-likelihood (up to a constant) of y = Z (beta + b_task) + noise, b ~ N(0, D).

    ``params``: the Cholesky factor of D (lower triangle) and log noise variance;
    beta is profiled out by generalised least squares. ``reml`` adds the term
    that makes it the restricted likelihood.
    """
    L = np.zeros((2, 2))
    L[np.tril_indices(2)] = params[:3]
    D, noise = L @ L.T, np.exp(params[3])
    blocks = []
    for task in np.unique(groups):
        Z = np.column_stack([np.ones((groups == task).sum()), X[groups == task]])
        V = Z @ D @ Z.T + noise * np.eye(len(Z))
        blocks.append((Z, y[groups == task], np.linalg.inv(V), np.linalg.slogdet(V)[1]))
    A = sum(Z.T @ Vi @ Z for Z, _, Vi, _ in blocks)
    beta = np.linalg.solve(A, sum(Z.T @ Vi @ t for Z, t, Vi, _ in blocks))
    deviance = sum(logdet + (t - Z @ beta) @ Vi @ (t - Z @ beta)
                   for Z, t, Vi, logdet in blocks)
    return deviance + (np.linalg.slogdet(A)[1] if reml else 0.0), beta


@pytest.mark.parametrize("reml", [True, False])
def test_prior_without_shrinkage_maximises_the_mixed_model_likelihood(reml):
    # GaussianPrior("full", no shrinkage) is the linear mixed model with a random intercept
    # and slope: reml=True must land on the restricted likelihood's maximum (as statsmodels'
    # MixedLM(reml=True) does), reml=False on the plain likelihood's, and they differ.
    X, y, groups = make_linear_tasks(n_tasks=10, n_samples=15, n_features=1, noise=0.5,
                                     prior_mean=[1.0, 2.0], prior_cov=[0.5, 0.3],
                                     random_state=0)
    fits = {flag: GaussianPrior("full", reml=flag, shrinkage=0.0, reg_covar=0.0, tol=1e-10,
                                max_iter=5000).fit(Ridge(), X, y, groups)
            for flag in (True, False)}
    prior = fits[reml]
    at = np.r_[np.linalg.cholesky(prior.covariance_)[np.tril_indices(2)],
               np.log(prior.noise_variance_)]
    deviance, beta = _mixed_model_deviance(at, X[:, 0], y, groups, reml)
    np.testing.assert_allclose(prior.mean_, beta, rtol=1e-6)  # the GLS mean at the estimate
    best = minimize(lambda p: _mixed_model_deviance(p, X[:, 0], y, groups, reml)[0], at,
                    method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10})
    assert best.fun > deviance - 1e-6  # nothing near the estimate is more likely
    other = fits[not reml]
    elsewhere = np.r_[np.linalg.cholesky(other.covariance_)[np.tril_indices(2)],
                      np.log(other.noise_variance_)]
    assert _mixed_model_deviance(elsewhere, X[:, 0], y, groups, reml)[0] > deviance + 1e-3


def _adapted(estimator):
    reg, clf = _rows()
    X, y, groups = clf if hasattr(estimator, "predict_proba") else reg
    meta = MetaEstimator(estimator, init=GaussianPrior(), random_state=0).fit(X, y, groups=groups)
    return meta.adapt(X[:6], y[:6]), X, y


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_returned_estimator_is_a_plain_fitted_one(estimator):
    learner, X, y = _adapted(estimator)
    assert type(learner) is type(estimator)
    expected = learner.predict(X)
    assert np.isfinite(expected).all()
    assert np.isfinite(learner.score(X, y))
    final = learner[-1] if hasattr(learner, "steps") else learner
    assert final.coef_.ndim == (2 if hasattr(learner, "predict_proba") else 1)
    if hasattr(learner, "predict_proba"):
        proba = learner.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_allclose(learner.predict_log_proba(X), np.log(proba), atol=1e-8)
        decision = learner.decision_function(X)
        np.testing.assert_array_equal(learner.classes_[(decision > 0).astype(int)], expected)
    copy = pickle.loads(pickle.dumps(final))
    Z = learner[:-1].transform(X) if hasattr(learner, "steps") else X
    if hasattr(final, "partial_fit"):
        before = copy.coef_.copy()
        copy.partial_fit(Z[:6], y[:6])  # continues from the MAP weights
        assert np.isfinite(copy.coef_).all() and not np.array_equal(copy.coef_, before)
    if hasattr(final, "sparsify"):
        sparse = pickle.loads(pickle.dumps(final)).sparsify()
        np.testing.assert_allclose(sparse.densify().predict(Z), final.predict(Z))
    # fit still trains it from scratch with the estimator's own settings.
    refit = clone(learner).fit(X, y)
    assert refit.predict(X).shape == expected.shape


def test_returned_estimators_unpickle_and_predict_without_metasklearn():
    blobs, Xs, expected = [], [], []
    for estimator in ESTIMATORS:
        learner, X, _ = _adapted(estimator)
        blobs.append(pickle.dumps(learner))
        Xs.append(X[:5].tolist())
        expected.append(learner.predict(X[:5]).tolist())
    assert not any(b"metasklearn" in blob for blob in blobs)
    script = (
        "import pickle, sys, numpy as np\n"
        "sys.modules['metasklearn'] = None  # importing it would fail\n"
        f"blobs, Xs = {blobs!r}, {Xs!r}\n"
        "print(repr([pickle.loads(b).predict(np.array(X)).tolist() for b, X in zip(blobs, Xs)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert eval(out) == expected


def test_pipeline_scaler_is_fitted_once_on_training_rows_and_scale_free():
    X, y, groups, _ = _linear(30)
    pipe = make_pipeline(StandardScaler(), Ridge())
    prior = GaussianPrior().fit(pipe, X, y, groups)
    learner = prior.adapt(clone(pipe), X[:4], y[:4])
    np.testing.assert_allclose(learner[0].mean_, X.mean(axis=0))  # not the 4 rows' mean
    scaled = np.array([1000.0, 0.001])
    prior_scaled = GaussianPrior().fit(pipe, X * scaled, y, groups)
    learner_scaled = prior_scaled.adapt(clone(pipe), X[:4] * scaled, y[:4])
    np.testing.assert_allclose(learner_scaled.predict(X * scaled), learner.predict(X), rtol=1e-6)
    with pytest.raises(ValueError, match="bare vs Pipeline"):
        prior.adapt(Ridge(), X[:4], y[:4])


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_pipeline_adapt_refuses_nan_that_a_transformer_passes_through(kind):
    # Regression: StandardScaler passes NaN on; the classifier's MAP solve then stopped at
    # once and returned the prior mean as the "fitted" model, the Ridge one scipy's error.
    if kind == "regression":
        X, y, groups, _ = _linear(10)
        pipe = make_pipeline(StandardScaler(), Ridge())
    else:
        X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=30, random_state=0)
        pipe = make_pipeline(StandardScaler(), LogisticRegression())
    prior = GaussianPrior().fit(pipe, X, y, groups)
    X_new = X[:20].copy()
    X_new[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity as the linear step sees them.*"
                                         "SimpleImputer"):
        prior.adapt(clone(pipe), X_new, y[:20])
    # A transformer that hands on an object array: the MAP would cast it to float.
    passing = Pipeline([("same", FunctionTransformer()), ("model", clone(pipe[-1]))])
    prior = GaussianPrior().fit(passing, X, y, groups)
    with pytest.raises(ValueError, match="NaN or infinity as the linear step sees them"):
        prior.adapt(clone(passing), X_new.astype(object), y[:20])


def test_pipeline_adapt_refuses_complex_rows_as_the_estimator_s_fit_does():
    # Regression: a transformer that handed on complex rows had their imaginary parts
    # dropped by the MAP's cast to float, with only a ComplexWarning.
    X, y, groups, _ = _linear(10)
    passing = Pipeline([("same", FunctionTransformer()), ("model", Ridge())])
    prior = GaussianPrior().fit(passing, X, y, groups)
    with pytest.raises(ValueError, match="Complex data not supported"):
        clone(passing).fit(X[:20] + 1j, y[:20])
    with pytest.raises(ValueError, match="complex rows as the linear step sees them.*does "
                                         "not support complex data"):
        prior.adapt(clone(passing), X[:20] + 1j, y[:20])


def test_sparse_rows_are_refused_in_the_strategy_s_name():
    import scipy.sparse as sp

    X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=30, random_state=0)
    meta = MetaEstimator(LogisticRegression(), init=GaussianPrior())
    with pytest.raises(TypeError, match="GaussianPrior works on dense rows although "
                                        "LogisticRegression takes sparse ones"):
        meta.fit(sp.csr_matrix(X), y, groups=groups)


def test_pipeline_adapt_applies_every_transformer_step_and_skips_passthrough():
    # adapt transforms step by step (not through Pipeline.transform): each fitted step
    # must run in order, "passthrough" and None must be skipped.
    X, y, groups, _ = _linear(30)
    pipe = Pipeline([("scale", StandardScaler()), ("skip", "passthrough"),
                     ("square", FunctionTransformer(lambda Z: Z * np.abs(Z))),
                     ("none", None), ("ridge", Ridge())])
    prior = GaussianPrior().fit(pipe, X, y, groups)
    learner = prior.adapt(clone(pipe), X[:6], y[:6])
    Z = prior.transformer_.transform(X[:6])
    bare = GaussianPrior().fit(Ridge(), prior.transformer_.transform(X), y, groups)
    expected = bare.adapt(Ridge(), Z, y[:6])
    np.testing.assert_allclose(learner[-1].coef_, expected.coef_, rtol=1e-10)
    np.testing.assert_allclose(learner.predict(X), expected.predict(
        prior.transformer_.transform(X)), rtol=1e-10)
    assert [name for name, _ in learner.steps] == ["scale", "skip", "square", "none", "ridge"]


def test_units_of_features_and_target_do_not_change_the_predictions():
    # Even without a scaler: the EM start and the variance floor scale with the units.
    X, y, groups, _ = _linear(30, n_samples=6)
    units = np.array([1000.0, 0.001])
    reference = GaussianPrior().fit(Ridge(), X, y, groups).adapt(Ridge(), X[:4], y[:4])
    prior = GaussianPrior().fit(Ridge(), X * units, y * 1e-4, groups)
    learner = prior.adapt(Ridge(), X[:4] * units, y[:4] * 1e-4)
    np.testing.assert_allclose(learner.predict(X * units), 1e-4 * reference.predict(X),
                               rtol=1e-6)


def test_fit_intercept_false():
    X, y, groups, _ = _linear(20)
    prior = GaussianPrior().fit(Ridge(fit_intercept=False), X, y, groups)
    assert prior.mean_.shape == (2,)
    empty = prior.adapt(Ridge(fit_intercept=False), X[:0], y[:0])
    np.testing.assert_allclose(empty.coef_, prior.mean_)
    Xn, yn = X[:5], y[:5]
    learner = prior.adapt(Ridge(fit_intercept=False), Xn, yn)
    assert learner.intercept_ == 0.0
    prec = np.linalg.inv(prior.covariance_)

    def loss(theta):  # no intercept column
        r = yn - Xn @ theta
        return r @ r / (2 * prior.noise_variance_) + (theta - prior.mean_) @ prec @ (
            theta - prior.mean_) / 2

    np.testing.assert_allclose(learner.coef_, _neg_log_posterior_map(loss, np.zeros(2)),
                               atol=1e-6)
    np.testing.assert_allclose(learner.predict(X[:3]), X[:3] @ learner.coef_)


# ------------------------------------------------------------- awkward tasks


def test_feature_constant_within_tasks_is_learned_from_between_task_variation():
    X, y, groups, _ = _linear(200, n_samples=10)
    school = np.random.RandomState(0).standard_normal(200)[groups]  # one value per task
    y = y + 1.5 * school
    prior = GaussianPrior().fit(Ridge(), np.column_stack([X, school]), y, groups)
    assert prior.mean_[3] == pytest.approx(1.5, abs=0.15)
    np.testing.assert_allclose(prior.mean_[:3], TRUE_MEAN, atol=0.15)
    learner = prior.adapt(Ridge(), np.column_stack([X, school])[:3], y[:3])
    assert np.isfinite(learner.coef_).all()


def test_collinear_features_and_one_row_tasks_give_finite_weights():
    X, y, groups, _ = _linear(30, n_samples=[1] * 10 + [20] * 20)
    X_dup = np.column_stack([X, X[:, 0]])
    prior = GaussianPrior().fit(Ridge(), X_dup, y, groups)
    assert np.isfinite(prior.covariance_).all() and np.isfinite(prior.mean_).all()
    # The duplicated coefficient pair acts like the single one.
    single = GaussianPrior().fit(Ridge(), X, y, groups)
    assert prior.mean_[1] + prior.mean_[3] == pytest.approx(single.mean_[1], abs=0.05)
    one_row = prior.adapt(Ridge(), X_dup[:1], y[:1])
    assert np.isfinite(one_row.coef_).all()
    np.testing.assert_allclose(one_row.predict(X_dup[20:40]),
                               single.adapt(Ridge(), X[:1], y[:1]).predict(X[20:40]), atol=0.05)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("estimator, match", [
    (SVR(), "supports Ridge.*got SVR"),
    (SGDClassifier(), "loss='log_loss'"),
    (SGDRegressor(loss="huber"), "loss='squared_error'"),
    (SGDRegressor(average=True), "average=False"),
    # Regression: these were accepted and silently not applied by the MAP.
    (Ridge(positive=True), r"Ridge\(positive=True\) would not be honoured; set positive=False"),
    (LogisticRegression(class_weight="balanced"),
     r"class_weight='balanced'\) would not be honoured; set class_weight=None"),
])
def test_unsupported_estimators_are_refused(estimator, match):
    X, y, groups, _ = _linear(5)
    if isinstance(estimator, (SGDClassifier, LogisticRegression)):
        y = (y > y.mean()).astype(int)
    with pytest.raises(ValueError, match=match):
        GaussianPrior().fit(estimator, X, y, groups)


def test_one_vs_rest_sgd_classifier_with_more_than_two_classes_is_refused():
    # Regression: it got softmax weights, and its own predict_proba (one-vs-rest
    # sigmoids) disagreed with the model the prior was learned for.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = np.argmax(X @ rng.randn(3, 3), axis=1)
    groups = np.repeat(np.arange(10), 20)
    with pytest.raises(ValueError, match="SGDClassifier is one-vs-rest with more than two "
                                         r"classes \(here 3\).*Use LogisticRegression"):
        GaussianPrior().fit(SGDClassifier(loss="log_loss"), X, y, groups)
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    assert prior.classes_.tolist() == [0, 1, 2]


def test_a_one_step_pipeline_comes_back_as_a_pipeline():
    # Regression: adapt returned the bare Ridge of Pipeline([("ridge", Ridge())]).
    X, y, groups, _ = _linear(6)
    base = Pipeline([("ridge", Ridge())])
    learner = MetaEstimator(base, init=GaussianPrior(), refit=False).fit(
        X, y, groups=groups).adapt(X[:5], y[:5])
    assert type(learner) is Pipeline and list(learner.named_steps) == ["ridge"]
    bare = GaussianPrior().fit(Ridge(), X, y, groups).adapt(Ridge(), X[:5], y[:5])
    np.testing.assert_allclose(learner.named_steps["ridge"].coef_, bare.coef_)
    assert base.steps[0][1] is not learner.named_steps["ridge"]


def test_sparse_rows_through_a_pipeline():
    # Regression: adapt called len() on a sparse matrix ("sparse array length is ambiguous").
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    X, y, groups, _ = _linear(6)
    Xs = sp.csr_matrix(X)
    base = make_pipeline(TruncatedSVD(2, random_state=0), Ridge())
    meta = MetaEstimator(base, init=GaussianPrior(), refit=False).fit(Xs, y, groups=groups)
    dense = MetaEstimator(base, init=GaussianPrior(), refit=False).fit(X, y, groups=groups)
    np.testing.assert_allclose(meta.adapt(Xs[:5], y[:5]).predict(Xs[:3]),
                               dense.adapt(X[:5], y[:5]).predict(X[:3]), rtol=1e-6)


def test_parameters_and_feature_count_are_checked():
    X, y, groups, _ = _linear(5)
    with pytest.raises(InvalidParameterError, match="covariance"):
        GaussianPrior(covariance="spherical").fit(Ridge(), X, y, groups)
    with pytest.raises(InvalidParameterError, match="shrinkage"):
        GaussianPrior(shrinkage=-1).fit(Ridge(), X, y, groups)
    prior = GaussianPrior().fit(Ridge(), X, y, groups)
    with pytest.raises(ValueError, match="adapt got 3 features .* fitted with 2"):
        prior.adapt(Ridge(), np.hstack([X, X[:, :1]])[:4], y[:4])


def test_meta_estimator_needs_two_tasks():
    X, y, _, _ = _linear(3)
    with pytest.raises(ValueError, match="GaussianPrior needs at least 2 training tasks"):
        MetaEstimator(Ridge(), init=GaussianPrior()).fit(X, y)


# ------------------------------------------------------------------ payoff


def test_beats_pooled_and_per_task_on_held_out_tasks():
    X, y, groups, _ = _linear(60)
    Xn, yn, gn, _ = _linear(40, n_samples=25, random_state=1)
    meta = MetaEstimator(Ridge(), init=GaussianPrior(), random_state=0).fit(X, y, groups=groups)
    pooled = Ridge().fit(X, y)
    errors = {"ours": [], "per-task": [], "pooled": []}
    for t in range(40):
        rows = np.flatnonzero(gn == t)
        s, q = rows[:5], rows[5:]
        for name, model in [("ours", meta.adapt(Xn[s], yn[s])),
                            ("per-task", Ridge().fit(Xn[s], yn[s])), ("pooled", pooled)]:
            errors[name].append(np.mean((model.predict(Xn[q]) - yn[q]) ** 2))
    mse = {k: np.mean(v) for k, v in errors.items()}
    assert mse["ours"] < 0.8 * mse["per-task"]
    assert mse["ours"] < 0.8 * mse["pooled"]


def test_sparse_input_tag_says_what_fit_takes():
    # Regression: the tag said sparse for a bare Ridge, whose MAP then refused sparse rows.
    import scipy.sparse as sp
    from sklearn.utils import get_tags

    bare = MetaEstimator(Ridge(), init=GaussianPrior())
    assert not get_tags(bare).input_tags.sparse
    assert get_tags(MetaEstimator(Ridge())).input_tags.sparse
    X, y, groups, _ = _linear(4)
    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data"):
        bare.fit(sp.csr_matrix(X), y, groups=groups)


def test_a_variance_collapsing_to_its_floor_does_not_break_the_em():
    from sklearn.model_selection import ShuffleSplit

    # Regression: a SQUAREM extrapolation took log-variances far below reg_covar's floor
    # (to ~1e-25) and the next E-step failed with "LinAlgError: Eigenvalues did not
    # converge" (features far from zero, two interleaved tasks with no real spread).
    rng = np.random.RandomState(0)
    X = rng.normal(loc=100, size=(100, 2))
    y = rng.normal(size=100)
    rows, _ = next(ShuffleSplit(test_size=0.2, random_state=rng).split(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        prior = GaussianPrior().fit(Ridge(), X[rows], y[rows], np.arange(80) % 2)
    assert np.isfinite(prior.mean_).all() and np.isfinite(prior.covariance_).all()
    assert (np.diag(prior.covariance_) > 0).all()


def test_a_squarem_jump_whose_newton_hessian_is_singular_is_refused():
    # Regression: with a constant column (collinear with the intercept) beside an all-zero
    # one, a SQUAREM extrapolation of a full covariance jumped to a prior (mean ~1e12) whose
    # Newton Hessians were singular in floating point, and fit raised numpy's
    # "LinAlgError: Singular matrix" from softmax_map instead of refusing the jump.
    rng = np.random.RandomState(0)
    x = rng.normal(size=36)
    y = (x + rng.normal(size=36) > 0).astype(int)
    X = np.column_stack([x, np.full(36, 3.7), np.zeros(36)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        prior = GaussianPrior(covariance="full").fit(LogisticRegression(), X, y,
                                                     np.repeat([0, 1, 2], 12))
    assert np.isfinite(prior.mean_).all() and np.isfinite(prior.covariance_).all()
    learner = prior.adapt(LogisticRegression(), X[:12], y[:12])
    assert np.isfinite(learner.coef_).all() and np.isfinite(learner.intercept_).all()


@pytest.mark.parametrize("estimator, make", [(Ridge(), make_linear_tasks),
                                             (LogisticRegression(), make_logistic_tasks)])
def test_rows_whose_products_overflow_are_named(estimator, make):
    # Regression: features near 1e160 overflow X.T @ X. fit failed inside scipy ("array
    # must not contain infs or NaNs") or with a LinAlgError, adapt (regression) in scipy,
    # and adapt (classification) returned the prior mean with n_iter_ = 1, without a word.
    X, y, groups = make(n_tasks=10, n_samples=20, n_features=2, random_state=0)
    huge = X * np.array([1e160, 1.0])
    with pytest.raises(ValueError, match=r"rows given to fit: the products of their features "
                                         r"overflow \(X.T @ X is not finite\)"):
        GaussianPrior().fit(clone(estimator), huge, y, groups)
    prior = GaussianPrior().fit(clone(estimator), X, y, groups)
    with pytest.raises(ValueError, match="rows given to adapt: the products of their features "
                                         "overflow"):
        prior.adapt(clone(estimator), huge[:10], y[:10])


def test_a_newton_solve_that_runs_out_of_iterations_warns_at_adapt():
    # With features 1e10 times those of fit the MAP's Newton solve stopped at its 100
    # iterations and adapt returned that model without a word (fit's EM warns).
    X, y, groups = make_logistic_tasks(n_tasks=10, n_samples=20, n_features=2, random_state=0)
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    with pytest.warns(ConvergenceWarning, match="Newton solve for the new task's MAP weights "
                                                "did not converge in 100 iterations"):
        prior.adapt(LogisticRegression(), X[:10] * 1e10, y[:10])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        learner = prior.adapt(LogisticRegression(), X[:10], y[:10])
    assert learner.n_iter_[0] < 100


def test_fit_fits_copies_of_the_pipeline_s_transformers_and_passes_them_y():
    # The user's steps stay unfitted (the strategy would otherwise share them with the
    # user's Pipeline), and a supervised transformer is fitted on X and y, as by Pipeline.fit.
    X, y, groups, _ = _linear(10)
    X = np.column_stack([np.random.RandomState(1).normal(size=X.shape[0]), X])
    pipe = make_pipeline(SelectKBest(f_regression, k=2), Ridge())
    prior = GaussianPrior().fit(pipe, X, y, groups)
    assert not hasattr(pipe[0], "scores_")
    assert prior.transformer_[0] is not pipe[0]
    np.testing.assert_array_equal(prior.transformer_[0].get_support(),
                                  SelectKBest(f_regression, k=2).fit(X, y).get_support())


@pytest.mark.parametrize("form", ["infinity", "sparse NaN", "complex infinity"])
def test_pipeline_adapt_refuses_non_finite_rows_in_every_form(form):
    # The check reads a sparse matrix's stored values, counts infinity as well as NaN
    # and checks complex rows (whose imaginary part the MAP's cast to float would drop).
    X, y, groups, _ = _linear(10)
    passing = Pipeline([("same", FunctionTransformer(accept_sparse=True)), ("model", Ridge())])
    prior = GaussianPrior().fit(passing, X, y, groups)
    X_new = X[:20].copy()
    if form == "infinity":
        X_new[5, 1] = np.inf
    elif form == "sparse NaN":
        X_new[5, 1] = np.nan
        X_new = sp.csr_matrix(X_new)
    else:
        X_new = X_new + 0j
        X_new[5, 1] = complex(0.0, np.inf)
    with pytest.raises(ValueError, match="NaN or infinity as the linear step sees them"):
        prior.adapt(clone(passing), X_new, y[:20])


@pytest.mark.parametrize("estimator", [LogisticRegression(fit_intercept=False),
                                       SGDClassifier(loss="log_loss", fit_intercept=False)])
def test_a_classifier_without_intercept_gets_the_attributes_of_its_own_fit(estimator):
    # intercept_ is an array of zeros, one per row of coef_, as the estimator's fit sets it
    X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=30, random_state=0)
    prior = GaussianPrior().fit(estimator, X, y, groups)
    learner = prior.adapt(clone(estimator), X[:10], y[:10])
    own = clone(estimator).fit(X[:10], y[:10])
    for name in ["coef_", "intercept_", "classes_"]:
        mine, theirs = getattr(learner, name), getattr(own, name)
        assert (type(mine), mine.shape, mine.dtype) == (type(theirs), theirs.shape, theirs.dtype)
    np.testing.assert_array_equal(learner.intercept_, 0.0)


def test_the_overflow_check_refuses_only_products_that_overflow():
    from metasklearn.init._gaussian_prior import _check_gram_finite

    X = np.ones((10, 2))
    X[0, 0] = 1e154  # 10 * max^2 overflows, but every entry of X.T @ X is finite
    _check_gram_finite(X, "fit")
    X[0, 0] = 1e155
    with pytest.raises(ValueError, match="rows given to fit: the products"):
        _check_gram_finite(X, "fit")


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("estimator", [Ridge(), LogisticRegression()])
def test_adapt_takes_a_column_y_as_the_estimator_s_fit_does(estimator, pipeline):
    # y of shape (n, 1) is raveled with a DataConversionWarning by MetaEstimator.adapt's
    # checks and by the estimator's own fit; through a Pipeline the MAP got it as a column
    # (a 2-D coef_ for Ridge, an einsum error for LogisticRegression).
    X, y, groups = make_linear_tasks(n_tasks=10, n_samples=15, n_features=3, random_state=0)
    if is_classifier(estimator):
        y = (y > np.median(y)).astype(int)
    if pipeline:
        estimator = make_pipeline(StandardScaler(), estimator)
    meta = MetaEstimator(estimator, init=GaussianPrior(), refit=False).fit(X, y, groups=groups)
    flat = meta.adapt(X[:8], y[:8])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        column = meta.adapt(X[:8], y[:8, None])
    final = column[-1] if pipeline else column
    np.testing.assert_array_equal(final.coef_, (flat[-1] if pipeline else flat).coef_)
    np.testing.assert_array_equal(column.predict(X), flat.predict(X))


def test_an_all_zero_feature_leaves_the_restricted_likelihood_unchanged():
    # An all-zero column (a category absent from the training rows) carries no
    # information; its clamped scale (1e-150) entered the REML term and added about 345
    # to log_marginal_likelihood_, a noise-driven value that EM's stopping rule and
    # SQUAREM's acceptance then compared.
    X, y, groups = make_linear_tasks(n_tasks=10, n_samples=15, n_features=3,
                                     random_state=0)
    base = GaussianPrior().fit(Ridge(), X, y, groups)
    padded = GaussianPrior().fit(Ridge(), np.c_[X, np.zeros(len(X))], y, groups)
    np.testing.assert_allclose(padded.log_marginal_likelihood_,
                               base.log_marginal_likelihood_, atol=1e-3)
    np.testing.assert_allclose(padded.mean_[:4], base.mean_, atol=1e-3)


def test_an_extrapolation_that_overflows_is_refused_without_a_warning():
    # Regression: with a full covariance and an all-zero feature, SQUAREM's jump of the
    # log noise variance overflowed exp; the jump was refused, but numpy's overflow
    # RuntimeWarning reached the user.
    X, y, groups = make_linear_tasks(n_tasks=10, n_samples=15, n_features=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        prior = GaussianPrior("full").fit(Ridge(), np.c_[X, np.zeros(len(X))], y, groups)
    assert np.all(np.isfinite(prior.mean_)) and np.isfinite(prior.noise_variance_)


def test_a_target_of_several_columns_is_refused_by_name():
    # Regression: a 2-D y reached the EM and failed with a bare matmul error.
    X, y, groups = make_linear_tasks(n_tasks=4, n_samples=20, random_state=0)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        GaussianPrior().fit(Ridge(), X, np.c_[y, y], groups)


def test_a_refit_on_a_regressor_keeps_no_classes():
    # Regression: classes_ of an earlier fit on a classifier outlived a refit on a regressor.
    X, y, groups = make_logistic_tasks(n_tasks=6, n_samples=20, n_features=2, random_state=0)
    prior = GaussianPrior().fit(LogisticRegression(), X, y, groups)
    assert hasattr(prior, "classes_")
    prior.fit(Ridge(), X, y.astype(float), groups)
    assert not hasattr(prior, "classes_")
