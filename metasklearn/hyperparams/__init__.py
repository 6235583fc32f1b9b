"""Hyperparameter strategies: what settings the base estimator gets."""

from ._base import BaseHyperparams
from ._learned_default import LearnedDefault
from ._matrix import PerformanceMatrix
from ._nearest import NearestTasks
from ._portfolio import Portfolio, greedy_portfolio
from ._relative import Scaled, scaled
from ._surrogate import SurrogateDefault

__all__ = [
    "BaseHyperparams",
    "LearnedDefault",
    "NearestTasks",
    "PerformanceMatrix",
    "Portfolio",
    "Scaled",
    "SurrogateDefault",
    "greedy_portfolio",
    "scaled",
]
