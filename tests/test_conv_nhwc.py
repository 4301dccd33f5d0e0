"""The channels-last direct convolution kernels: every ISA, tile shape, layout and thread count
against the NumPy twin, and bit for bit against each other. (test_conv.py holds both paths,
direct and im2col + GEMM, to the twins.)"""
import warnings

import numpy as np
import pytest

from minigrad._kernels import conv as kernels
from minigrad._kernels.buffers import channels_last_empty
from minigrad.reference import conv as twins

DTYPES = [np.float32, np.float64]
# (rtol, atol relative to the largest value): the sums have up to 800 terms.
TOLERANCE = {np.float32: (2e-4, 2e-6), np.float64: (1e-11, 1e-13)}
ALL_ISAS = ("avx512", "avx2", "base")
SUPPORTED = kernels.supported_isas()
# The ISAs with fused multiply-adds give the same bits as each other; the baseline rounds twice.
FMA_ISAS = [isa for isa in SUPPORTED if isa != "base"]


def test_names_the_isas_this_cpu_cannot_test():
    missing = [isa for isa in ALL_ISAS if isa not in SUPPORTED]
    if missing:
        warnings.warn(f"this CPU lacks {', '.join(missing)}: those kernels are untested here")
    assert "base" in SUPPORTED


@pytest.fixture(autouse=True)
def restore_settings():
    """The direct kernels for every pass this file tests (the automatic choice sends some
    shapes to im2col + GEMM); the defaults back afterwards."""
    kernels.set_algorithm("direct")
    yield
    kernels.set_isa(None)
    kernels.set_tile(None)
    kernels.set_weight_split(None)
    kernels.set_algorithm("auto")


# (N, C, H, W, F, KH, KW, stride, (top, bottom, left, right), dilation)
CASES = [
    (2, 32, 8, 8, 64, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),       # the seed model's conv3
    (1, 3, 12, 12, 32, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),      # conv1: 3 channels, batch 1
    (2, 5, 7, 9, 17, 3, 2, (1, 1), (1, 0, 0, 1), (1, 1)),        # channels past whole vectors
    (3, 4, 9, 7, 1, 3, 3, (2, 3), (1, 1, 0, 2), (1, 1)),         # one output channel, strided
    (2, 6, 10, 11, 9, 3, 3, (1, 1), (2, 2, 3, 1), (2, 3)),       # dilated
    (1, 1, 5, 5, 8, 7, 7, (1, 1), (3, 3, 3, 3), (1, 1)),         # kernel larger than the image
    (2, 7, 6, 6, 12, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1)),        # 1x1
    (2, 4, 6, 5, 6, 2, 2, (1, 1), (2, 2, 2, 2), (1, 1)),         # padding past the kernel
    (1, 2, 3, 40, 3, 1, 3, (1, 1), (0, 0, 1, 1), (1, 1)),        # wide rows: several tiles
]


def output_size(size, k, stride, before, after, dilation):
    return (size + before + after - dilation * (k - 1) - 1) // stride + 1


def arrays(case, dtype, seed=0):
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil = case
    rng = np.random.default_rng(seed)
    oh = output_size(h, kh, stride[0], top, bottom, dil[0])
    ow = output_size(w, kw, stride[1], left, right, dil[1])
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((f, c, kh, kw)).astype(dtype),
            rng.standard_normal(f).astype(dtype),
            rng.standard_normal((n, f, oh, ow)).astype(dtype))


def channels_last(a):
    out = channels_last_empty(*a.shape, a.dtype)
    out[...] = a
    return out


def hwio(w):
    out = np.empty((w.shape[2], w.shape[3], w.shape[1], w.shape[0]), w.dtype)
    out[...] = w.transpose(2, 3, 1, 0)
    return out.transpose(3, 2, 0, 1)


