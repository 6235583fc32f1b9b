"""Compare a few candidate settings on one new task by cross-validation."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, check_cv

from ._matrix import stratified_shortfall, undefined_score_reason
from ._relative import resolve_settings

# Standalone, the parameter is select_cv; through MetaEstimator, hyperparams__select_cv.
_SELECT_CV_EXAMPLE = "for example select_cv=2, or hyperparams__select_cv=2 through MetaEstimator"


def compare_settings(estimator, settings, X, y, *, cv, scoring, search, error_score, owner):
    """Fitted search over ``settings`` (a list of dicts) on ``X, y``, not refit.

    :class:`Scaled` values are resolved for ``X`` first; ``cv_results_`` shows
    the concrete values.

    scikit-learn's searches do the work: each setting is a grid of single
    values, so ``GridSearchCV`` tries exactly these settings and
    ``HalvingGridSearchCV`` races them on growing subsamples.
    """
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    n_splits = splitter.get_n_splits(X, y)
    if len(y) < n_splits:
        raise ValueError(
            f"{owner} compares its settings on the new task by {n_splits}-fold "
            f"cross-validation, but the task has {len(y)} rows. Give more rows or a smaller "
            f"select_cv ({_SELECT_CV_EXAMPLE})."
        )
    largest = stratified_shortfall(splitter, y, n_splits)
    if largest is not None:
        raise ValueError(
            f"{owner} compares its settings on the new task by stratified {n_splits}-fold "
            f"cross-validation, but no class of the task has {n_splits} rows (the largest "
            f"has {largest}). Give more rows of each class or a smaller select_cv "
            f"({_SELECT_CV_EXAMPLE})."
        )
    settings = [resolve_settings(params, X) for params in settings]
    grids = [{name: [value] for name, value in params.items()} for params in settings]
    kwargs = dict(cv=cv, scoring=scoring, refit=False, error_score=error_score)
    if search == "halving" and _too_small_to_halve(estimator, y, n_splits):
        # Every round would need more rows than the task has: compare on all of them.
        search = "grid"
    if search == "halving":
        # A fixed seed: the same task gives the same race whatever ran before.
        searcher = HalvingGridSearchCV(estimator, grids, random_state=0, **kwargs)
    else:
        searcher = GridSearchCV(estimator, grids, **kwargs)
    searcher.fit(X, y)
    if np.isnan(searcher.cv_results_["mean_test_score"]).all():
        reason = undefined_score_reason(len(y) // n_splits,
                                        f"select_cv, {_SELECT_CV_EXAMPLE}")
        raise ValueError(
            f"Every setting of {owner} failed or scored NaN on the new task of {len(y)} "
            f"rows in {n_splits} folds. A failed fit raises a FitFailedWarning that says why "
            "(error_score='raise', hyperparams__error_score through MetaEstimator, raises "
            f"the first instead). Without one, {reason}."
        )
    return searcher


def _too_small_to_halve(estimator, y, n_splits):
    # HalvingGridSearchCV's smallest round: 2 rows per class and fold for a classifier
    # (scikit-learn's min_resources="smallest"); it refuses a task with fewer rows.
    n_classes = np.unique(y).shape[0] if is_classifier(estimator) else 1
    return 2 * n_splits * n_classes > len(y)


def best_of(searcher, settings, X):
    """The winning setting of a fitted ``compare_settings`` search, resolved for ``X``.

    Ties keep the earlier setting (settings come best-first); after halving,
    the earlier among the last round's survivors (the race decides who survives).
    """
    results = searcher.cv_results_
    scores = np.asarray(results["mean_test_score"], dtype=float)
    if "iter" in results:
        # Halving: only the last round's survivors are comparable.
        scores = np.where(results["iter"] == np.max(results["iter"]), scores, -np.inf)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    positions = np.array([_grid_position(searcher.param_grid, params)
                          for params in results["params"]])
    best = scores == scores.max()
    return resolve_settings(settings[int(positions[best].min())], X)


def _grid_position(grids, params):
    """Which single-setting grid a result row's ``params`` came from.

    The searches hand back the grid's own value objects, so identity finds
    the grid even for values that do not compare equal (estimators).
    """
    for i, grid in enumerate(grids):
        if grid.keys() == params.keys() and all(grid[k][0] is params[k] for k in grid):
            return i
    raise RuntimeError("a result row matches no setting")  # pragma: no cover
