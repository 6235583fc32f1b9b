import numpy as np
import pytest
import sklearn


def make_checkerboard_tasks(n_tasks, n_samples, random_state, frequency=3.0):
    """Binary 2-D tasks with a shifted checkerboard boundary.

    ``SVC()``'s defaults (C=1, gamma="scale") underfit these boundaries, so a
    learned default has room to help: the collection the LearnedDefault
    tests and benchmark use.
    """
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-1, 1, size=(n_tasks * n_samples, 2))
    phase = np.repeat(rng.uniform(0, 2 * np.pi, size=(n_tasks, 2)), n_samples, axis=0)
    y = (np.prod(np.sin(frequency * X + phase), axis=1) > 0).astype(int)
    return X, y, np.repeat(np.arange(n_tasks), n_samples)


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
