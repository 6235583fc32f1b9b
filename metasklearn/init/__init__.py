"""Init strategies: where the base estimator starts training."""

from ._base import BaseInit

__all__ = ["BaseInit"]
