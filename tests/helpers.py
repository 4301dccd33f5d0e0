"""Helpers shared by the test files: random inputs and the minigrad-versus-torch check."""
import numpy as np

from minigrad.testing import assert_close_to_torch

DTYPES = [np.float32, np.float64]


def random_array(shape, dtype=np.float64, low=-2.0, high=2.0, seed=0, away_from=None,
                 margin=0.1) -> np.ndarray:
    """Uniform values in [low, high); with ``away_from``, none closer than ``margin`` to it
    (for ops with a kink or a pole there: abs, relu, clamp bounds, division)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, shape)
    if away_from is not None:
        too_close = np.abs(values - away_from) < margin
        direction = np.where(values >= away_from, 1.0, -1.0)
        values = np.where(too_close, values + 2 * margin * direction, values)
    return np.asarray(values, dtype=dtype)


def positive_array(shape, dtype=np.float64, seed=0) -> np.ndarray:
    """Values in [0.5, 2): inside the domain of log, sqrt and fractional powers."""
    return random_array(shape, dtype, 0.5, 2.0, seed)


def check(mg_fn, torch_fn, *inputs, **kwargs):
    """Forward values and every input's gradient of mg_fn against torch_fn (raises
    AssertionError naming each mismatch)."""
    return assert_close_to_torch(mg_fn, torch_fn, list(inputs), **kwargs)
