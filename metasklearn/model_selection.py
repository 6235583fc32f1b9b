"""Model selection over held-out tasks: score how well a model adapts."""

from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils.metadata_routing import MetadataRequest

from ._adapting import _adapt_or_fit
from ._adaptation_curve import _check_per_class, _check_scoring_arg, adaptation_curve
from ._adaptation_curve_display import AdaptationCurveDisplay
from ._validation import check_groups, rows_indexable, task_indices
from .tasks import SupportQuerySplit

__all__ = ["AdaptationCurveDisplay", "FewShotScorer", "adaptation_curve", "make_few_shot_scorer"]


class FewShotScorer:
    """Scorer of few-shot adaptation; build it with :func:`make_few_shot_scorer`.

    Called as ``scorer(estimator, X, y, groups=...)``: for every task in
    ``groups`` it adapts ``estimator`` on that task's support rows and scores
    the learner on its query rows; the result is the mean over tasks.

    Parameters
    ----------
    scoring : str or callable, default=None
        Metric on the query rows; ``None`` uses the learner's ``score``.
    shots : int, default=5
        Support rows per task, or per class and task if ``per_class``.
    per_class : bool, default=False
        Count ``shots`` per class instead of per task.
    random_state : int, RandomState instance or None, default=0
        Seeds the support/query split.
    """

    def __init__(self, scoring=None, *, shots=5, per_class=False, random_state=0):
        self.scoring = scoring
        self.shots = shots
        self.per_class = per_class
        self.random_state = random_state

    def __repr__(self):
        return (
            f"make_few_shot_scorer(scoring={self.scoring!r}, shots={self.shots!r}, "
            f"per_class={self.per_class!r}, random_state={self.random_state!r})"
        )

    def get_metadata_routing(self):
        """Request ``groups`` for ``score``: scoring is per task.

        Returns
        -------
        routing : MetadataRequest
            ``groups`` requested for ``score`` (the call), nothing else.
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __call__(self, estimator, X, y, groups=None):
        """Mean over the tasks of ``groups`` of the query score after adapting.

        Parameters
        ----------
        estimator : MetaEstimator or estimator object
            A fitted :class:`~metasklearn.MetaEstimator` is adapted with its
            ``adapt``, and so is one at the end of a fitted Pipeline (its
            fitted transformers are kept and applied to the task's rows);
            any other estimator is cloned and fitted on the support rows
            alone (the *scratch* baseline).
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,)
            Task id of each row. Required.

        Returns
        -------
        score : float
        """
        if groups is None:
            raise ValueError(
                "The few-shot scorer needs the task id of each row (groups) to split "
                "every task into support and query rows. Inside GridSearchCV or "
                "cross_validate, enable metadata routing with "
                "sklearn.set_config(enable_metadata_routing=True) and pass groups to "
                "fit (GridSearchCV) or in params={'groups': groups} (cross_validate)."
            )
        _check_per_class(estimator[-1] if isinstance(estimator, Pipeline) else estimator,
                         self.per_class)
        y = np.asarray(y)
        check_consistent_length(X, y)
        X = rows_indexable(X)
        groups = check_groups(groups, y.shape[0])
        splitter = SupportQuerySplit(
            self.shots, per_class=self.per_class, random_state=self.random_state
        )
        # Regression targets go unstratified, even when they happen to be integers.
        labels = y if is_classifier(estimator) else None
        support, _ = next(splitter.split(X, labels, groups))
        in_support = np.zeros(y.shape[0], dtype=bool)
        in_support[support] = True
        scores = [
            self._score_task(estimator, X, y, idx[in_support[idx]], idx[~in_support[idx]])
            for idx in task_indices(groups)[1]
        ]
        return float(np.mean(scores))

    def _score_task(self, estimator, X, y, support, query):
        learner = _adapt_or_fit(estimator, _safe_indexing(X, support), y[support])
        scorer = check_scoring(learner, self.scoring)
        return scorer(learner, _safe_indexing(X, query), y[query])


def make_few_shot_scorer(scoring=None, *, shots=5, per_class=False, random_state=0):
    """Make a scorer that measures adaptation on held-out tasks.

    For each task of the rows it is given, the scorer splits the task into
    ``shots`` support rows and the query rest with
    :class:`~metasklearn.tasks.SupportQuerySplit`, adapts the estimator on
    the support rows, scores the query rows, and averages over tasks. Use it
    as ``scoring=`` of :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate` with
    :class:`~sklearn.model_selection.GroupKFold`, so the scored tasks are
    never seen in fit. It requests ``groups`` through metadata routing, which
    must be enabled for a search or ``cross_validate`` to pass them
    (``sklearn.set_config(enable_metadata_routing=True)``); called directly,
    ``scorer(estimator, X, y, groups=groups)``, it needs no routing.

    Parameters
    ----------
    scoring : str or callable, default=None
        Metric on the query rows (greater is better); ``None`` uses the
        learner's ``score``.
    shots : int, default=5
        Support rows per task, or per class and task if ``per_class``.
    per_class : bool, default=False
        Count ``shots`` per class (N-way K-shot) instead of per task.
    random_state : int, RandomState instance or None, default=0
        Seeds the support/query split. A fixed default, so every candidate
        of a search is scored on the same split; a RandomState instance (or
        None) draws another split at every call.

    Returns
    -------
    scorer : FewShotScorer
        Callable ``scorer(estimator, X, y, groups=...)``.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GroupKFold, cross_validate
    >>> from metasklearn import MetaEstimator
    >>> from metasklearn.datasets import make_linear_tasks
    >>> from metasklearn.model_selection import make_few_shot_scorer
    >>> X, y, groups = make_linear_tasks(n_tasks=9, n_samples=20, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     result = cross_validate(MetaEstimator(Ridge()), X, y, cv=GroupKFold(3),
    ...                             scoring=make_few_shot_scorer(shots=10),
    ...                             params={"groups": groups})
    >>> result["test_score"].round(2)  # R^2 on the query rows of each fold's new tasks
    array([0.85, 0.86, 0.77])
    """
    if not isinstance(shots, Integral) or isinstance(shots, bool) or shots < 1:
        raise ValueError(f"shots must be a positive int, got {shots!r}.")
    # Here, not at the first call: inside a search a scorer that fails scores NaN.
    _check_scoring_arg(scoring, several="make one few-shot scorer per metric")
    check_random_state(random_state)
    return FewShotScorer(scoring, shots=shots, per_class=per_class, random_state=random_state)
