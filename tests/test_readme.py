"""The README's commands are the ones CI runs."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import sklearn

ROOT = Path(__file__).resolve().parents[1]


def _fenced_commands(text):
    return [line for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
            for line in block.splitlines() if line and not line.startswith("#")]


def test_ci_runs_exactly_the_readme_test_command():
    commands = _fenced_commands((ROOT / "README.md").read_text())
    test_commands = [c for c in commands if "pytest" in c]
    assert len(test_commands) == 1
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_commands[0] in ci_lines


def test_readme_main_job_command_runs_the_package():
    commands = _fenced_commands((ROOT / "README.md").read_text())
    assert any(c.endswith("python -m metasklearn") for c in commands)
    # The command reaches the package's main job (its --help; the job itself is in
    # test_demo.py): the collections the README names are the ones it offers.
    done = subprocess.run([sys.executable, "-m", "metasklearn", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in ("sinusoid", "checkerboard", "digits"))


def test_readme_example_runs_and_learns_a_better_default(capsys):
    example = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)[0]
    exec(compile(example, "README.md", "exec"), {})
    best_params, scores = capsys.readouterr().out.splitlines()
    assert eval(best_params)["C"] > 1  # SVC's default C=1 underfits checkerboards
    learned, default = (float(part.split()[-1]) for part in scores.split(","))
    assert learned > default + 0.05


def test_readme_grid_search_example_fits_every_split(capsys):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    namespace = {}
    # The example turns metadata routing on for the session; keep that inside this test.
    with sklearn.config_context():
        exec(compile(blocks[0], "README.md", "exec"), namespace)
        exec(compile(blocks[1], "README.md", "exec"), namespace)
    search = namespace["search"]
    # GridSearchCV records a failed fit as NaN and goes on: every split must have scored.
    scores = [search.cv_results_[f"split{i}_test_score"] for i in range(5)]
    assert np.isfinite(scores).all()
    means = search.cv_results_["mean_test_score"]
    np.testing.assert_allclose(means, np.mean(scores, axis=0))
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    assert search.best_estimator_.n_tasks_ == 20  # refit on every task, groups routed
    assert not sklearn.get_config()["enable_metadata_routing"]
