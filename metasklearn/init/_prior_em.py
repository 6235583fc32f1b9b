"""Empirical Bayes for a Gaussian prior over per-task linear parameters.

Pure numerics, no estimators. A task's parameter vector ``theta_t`` (intercept
first when there is one, then the coefficients; for ``n_blocks > 1`` output
blocks, block after block) is drawn from ``N(mean, cov)``. The prior is
learned by EM over the training tasks:

* E-step: each task's posterior ``N(m_t, V_t)``, exact for the Gaussian
  likelihood, the Laplace approximation at the MAP for the logistic/softmax
  likelihood (Newton's method);
* M-step: ``mean = avg m_t``, ``cov = avg[(m_t - mean)(m_t - mean)^T + V_t]``,
  regularised (see :func:`_regularise_cov`), and the noise variance for the
  Gaussian likelihood.

For the Gaussian likelihood the mean is profiled out by generalised least
squares at each E-step, optionally with the REML correction. Both drivers are
accelerated by SQUAREM (:func:`_squarem`).
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import log_softmax


def add_intercept_column(X, fit_intercept):
    """``X`` with a leading column of ones when the model has an intercept."""
    X = np.asarray(X, dtype=float)
    if not fit_intercept:
        return X
    return np.hstack([np.ones((X.shape[0], 1)), X])


def _spd_inverse(A):
    """Inverse of a symmetric positive definite matrix, kept exactly symmetric."""
    inv = cho_solve(cho_factor(A, lower=True), np.eye(A.shape[0]))
    return 0.5 * (inv + inv.T)


def _regularise_cov(S, n_tasks, *, diagonal, shrinkage, floor):
    """Stabilise the M-step covariance.

    Off-diagonal entries are multiplied by ``n_tasks / (n_tasks + shrinkage)``
    (the diagonal target weighs like ``shrinkage`` extra tasks, so the effect
    vanishes as tasks grow) and ``floor`` (a vector) is added to the diagonal so
    that a component with no spread across tasks does not make the prior
    singular.
    """
    S = 0.5 * (S + S.T)
    if diagonal:
        S = np.diag(np.diag(S))
    else:
        keep = n_tasks / (n_tasks + shrinkage)
        S = keep * S + (1.0 - keep) * np.diag(np.diag(S))
    return S + np.diag(floor)


def _initial_cov(X1, scale):
    """A unit-consistent start: each coefficient alone moves the output by ``scale``."""
    second_moment = np.maximum(np.mean(X1**2, axis=0), 1e-12)
    return np.diag(scale / second_moment)


# ---------------------------------------------------------------------------
# Gaussian likelihood (regression): everything from per-task sufficient statistics.


def gaussian_task_stats(X1, y, indices):
    """Per task: ``X^T X``, ``X^T y``, ``y^T y`` and the row count."""
    gram = np.stack([X1[idx].T @ X1[idx] for idx in indices])
    xty = np.stack([X1[idx].T @ y[idx] for idx in indices])
    yty = np.array([y[idx] @ y[idx] for idx in indices])
    counts = np.array([idx.shape[0] for idx in indices], dtype=float)
    return gram, xty, yty, counts


def _gaussian_e_step(gram, xty, yty, counts, cov, noise_var, reml):
    """E-step with the mean profiled out.

    Returns the generalised least-squares mean (given ``cov`` and
    ``noise_var``), the posterior means ``m`` (T, d) and covariances ``V``
    (T, d, d) of the tasks' parameters, the covariance of that mean, and the
    (restricted) log marginal likelihood of ``y_t ~ N(X_t mean, s2 I + X_t cov X_t^T)``.
    Everything comes from the statistics, via Woodbury and the determinant
    lemma: ``X^T C^-1 X = prec - prec V prec``.
    """
    prec = _spd_inverse(cov)
    P = gram / noise_var + prec
    V = np.linalg.inv(P)
    V = 0.5 * (V + np.swapaxes(V, 1, 2))
    # Generalised least squares: sum_t X^T C^-1 X mean = sum_t X^T C^-1 y.
    info = len(counts) * prec - prec @ V.sum(axis=0) @ prec
    # A pseudo-inverse, since with collinear features a direction of the mean is
    # not estimable; taken on the unit-diagonal rescaling so that features in very
    # different units are not mistaken for a rank deficiency.
    # A coordinate the data do not inform (an all-zero feature) has information 0 up to
    # rounding, noise of either sign that numpy releases round differently: zero it, so
    # that it is neither rescaled (its eigenvalue is then dropped) nor counted by REML.
    diag = np.diag(info)
    informed = diag > 1e-10 * len(counts) * np.diag(prec)
    info = np.where(np.outer(informed, informed), info, 0.0)
    scale = np.where(informed, np.sqrt(np.where(informed, diag, 1.0)), 1.0)
    eig, vec = np.linalg.eigh(0.5 * (info + info.T) / np.outer(scale, scale))
    keep = eig > 1e-12 * max(eig.max(), 1e-300)
    mean_cov = (vec[:, keep] / eig[keep]) @ vec[:, keep].T / np.outer(scale, scale)
    mean = mean_cov @ (prec @ np.einsum("tij,tj->i", V, xty) / noise_var)
    m = np.einsum("tij,tj->ti", V, xty / noise_var + prec @ mean)
    r_xt = xty - gram @ mean  # X^T (y - X mean)
    rr = yty - 2 * xty @ mean + np.einsum("i,tij,j->t", mean, gram, mean)
    quad = rr / noise_var - np.einsum("ti,tij,tj->t", r_xt, V, r_xt) / noise_var**2
    logdet = (counts * np.log(noise_var) + np.linalg.slogdet(cov)[1]
              + np.linalg.slogdet(P)[1])
    loglik = float(-0.5 * np.sum(counts * np.log(2 * np.pi) + logdet + quad))
    if reml:
        loglik -= 0.5 * (np.sum(np.log(eig[keep])) + 2 * np.sum(np.log(scale)))
    return mean, m, V, prec, mean_cov, loglik


def _reml_terms(V, prec, mean_cov):
    """What the mean's own uncertainty adds to the tasks' posterior covariances (REML).

    ``m_t`` moves with the estimated mean through ``B_t = V_t prec``, and
    ``m_t - mean`` through ``I - B_t``, so REML (Laird, Lange & Stram, 1987)
    adds ``B_t C B_t^T`` to the covariance of ``theta_t`` and
    ``(I - B_t) C (I - B_t)^T`` to that of ``theta_t - mean``, ``C`` the
    mean's covariance. This keeps variances from being underestimated when
    tasks are few. Returns the per-task first term and the sum of the second.
    """
    B = V @ prec
    BC = B @ mean_cov
    BCB = BC @ np.swapaxes(B, 1, 2)
    sum_BC = BC.sum(axis=0)
    spread = len(V) * mean_cov - sum_BC - sum_BC.T + BCB.sum(axis=0)
    return BCB, spread


def _is_valid_cov(cov, floor):
    """Positive definite, finite, and no variance below its floor.

    An EM step never takes a variance below ``floor``; an extrapolation that
    does (log-variances jump far) can underflow the next E-step into NaN.
    """
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) >= (1 - 1e-9) * floor))


def _squarem(em_step, theta, is_valid, *, max_iter, tol, n_rows, log=None):
    """Run ``em_step`` to a fixed point, accelerated by SQUAREM (Varadhan & Roland, 2008).

    ``em_step(theta)`` returns ``(next_theta, loglik(theta))`` for a flat
    parameter vector. Each cycle takes two EM steps, extrapolates along them
    (scheme S3) and takes one stabilising EM step from there; the
    extrapolation is kept only when it is a valid parameter and does not lower
    the log-likelihood, so the accepted points never lose likelihood that EM
    would have kept. Plain EM for variance components crawls (linear rate with
    a constant near 1 for few rows per task); this typically needs several
    times fewer E-steps. Stops when a cycle gains less than ``tol`` per row;
    ``max_iter`` bounds the E-steps. Returns ``(theta, loglik, n_iter, converged)``.
    """
    old = -np.inf
    n_iter = 0
    while True:
        theta1, loglik = em_step(theta)
        n_iter += 1
        if log is not None:
            log(f"E-step {n_iter}: log marginal likelihood {loglik:.4f}")
        if abs(loglik - old) < tol * n_rows:
            return theta, loglik, n_iter, True
        if n_iter + 3 > max_iter:
            return theta, loglik, n_iter, False
        old = loglik
        theta2, loglik1 = em_step(theta1)
        n_iter += 1
        r = theta1 - theta
        v = theta2 - theta1 - r
        norm_v = np.linalg.norm(v)
        if norm_v == 0.0:
            theta = theta2
            continue
        alpha = min(-np.linalg.norm(r) / norm_v, -1.0)
        jump = theta - 2 * alpha * r + alpha**2 * v
        if is_valid(jump):
            try:
                theta3, loglik_jump = em_step(jump)
            except np.linalg.LinAlgError:
                # A far jump can make a Newton Hessian singular in floating point
                # (saturated rows, a collinear column): the jump is refused, as one that
                # loses likelihood is.
                theta3, loglik_jump = None, -np.inf
            n_iter += 1
            if loglik_jump >= loglik1:
                theta = theta3
                continue
        theta = theta2


def fit_gaussian_prior(stats, *, diagonal, shrinkage, reg_covar, reml, max_iter, tol,
                       log=None):
    """EM for ``(mean, cov, noise_var)``; also returns ``n_iter``, ``converged``, log-likelihood.

    The mean is profiled out (generalised least squares) at every E-step, so
    EM iterates on ``(cov, noise_var)`` only. Stops when the (restricted) log
    marginal likelihood gains less than ``tol`` per row.
    """
    gram, xty, yty, counts = stats
    n_tasks, d = xty.shape
    n_rows = counts.sum()
    noise_floor = 1e-12 * max(yty.sum() / n_rows, 1.0)
    # Start from the pooled least-squares fit (a whisker of ridge keeps it defined).
    pooled_gram = gram.sum(axis=0)
    # Per-coordinate jitter, so that the start does not depend on the features' units.
    jitter = 1e-10 * np.diag(pooled_gram) + 1e-300
    pooled = np.linalg.solve(pooled_gram + np.diag(jitter), xty.sum(axis=0))
    rss = yty.sum() - 2 * pooled @ xty.sum(axis=0) + pooled @ pooled_gram @ pooled
    noise_var = max(rss / n_rows, noise_floor)
    cov = np.diag(noise_var / np.maximum(np.diag(pooled_gram) / n_rows, 1e-12))
    # reg_covar is relative to each parameter's starting variance, so the floor
    # scales with the units of that parameter's feature and of y.
    floor = reg_covar * np.diag(cov)

    # SQUAREM extrapolates in these coordinates: log-variances for a diagonal prior, so
    # that a variance heading to zero (a shared coefficient) gets there in a few jumps.
    def pack(cov, noise_var):
        spread = np.log(np.diag(cov)) if diagonal else cov.ravel()
        return np.concatenate([spread, [np.log(noise_var)]])

    def unpack(theta):
        cov = np.diag(np.exp(theta[:-1])) if diagonal else theta[:-1].reshape(d, d)
        return cov, np.exp(theta[-1])

    def em_step(theta):
        cov, noise_var = unpack(theta)
        mean, m, V, prec, mean_cov, loglik = _gaussian_e_step(gram, xty, yty, counts, cov,
                                                              noise_var, reml)
        # Posterior covariance of each theta_t; REML adds the mean's uncertainty.
        V_theta, spread = V, V.sum(axis=0)
        if reml:
            extra, extra_spread = _reml_terms(V, prec, mean_cov)
            V_theta, spread = V + extra, spread + extra_spread
        diff = m - mean
        S = (diff.T @ diff + spread) / n_tasks
        cov = _regularise_cov(S, n_tasks, diagonal=diagonal, shrinkage=shrinkage, floor=floor)
        # Expected residual sum of squares under each task's posterior.
        ers = (yty - 2 * np.einsum("ti,ti->t", m, xty) + np.einsum("ti,tij,tj->t", m, gram, m)
               + np.einsum("tij,tji->t", gram, V_theta))
        noise_var = max(ers.sum() / n_rows, noise_floor)
        return pack(cov, noise_var), loglik

    def is_valid(theta):
        if not np.all(np.isfinite(theta)):
            return False
        with np.errstate(over="ignore"):  # a jump too far overflows exp: refused below
            cov, noise_var = unpack(theta)
        return bool(np.isfinite(noise_var) and noise_var > noise_floor
                    and _is_valid_cov(0.5 * (cov + cov.T), floor))

    theta = pack(cov, noise_var)
    theta, loglik, n_iter, converged = _squarem(em_step, theta, is_valid, max_iter=max_iter,
                                                tol=tol, n_rows=n_rows, log=log)
    cov, noise_var = unpack(theta)
    cov = 0.5 * (cov + cov.T)
    # The mean that goes with the returned (cov, noise_var).
    mean = _gaussian_e_step(gram, xty, yty, counts, cov, noise_var, reml)[0]
    return mean, cov, noise_var, n_iter, converged, loglik


def gaussian_map(X1, y, mean, prec, noise_var):
    """MAP (= posterior mean) of one task's parameters under the prior of precision ``prec``."""
    P = X1.T @ X1 / noise_var + prec
    return cho_solve(cho_factor(P, lower=True), X1.T @ y / noise_var + prec @ mean)


