"""The interface every hyperparameter strategy implements."""

from sklearn.base import BaseEstimator


class BaseHyperparams(BaseEstimator):
    """Base class for hyperparameter strategies: *what settings* to use.

    A strategy is an estimator-like object: its constructor only stores
    parameters, so ``MetaEstimator(hyperparams=...)`` can be cloned and its
    nested parameters (``hyperparams__cv``) tuned by a grid search.

    :class:`~metasklearn.MetaEstimator` calls, in this order:

    ``fit(estimator, X, y, groups, *, n_jobs, random_state, verbose)``
        Learn from the training tasks. ``X`` and ``y`` are validated arrays,
        ``groups`` a 1-D array of task ids. Must set ``best_params_``: the
        settings the init strategy is meta-trained with. Return ``self``.
    ``select(estimator, X, y)``
        Settings (a dict for ``estimator.set_params``) for one new task.
        The default returns ``best_params_``; a portfolio may compare its
        members on ``X, y`` here.

    ``_min_tasks`` is the number of training tasks the strategy needs;
    :class:`~metasklearn.MetaEstimator` checks it before calling ``fit``.
    """

    _min_tasks = 2

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        raise NotImplementedError  # pragma: no cover

    def select(self, estimator, X, y):
        """Settings for a new task: the learned ``best_params_``."""
        return dict(self.best_params_)
