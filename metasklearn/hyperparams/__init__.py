"""Hyperparameter strategies: what settings the base estimator gets."""

from ._base import BaseHyperparams
from ._learned_default import LearnedDefault

__all__ = ["BaseHyperparams", "LearnedDefault"]