# ---------------------------------------------------------------------------
# Logistic / softmax likelihood (classification): batched Newton, Laplace EM.
#
# Tasks are padded to one length: (T, n_max, d) inputs and (T, n_max, n_classes)
# one-hot targets. A padding row is all zeros in both, so it adds nothing to the
# log-likelihood, the gradient or the Hessian, and every task is solved at once.
# Memory is n_tasks * (largest task) * d floats: fine for grouped data of
# comparable groups; one huge task among many tiny ones pads them all to its size.


def pad_tasks(X1, Y, indices):
    """Stack tasks into zero-padded ``(T, n_max, d)`` and ``(T, n_max, n_classes)`` arrays."""
    n_max = max([idx.shape[0] for idx in indices] + [1])
    Xp = np.zeros((len(indices), n_max, X1.shape[1]))
    Yp = np.zeros((len(indices), n_max, Y.shape[1]))
    for t, idx in enumerate(indices):
        Xp[t, : idx.shape[0]] = X1[idx]
        Yp[t, : idx.shape[0]] = Y[idx]
    return Xp, Yp


def _softmax_parts(W, Xp, Yp, n_blocks, reference):
    """Per task: negative log-likelihood, gradient and Hessian of flattened weights ``W`` (T, B*d).

    With ``reference`` the first class has its logit fixed at 0 (the binary
    model: one block, the weights of the second class).
    """
    n_tasks, _, d = Xp.shape
    size = n_blocks * d
    Z = Xp @ W.reshape(n_tasks, n_blocks, d).transpose(0, 2, 1)
    if reference:
        Z = np.concatenate([np.zeros(Z.shape[:2] + (1,)), Z], axis=2)
    log_p = log_softmax(Z, axis=2)
    nll = -np.einsum("tnc,tnc->t", Yp, log_p)
    real = Yp.sum(axis=2, keepdims=True)  # 1 for a row, 0 for padding
    P = np.exp(log_p[..., int(reference):]) * real
    XT = Xp.transpose(0, 2, 1)
    grad = (XT @ (P - Yp[..., int(reference):])).transpose(0, 2, 1).reshape(n_tasks, size)
    # H_t = sum_i (diag(p_i) - p_i p_i^T) kron x_i x_i^T, as batched matrix products.
    PX = (P[..., None] * Xp[:, :, None, :]).reshape(n_tasks, -1, size)
    H = -(PX.transpose(0, 2, 1) @ PX)
    for b in range(n_blocks):
        part = slice(b * d, (b + 1) * d)
        H[:, part, part] += (XT * P[:, None, :, b]) @ Xp
    return nll, grad, H


