"""Vectorised numpy training of many small MLPs at once, with scikit-learn's maths.

Pure functions over parameters with a leading task axis. For one task, same
starting weights and same random state, :func:`fit_stochastic` gives the
weights ``MLPClassifier.fit`` / ``MLPRegressor.fit`` give.
"""

from ._mlp import (
    backprop,
    backprop_flat,
    data_loss,
    flatten,
    forward,
    hessian_vector_product,
    hessian_vector_product_flat,
    init_params,
    repeat_view,
    unflatten,
)
from ._train import (
    DivergedError,
    TrainConfig,
    TrainResult,
    backward_training,
    backward_training_flat,
    config_from_estimator,
    fit_stochastic,
    resolve_batch_size,
)

__all__ = [
    "DivergedError",
    "TrainConfig",
    "TrainResult",
    "backprop",
    "backprop_flat",
    "backward_training",
    "backward_training_flat",
    "config_from_estimator",
    "data_loss",
    "fit_stochastic",
    "flatten",
    "forward",
    "hessian_vector_product",
    "hessian_vector_product_flat",
    "init_params",
    "repeat_view",
    "unflatten",
    "resolve_batch_size",
]