def run(module, case, x, weight, bias, dy, layout="channels_last", threads=2):
    """(out, grad_x, grad_w, grad_b) from the kernels or (threads None) the twins."""
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil = case
    args = (stride[0], stride[1], top, left, dil[0], dil[1], 1)
    extra = () if threads is None else (threads,)
    if layout == "channels_last":
        x, dy, weight = channels_last(x), channels_last(dy), hwio(weight)
        out = channels_last_empty(*dy.shape, x.dtype)
        grad_x = channels_last_empty(*x.shape, x.dtype)
    else:
        out, grad_x = np.empty(dy.shape, x.dtype), np.empty(x.shape, x.dtype)
    grad_w, grad_b = np.empty_like(weight), np.empty(f, x.dtype)
    out[...] = grad_x[...] = grad_w[...] = grad_b[...] = np.nan
    module.conv2d_forward(x, weight, bias, out, *args, *extra)
    module.conv2d_backward_input(dy, weight, grad_x, *args, *extra)
    if threads is None:
        module.conv2d_backward_weight(x, dy, grad_w, *args)
        module.conv2d_backward_bias(dy, grad_b)
    else:
        module.conv2d_backward_weight(x, dy, grad_w, *args, threads, grad_bias=grad_b)
    return out, grad_x, grad_w, grad_b


def assert_matches_twin(results, expected, dtype):
    rtol, atol = TOLERANCE[dtype]
    for name, mine, ref in zip(("out", "grad_x", "grad_w", "grad_b"), results, expected):
        assert mine.dtype == dtype, name
        scale = max(float(np.max(np.abs(ref))), 1.0)
        np.testing.assert_allclose(mine, ref, rtol=rtol, atol=atol * scale, err_msg=name)


def assert_same_bits(a, b):
    for name, x, y in zip(("out", "grad_x", "grad_w", "grad_b"), a, b):
        np.testing.assert_array_equal(x, y, err_msg=name)


