"""Init strategies: where the base estimator starts training."""

from ._base import BaseInit
from ._gaussian_prior import GaussianPrior

__all__ = ["BaseInit", "GaussianPrior"]
