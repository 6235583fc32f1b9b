"""Cheap meta-features of a dataset: what a task looks like, for finding similar tasks.

Each is computed in well under a second on datasets of tens of thousands of
rows (column statistics and landmarkers use a fixed-size, seeded subsample), so a new task can
be described before anything is tuned on it.

=========================  ===================================================================
name                       definition
=========================  ===================================================================
``log_n_samples``          natural log of the number of rows
``log_n_features``         natural log of the number of columns
``n_classes``              number of distinct labels (0 for a continuous target)
``class_entropy``          entropy of the label distribution in bits divided by log2(n_classes)
                           (1 = balanced; 0 for one class or a continuous target)
``minority_share``         share of rows in the rarest class (0 for a continuous target)
``categorical_share``      share of columns with at most ``10`` distinct values (binary,
                           one-hot or small integer codes)
``mean_abs_skew``          mean over non-constant columns of the absolute skewness
``mean_kurtosis``          mean over non-constant columns of the excess kurtosis
``landmark_stump``         2-fold CV accuracy (R² for a continuous target) of a depth-1 tree
``landmark_1nn``           2-fold CV accuracy (R²) of 1-nearest-neighbour on standardised rows
=========================  ===================================================================
"""

from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.stats import kurtosis, skew
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import check_random_state, check_X_y
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.multiclass import type_of_target

__all__ = ["METAFEATURE_NAMES", "compute_metafeatures"]

METAFEATURE_NAMES = (
    "log_n_samples",
    "log_n_features",
    "n_classes",
    "class_entropy",
    "minority_share",
    "categorical_share",
    "mean_abs_skew",
    "mean_kurtosis",
    "landmark_stump",
    "landmark_1nn",
)

# A column with this many distinct values or fewer counts as categorical.
_MAX_CATEGORIES = 10


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "landmarkers": ["boolean"],
        "max_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "classification": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)
def compute_metafeatures(X, y, *, landmarkers=True, max_samples=500, random_state=0,
                         classification=None):
    """Describe a dataset by cheap meta-features.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Numeric features (one-hot text columns first). NaN is ignored by the
        column statistics; landmarkers need finite values.
    y : array-like of shape (n_samples,)
        Labels (classification) or a continuous target.
    landmarkers : bool, default=True
        Compute ``landmark_stump`` and ``landmark_1nn`` (NaN otherwise).
    max_samples : int, default=500
        Landmarkers and column statistics use at most this many rows, drawn
        without replacement with ``random_state``; the fixed default seed
        keeps a dataset's description the same on every call.
    random_state : int, RandomState instance or None, default=0
        Seeds that subsample.
    classification : bool, default=None
        Whether ``y`` holds labels (``True``) or a continuous target
        (``False``). ``None`` infers it from ``y``
        (:func:`~sklearn.utils.multiclass.type_of_target`), which reads a
        target of whole numbers (counts, ``load_diabetes``) as labels: pass
        ``False`` for such a regression target. The strategies pass whether
        their estimator is a classifier or a regressor.

    Returns
    -------
    metafeatures : dict
        ``{name: float}`` in the order of :data:`METAFEATURE_NAMES`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from metasklearn.metafeatures import compute_metafeatures
    >>> mf = compute_metafeatures(*load_iris(return_X_y=True))
    >>> mf["n_classes"], round(mf["class_entropy"], 3), round(mf["minority_share"], 3)
    (3.0, 1.0, 0.333)
    >>> mf["landmark_1nn"] > 0.9
    True
    """
    _check_numeric_features(X)
    X, y = check_X_y(X, y, accept_sparse=["csr", "csc"], ensure_all_finite=False, dtype=float)
    n_samples, n_features = X.shape
    rng = check_random_state(random_state)
    rows = np.sort(rng.choice(n_samples, min(n_samples, max_samples), replace=False))
    X_sub = X[rows].toarray() if sparse.issparse(X) else X[rows]
    y_sub = y[rows]
    if classification is None:
        classification = type_of_target(y) not in ("continuous", "continuous-multioutput")

    features = dict.fromkeys(METAFEATURE_NAMES, 0.0)
    features["log_n_samples"] = float(np.log(n_samples))
    features["log_n_features"] = float(np.log(n_features))
    if classification:
        _, counts = np.unique(y, return_counts=True)
        shares = counts / counts.sum()
        features["n_classes"] = float(len(counts))
        if len(counts) > 1:
            entropy = -np.sum(shares * np.log2(shares))
            features["class_entropy"] = float(entropy / np.log2(len(counts)))
        features["minority_share"] = float(shares.min())
    features.update(_column_statistics(X_sub))
    if landmarkers:
        features.update(_landmarkers(X_sub, y_sub, classification))
    else:
        features["landmark_stump"] = features["landmark_1nn"] = np.nan
    return features