def tiles_for(isa):
    """A spread of the compiled tiles: every NV, widths 1, 2, half and the largest."""
    largest = {"avx512": (16, 14, 9, 7)}.get(isa, (12, 6, 4, 3))
    return sorted({(nv, width) for nv, top in enumerate(largest, 1)
                   for width in (1, 2, max(1, top // 2), top)})


@pytest.mark.parametrize("isa", SUPPORTED)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_every_tile_matches_the_twin_and_the_others(isa, dtype, case):
    x, weight, bias, dy = arrays(case, dtype)
    expected = run(twins, case, x, weight, bias, dy, layout="nchw", threads=None)
    kernels.set_isa(isa)
    first = None
    for tile in tiles_for(isa):
        kernels.set_tile(tile)
        results = run(kernels, case, x, weight, bias, dy)
        assert_matches_twin(results, expected, dtype)
        if first is None:
            first = results
        else:
            assert_same_bits(results, first)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES[:5])
def test_fma_isas_give_the_same_bits(dtype, case):
    x, weight, bias, dy = arrays(case, dtype)
    results = []
    for isa in FMA_ISAS:
        kernels.set_isa(isa)
        results.append(run(kernels, case, x, weight, bias, dy))
    for other in results[1:]:
        assert_same_bits(other, results[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_layouts_give_the_same_bits(dtype, case):
    """NCHW or channels-last activations, OIHW or HWIO weights, aligned or not: one result."""
    x, weight, bias, dy = arrays(case, dtype)
    reference = run(kernels, case, x, weight, bias, dy)
    assert_same_bits(run(kernels, case, x, weight, bias, dy, layout="nchw"), reference)
    # a weight one element off a 64-byte boundary, a transposed (non-dense) input
    shifted = np.empty(weight.size + 1, dtype)[1:].reshape(weight.shape)
    shifted[...] = weight
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert_same_bits(run(kernels, case, xt, shifted, bias, dy, layout="nchw"), reference)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_thread_counts_give_the_same_bits(dtype, case):
    x, weight, bias, dy = arrays(case, dtype)
    reference = run(kernels, case, x, weight, bias, dy, threads=1)
    for threads in (2, 3, 4):
        assert_same_bits(run(kernels, case, x, weight, bias, dy, threads=threads), reference)


# Weight gradients whose pixels make several groups (kernels.weight_gradient_groups): group
# counts that 2, 3 and 4 threads do not divide, batch 1, rows fewer than the groups would be.
# Groups of 256 pixels (small_groups) give small shapes many groups; the last case has 3 at
# the shipped size. (N, C, H, W, F, KH, KW, stride, (top, bottom, left, right), dilation)
GROUPED_CASES = [
    (3, 3, 20, 30, 32, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),      # conv1-like: dy read in place
    (5, 4, 16, 16, 9, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),       # channels past whole vectors
    (7, 5, 12, 12, 20, 3, 2, (1, 1), (1, 0, 0, 1), (1, 1)),      # 3 groups, odd kernel
    (4, 6, 31, 27, 16, 3, 3, (2, 1), (2, 1, 3, 3), (2, 3)),      # strided and dilated
    (1, 2, 40, 40, 8, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),       # batch 1
    (1, 3, 3, 400, 24, 1, 3, (1, 1), (0, 0, 1, 1), (1, 1)),      # 3 rows: 3 groups
    (6, 3, 48, 48, 32, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),      # shipped group size
]
SHIPPED_GROUPS = GROUPED_CASES[-1:]


@pytest.fixture
def small_groups(request, monkeypatch):
    """Groups of 256 pixels in the kernels and the twins alike, but for SHIPPED_GROUPS."""
    if request.node.callspec.params["case"] not in SHIPPED_GROUPS:
        for module in (kernels, twins):
            monkeypatch.setattr(module, "WEIGHT_GROUP_PIXELS", 256)


def weight_gradient(module, case, x, dy, threads=None, layout="channels_last"):
    """(grad_w, grad_b) of the kernels (their split as set) or (threads None) the twins."""
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil = case
    args = (stride[0], stride[1], top, left, dil[0], dil[1], 1)
    if layout == "channels_last":
        x, dy = channels_last(x), channels_last(dy)
    grad_w, grad_b = hwio(np.full((f, c, kh, kw), np.nan, x.dtype)), np.full(f, np.nan, x.dtype)
    if threads is None:
        module.conv2d_backward_weight(x, dy, grad_w, *args)
        module.conv2d_backward_bias(dy, grad_b)
    else:
        module.conv2d_backward_weight(x, dy, grad_w, *args, threads, grad_bias=grad_b)
    return grad_w, grad_b


@pytest.mark.parametrize("case", GROUPED_CASES)
def test_weight_gradient_groups_are_the_twins(case, small_groups):
    n, _, _, _, _, _, _, _, _, _ = case
    oh, ow = arrays(case, np.float32)[3].shape[2:]
    groups = kernels.weight_gradient_groups(n, oh, ow)
    assert groups == twins.weight_gradient_groups(n, oh, ow) > 1
    for args in ((1, 1, 1), (2, 8, 8), (64, 32, 32), (1, 1, 100000), (1000, 1000, 1000)):
        assert kernels.weight_gradient_groups(*args) == twins.weight_gradient_groups(*args)


def test_grouped_cases_have_group_counts_the_threads_do_not_divide(monkeypatch):
    counts = set()
    for case in GROUPED_CASES:
        if case not in SHIPPED_GROUPS:
            monkeypatch.setattr(kernels, "WEIGHT_GROUP_PIXELS", 256)
        oh, ow = arrays(case, np.float32)[3].shape[2:]
        counts.add(kernels.weight_gradient_groups(case[0], oh, ow))
        monkeypatch.undo()
    assert {3, 5, 7} <= counts and min(counts) > 1


@pytest.mark.parametrize("isa", SUPPORTED)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GROUPED_CASES)
def test_weight_splits_and_thread_counts_give_the_same_bits(isa, dtype, case, small_groups):
    """Threads sharing the tiles of dw or the groups of pixels, 1 to 4 of them: one result,
    the twin's to rounding (channels-last inputs, and NCHW ones read through copies)."""
    x, _, _, dy = arrays(case, dtype)
    expected = weight_gradient(twins, case, x, dy)
    kernels.set_isa(isa)
    kernels.set_weight_split("tiles")
    reference = weight_gradient(kernels, case, x, dy, threads=1)
    assert_matches_twin(reference, expected, dtype)
    for split in ("tiles", "pixels"):
        kernels.set_weight_split(split)
        for threads in (1, 2, 3, 4):
            assert_same_bits(weight_gradient(kernels, case, x, dy, threads), reference)
        assert_same_bits(weight_gradient(kernels, case, x, dy, 2, layout="nchw"), reference)
    kernels.set_weight_split(None)      # chosen by timing: the same bits again
    assert_same_bits(weight_gradient(kernels, case, x, dy, 3), reference)


def test_tuning_is_recorded_and_can_be_forced():
    kernels.set_algorithm("auto")
    case = CASES[0]
    x, weight, bias, dy = arrays(case, np.float32)
    run(kernels, case, x, weight, bias, dy)
    passes = {plan["pass"] for plan in kernels.plans()}
    assert {"forward", "backward_input", "backward_weight"} <= passes
    kernels.set_tile((1, 3))
    kernels.set_isa("base")
    kernels.set_weight_split("pixels")
    run(kernels, case, x, weight, bias, dy)
    assert {(p["isa"], p["tile"]) for p in kernels.plans()} == {("base", (1, 3))}
    assert {p["split"] for p in kernels.plans()} == {None, "pixels"}


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="sse9"):
        kernels.set_isa("sse9")
    with pytest.raises(ValueError, match="NV is 1 to 4"):
        kernels.set_tile((5, 2))
    with pytest.raises(ValueError, match="algorithm"):
        kernels.set_algorithm("winograd")
    with pytest.raises(ValueError, match="split"):
        kernels.set_weight_split("channels")
    for isa in ALL_ISAS:
        if isa not in SUPPORTED:
            with pytest.raises(RuntimeError, match="does not support"):
                kernels.set_isa(isa)


def run_backward(case, x, weight, dy, threads, hwio_gradient=True):
    """(grad_x, grad_w, grad_b) from kernels.conv2d_backward, called twice (the first call of
    a shape tunes each pass on one thread; the second may run them side by side)."""
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil = case
    args = (stride[0], stride[1], top, left, dil[0], dil[1], 1)
    x, dy, weight = channels_last(x), channels_last(dy), hwio(weight)
    for _ in range(2):
        grad_x = channels_last_empty(*x.shape, x.dtype)
        grad_w = np.empty_like(weight) if hwio_gradient else np.empty(weight.shape, x.dtype)
        grad_b = np.empty(f, x.dtype)
        grad_x[...] = grad_w[...] = grad_b[...] = np.nan
        kernels.conv2d_backward(x, dy, weight, grad_x, grad_w, grad_b, *args, threads)
    return grad_x, grad_w, grad_b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_backward_side_by_side_gives_the_bits_of_one_pass_after_the_other(dtype, case):
    """conv2d_backward runs small direct passes side by side, one thread each: the same bits
    as the two passes one after the other on one thread, at any thread count, with the weight
    gradient summed in place (HWIO) or copied out (OIHW); all held to the twins."""
    x, weight, bias, dy = arrays(case, dtype)
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil = case
    _, *one_after_other = run(kernels, case, x, weight, bias, dy, threads=1)
    twin = [np.empty(x.shape, dtype), np.empty(weight.shape, dtype), np.empty(f, dtype)]
    twins.conv2d_backward(x, dy, weight, *twin, stride[0], stride[1], top, left, dil[0], dil[1],
                          1)
    for threads in (1, 2, 3):
        for hwio_gradient in (True, False):
            results = run_backward(case, x, weight, dy, threads, hwio_gradient)
            assert_same_bits(results, one_after_other)
            assert_matches_twin(results, twin, dtype)


def test_backward_of_a_small_layer_runs_side_by_side_and_says_so():
    case = CASES[0]         # the seed model's conv3
    x, weight, bias, dy = arrays(case, np.float32)
    run_backward(case, x, weight, dy, threads=2)
    ran = [plan for plan in kernels.plans() if plan["pass"] == "backward"
           and plan["shape"][:2] == (x.shape, weight.shape) and plan["threads"] == 2]
    assert ran and ran[0]["algorithm"] == "input and weight gradients side by side"
    assert ran[0]["dtype"] == "float32"
