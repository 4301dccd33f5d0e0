"""Random, often bad, arguments to the layers and functional forms of issue 13: each call
returns a result or raises a Python exception (the kernels run without bounds checks, so the
front doors must refuse what they cannot take); a crash would end this test run."""
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F


def _array(rng):
    ndim = int(rng.integers(0, 6))
    shape = tuple(int(n) for n in rng.integers(0, 5, ndim))
    dtype = rng.choice([np.float32, np.float64, np.int64, np.bool_])
    return mg.tensor((rng.standard_normal(shape) * 3).astype(dtype))


def _small_int(rng, low=-2, high=5):
    return int(rng.integers(low, high))


def _ints(rng, count, low=-2, high=5):
    return tuple(int(v) for v in rng.integers(low, high, count))


CALLS = {
    "pad": lambda rng, x: F.pad(x, _ints(rng, 2 * int(rng.integers(0, 4))),
                                mode=str(rng.choice(["constant", "reflect", "replicate",
                                                     "circular"]))),
    "interpolate": lambda rng, x: F.interpolate(
        x, size=_ints(rng, max(x.ndim - 2, 1), 0, 6) if rng.random() < 0.5 else None,
        scale_factor=None if rng.random() < 0.5 else float(rng.uniform(0.2, 3)),
        mode=str(rng.choice(["nearest", "nearest-exact", "linear", "bilinear", "bicubic",
                             "trilinear", "area"]))),
    "conv1d": lambda rng, x: F.conv1d(x, _array(rng), stride=_small_int(rng),
                                      padding=_small_int(rng), groups=_small_int(rng, 0, 3)),
    "conv_transpose2d": lambda rng, x: F.conv_transpose2d(
        x, _array(rng), stride=_small_int(rng, 0), padding=_small_int(rng),
        output_padding=_small_int(rng, -1, 3), groups=_small_int(rng, 0, 3),
        dilation=_small_int(rng, 0)),
    "layer_norm": lambda rng, x: F.layer_norm(x, list(_ints(rng, int(rng.integers(0, 3)), 0))),
    "group_norm": lambda rng, x: F.group_norm(x, _small_int(rng, 1, 4)),
    "embedding": lambda rng, x: F.embedding(
        mg.tensor(rng.integers(-1, 6, _ints(rng, 2, 0, 4))), x,
        padding_idx=None if rng.random() < 0.5 else _small_int(rng, -3, 6),
        max_norm=None if rng.random() < 0.5 else 1.0),
    "one_hot": lambda rng, x: F.one_hot(x.long() if x.dtype == mg.float32 else x,
                                        _small_int(rng, -1, 6)),
    "max_pool1d": lambda rng, x: F.max_pool1d(x, _small_int(rng), _small_int(rng),
                                              _small_int(rng), _small_int(rng)),
    "avg_pool1d": lambda rng, x: F.avg_pool1d(x, _small_int(rng), _small_int(rng),
                                              _small_int(rng)),
    "adaptive_max_pool2d": lambda rng, x: F.adaptive_max_pool2d(x, _ints(rng, 2, -1, 6)),
    "prelu": lambda rng, x: F.prelu(x, _array(rng)),
    "dropout2d": lambda rng, x: F.dropout2d(x, float(rng.uniform(-0.2, 1.2))),
    "scaled_dot_product_attention": lambda rng, x: F.scaled_dot_product_attention(
        x, _array(rng), _array(rng), attn_mask=_array(rng) if rng.random() < 0.5 else None,
        is_causal=bool(rng.random() < 0.3)),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_random_arguments_raise_or_return(name):
    rng = np.random.default_rng(list(CALLS).index(name))
    for _ in range(300):
        x = _array(rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = CALLS[name](rng, x)
        except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError,
                AssertionError, ZeroDivisionError) as error:
            assert str(error), f"{name}: an exception without a message: {type(error)}"
            continue
        for tensor in out if isinstance(out, tuple) else (out,):
            assert isinstance(tensor, mg.Tensor)
