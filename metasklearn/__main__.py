"""Run the demo: ``python -m metasklearn --help``."""

from ._demo import main

if __name__ == "__main__":
    raise SystemExit(main())