def softmax_map(Xp, Yp, n_blocks, reference, mean, prec, W0=None, max_iter=100, tol=1e-8):
    """MAP weights of every task and the posterior precision there (Newton, backtracking).

    The Gaussian prior makes each objective strictly convex, so the Newton
    direction always descends; step halving, per task, guards far starts.
    Returns ``(W, precision, objective, n_iter, converged)``: ``W`` of shape
    (T, B*d), the posterior precision (Hessian) and the objective at ``W`` per
    task, and whether every task's Newton decrement fell below ``tol``.
    """
    W = np.tile(mean, (Xp.shape[0], 1)) if W0 is None else W0.copy()

    def objective(W):
        nll, grad, H = _softmax_parts(W, Xp, Yp, n_blocks, reference)
        delta = W - mean
        return (nll + 0.5 * np.einsum("ti,ij,tj->t", delta, prec, delta),
                grad + delta @ prec, H + prec)

    obj, grad, hess = objective(W)
    converged = False
    for n_iter in range(1, max_iter + 1):
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        decrement = np.einsum("ti,ti->t", grad, step)
        if not np.isfinite(decrement).all():
            # An overflow: NaN weights for the caller to refuse, never a NaN decrement
            # read as "converged" on the start.
            W = np.where(np.isfinite(decrement)[:, None], W, np.nan)
            break
        active = decrement >= 2 * tol
        if not active.any():
            converged = True
            break
        t = active.astype(float)
        for _ in range(40):
            new = W - t[:, None] * step
            new_obj, new_grad, new_hess = objective(new)
            bad = new_obj > obj - 0.25 * t * decrement
            if not bad.any():
                break
            t[bad] *= 0.5
        W, obj, grad, hess = new, new_obj, new_grad, new_hess
    return W, hess, obj, n_iter, converged


