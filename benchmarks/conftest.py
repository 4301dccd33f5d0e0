"""pytest setup for the benchmark suites.

benchmarks/ is a directory of the repository, not an installed package: the repository goes at
the end of sys.path so that `from benchmarks import cases` works from every suite, while an
installed minigrad, if any, stays ahead of the source tree (it is the one benchmarked).

CI runs every suite once, untimed: `pytest benchmarks --benchmark-disable -q`.
"""
import sys
from pathlib import Path

# Before any suite imports torch: minigrad sets the OpenMP spin policy of the libgomp both
# frameworks share (see minigrad/_kernels/__init__.py and benchmarks/compare.py).
import minigrad  # noqa: F401

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.append(ROOT)
