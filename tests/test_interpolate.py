"""F.interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area, with and
without align_corners and recompute_scale_factor), the Upsample layers and F.one_hot against
torch: values and every gradient over random sizes and scales, float32 and float64; torch's
exception types for bad arguments."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from minigrad._kernels import resample as kernels
from minigrad.autograd import gradcheck
from minigrad.ops.interpolate import axis_taps
from minigrad.reference import resample as twins
from test_nn_layers import assert_same_error, check_module

TF = torch.nn.functional
MODES = ["nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area"]
RANK = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}


def _torch_backward_differs(mode, shape, kwargs):
    """torch's 1-D and 3-D nearest backward takes shortcuts its forward does not (out = in or
    2 in with another scale_factor): there its gradient is not the forward's adjoint."""
    if mode != "nearest" or len(shape) == 4 or "scale_factor" not in kwargs:
        return False
    if kwargs.get("recompute_scale_factor"):
        return False
    for n, s in zip(shape[2:], kwargs["scale_factor"]):
        out = int(np.floor(n * s))
        if (out == n and s != 1.0) or (out == 2 * n and s != 2.0):
            return True
    return False


@pytest.mark.parametrize("dtype", DTYPES)
def test_resample_kernels_match_their_twins_at_any_thread_count(dtype):
    rng = np.random.default_rng(9)
    name = np.dtype(dtype).name
    for outer, n_in, inner, n_out, mode in [(1, 1, 1, 3, "linear"), (5, 7, 1, 3, "cubic"),
                                            (3, 4, 9, 11, "nearest"), (64, 33, 64, 65, "linear"),
                                            (600, 16, 8, 16, "nearest-exact"),
                                            (2, 9, 300, 4, "cubic")]:
        index, weight = axis_taps(mode, n_in, n_out, None, mode == "cubic", name, 1)
        x = rng.standard_normal((outer, n_in, inner)).astype(dtype)
        g = rng.standard_normal((outer, n_out, inner)).astype(dtype)
        results = []
        for module, threads in ((kernels, (1,)), (kernels, (2,)), (twins, ())):
            out = np.empty((outer, n_out, inner), dtype)
            grad_x = np.empty((outer, n_in, inner), dtype)
            module.resample_axis(x, index, weight, out, *threads)
            module.fold_axis(g, index, weight, grad_x, *threads)
            results.append((out, grad_x))
        tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12,
                                                                               atol=1e-12)
        for one, two, twin in zip(*results):
            np.testing.assert_array_equal(one, two)
            np.testing.assert_allclose(one, twin, **tolerance)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_matches_torch(mode, dtype):
    rng = np.random.default_rng(MODES.index(mode))
    tested = 0
    while tested < 24:
        rank = RANK.get(mode, int(rng.integers(3, 5 if mode == "area" else 6)))
        shape = (2, 3) + tuple(int(n) for n in rng.integers(1, 8, rank - 2))
        kwargs = {}
        if tested % 2:
            kwargs["size"] = tuple(int(n) for n in rng.integers(1, 13, rank - 2))
        else:
            kwargs["scale_factor"] = tuple(float(s) for s in rng.choice(
                [0.5, 0.7, 1.0, 1.5, 2.0, 2.3, 3.0], rank - 2))
            kwargs["recompute_scale_factor"] = bool(tested % 4 == 2)
            if min(int(np.floor(n * s)) for n, s in zip(shape[2:], kwargs["scale_factor"])) < 1:
                continue
        if mode not in ("nearest", "nearest-exact", "area"):
            kwargs["align_corners"] = bool(rng.random() < 0.5)
        x = rng.standard_normal(shape).astype(dtype)
        grad = not _torch_backward_differs(mode, shape, kwargs)
        try:
            check(lambda t: F.interpolate(t, mode=mode, **kwargs),
                  lambda t: TF.interpolate(t, mode=mode, **kwargs), x, grad=grad)
        except AssertionError as error:
            raise AssertionError(f"{shape} {kwargs}: {error}") from None
        tested += 1


