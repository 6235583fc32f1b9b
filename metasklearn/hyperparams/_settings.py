"""Settings to try: the candidates of a search space, checked and compared."""

import difflib
from collections.abc import Mapping
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval


def _candidates(estimator, param_grid, param_distributions, n_iter, random_state, owner):
    """The estimator's own values, then the grid or the draws (without repeats of them)."""
    if (param_grid is None) == (param_distributions is None):
        raise ValueError(
            f"{owner} needs exactly one of param_grid (settings to try) and "
            "param_distributions (distributions to draw n_iter settings from)."
        )
    space = param_grid if param_grid is not None else param_distributions
    grids = space if isinstance(space, (list, tuple)) else [space]
    if all(isinstance(grid, Mapping) and not grid for grid in grids):
        # Only the estimator's own values would be left: nothing to learn.
        given = "param_grid" if param_grid is not None else "param_distributions"
        raise ValueError(
            f"{owner} got {given}={space!r}, which names no parameter, so the "
            "estimator's own values would be the only setting. Give at least one "
            "parameter with its values, for example {'C': [0.1, 1, 10]}."
        )
    if param_grid is not None:
        candidates = list(ParameterGrid(param_grid))
    else:
        candidates = list(
            ParameterSampler(param_distributions, n_iter,
                             random_state=check_random_state(random_state))
        )
    names = sorted({name for params in candidates for name in params})
    _check_names(estimator, candidates, owner)
    own = estimator.get_params()
    # A name only a swapped-in step has (clf__gamma once clf is an SVC) has no default.
    defaults = {name: own[name] for name in names if name in own}
    loose = [name for name in names if _int_means_float(estimator, name)]
    # The estimator's own values go first so that ties keep them.
    return [defaults] + [params for params in candidates
                         if not _same_setting(params, defaults, loose)]


def _int_means_float(estimator, name):
    """Whether the parameter ``name`` (``step__param`` too) reads an int as that float.

    Known from scikit-learn's parameter constraints: a parameter with an
    integer interval (``max_features``, ``min_samples_split``) gives ints a
    meaning of their own. Unknown parameters keep ints apart, so that a
    setting is never lost for looking like the default.
    """
    owner_name, _, param = name.rpartition("__")
    owner = estimator.get_params()[owner_name] if owner_name else estimator
    constraints = getattr(owner, "_parameter_constraints", {}).get(param)
    if constraints is None:
        return False
    return not any(isinstance(c, Interval) and c.type is Integral for c in constraints)


def _check_names(estimator, candidates, owner):
    """Every setting's names must be parameters of the estimator it makes.

    A setting may swap a step or sub-estimator (``{"clf": SVC(), "clf__gamma": 0.1}``,
    as a list of grids for ``GridSearchCV`` does); its other names are checked
    against the estimator with that swap made.
    """
    base = estimator.get_params()
    for params in candidates:
        swapped = {name: value for name, value in params.items()
                   if hasattr(value, "get_params") and not isinstance(value, type)}
        own = clone(estimator).set_params(**swapped).get_params() if swapped else base
        _check_names_in(own, sorted(params), type(estimator).__name__, owner)


def _check_names_in(own, names, estimator_name, owner):
    for name in names:
        if name not in own:
            close = difflib.get_close_matches(name, own, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{owner} was given the setting {name!r}, which "
                f"{estimator_name} does not have.{hint} Valid names are "
                "listed by estimator.get_params()."
            )


def _numeric_kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, Integral):
        return "int"
    if isinstance(value, Real):
        return "float"
    return None


def _same_setting(a, b, loose_numbers=()):
    """Whether two settings are equal, arrays compared by content.

    Numbers must also be of one kind (bool, int, float): scikit-learn can give
    ``1`` and ``1.0`` different meanings (``max_features=1`` is one feature,
    ``1.0`` all of them). For the names in ``loose_numbers`` an int equals
    the same float (``alpha=1`` is ``alpha=1.0``).
    """
    if a.keys() != b.keys():
        return False
    for name in a:
        kinds = {_numeric_kind(a[name]), _numeric_kind(b[name])}
        if len(kinds) > 1 and not (name in loose_numbers and kinds == {"int", "float"}):
            return False
        try:
            if not bool(a[name] == b[name]):
                return False
        except (TypeError, ValueError):
            if joblib.hash(a[name]) != joblib.hash(b[name]):
                return False
    return True