def _check_numeric_features(X):
    """Raise a clear error if ``X`` holds values meta-features cannot describe (text).

    Meta-features are computed on the rows as passed, before the steps of a
    Pipeline base estimator run, so a column that only its encoder makes
    numeric cannot be described.
    """
    if sparse.issparse(X):
        return
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        candidates = [(name, X[name]) for name, dtype in zip(X.columns, X.dtypes)
                      if getattr(dtype, "kind", "O") not in "biuf"]
    else:
        array = np.asarray(X)
        candidates = [] if array.dtype.kind in "biufc" else [(None, array)]
    bad = []
    for name, values in candidates:
        try:
            np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            bad.append(name)
    if not bad:
        return
    what = "X holds" if bad == [None] else f"the columns {[str(n) for n in bad]} hold"
    raise ValueError(
        f"Meta-features describe a task by its rows as passed, but {what} values that "
        "are not numbers (text or categories). NearestTasks, SurrogateDefault and "
        "PerformanceMatrix(metafeatures=True) compute them before a Pipeline's steps run, "
        "so an encoder inside the base estimator does not help. Encode those columns "
        "before the meta-estimator (for example Pipeline([('encode', encoder), ('meta', "
        "MetaEstimator(...))])), drop them, or use LearnedDefault or Portfolio, which "
        "need no meta-features."
    )


def _column_statistics(X):
    distinct = np.array([np.unique(col[~np.isnan(col)]).shape[0] for col in X.T])
    varying = distinct > 1
    stats = {"categorical_share": float(np.mean(distinct <= _MAX_CATEGORIES))}
    if not varying.any():
        # Only constant columns: no shape to describe.
        stats["mean_abs_skew"] = stats["mean_kurtosis"] = 0.0
        return stats
    cols = X[:, varying]
    stats["mean_abs_skew"] = float(np.nanmean(np.abs(skew(cols, axis=0, nan_policy="omit"))))
    stats["mean_kurtosis"] = float(np.nanmean(kurtosis(cols, axis=0, nan_policy="omit")))
    return stats


def _landmarkers(X, y, classification):
    if y.shape[0] < 4 or not np.isfinite(X).all():
        # Too few rows for 2-fold CV, or values the landmarkers cannot take.
        return {"landmark_stump": np.nan, "landmark_1nn": np.nan}
    if classification:
        _, counts = np.unique(y, return_counts=True)
        # Shuffled (rows may be sorted by class); stratified needs two rows per class.
        cv = (StratifiedKFold(2, shuffle=True, random_state=0) if counts.min() >= 2
              else KFold(2, shuffle=True, random_state=0))
        stump = DecisionTreeClassifier(max_depth=1, random_state=0)
        nearest = KNeighborsClassifier(n_neighbors=1)
    else:
        cv = KFold(2, shuffle=True, random_state=0)
        stump = DecisionTreeRegressor(max_depth=1, random_state=0)
        nearest = KNeighborsRegressor(n_neighbors=1)
    nearest = make_pipeline(StandardScaler(), nearest)
    return {
        "landmark_stump": float(np.mean(cross_val_score(stump, X, y, cv=cv))),
        "landmark_1nn": float(np.mean(cross_val_score(nearest, X, y, cv=cv))),
    }
