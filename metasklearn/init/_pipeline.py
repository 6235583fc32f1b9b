"""Init strategies on a Pipeline: the transformers are fitted once, the last step is learned.

One job: split a base estimator into its transformer steps and its final
step, fit the transformers on all meta-training rows, transform a new
task's rows with them, and hand back a fitted Pipeline whose transformers
are copies of those fitted ones (so that a later ``fit`` of one returned
learner cannot change another).
"""

from copy import deepcopy

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.pipeline import Pipeline


def split_pipeline(estimator):
    """``(transformer steps or None, final step)`` of a Pipeline or a bare estimator."""
    if isinstance(estimator, Pipeline):
        return (estimator[:-1] if len(estimator.steps) > 1 else None), estimator.steps[-1][1]
    return None, estimator


def fit_transformer(estimator, X, y):
    """Fit the transformer steps of ``estimator`` on ``X, y``.

    Returns ``(fitted transformer or None, X as the final step sees it)``.
    """
    transformer, _ = split_pipeline(estimator)
    if transformer is None:
        return None, X
    transformer = clone(transformer)
    return transformer, transformer.fit_transform(X, y)


def check_same_kind(estimator, transformer, strategy):
    """Raise if ``estimator`` is bare where ``fit`` got a Pipeline, or the reverse."""
    if (split_pipeline(estimator)[0] is None) != (transformer is None):
        raise ValueError(
            f"adapt got a different kind of estimator (bare vs Pipeline) from the one "
            f"{strategy} was fitted with; pass a clone of that estimator."
        )


def check_step_width(n_features, expected, step, strategy):
    """Raise when ``adapt``'s rows reach the learned step with another width than in ``fit``."""
    if n_features != expected:
        raise ValueError(
            f"adapt got {n_features} features for the {step} step but {strategy} was "
            f"fitted with {expected}; pass rows with the same columns."
        )


def transform(transformer, X):
    """``X`` through each fitted step of ``transformer`` (``None``: unchanged)."""
    if transformer is None:
        return X
    # Step by step: Pipeline.transform's routing and output checks cost as much as
    # scaling the few rows of a new task.
    for _, step in transformer.steps:
        if step is not None and not (isinstance(step, str) and step == "passthrough"):
            X = step.transform(X)
    return X


def check_finite_rows(X, step, strategy):
    """Raise when a new task's rows hold NaN or infinity as the learned step sees them.

    A transformer such as ``StandardScaler`` passes NaN through; left to the
    last step, it would surface as a bare "Input contains NaN" or, in a MAP
    solve, as weights silently left at the prior mean.
    """
    values = X.data if sparse.issparse(X) else np.asarray(X)
    if values.dtype.kind == "O":
        # the learned step casts such rows to float: a NaN among them would get through
        try:
            values = values.astype(float)
        except (TypeError, ValueError):
            return  # not numbers: the step's own validation names the problem
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise ValueError(
            f"adapt got rows that hold NaN or infinity as the {step} step sees them (after "
            f"the Pipeline's transformers); {strategy} cannot adapt to them. Impute the "
            "missing values (for example with a SimpleImputer step in the Pipeline) or drop "
            "those rows."
        )


def attach(estimator, transformer, final):
    """``estimator`` with copies of the fitted transformer steps and the fitted ``final``.

    ``estimator`` is the Pipeline whose last step is ``final`` (a Pipeline of
    that one step when ``transformer`` is ``None``), or ``final`` itself.
    """
    if not isinstance(estimator, Pipeline):
        return final
    final_name = estimator.steps[-1][0]
    # What set_params(steps=...) would do, without its signature inspection (it
    # dominated the cost of adapting a Pipeline).
    steps = [] if transformer is None else transformer.steps
    estimator.steps = [(name, deepcopy(step)) for name, step in steps]
    estimator.steps.append((final_name, final))
    return estimator
