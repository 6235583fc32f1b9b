"""Compare a few candidate settings on one new task by cross-validation."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, check_cv

from ._relative import resolve_settings


def compare_settings(estimator, settings, X, y, *, cv, scoring, search, error_score, owner):
    """Fitted search over ``settings`` (a list of dicts) on ``X, y``, not refit.

    :class:`Scaled` values are resolved for ``X`` first; ``cv_results_`` shows
    the concrete values.

    scikit-learn's searches do the work: each setting is a grid of single
    values, so ``GridSearchCV`` tries exactly these settings and
    ``HalvingGridSearchCV`` races them on growing subsamples.
    """
    n_splits = check_cv(cv, y, classifier=is_classifier(estimator)).get_n_splits()
    if len(y) < n_splits:
        raise ValueError(
            f"{owner} compares its settings on the new task by {n_splits}-fold "
            f"cross-validation, but the task has {len(y)} rows. Give more rows or a smaller "
            "select_cv (for example hyperparams__select_cv=2)."
        )
    settings = [resolve_settings(params, X) for params in settings]
    grids = [{name: [value] for name, value in params.items()} for params in settings]
    kwargs = dict(cv=cv, scoring=scoring, refit=False, error_score=error_score)
    if search == "halving":
        # A fixed seed: the same task gives the same race whatever ran before.
        searcher = HalvingGridSearchCV(estimator, grids, random_state=0, **kwargs)
    else:
        searcher = GridSearchCV(estimator, grids, **kwargs)
    searcher.fit(X, y)
    if np.isnan(searcher.cv_results_["mean_test_score"]).all():
        raise ValueError(
            f"Every setting of {owner} failed on the new task; the FitFailedWarnings say "
            "why. Set error_score='raise' (hyperparams__error_score through MetaEstimator) "
            "to raise the first error instead."
        )
    return searcher


def best_of(searcher, settings, X):
    """The winning setting of a fitted ``compare_settings`` search, resolved for ``X``."""
    settings = [resolve_settings(params, X) for params in settings]
    results = searcher.cv_results_
    scores = np.asarray(results["mean_test_score"], dtype=float)
    if "iter" in results:
        # Halving: only the last round's survivors are comparable.
        last = results["iter"] == np.max(results["iter"])
        scores = np.where(last, scores, -np.inf)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    # Candidates follow the order of the grids; ties keep the earlier (better-ranked) setting.
    index = int(np.argmax(scores))
    if "iter" in results:
        index = _halving_index(results, index, settings)
    return dict(settings[index])


def _halving_index(results, row, settings):
    """Map a halving result row back to the position of its setting."""
    params = results["params"][row]
    for i, candidate in enumerate(settings):
        if candidate.keys() == params.keys() and all(
            candidate[k] is params[k] or _equal(candidate[k], params[k]) for k in candidate
        ):
            return i
    raise RuntimeError("winner not among the settings")  # pragma: no cover


def _equal(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
