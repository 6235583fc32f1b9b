"""The EM behind GaussianPrior: its likelihoods, stopping rule, acceleration, and the
logistic MAP without an intercept, checked against formulas written out here."""

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from metasklearn.datasets import make_linear_tasks, make_logistic_tasks
from metasklearn.init import GaussianPrior
from metasklearn.init._prior_em import softmax_map

TRUE_COV = np.array([[0.50, 0.20, 0.00],
                     [0.20, 0.30, -0.10],
                     [0.00, -0.10, 0.20]])
TRUE_MEAN = np.array([1.0, -0.5, 2.0])


def _linear(n_tasks, n_samples=20, random_state=0):
    return make_linear_tasks(n_tasks=n_tasks, n_samples=n_samples, n_features=2,
                             prior_mean=TRUE_MEAN, prior_cov=TRUE_COV, noise=0.5,
                             random_state=random_state)


def _printed_logliks(prior, *args):
    """Fit ``prior`` verbosely; return the log-likelihoods of its "E-step" lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        prior.fit(*args)
    return np.array([float(v) for v in
                     re.findall(r"E-step \d+: log marginal likelihood (-?[\d.]+)",
                                out.getvalue())])


@pytest.mark.parametrize("reml", [True, False])
def test_log_marginal_likelihood_is_that_of_the_mixed_model(reml):
    # log_marginal_likelihood_ is -1/2 [n log 2 pi + sum_t (log|C_t| + r_t' C_t^-1 r_t)]
    # (+ -1/2 log|sum_t X_t' C_t^-1 X_t| with REML), C_t = s2 I + X_t cov X_t', r_t the
    # residual of the GLS mean: computed here task by task, without the Woodbury shortcuts.
    X, y, groups = _linear(8, n_samples=7)
    prior = GaussianPrior("full", reml=reml).fit(Ridge(), X, y, groups)
    total, info = 0.0, np.zeros((3, 3))
    for t in np.unique(groups):
        Z = np.column_stack([np.ones((groups == t).sum()), X[groups == t]])
        C = Z @ prior.covariance_ @ Z.T + prior.noise_variance_ * np.eye(len(Z))
        r = y[groups == t] - Z @ prior.mean_
        total += len(Z) * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + r @ np.linalg.solve(C, r)
        info += Z.T @ np.linalg.solve(C, Z)
    if reml:
        total += np.linalg.slogdet(info)[1]
    assert prior.log_marginal_likelihood_ == pytest.approx(-0.5 * total, rel=1e-9)


def test_em_stops_at_the_first_cycle_gaining_less_than_tol_per_row():
    X, y, groups = _linear(15, n_samples=6)  # 90 rows
    # 0.045 in total, far from the 4 printed decimals and from the gains here (..., 0.093,
    # 0.107, then 0.019: it stops there).
    tol = 5e-4
    logliks = _printed_logliks(GaussianPrior("full", shrinkage=0, reg_covar=0, tol=tol,
                                             verbose=1), Ridge(), X, y, groups)
    gains = np.abs(np.diff(logliks))
    assert len(gains) >= 2
    assert gains[-1] < tol * 90
    assert np.all(gains[:-1] >= tol * 90)  # it did not stop earlier, nor go on longer


def test_max_iter_bounds_the_e_steps():
    X, y, groups = _linear(15, n_samples=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        counts = [GaussianPrior("full", shrinkage=0, reg_covar=0, max_iter=m, tol=0)
                  .fit(Ridge(), X, y, groups).n_iter_ for m in range(1, 11)]
    assert all(n <= m for n, m in zip(counts, range(1, 11)))
    assert counts[-1] >= 8  # and it does use them


def test_squarem_acceleration_is_on():
    # A slowly converging case (a variance heading to zero): plain EM takes more than 2000
    # E-steps to reach tol=1e-8; SQUAREM's extrapolation took 415 when this was written.
    X, y, groups = make_linear_tasks(n_tasks=15, n_samples=6, n_features=2,
                                     prior_mean=TRUE_MEAN, prior_cov=TRUE_COV, noise=0.5,
                                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        prior = GaussianPrior("full", shrinkage=0, reg_covar=0, tol=1e-8, max_iter=2000).fit(
            Ridge(), X, y, groups)
    assert prior.n_iter_ <= 600


def test_rejected_extrapolations_keep_the_laplace_em_from_losing_likelihood():
    # Here about one SQUAREM jump in four lowers the Laplace likelihood; those are
    # rejected, so the E-step lines never go down (taking them drops it by 1.5).
    X, y, groups = make_logistic_tasks(n_tasks=15, n_samples=10, n_features=2, random_state=2)
    logliks = _printed_logliks(GaussianPrior("diag", shrinkage=0, reg_covar=0, tol=1e-6,
                                             max_iter=300, verbose=1),
                               LogisticRegression(), X, y, groups)
    assert len(logliks) > 10
    assert np.diff(logliks).min() > -0.01


def test_printed_laplace_likelihood_is_the_laplace_approximation_at_the_fitted_prior():
    # The last E-step line is evaluated at the returned (mean_, covariance_): the sum over
    # tasks of -objective(MAP) - log|cov| / 2 - log|Hessian at the MAP| / 2, recomputed here.
    X, y, groups = make_logistic_tasks(n_tasks=8, n_samples=10, n_features=2, random_state=1)
    prior = GaussianPrior("full")
    last = _printed_logliks(prior.set_params(verbose=1), LogisticRegression(), X, y, groups)[-1]
    prec = np.linalg.inv(prior.covariance_)
    total = 0.0
    for t in np.unique(groups):
        Z = np.column_stack([np.ones((groups == t).sum()), X[groups == t]])
        yt = y[groups == t]

        def objective(w):
            logits = Z @ w
            nll = np.sum(np.logaddexp(0, logits) - yt * logits)
            return nll + 0.5 * (w - prior.mean_) @ prec @ (w - prior.mean_)

        w = minimize(objective, prior.mean_.copy(), method="BFGS",
                     options={"gtol": 1e-10}).x
        p = expit(Z @ w)
        hess = Z.T @ (Z * (p * (1 - p))[:, None]) + prec
        total += (-objective(w) - 0.5 * np.linalg.slogdet(prior.covariance_)[1]
                  - 0.5 * np.linalg.slogdet(hess)[1])
    assert last == pytest.approx(total, abs=2e-4)


def test_logistic_fit_intercept_false_is_the_exact_posterior_mode():
    X, y, groups = make_logistic_tasks(n_tasks=20, n_samples=20, n_features=2, random_state=0)
    prior = GaussianPrior().fit(LogisticRegression(fit_intercept=False), X, y, groups)
    assert prior.mean_.shape == (2,)
    Xn, yn = X[:6], y[:6]
    learner = prior.adapt(LogisticRegression(fit_intercept=False), Xn, yn)
    prec = np.linalg.inv(prior.covariance_)

    def loss(w):  # no intercept column
        logits = Xn @ w
        return (np.sum(np.logaddexp(0, logits) - yn * logits)
                + 0.5 * (w - prior.mean_) @ prec @ (w - prior.mean_))

    w = minimize(loss, prior.mean_.copy(), method="BFGS", options={"gtol": 1e-10}).x
    assert learner.coef_.shape == (1, 2)
    # Newton stops at a decrement of 2e-8, so about 1e-5 on the weights here; BFGS is the
    # less precise of the two (as in test_logistic_adapt_is_the_exact_posterior_mode).
    np.testing.assert_allclose(learner.coef_[0], w, atol=1e-4)
    np.testing.assert_array_equal(learner.intercept_, [0.0])
    np.testing.assert_allclose(learner.predict_proba(X[:5])[:, 1], expit(X[:5] @ w), atol=1e-4)


def test_newton_returns_nan_weights_on_an_overflow_never_the_start():
    # Before: a NaN Newton decrement read as "converged", so the prior mean came back as
    # the MAP of rows whose products overflow. The caller refuses NaN weights.
    rng = np.random.default_rng(0)
    X1 = np.column_stack([rng.normal(size=8) * 1e160, np.ones(8)])
    Y = np.eye(2)[np.arange(8) % 2]
    ok = np.column_stack([rng.normal(size=8), np.ones(8)])
    Xp, Yp = np.stack([X1, ok]), np.stack([Y, Y])
    with np.errstate(all="ignore"):
        W, _, _, _, converged = softmax_map(Xp, Yp, 1, True, np.zeros(2), np.eye(2))
    assert np.isnan(W[0]).all() and np.isfinite(W[1]).all()
    assert not converged
    W, _, _, n_iter, converged = softmax_map(ok[None], Y[None], 1, True, np.zeros(2), np.eye(2))
    assert converged and 1 < n_iter < 100 and np.isfinite(W).all()
