"""Shared test setup: `helpers` importable from every test file (pytest runs with
--import-mode=importlib, which does not put tests/ on sys.path), fixed seeds, grad mode on."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import minigrad  # noqa: E402
from minigrad import autograd  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded_and_grad_enabled():
    """Every test starts from the same random state and with grad mode on, whatever the
    previous test did."""
    minigrad.manual_seed(0)
    np.random.seed(0)
    autograd._GradMode.enabled = True
    yield
    autograd._GradMode.enabled = True


def pytest_terminal_summary(terminalreporter):
    """Name the instruction sets the kernel tests could not run here (the per-ISA tests run
    only the ISAs this CPU has; the others must not drop out without a word)."""
    from minigrad import backends
    isas = ("avx512", "avx2", "base")
    missing = {family: [isa for isa in isas if isa not in module.supported_isas()]
               for family, module in backends.FAMILIES.items()}
    lines = [f"{family}: {', '.join(names)}" for family, names in missing.items() if names]
    if lines:
        terminalreporter.write_sep("-", "kernel ISAs this CPU cannot test")
        for line in lines:
            terminalreporter.write_line(f"untested here: {line}")
