"""The public API's docstrings are valid numpydoc (as scikit-learn checks its own)."""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate

MODULES = ["metasklearn", "metasklearn.hyperparams", "metasklearn.init",
           "metasklearn.model_selection", "metasklearn.tasks", "metasklearn.datasets",
           "metasklearn.metafeatures", "metasklearn.engine"]
# Checks scikit-learn does not enforce either: extended summaries, See Also sections,
# examples on every method, and a few formatting conventions.
IGNORED = {"GL01", "GL02", "GL08", "ES01", "SA01", "EX01", "SS05", "RT02", "PR09", "RT05",
           "YD01"}


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:  # a module without __all__: what it defines itself
        names = [name for name, value in vars(module).items() if not name.startswith("_")
                 and getattr(value, "__module__", None) == module.__name__]
    return names


def _public_names():
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in _public(module):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants such as __version__ carry no numpydoc docstring
            names.append(f"{module_name}.{name}")
            if not inspect.isclass(obj):
                continue
            # Methods the class defines or inherits from metasklearn (not scikit-learn's
            # get_params and friends), including those behind available_if.
            for attr in dir(obj):
                if attr.startswith("_"):
                    continue
                owner = next(k for k in obj.__mro__ if attr in vars(k))
                value = vars(owner)[attr]
                method = getattr(value, "fn", value)  # available_if keeps the function
                if owner.__module__.startswith("metasklearn") and (
                        inspect.isfunction(method)
                        or isinstance(method, (classmethod, staticmethod, property))):
                    names.append(f"{module_name}.{name}.{attr}")
    return sorted(set(names))


@pytest.mark.parametrize("name", _public_names())
def test_public_docstring_is_valid_numpydoc(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]
              if code not in IGNORED]
    assert not errors, "\n".join(errors)