def test_gradient_is_the_adjoint_where_torch_differs():
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=2.3), [x])


def test_uint8_inputs_resample_with_nearest():
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    for dtype in (np.uint8,):
        mine = F.interpolate(mg.tensor(x.astype(dtype)), scale_factor=(1.5, 0.6))
        theirs = TF.interpolate(torch.from_numpy(x.astype(dtype)), scale_factor=(1.5, 0.6))
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_channels_last_input_and_node_names():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    check(lambda x, w: F.interpolate(F.conv2d(x, w), scale_factor=2, mode="bilinear"),
          lambda x, w: TF.interpolate(TF.conv2d(x, w), scale_factor=2, mode="bilinear"), x, w)
    for mode, rank in [("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 4),
                       ("linear", 3), ("bilinear", 4), ("trilinear", 5), ("bicubic", 4)]:
        shape = (1, 2) + (3,) * (rank - 2)
        mine = F.interpolate(mg.randn(*shape, requires_grad=True), scale_factor=2, mode=mode)
        theirs = TF.interpolate(torch.randn(*shape, requires_grad=True), scale_factor=2,
                                mode=mode)
        assert type(mine.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("dtype", DTYPES)
def test_upsample_layers_match_torch(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    for make in [lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(7, 3),
                                                                         mode="bilinear"),
                 lambda m: m.Upsample(scale_factor=(1.5, 2.5), mode="bicubic",
                                      align_corners=True),
                 lambda m: m.UpsamplingNearest2d(size=9),
                 lambda m: m.UpsamplingBilinear2d(scale_factor=3)]:
        mine, theirs = make(nn), make(torch.nn)
        assert repr(mine) == repr(theirs)
        check_module(mine, theirs, [x], dtype)


BAD_CALLS = [
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=(0, 3)),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), scale_factor=0.1),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=(2.5, 3)),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), scale_factor=2, mode="foo"),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), scale_factor=2, antialias=True),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), scale_factor=(2, 3, 4)),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=(2, 3, 4)),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=5, scale_factor=2),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6)),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=5, recompute_scale_factor=True),
    lambda m, f: f.interpolate(m.zeros(5, 6), size=5),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=5, mode="linear"),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=5, mode="trilinear"),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5), size=5, mode="bilinear"),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6), size=5, align_corners=True),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6, dtype=m.int64), size=5, mode="bilinear"),
    lambda m, f: f.interpolate(m.zeros(2, 3, 5, 6, dtype=m.int64), size=5),
    lambda m, f: f.one_hot(m.tensor([0.0, 1.0])),
    lambda m, f: f.one_hot(m.tensor([0, -1])),
    lambda m, f: f.one_hot(m.tensor([0, 3]), 2),
    lambda m, f: f.one_hot(m.zeros(0, dtype=m.int64)),
    lambda m, f: f.one_hot(m.tensor([0, 1], dtype=m.int32), 4),
]


@pytest.mark.parametrize("case", range(len(BAD_CALLS)))
def test_bad_arguments_raise_torch_exception_types(case):
    assert_same_error(lambda: BAD_CALLS[case](mg, F), lambda: BAD_CALLS[case](torch, TF))


def test_one_hot_matches_torch():
    rng = np.random.default_rng(3)
    for values, classes in [(rng.integers(0, 5, (3, 4)), -1), (rng.integers(0, 5, 7), 9),
                            (np.array(2), 4), (np.zeros((0, 2), np.int64), 3)]:
        values = np.asarray(values, dtype=np.int64)
        mine = F.one_hot(mg.tensor(values), classes)
        theirs = TF.one_hot(torch.from_numpy(values), classes)
        assert mine.dtype == mg.int64
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_empty_batch():
    for mode in ("nearest", "bilinear", "bicubic"):
        check(lambda t: F.interpolate(t, scale_factor=2, mode=mode),
              lambda t: TF.interpolate(t, scale_factor=2, mode=mode), np.zeros((0, 3, 4, 5)))
