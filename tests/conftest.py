import numpy as np
import pytest
import sklearn


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture
def blobs():
    """Six 3-class tasks whose class centres shift per task."""
    rng = np.random.RandomState(0)
    n_tasks, n_per_task = 6, 30
    y = np.tile(np.arange(3), n_tasks * n_per_task // 3)
    groups = np.repeat(np.arange(n_tasks), n_per_task)
    shift = rng.normal(size=(n_tasks, 4))[groups]
    X = rng.normal(size=(y.shape[0], 4)) + 2.0 * np.eye(3, 4)[y] + shift
    return X, y, groups
