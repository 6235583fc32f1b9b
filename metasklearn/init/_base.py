"""The interface every init strategy implements, and the trivial case."""

import numpy as np
from sklearn.base import BaseEstimator


class BaseInit(BaseEstimator):
    """Base class for init strategies: *where to start* training.

    :class:`~metasklearn.MetaEstimator` calls, in this order:

    ``fit(estimator, X, y, groups, *, n_jobs, random_state, verbose)``
        Meta-train on the training tasks. ``estimator`` is an unfitted clone
        of the base estimator that already carries the learned
        hyperparameters; ``X, y`` are validated arrays, ``groups`` a 1-D
        array of task ids. Return ``self``.
    ``adapt(estimator, X, y)``
        ``estimator`` is an unfitted clone for one new task. Start it from
        what was learned and return it fitted by its own ``fit``. Must not
        keep a reference to ``self`` in the returned estimator (it has to
        unpickle where metasklearn is not installed).

    ``_min_tasks`` is the number of training tasks the strategy needs.
    ``_handles_single_class_tasks``: whether ``fit`` and ``adapt`` accept a
    classification task holding one class (a learned prior can: the adapted
    model still predicts every class). Otherwise, and whenever a
    hyperparameter strategy is set, such a task is an error.
    ``_takes_sparse_rows``: whether ``fit`` accepts sparse rows for the final
    step (a Pipeline's transformer may densify them first);
    :class:`~metasklearn.MetaEstimator`'s ``sparse`` input tag follows it.
    """

    _min_tasks = 2
    _handles_single_class_tasks = False
    _takes_sparse_rows = True

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        raise NotImplementedError  # pragma: no cover

    def adapt(self, estimator, X, y):
        raise NotImplementedError  # pragma: no cover

    def _check_known_labels(self, y):
        """Raise if ``y`` holds labels the learned weights have no output for.

        For strategies whose learned output layer is tied to the label set
        seen in meta-training (``self.classes_``).
        """
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"adapt got labels {unseen.tolist()} that were not seen in meta-training "
                f"(known labels: {self.classes_.tolist()}); {type(self).__name__} learned "
                "one output per known label and cannot map new ones. Relabel the task "
                "onto the known labels, or meta-train on tasks that include these labels."
            )


class _NoInit(BaseInit):
    """No learned initialisation: ``adapt`` is the estimator's own ``fit``."""

    _min_tasks = 1

    def fit(self, estimator, X, y, groups, *, n_jobs=None, random_state=None, verbose=0):
        return self

    def adapt(self, estimator, X, y):
        return estimator.fit(X, y)
