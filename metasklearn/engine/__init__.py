"""Vectorised numpy training of many small MLPs at once, with scikit-learn's maths.

Pure functions over parameters with a leading task axis. For one task, same
starting weights and same random state, :func:`fit_stochastic` gives the
weights ``MLPClassifier.fit`` / ``MLPRegressor.fit`` give.
"""

from ._mlp import backprop, data_loss, forward, hessian_vector_product, init_params
from ._train import (
    DivergedError,
    TrainConfig,
    TrainResult,
    backward_training,
    config_from_estimator,
    fit_stochastic,
    resolve_batch_size,
)

__all__ = [
    "DivergedError",
    "TrainConfig",
    "TrainResult",
    "backprop",
    "backward_training",
    "config_from_estimator",
    "data_loss",
    "fit_stochastic",
    "forward",
    "hessian_vector_product",
    "init_params",
    "resolve_batch_size",
]
