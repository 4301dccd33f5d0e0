"""The direct conv2d kernels (stride 1, dilation 1): every instruction set and tile shape
against the NumPy twins, the choice between direct and im2col, and their settings."""
import numpy as np
import pytest

from minigrad._kernels import conv as kernels
from minigrad._kernels import conv_direct
from minigrad.reference import conv as twins

from helpers import supported_isas

DTYPES = [np.float32, np.float64]
# (rtol, atol as a fraction of the largest result): the weight gradient sums thousands of
# products, so an element near zero carries the rounding of its large terms
TIGHT = {np.float32: (2e-4, 2e-6), np.float64: (1e-11, 1e-13)}

# (N, C, H, W, F, KH, KW, (top, bottom, left, right), groups): stride and dilation 1
CASES = [
    (2, 3, 8, 8, 4, 3, 3, (1, 1, 1, 1), 1),
    (1, 4, 16, 16, 6, 5, 5, (2, 2, 2, 2), 1),      # the seed model's shape, small
    (3, 6, 8, 13, 9, 5, 3, (0, 2, 1, 0), 3),       # asymmetric padding, groups
    (2, 3, 32, 33, 10, 5, 5, (2, 2, 2, 2), 1),     # rows of several vectors plus a tail
    (1, 2, 5, 5, 3, 3, 3, (4, 4, 4, 4), 1),        # padding past the kernel: the input
                                                   # gradient's padding is negative (a crop)
    (2, 8, 11, 6, 4, 2, 4, (0, 1, 3, 0), 2),       # even kernel
    (1, 1, 4, 40, 1, 1, 7, (0, 0, 3, 3), 1),       # one row of taps, wide rows
    (4, 5, 3, 3, 7, 3, 3, (2, 2, 2, 2), 1),        # image smaller than the padded kernel
    (2, 2, 3, 4, 3, 5, 5, (2, 2, 2, 3), 1),        # kernel larger than the image
    (1, 3, 9, 2, 13, 7, 2, (3, 3, 0, 1), 1),       # kernel 7 tall, 2 wide, 13 channels
    (2, 4, 6, 7, 4, 3, 11, (1, 1, 5, 5), 2),       # 11 wide: three chunks of kernel columns
    (1, 40, 5, 5, 2, 3, 3, (1, 1, 1, 1), 1),       # many channels: several channel chunks
]


SUPPORTED_ISAS = supported_isas(conv_direct)
DEFAULT_ISA = conv_direct.get_isa()


@pytest.fixture
def direct_settings():
    """Restore the automatic choices after a test forces an instruction set or tile."""
    yield
    conv_direct.set_isa(DEFAULT_ISA)
    conv_direct.set_tile_shape(None)
    kernels.set_algorithm("auto")


