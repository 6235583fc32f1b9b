"""scikit-learn's estimator checks on MetaEstimator around several base estimators."""

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


@parametrize_with_checks(
    [MetaEstimator(base) for base in BASES],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est.estimator).__name__, {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
