"""Meta-features on data whose values are known by construction."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_iris
from sklearn.utils._param_validation import InvalidParameterError

from metasklearn.metafeatures import METAFEATURE_NAMES, compute_metafeatures


def test_names_and_order():
    X, y = load_iris(return_X_y=True)
    assert tuple(compute_metafeatures(X, y)) == METAFEATURE_NAMES


def test_sizes_and_classes_of_iris():
    X, y = load_iris(return_X_y=True)
    mf = compute_metafeatures(X, y)
    assert mf["log_n_samples"] == pytest.approx(np.log(150))
    assert mf["log_n_features"] == pytest.approx(np.log(4))
    assert mf["n_classes"] == 3
    assert mf["class_entropy"] == pytest.approx(1.0)
    assert mf["minority_share"] == pytest.approx(1 / 3)
    # Petal width separates one class from two: a stump gets about two thirds right.
    assert mf["landmark_stump"] == pytest.approx(2 / 3, abs=0.02)
    assert mf["landmark_1nn"] > 0.9


def test_the_nearest_neighbour_landmarker_is_cross_validated():
    # Labels unrelated to X: 1-NN is at chance out of sample, and 1.0 on its own rows.
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(200, 3)), rng.randint(2, size=200)
    expected = cross_val_score(make_pipeline(StandardScaler(), KNeighborsClassifier(1)), X, y,
                               cv=StratifiedKFold(2, shuffle=True, random_state=0)).mean()
    landmark = compute_metafeatures(X, y)["landmark_1nn"]
    assert landmark == pytest.approx(expected)
    assert landmark < 0.65


def test_nan_is_left_out_of_the_column_statistics():
    from scipy.stats import kurtosis, skew

    rng = np.random.RandomState(0)
    X = np.column_stack([rng.exponential(size=200), rng.normal(size=200),
                         rng.randint(3, size=200).astype(float)])
    y = np.arange(200) % 2
    holed = X.copy()
    holed[::5, 0] = np.nan
    mf = compute_metafeatures(holed, y)
    first = holed[~np.isnan(holed[:, 0]), 0]  # the column's 160 known values
    expected_skew = np.mean([abs(skew(first)), abs(skew(X[:, 1])), abs(skew(X[:, 2]))])
    expected_kurtosis = np.mean([kurtosis(first), kurtosis(X[:, 1]), kurtosis(X[:, 2])])
    assert mf["mean_abs_skew"] == pytest.approx(expected_skew, rel=1e-12)
    assert mf["mean_kurtosis"] == pytest.approx(expected_kurtosis, rel=1e-12)
    assert mf["categorical_share"] == pytest.approx(1 / 3)  # NaN is not a category
    assert np.isnan(mf["landmark_1nn"]) and np.isnan(mf["landmark_stump"])


def test_imbalanced_labels():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100, dtype=float).reshape(-1, 1)
    mf = compute_metafeatures(X, y)
    assert mf["minority_share"] == pytest.approx(0.1)
    expected = -(0.9 * np.log2(0.9) + 0.1 * np.log2(0.1))  # already in [0, 1] for 2 classes
    assert mf["class_entropy"] == pytest.approx(expected)
    # One threshold on the single column separates the classes.
    assert mf["landmark_stump"] == pytest.approx(1.0, abs=0.02)


def test_column_shape_statistics():
    rng = np.random.RandomState(0)
    n = 400
    symmetric = np.tile([-1.0, 1.0], n // 2)  # skew 0, excess kurtosis -2
    binary = rng.randint(2, size=n).astype(float)
    codes = rng.randint(5, size=n).astype(float)
    continuous = rng.normal(size=n)
    constant = np.ones(n)
    X = np.column_stack([symmetric, binary, codes, continuous, constant])
    y = rng.randint(2, size=n)
    mf = compute_metafeatures(X, y, landmarkers=False)
    # symmetric, binary, codes and constant have <= 10 distinct values; continuous not.
    assert mf["categorical_share"] == pytest.approx(4 / 5)
    # The constant column is left out of skew and kurtosis.
    assert mf["mean_kurtosis"] < -1.0
    assert 0 <= mf["mean_abs_skew"] < 0.3
    assert np.isnan(mf["landmark_stump"]) and np.isnan(mf["landmark_1nn"])


def test_continuous_target_has_no_class_features():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = 3 * X[:, 0] + 0.01 * rng.normal(size=200)
    mf = compute_metafeatures(X, y)
    assert mf["n_classes"] == mf["class_entropy"] == mf["minority_share"] == 0.0
    assert mf["landmark_1nn"] > 0.8  # R² of 1-NN on an almost noiseless linear target


def test_subsample_is_seeded_and_counts_all_rows():
    rng = np.random.RandomState(0)
    X = rng.exponential(size=(3000, 4))
    y = (X[:, 0] > 1).astype(int)
    a = compute_metafeatures(X, y, max_samples=200)
    assert a == compute_metafeatures(X, y, max_samples=200)
    assert a["log_n_samples"] == pytest.approx(np.log(3000))
    assert a["mean_abs_skew"] == pytest.approx(2.0, abs=0.6)  # exponential: skew 2


def test_sparse_input_matches_dense():
    X, y = load_iris(return_X_y=True)
    dense = compute_metafeatures(X, y)
    assert compute_metafeatures(sparse.csr_matrix(X), y) == pytest.approx(dense)


def test_a_column_with_exactly_ten_values_is_categorical_eleven_is_not():
    codes = np.arange(220)
    X = np.column_stack([codes % 10, codes % 11]).astype(float)
    mf = compute_metafeatures(X, codes % 2, landmarkers=False)
    assert mf["categorical_share"] == 0.5


def test_random_state_seeds_the_subsample():
    rng = np.random.RandomState(0)
    X = rng.exponential(size=(3000, 4))
    y = (X[:, 0] > 1).astype(int)
    stats = [compute_metafeatures(X, y, max_samples=200, random_state=seed, landmarkers=False)
             for seed in (0, 1, 0)]
    assert stats[0] == stats[2]
    assert stats[0]["mean_abs_skew"] != stats[1]["mean_abs_skew"]
    # The default seed is 0.
    assert compute_metafeatures(X, y, max_samples=200, landmarkers=False) == stats[0]


def test_a_single_class_has_zero_entropy():
    X = np.random.RandomState(0).normal(size=(30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        mf = compute_metafeatures(X, np.zeros(30, dtype=int), landmarkers=False)
    assert mf["n_classes"] == 1.0
    assert mf["class_entropy"] == 0.0
    assert mf["minority_share"] == 1.0


def test_class_features_count_every_row_not_the_subsample():
    y = np.zeros(1000, dtype=int)
    y[:37] = 1
    X = np.random.RandomState(0).normal(size=(1000, 2))
    mf = compute_metafeatures(X, y, max_samples=50, landmarkers=False)
    assert mf["minority_share"] == pytest.approx(0.037, rel=1e-12)
    entropy = -(0.037 * np.log2(0.037) + 0.963 * np.log2(0.963))
    assert mf["class_entropy"] == pytest.approx(entropy, rel=1e-12)


def test_only_constant_columns_have_zero_skew_and_kurtosis():
    # No column varies: there is no shape to describe, and the statistics are 0, not NaN.
    X = np.column_stack([np.ones(20), np.full(20, -3.0), np.zeros(20)])
    y = np.arange(20) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no mean of an empty slice
        mf = compute_metafeatures(X, y, landmarkers=False)
    assert mf["mean_abs_skew"] == 0.0 and mf["mean_kurtosis"] == 0.0
    assert mf["categorical_share"] == 1.0


def test_a_regression_target_of_whole_numbers_can_be_declared_continuous():
    # Regression: a target of whole numbers (counts, load_diabetes) was always read as
    # labels: n_classes in the hundreds and classification landmarkers.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = np.round(10 * X[:, 0] + 50)
    as_labels = compute_metafeatures(X, y)
    assert as_labels["n_classes"] > 10  # what type_of_target makes of it
    mf = compute_metafeatures(X, y, classification=False)
    assert mf["n_classes"] == mf["class_entropy"] == mf["minority_share"] == 0.0
    assert mf["landmark_1nn"] > 0.8  # R², as for the same target with a fraction added
    assert mf == pytest.approx(compute_metafeatures(X, y + 0.5), rel=1e-9)


@pytest.mark.parametrize("kwargs, name", [({"classification": "yes"}, "classification"),
                                          ({"max_samples": 0}, "max_samples"),
                                          ({"landmarkers": "no"}, "landmarkers")])
def test_bad_arguments_are_refused_by_name(kwargs, name):
    # "yes" was taken as True, max_samples=0 failed inside numpy's choice.
    X, y = np.zeros((10, 2)), np.tile([0, 1], 5)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of compute_metafeatures"):
        compute_metafeatures(X, y, **kwargs)