def run(module, case, dtype, rng, extra=()):
    n, c, h, w, f, kh, kw, (top, bottom, left, right), groups = case
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((f, c // groups, kh, kw)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    oh, ow = h + top + bottom - kh + 1, w + left + right - kw + 1
    grad_out = rng.standard_normal((n, f, oh, ow)).astype(dtype)
    args = (1, 1, top, left, 1, 1, groups)
    out = np.full((n, f, oh, ow), np.nan, dtype)
    grad_x = np.full_like(x, np.nan)
    grad_w = np.full_like(weight, np.nan)
    module.conv2d_forward(x, weight, bias, out, *args, *extra)
    module.conv2d_backward_input(grad_out, weight, grad_x, *args, *extra)
    module.conv2d_backward_weight(x, grad_out, grad_w, *args, *extra)
    return out, grad_x, grad_w


def assert_matches_twin(case, dtype, num_threads, seed=0):
    mine = run(kernels, case, dtype, np.random.default_rng(seed), (num_threads,))
    ref = run(twins, case, dtype, np.random.default_rng(seed))
    rtol, atol = TIGHT[dtype]
    for name, a, b in zip(("out", "grad_x", "grad_w"), mine, ref):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * np.abs(b).max(),
                                   err_msg=f"{name} {case}")


@pytest.mark.parametrize("isa", SUPPORTED_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_direct_kernels_match_twins(isa, dtype, num_threads, direct_settings):
    conv_direct.set_isa(isa)
    kernels.set_algorithm("direct")
    for case in CASES:
        assert_matches_twin(case, dtype, num_threads)


@pytest.mark.parametrize("tile", conv_direct.COMPILED_TILE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_tile_shape_matches_twins(tile, dtype, direct_settings):
    kernels.set_algorithm("direct")
    for isa in SUPPORTED_ISAS:
        conv_direct.set_isa(isa)
        conv_direct.set_tile_shape(tile)
        for case in CASES[:6]:
            assert_matches_twin(case, dtype, 2, seed=1)


def test_direct_and_im2col_agree_at_the_seed_shapes(direct_settings):
    rng = np.random.default_rng(4)
    for c, f, size in ((3, 32, 32), (32, 32, 16), (32, 64, 8)):
        case = (3, c, size, size, f, 5, 5, (2, 2, 2, 2), 1)
        results = {}
        for algorithm in ("direct", "im2col"):
            kernels.set_algorithm(algorithm)
            results[algorithm] = run(kernels, case, np.float32, np.random.default_rng(5), (2,))
        for a, b in zip(results["direct"], results["im2col"]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_auto_takes_direct_for_stride_one_and_enough_pixels(monkeypatch, direct_settings):
    calls = []
    real = conv_direct.forward
    monkeypatch.setattr(conv_direct, "forward", lambda *a: calls.append(a) or real(*a))
    rng = np.random.default_rng(6)
    for size, (kh, kw), stride, dilation, expected in [
            (26, (3, 3), 1, 1, 1),      # 24 x 24 outputs: direct
            (26, (3, 3), 2, 1, 0),      # strided
            (26, (3, 3), 1, 2, 0),      # dilated
            (26, (1, 1), 1, 1, 0),      # 1x1: a plain GEMM
            (8, (3, 3), 1, 1, 0)]:      # 6 x 6 outputs: fewer than MIN_DIRECT_PIXELS
        calls.clear()
        x = rng.standard_normal((1, 2, size, size)).astype(np.float32)
        w = rng.standard_normal((4, 2, kh, kw)).astype(np.float32)
        oh = (size - dilation * (kh - 1) - 1) // stride + 1
        out = np.empty((1, 4, oh, oh), np.float32)
        kernels.conv2d_forward(x, w, None, out, stride, stride, 0, 0, dilation, dilation, 1, 1)
        assert len(calls) == expected, (size, kh, stride, dilation)
    kernels.set_algorithm("im2col")
    calls.clear()
    x = rng.standard_normal((1, 2, 26, 26)).astype(np.float32)
    kernels.conv2d_forward(x, rng.standard_normal((4, 2, 3, 3)).astype(np.float32), None,
                           np.empty((1, 4, 24, 24), np.float32), 1, 1, 0, 0, 1, 1, 1, 1)
    assert calls == []


def test_settings_reject_unknown_values(direct_settings):
    with pytest.raises(ValueError, match="unknown convolution algorithm"):
        kernels.set_algorithm("winograd")
    with pytest.raises(ValueError, match="no compiled tile"):
        conv_direct.set_tile_shape((5, 5, 5))
    with pytest.raises(ValueError, match="unknown instruction set"):
        conv_direct.set_isa("sse9")


def test_results_do_not_depend_on_thread_count(direct_settings):
    """Every work item writes its own outputs, so 1 and 2 threads give identical bits."""
    case = (3, 8, 12, 12, 10, 5, 5, (2, 2, 2, 2), 2)
    one = run(kernels, case, np.float32, np.random.default_rng(7), (1,))
    two = run(kernels, case, np.float32, np.random.default_rng(7), (2,))
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_empty_batches_and_channels(direct_settings):
    """No samples: zero weight gradient, empty output; no input channels: outputs are the
    bias (the direct kernels never index an empty array)."""
    kernels.set_algorithm("direct")
    for n, c in ((0, 3), (2, 0)):
        case = (n, c, 6, 6, 4, 3, 3, (1, 1, 1, 1), 1)
        mine = run(kernels, case, np.float32, np.random.default_rng(8), (2,))
        ref = run(twins, case, np.float32, np.random.default_rng(8))
        for a, b in zip(mine, ref):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
