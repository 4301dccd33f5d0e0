"""pytest setup for the benchmark suites.

benchmarks/ is a directory of the repository, not an installed package: the repository goes at
the end of sys.path so that `from benchmarks import cases` works from every suite, while an
installed minigrad, if any, stays ahead of the source tree (it is the one benchmarked).

CI runs every suite once, untimed: `pytest benchmarks --benchmark-disable -q`.
"""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.append(ROOT)
