"""metasklearn: meta-learning over collections of related tasks, inside scikit-learn."""

from ._meta_estimator import MetaEstimator

__version__ = "0.1.0.dev0"

__all__ = ["MetaEstimator", "__version__"]
