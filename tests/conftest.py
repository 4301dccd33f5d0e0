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
