"""Hyperparameter strategies: what settings the base estimator gets."""

from ._base import BaseHyperparams
from ._learned_default import LearnedDefault
from ._matrix import PerformanceMatrix
from ._nearest import NearestTasks
from ._portfolio import Portfolio, greedy_portfolio
from ._relative import Scaled, scaled

__all__ = [
    "BaseHyperparams",
    "LearnedDefault",
    "NearestTasks",
    "PerformanceMatrix",
    "Portfolio",
    "Scaled",
    "greedy_portfolio",
    "scaled",
]
