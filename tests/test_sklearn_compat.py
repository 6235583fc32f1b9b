"""scikit-learn's estimator checks on MetaEstimator around several base estimators."""

import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from metasklearn import MetaEstimator

# Small, fast base estimators: the checks fit hundreds of times.
BASES = [
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=300),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=300),
    LogisticRegression(),
    Ridge(),
    SVC(),
    # A Pipeline base takes X as the user passed it (its steps validate it): the checks'
    # 1-D, sparse, NaN and y=None inputs must still get the usual errors.
    make_pipeline(StandardScaler(with_mean=False), LogisticRegression()),
]

# Checks that cannot pass, each with its reason. Empty: every check passes.
EXPECTED_FAILED_CHECKS = {}


_CHECKS = parametrize_with_checks(
    [MetaEstimator(base) for base in BASES],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est.estimator).__name__, {}
    ),
)
# scikit-learn 1.6 hands pytest a generator of checks, which pytest 9 deprecates and
# pytest 10 refuses; a list works with every release.
_CHECKS = pytest.mark.parametrize(*_CHECKS.args[:1], list(_CHECKS.args[1]), **_CHECKS.kwargs)


@_CHECKS
def test_sklearn_compatible(estimator, check):
    check(estimator)
