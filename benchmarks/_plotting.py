"""Headless figures for the benchmark scripts (matplotlib is in the ``bench`` extra)."""

from pathlib import Path


def subplots(n_panels, width, height):
    """``(fig, axes)`` with one row of panels, or ``None`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot (pip install -e '.[bench]')")
        return None
    matplotlib.use("Agg")  # no display on benchmark machines
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
    return fig, axes[0]


def save(fig, path):
    """Write ``fig`` to ``path`` (creating its folder) and say where."""
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")
