"""Init strategies: where the base estimator starts training."""

from ._base import BaseInit
from ._gaussian_prior import GaussianPrior
from ._maml import FOMAML, MAML, Reptile

__all__ = ["BaseInit", "FOMAML", "GaussianPrior", "MAML", "Reptile"]
