"""Every Python block of the docs runs as written, in order within its file."""

import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["docs/user_guide.md", "docs/hyperparams.md", "docs/linear_prior.md", "docs/mlp_init.md"]


def _python_blocks(path):
    # Blocks inside list items are indented: dedent them.
    return [textwrap.dedent(block) for block in
            re.findall(r"^[ \t]*```python\n(.*?)^[ \t]*```", (ROOT / path).read_text(),
                       flags=re.S | re.M)]


@pytest.mark.parametrize("path", DOCS)
def test_every_python_block_runs(path, tmp_path, monkeypatch, capsys):
    blocks = _python_blocks(path)
    assert blocks, f"{path} has no python block"
    monkeypatch.chdir(tmp_path)  # blocks may save files
    namespace = {}
    # A block may turn metadata routing on for the session; keep that inside this test.
    with sklearn.config_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the examples' short fits
        for i, block in enumerate(blocks):
            exec(compile(block, f"{path}, block {i + 1}", "exec"), namespace)
    if path == "docs/mlp_init.md":  # the printed MSE of the adapted learner, far below scratch
        assert float(capsys.readouterr().out.split()[-1]) < 0.5
    if path == "docs/hyperparams.md":
        assert namespace["pm"].scores_.shape == (3, 65)
        assert type(namespace["model"]).__name__ == "SVC"
        assert np.isfinite(namespace["pm"].normalized()).all()
    if path == "docs/linear_prior.md":
        assert type(namespace["learner"]).__name__ == "Pipeline"
    if path == "docs/user_guide.md":
        search = namespace["search"]
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        curve = namespace["curve"].scores
        assert (curve["meta"][0].mean() > 0.5 > curve["scratch"][0].mean())
        assert (tmp_path / "adaptation_curve.png").stat().st_size > 10_000
