"""Seeding of the estimators metasklearn clones: one ``random_state`` fixes them all."""

import numpy as np
from sklearn.base import clone


def seeded_clone(estimator, random_state, rng):
    """Clone ``estimator``; fill its unset ``random_state`` values from ``rng``.

    Only when ``random_state`` is set, so that a fixed ``random_state`` makes
    every clone reproducible while the user's explicit seeds stand.
    """
    estimator = clone(estimator)
    if random_state is None:
        return estimator
    unset = {
        name: rng.randint(np.iinfo(np.int32).max)
        for name, value in sorted(estimator.get_params().items())
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**unset)
