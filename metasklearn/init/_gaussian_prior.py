"""GaussianPrior: a learned Gaussian prior over linear weights, adapted by MAP."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (_num_samples, check_is_fitted, column_or_1d,
                                      validate_data)

from .._validation import task_indices
from . import _linear_adapters as adapters
from ._base import BaseInit
from ._pipeline import (attach, check_finite_rows, check_same_kind, check_step_width,
                        fit_transformer, split_pipeline, transform)
from ._prior_em import (
    add_intercept_column,
    fit_gaussian_prior,
    fit_softmax_prior,
    gaussian_map,
    gaussian_task_stats,
    softmax_map,
    _spd_inverse,
)


def _check_gram_finite(X1, where):
    """Refuse rows whose products overflow before the solvers meet them.

    ``X1.T @ X1`` bounds every task's Gram matrix and Hessian: where it is not
    finite, scipy would fail with "array must not contain infs or NaNs" and
    Newton would stop on the prior mean, neither naming the cause.
    """
    scale = np.max(np.abs(X1), initial=0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        # n * max|x|^2 bounds every entry: when it is finite (nearly always), the
        # O(n d^2) product need not be formed.
        finite = (np.isfinite(scale * scale * X1.shape[0])
                  or np.isfinite(X1.T @ X1).all())
    if not finite:
        raise ValueError(
            f"GaussianPrior cannot use the rows given to {where}: the products of their "
            "features overflow (X.T @ X is not finite), so some features are on a huge "
            "scale. Standardise them, e.g. with Pipeline([StandardScaler(), ...]) as the "
            "base estimator."
        )


class GaussianPrior(BaseInit):
    """Learn a Gaussian prior over a linear model's weights; adapt by MAP.

    Each training task ``t`` is taken to have its own parameters ``theta_t``
    (intercept and coefficients) drawn from ``N(mean_, covariance_)``, the
    random-intercept-and-slopes model of a statistician's mixed-effects
    model. :meth:`fit` learns the mean, the covariance and, for regression,
    the noise variance by empirical Bayes (EM over the training tasks; the
    Laplace approximation for classifiers). :meth:`adapt` returns the
    maximum a posteriori (MAP) model of a new task: with few rows it stays
    near the prior mean, with many it follows the task's own least-squares
    or maximum-likelihood fit. The intercept is part of the prior, so a new
    task's offset is shrunk too.

    Supported base estimators, alone or as the last step of a
    :class:`~sklearn.pipeline.Pipeline`: :class:`~sklearn.linear_model.Ridge`
    and :class:`~sklearn.linear_model.SGDRegressor` (``loss="squared_error"``)
    with the Gaussian likelihood; :class:`~sklearn.linear_model.LogisticRegression`
    with the logistic likelihood (binary) or the softmax likelihood (more than two
    classes), and :class:`~sklearn.linear_model.SGDClassifier`
    (``loss="log_loss"``, two classes: with more it is one-vs-rest, not the
    softmax the prior is over, and is refused). The MAP is closed form for
    regressors and found by Newton's method for classifiers; it replaces the
    estimator's own fit, so ``positive=True`` and ``class_weight`` are refused
    rather than ignored. The result is a plain fitted estimator of the
    base class.

    Parameters
    ----------
    covariance : {"diag", "full"}, default="diag"
        ``"full"`` learns correlations between parameters (an offset that
        goes with a slope); ``"diag"`` independent variances only, fewer
        parameters for few tasks.
    reml : bool, default=True
        Restricted maximum likelihood for the regression prior: the
        covariance and noise estimates count the uncertainty of the estimated
        mean, as ``statsmodels.MixedLM(reml=True)`` and ``lme4`` do, instead of
        being biased low when tasks are few. ``False`` is plain maximum
        likelihood. Classifiers use the Laplace approximation either way.
    shrinkage : float, default=1.0
        Stabilises ``"full"`` covariances learned from few tasks: the
        off-diagonal entries are multiplied by ``n_tasks / (n_tasks +
        shrinkage)``, so its effect vanishes as tasks grow. ``0`` turns it off.
    reg_covar : float, default=1e-6
        Added to each prior variance, relative to that parameter's starting
        variance (the one that lets it alone move the output by one noise
        standard deviation, or one logit), so that a parameter that does not
        vary across tasks keeps a finite prior precision whatever the units.
    max_iter : int, default=300
        Maximum EM iterations.
    tol : float, default=1e-4
        EM stops when an accelerated cycle gains less than ``tol`` per row in
        the log marginal likelihood (regression) or in its Laplace
        approximation (classification).
    verbose : int, default=0
        Progress lines when > 0.

    Attributes
    ----------
    mean_ : ndarray of shape (n_params,)
        Prior mean of the parameters: intercept first (when the estimator
        fits one), then the coefficients. With more than two classes, one
        such block per class, in the order of ``classes_``; with two, the
        block of ``classes_[1]`` (as in ``LogisticRegression.coef_``).
    covariance_ : ndarray of shape (n_params, n_params)
        Prior covariance, in the same order (diagonal for ``"diag"``).
    noise_variance_ : float or None
        Learned variance of the regression noise; ``None`` for classifiers.
    classes_ : ndarray of shape (n_classes,)
        Labels seen in fit (classifiers only). Every adapted classifier
        predicts all of them.
    transformer_ : Pipeline or None
        The base Pipeline's transformer steps fitted once on all training
        rows, reused unchanged for every new task; ``None`` for a bare
        estimator.
    n_features_in_ : int
        Number of features the linear step sees.
    n_iter_ : int
        EM iterations run.
    log_marginal_likelihood_ : float or None
        Log marginal likelihood of the training tasks at the end, restricted
        with ``reml=True`` (regression only).

    See Also
    --------
    sklearn.linear_model.Ridge : The regressor whose weights are written.
    sklearn.linear_model.LogisticRegression : The classifier whose weights are written.

    Notes
    -----
    **Feature scaling.** The prior lives in the feature space the linear step
    sees, so that space must mean the same in every task. Scale features
    globally, not per task: with a bare estimator pass features already on
    one scale; with ``Pipeline([StandardScaler(), Ridge()])`` the scaler is
    fitted once on all meta-training rows (``transformer_``) and every
    adapted pipeline carries that same fitted scaler.

    **alpha, C and the penalty.** The learned prior *is* the penalty: the MAP
    replaces the estimator's own L2 term (``alpha`` of Ridge and SGD*, ``C``
    and ``penalty`` of LogisticRegression), which :meth:`adapt` does not use.
    The returned estimator keeps those parameters, so calling its ``fit``
    again trains it from scratch with them, without the prior. Tuning them
    with a hyperparameter strategy next to this one has no effect.

    **Features constant within a task** (a school's mean score) are fine: the
    task's own rows cannot tell the coefficient from the intercept, and the
    prior settles it. Collinear features and tasks with fewer rows than
    parameters are handled the same way, and :meth:`adapt` accepts a task
    with zero rows (the prior mean model) or, for classifiers, a single class
    (the model still predicts all ``classes_``).

    ``n_jobs`` and ``random_state`` are accepted for the interface and unused:
    the EM is deterministic and vectorised across tasks.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_linear_tasks
    >>> from metasklearn.init import GaussianPrior
    >>> X, y, groups = make_linear_tasks(n_tasks=40, n_samples=20, n_features=2,
    ...                                  random_state=0)
    >>> meta = MetaEstimator(Ridge(), init=GaussianPrior(), random_state=0)
    >>> meta = meta.fit(X, y, groups=groups)
    >>> meta.init_.mean_.round(1)  # intercept, coef_1, coef_2; the true mean is (1.8, 0.4, 1.0)
    array([1.8, 0.5, 0.9])
    >>> X_new, y_new, _ = make_linear_tasks(n_tasks=1, n_samples=3, n_features=2,
    ...                                     random_state=1)
    >>> learner = meta.adapt(X_new, y_new)  # MAP from 3 rows: a plain fitted Ridge
    >>> type(learner).__name__, learner.coef_.shape
    ('Ridge', (2,))
    """

    # A community whose rows all hold one class still informs the prior.
    _handles_single_class_tasks = True
    _takes_sparse_rows = False  # the MAP works on dense rows

    _parameter_constraints = {
        "covariance": [StrOptions({"full", "diag"})],
        "reml": ["boolean"],
        "shrinkage": [Interval(Real, 0, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(self, covariance="diag", *, reml=True, shrinkage=1.0, reg_covar=1e-6,
                 max_iter=300, tol=1e-4, verbose=0):
        self.covariance = covariance
        self.reml = reml
        self.shrinkage = shrinkage
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def _log(self, message):
        if self.verbose or self._meta_verbose:
            print(f"[GaussianPrior] {message}", flush=True)

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        """Learn the prior's mean and covariance (and noise) from the training tasks.

        Parameters
        ----------
        estimator : estimator object
            Unfitted supported linear estimator, or a Pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            Rows of all training tasks.
        y : array-like of shape (n_samples,)
            Targets.
        groups : array-like of shape (n_samples,)
            Task id of each row.
        n_jobs, random_state : ignored
            Accepted for the :class:`BaseInit` interface.
        verbose : int, default=0
            Progress lines when > 0 (as does the ``verbose`` parameter).

        Returns
        -------
        self : GaussianPrior
            Fitted prior.
        """
        self._validate_params()
        # A regressor sets no classes_: a refit must not keep a classifier's.
        self.__dict__.pop("classes_", None)
        self._meta_verbose = verbose
        self._kind = adapters.check_linear(estimator)
        # One target per row, raveled from a column as the estimator's fit does.
        y = column_or_1d(y, warn=True)
        self._fit_intercept = adapters.fit_intercept(estimator)
        self.transformer_, X = fit_transformer(estimator, X, y)
        X = check_array(X, dtype=float, input_name="X (as the linear step sees it)")
        self.n_features_in_ = X.shape[1]
        X1 = add_intercept_column(X, self._fit_intercept)
        _check_gram_finite(X1, "fit")
        _, indices = task_indices(np.asarray(groups))
        options = dict(diagonal=self.covariance == "diag", shrinkage=self.shrinkage,
                       reg_covar=self.reg_covar, max_iter=self.max_iter, tol=self.tol,
                       log=self._log)

        if self._kind == "regression":
            y = check_array(y, ensure_2d=False, dtype=float, input_name="y")
            stats = gaussian_task_stats(X1, y, indices)
            (self.mean_, self.covariance_, self.noise_variance_, self.n_iter_, converged,
             self.log_marginal_likelihood_) = fit_gaussian_prior(stats, reml=self.reml,
                                                                 **options)
        else:
            self.classes_ = np.unique(y)
            adapters.check_classes(estimator, self.classes_.shape[0])
            Y = (np.asarray(y)[:, None] == self.classes_[None, :]).astype(float)
            blocks, reference = self._blocks()
            self.mean_, self.covariance_, self.n_iter_, converged = fit_softmax_prior(
                X1, Y, indices, blocks, reference, **options)
            self.noise_variance_ = None
            self.log_marginal_likelihood_ = None
        self._check_finite()
        self._precision = _spd_inverse(self.covariance_)
        if not converged:
            warnings.warn(
                f"GaussianPrior's EM did not converge in max_iter={self.max_iter} "
                "iterations; increase max_iter or tol.", ConvergenceWarning)
        self._log(f"learned the prior in {self.n_iter_} EM iterations")
        return self

    def _blocks(self):
        """``(n_blocks, reference)``: one block against class 0 for binary, else one per class."""
        if self.classes_.shape[0] == 2:
            return 1, True
        return self.classes_.shape[0], False

    def _check_finite(self):
        values = [self.mean_, self.covariance_]
        if self.noise_variance_ is not None:
            values.append(np.array([self.noise_variance_]))
        if not all(np.all(np.isfinite(v)) for v in values):
            raise ValueError(
                "GaussianPrior's EM produced non-finite values; the features are probably "
                "on wildly different scales. Standardise them, e.g. with "
                "Pipeline([StandardScaler(), ...]) as the base estimator."
            )

    @staticmethod
    def _check_map_finite(weights):
        # Inputs are checked finite, so this guards overflow on extreme rows.
        if not np.all(np.isfinite(weights)):
            raise ValueError(
                "GaussianPrior's MAP weights for the new task are not finite; its features "
                "are probably on a much larger scale than in fit. Standardise them, e.g. with "
                "Pipeline([StandardScaler(), ...]) as the base estimator."
            )

    def adapt(self, estimator, X, y):
        """Return the MAP model of one new task as a fitted estimator of the base class.

        Parameters
        ----------
        estimator : estimator object
            Unfitted clone of the base estimator (or Pipeline).
        X : array-like of shape (n_samples, n_features)
            The task's rows; zero rows give the prior mean model.
        y : array-like of shape (n_samples,)
            Their targets. Classifiers accept any subset of ``classes_``,
            even a single class.

        Returns
        -------
        estimator : estimator object
            ``estimator``, fitted: weights set to the MAP and, in a Pipeline,
            the transformer steps fitted in :meth:`fit`.
        """
        check_is_fitted(self)
        _, final = split_pipeline(estimator)
        check_same_kind(estimator, self.transformer_, "GaussianPrior")
        if self.transformer_ is not None:
            n_rows = _num_samples(X)
            X = (transform(self.transformer_, X) if n_rows
                 else np.empty((0, self.n_features_in_)))
            check_finite_rows(X, "linear", "GaussianPrior")
        if self.transformer_ is None:
            Z, y = validate_data(final, X, y, reset=True, ensure_min_samples=0,
                                 y_numeric=self._kind == "regression")
        else:
            # The transformer validated X and returns an array (checked finite above):
            # record its width only.
            Z = validate_data(final, X, reset=True, skip_check_array=True)
            # a column y is raveled with a warning, as validate_data does for a bare estimator
            y = column_or_1d(check_array(y, ensure_2d=False, dtype="numeric" if self._kind ==
                                         "regression" else None, ensure_min_samples=0,
                                         input_name="y"), warn=True)
            check_consistent_length(Z, y)
        if np.iscomplexobj(Z):
            # The cast to float below would drop the imaginary parts with a mere
            # ComplexWarning; the estimator's own fit refuses such rows.
            raise ValueError(
                "adapt got complex rows as the linear step sees them (after the "
                "Pipeline's transformers); GaussianPrior, like the estimator's own fit, "
                "does not support complex data."
            )
        Z = np.asarray(Z, dtype=float)
        check_step_width(Z.shape[1], self.n_features_in_, "linear", "GaussianPrior")
        X1 = add_intercept_column(Z, self._fit_intercept)
        _check_gram_finite(X1, "adapt")
        if self._kind == "regression":
            theta = gaussian_map(X1, y, self.mean_, self._precision, self.noise_variance_)
            self._check_map_finite(theta)
            adapters.write_regressor(final, theta, self._fit_intercept, n_iter=1)
        else:
            self._check_known_labels(y)
            Y = (np.asarray(y)[:, None] == self.classes_[None, :]).astype(float)
            blocks, reference = self._blocks()
            W, _, _, n_iter, converged = softmax_map(X1[None], Y[None], blocks, reference,
                                                     self.mean_, self._precision)
            self._check_map_finite(W)
            if not converged:
                warnings.warn(
                    f"GaussianPrior's Newton solve for the new task's MAP weights did not "
                    f"converge in {n_iter} iterations; its features are probably on a much "
                    "larger scale than in fit. Standardise them, e.g. with "
                    "Pipeline([StandardScaler(), ...]) as the base estimator.",
                    ConvergenceWarning,
                )
            adapters.write_classifier(final, W[0].reshape(blocks, -1), self._fit_intercept,
                                      self.classes_.copy(), n_iter)
        return attach(estimator, self.transformer_, final)
