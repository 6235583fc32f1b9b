"""Read the settings of, and write weights into, the linear estimators GaussianPrior supports.

One job: know each family's fitted attributes, so that a learner whose
weights were computed elsewhere predicts, scores, pickles and (for SGD)
``partial_fit``s exactly like one trained by its own ``fit``.
"""

import numpy as np
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)

from ._pipeline import split_pipeline

_SUPPORTED = (
    "Ridge, SGDRegressor(loss='squared_error'), LogisticRegression and "
    "SGDClassifier(loss='log_loss')"
)


def check_linear(estimator):
    """Return ``"regression"`` or ``"classification"``, or raise for an unsupported estimator."""
    _, final = split_pipeline(estimator)
    name = type(final).__name__
    _check_no_ignored_settings(final)
    if isinstance(final, Ridge):
        return "regression"
    if isinstance(final, SGDRegressor):
        _check_loss(final, "squared_error")
        return "regression"
    if isinstance(final, LogisticRegression):
        return "classification"
    if isinstance(final, SGDClassifier):
        _check_loss(final, "log_loss")
        return "classification"
    raise ValueError(
        f"GaussianPrior learns a prior over linear weights and supports {_SUPPORTED}, "
        f"alone or as the last step of a Pipeline; got {name}. Use one of these, or "
        "another init strategy for other estimators."
    )


def _check_no_ignored_settings(final):
    # The MAP replaces the estimator's own fit: a setting that only its fit honours
    # would be reported by get_params() and silently not applied.
    params = final.get_params()
    if params.get("positive"):
        raise ValueError(
            f"GaussianPrior's MAP weights are unconstrained, so {type(final).__name__}"
            "(positive=True) would not be honoured; set positive=False."
        )
    if params.get("class_weight") is not None:
        raise ValueError(
            f"GaussianPrior's MAP weighs every row alike, so {type(final).__name__}"
            f"(class_weight={params['class_weight']!r}) would not be honoured; set "
            "class_weight=None."
        )


def check_classes(estimator, n_classes):
    """Raise for a model whose multi-class form is not the softmax the prior is over."""
    _, final = split_pipeline(estimator)
    if isinstance(final, SGDClassifier) and n_classes > 2:
        raise ValueError(
            f"SGDClassifier is one-vs-rest with more than two classes (here {n_classes}), "
            "but GaussianPrior learns a multinomial (softmax) prior, whose weights it "
            "would predict with the wrong probabilities. Use LogisticRegression, whose "
            "multi-class model is multinomial."
        )


def _check_loss(final, loss):
    if final.loss != loss:
        likelihood = "Gaussian" if loss == "squared_error" else "logistic"
        raise ValueError(
            f"GaussianPrior's MAP estimate uses the {likelihood} likelihood, which is "
            f"{type(final).__name__}(loss={loss!r}); got loss={final.loss!r}. "
            f"Set loss={loss!r}."
        )
    if getattr(final, "average", False):
        raise ValueError(
            f"GaussianPrior cannot write averaged SGD weights; set average=False on "
            f"the {type(final).__name__}."
        )


def fit_intercept(estimator):
    return bool(split_pipeline(estimator)[1].get_params()["fit_intercept"])


def write_regressor(est, theta, has_intercept, n_iter):
    """Set ``coef_`` / ``intercept_`` (and the family's bookkeeping) from ``theta``."""
    coef = np.ascontiguousarray(theta[int(has_intercept):], dtype=float)
    intercept = float(theta[0]) if has_intercept else 0.0
    if isinstance(est, SGDRegressor):
        est.coef_ = coef
        est.intercept_ = np.array([intercept])
        # partial_fit continues from these weights with a fresh learning-rate schedule.
        est.t_ = 1.0
        est.n_iter_ = n_iter
    else:
        est.coef_ = coef
        est.intercept_ = intercept
        est.n_iter_ = None
        est.solver_ = "cholesky"
    return est


def write_classifier(est, W, has_intercept, classes, n_iter):
    """Set the weights of a binary (``W`` of 1 row) or multinomial (one row per class) model."""
    W = np.atleast_2d(W)
    coef = np.ascontiguousarray(W[:, int(has_intercept):], dtype=float)
    intercept = W[:, 0].astype(float) if has_intercept else np.zeros(W.shape[0])
    est.classes_ = classes
    est.coef_ = coef
    est.intercept_ = intercept
    if isinstance(est, SGDClassifier):
        est.t_ = 1.0
        est.n_iter_ = n_iter
    else:
        est.n_iter_ = np.array([n_iter], dtype=np.int32)
    return est
