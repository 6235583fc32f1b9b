"""The learner for one held-out task: a meta-estimator's ``adapt``, or a fit from scratch."""

from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .init._pipeline import transform


def _adapts(estimator):
    """Whether ``estimator`` adapts: it has ``adapt``, or is a Pipeline ending in one that does."""
    if isinstance(estimator, Pipeline):
        return _adapts(estimator.steps[-1][1])
    return hasattr(estimator, "adapt")


def _adapt_or_fit(estimator, X, y):
    """The learner for one task: ``estimator.adapt``, or a clone fitted from scratch.

    A fitted Pipeline ending in a :class:`~metasklearn.MetaEstimator` (as
    ``GridSearchCV`` holds it) adapts its last step to the rows its fitted
    transformers make, and comes back as a Pipeline of those transformers
    and the learner; refitting the whole Pipeline on one task's rows would
    score a scratch model, or fail, in the meta-estimator's name.
    """
    if not _adapts(estimator):
        return clone(estimator).fit(X, y)
    if not isinstance(estimator, Pipeline):
        return estimator.adapt(X, y)
    *head, (name, final) = estimator.steps
    if head:
        X = transform(estimator[:-1], X)  # as the strategies' own adapt does
    return Pipeline([*head, (name, _adapt_or_fit(final, X, y))])
