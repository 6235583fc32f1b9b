"""scikit-learn's estimator checks on MetaEstimator around several base estimators."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
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
]

# Checks that cannot pass, each with its reason. Empty: every check passes.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [MetaEstimator(base) for base in BASES],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est.estimator).__name__, {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