def fit_softmax_prior(X1, Y, indices, n_blocks, reference, *, diagonal, shrinkage, reg_covar,
                      max_iter, tol, log=None):
    """Laplace EM for ``(mean, cov)`` of softmax / logistic task weights.

    Stops when the Laplace approximation of the log marginal likelihood gains
    less than ``tol`` per row. Returns ``(mean, cov, n_iter, converged)``.
    """
    n_tasks = len(indices)
    n_rows = sum(idx.shape[0] for idx in indices)
    size = n_blocks * X1.shape[1]
    # Start from the pooled MAP under a broad prior around zero.
    cov = np.kron(np.eye(n_blocks), _initial_cov(X1, 1.0))
    floor = reg_covar * np.diag(cov)  # relative to each parameter's starting variance
    pooled, *_ = softmax_map(X1[None], Y[None], n_blocks, reference, np.zeros(size),
                             _spd_inverse(cov * 100.0))
    Xp, Yp = pad_tasks(X1, Y, indices)
    # The tasks' last modes, a warm start for Newton: after the first steps it needs one or two.
    state = {"modes": None}

    def pack(mean, cov):
        return np.concatenate([mean, np.log(np.diag(cov)) if diagonal else cov.ravel()])

    def unpack(theta):
        if diagonal:
            return theta[:size], np.diag(np.exp(theta[size:]))
        cov = theta[size:].reshape(size, size)
        return theta[:size], 0.5 * (cov + cov.T)

    def em_step(theta):
        mean, cov = unpack(theta)
        prec = _spd_inverse(cov)
        modes, hess, obj, *_ = softmax_map(Xp, Yp, n_blocks, reference, mean, prec,
                                           W0=state["modes"])
        state["modes"] = modes
        # Laplace: log p(y_t) ~ -obj_t - log|cov| / 2 - log|hess_t| / 2
        loglik = float(np.sum(-obj - 0.5 * np.linalg.slogdet(cov)[1]
                              - 0.5 * np.linalg.slogdet(hess)[1]))
        V = np.linalg.inv(hess)
        mean = modes.mean(axis=0)
        diff = modes - mean
        S = (diff.T @ diff + V.sum(axis=0)) / n_tasks
        cov = _regularise_cov(S, n_tasks, diagonal=diagonal, shrinkage=shrinkage, floor=floor)
        return pack(mean, cov), loglik

    def is_valid(theta):
        return bool(np.all(np.isfinite(theta))) and _is_valid_cov(unpack(theta)[1], floor)

    theta, _, n_iter, converged = _squarem(em_step, pack(pooled[0], cov), is_valid,
                                           max_iter=max_iter, tol=tol, n_rows=n_rows, log=log)
    mean, cov = unpack(theta)
    return mean, cov, n_iter, converged
