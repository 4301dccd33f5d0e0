"""F.pad in its four modes against torch: values and gradients over random pads (negative ones
crop) of 1, 2 and 3 dimensions, batched and unbatched, float32 and float64; integer and bool
inputs; torch's exception types for bad arguments."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check


def _pads(rng, mode, shape, dims):
    """Random (before, after) pads for the last ``dims`` axes that torch accepts in ``mode``."""
    pads = []
    for k in range(dims):
        n = shape[-1 - k]
        if mode == "reflect":
            low, high = -(n // 2), n - 1
        elif mode == "circular":
            low, high = -(n // 3), n // 2
        else:
            low, high = -(n // 2), n + 2
        before = int(rng.integers(low, high + 1))
        after = max(int(rng.integers(low, high + 1)), 1 - n - before)  # a non-empty output
        pads += [before, after]
    return tuple(pads)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_random_configurations_match_torch(mode, dtype):
    rng = np.random.default_rng(1)
    for trial in range(24):
        dims = 1 + trial % 3
        batched = trial % 2 == 0
        shape = tuple(int(s) for s in rng.integers(2, 6, dims + (2 if batched else 1)))
        pad = _pads(rng, mode, shape, dims)
        x = rng.standard_normal(shape).astype(dtype)
        options = {"value": 1.5} if mode == "constant" else {}
        try:
            check(lambda t: F.pad(t, pad, mode=mode, **options),
                  lambda t: torch.nn.functional.pad(t, pad, mode=mode, **options), x)
        except AssertionError as error:
            raise AssertionError(f"shape {shape}, pad {pad}: {error}") from None


def test_constant_pad_of_any_rank_and_length():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 5, 2))
    for pad in [(1, 2), (0, 0, 1, -1), (2, 1, -1, 0, 3, 1, 1, 0, -1, 0), (-1, -1), (-2, 0)]:
        check(lambda t: F.pad(t, pad, value=-2.0),
              lambda t: torch.nn.functional.pad(t, pad, value=-2.0), x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_of_integer_and_bool_inputs(mode):
    dtypes = (np.int64, np.int32, np.uint8) + ((np.bool_,) if mode in ("constant", "circular")
                                               else ())
    for dtype in dtypes:
        x = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
        value = {"value": 2.5} if mode == "constant" and dtype != np.bool_ else {}
        mine = F.pad(mg.tensor(x), (1, 2), mode=mode, **value)
        theirs = torch.nn.functional.pad(torch.from_numpy(x), (1, 2), mode=mode, **value)
        assert mine.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_pad_node_names_match_torch():
    for mode, pad, shape in [("constant", (1, 1), (2, 3)), ("reflect", (1, 1), (2, 3, 4)),
                             ("reflect", (1, 1, 1, 1), (2, 3, 4, 5)),
                             ("reflect", (1, 1, 1, 1, 1, 1), (3, 4, 5, 2)),
                             ("replicate", (1, 1), (3, 4)),
                             ("replicate", (1, 1, 1, 1), (3, 4, 5)),
                             ("replicate", (1, 1, 1, 1, 1, 1), (2, 3, 4, 5, 2)),
                             ("circular", (1, 1), (2, 3, 4))]:
        x = mg.randn(*shape, requires_grad=True)
        t = torch.randn(*shape, requires_grad=True)
        assert (type(F.pad(x, pad, mode=mode).grad_fn).__name__
                == type(torch.nn.functional.pad(t, pad, mode=mode).grad_fn).__name__)


def test_pad_gradient_of_a_channels_last_input():
    """A convolution's output (channels-last memory) pads and backpropagates as any array."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    check(lambda a, b: F.pad(F.conv2d(a, b), (1, 2, 2, 1), mode="reflect"),
          lambda a, b: torch.nn.functional.pad(torch.nn.functional.conv2d(a, b), (1, 2, 2, 1),
                                               mode="reflect"), x, w)


BAD_PADS = [
    ((2, 3, 5, 6), (1, 2, 3), "constant", None),             # odd length
    ((2, 3, 5, 6), (1,) * 10, "constant", None),             # longer than 2 * ndim
    ((2, 3, 5, 6), (-3, -4), "constant", None),              # negative size
    ((2, 3, 5, 6), (1, 1), "reflect", None),                 # 1-D pad of a 4-D input
    ((6,), (1, 1), "replicate", None),                       # 1-D input
    ((6, 3), (1, 1, 1, 1), "circular", None),                # 2-D pad of a 2-D input
    ((2, 3, 5, 6), (1, 2, 3, 4, 5, 6), "reflect", None),     # pads >= the dimension
    ((2, 3, 6), (6, 0), "reflect", None),
    ((2, 3, 6), (-6, 0), "replicate", None),                 # empty output
    ((2, 3, 6), (7, 0), "circular", None),                   # wraps around twice
    ((2, 0, 3), (1, 1), "replicate", None),                  # empty channel dimension
    ((2, 3, 6), (1, 1), "reflect", 1.0),                     # value with a non-constant mode
    ((2, 3, 6), (1, 1), "mirror", None),                     # unknown mode
    ((2, 3, 6), (1.5, 1), "constant", None),                 # a float pad
    ((2, 3, 6), 5, "constant", None),                        # not a sequence
]


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_bool_inputs_refused_where_torch_refuses_them(mode):
    with pytest.raises(NotImplementedError, match="Bool"):
        F.pad(mg.zeros(2, 3, 4, dtype=mg.bool), (1, 1), mode=mode)


@pytest.mark.parametrize("shape, pad, mode, value", BAD_PADS)
def test_bad_pads_raise_torch_exception_types(shape, pad, mode, value):
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode, value=value)
    with pytest.raises(type(theirs.value)):
        F.pad(mg.zeros(shape), pad, mode=mode, value=value)


def test_pad_input_must_be_a_tensor():
    with pytest.raises(TypeError, match="input"):
        F.pad([1.0, 2.0], (1, 1))


# ----------------------------------------------------------------------------- layers

LAYERS = [("ConstantPad1d", (2, 1.5)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0)),
          ("ConstantPad3d", (1, 0.0)), ("ZeroPad1d", ((1, 2),)), ("ZeroPad2d", ((1, 1, 2, 0),)),
          ("ZeroPad3d", (1,)), ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 0, 1),)),
          ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((3, 1),)),
          ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 0, 0, 1, 2, 1),)),
          ("CircularPad1d", (2,)), ("CircularPad2d", ((1, 2, 2, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name, args", LAYERS)
def test_padding_layers_match_torch(name, args):
    dims = int(name[-2])
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5, 4)[:dims + 2])
    mine, theirs = getattr(mg.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(mine) == repr(theirs)
    check(mine, theirs, x)
    if name.startswith("Circular"):
        with pytest.raises(ValueError, match="input"):
            mine(mg.zeros((2,) * (dims + 3)))
