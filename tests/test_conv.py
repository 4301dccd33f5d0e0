"""conv2d: the Cython kernels against their NumPy twins, and the op against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import minigrad
from minigrad._kernels import conv as kernels
from minigrad._kernels import conv_gemm
from minigrad._kernels.buffers import scratch
from minigrad.autograd import gradcheck
from minigrad.ops.conv import conv2d, conv2d_padding
from minigrad.reference import conv as twins
from minigrad.testing import assert_close_to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")

DTYPES = [np.float32, np.float64]
# (rtol, atol): float64 leaves room only for summation order.
TIGHT = {np.float32: (2e-4, 2e-5), np.float64: (1e-11, 1e-11)}


def output_size(size, k, stride, pad_before, pad_after, dilation):
    return (size + pad_before + pad_after - dilation * (k - 1) - 1) // stride + 1


# ----------------------------------------------------------------------------- kernels vs twins

# (N, C, H, W, F, KH, KW, stride, (top, bottom, left, right), dilation, groups, bias)
KERNEL_CASES = [
    (2, 3, 8, 8, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    (1, 3, 7, 9, 5, 3, 2, (1, 1), (0, 0, 0, 0), (1, 1), 1, True),        # batch 1, no chunking
    (3, 4, 9, 7, 6, 3, 2, (2, 1), (0, 1, 2, 2), (1, 2), 2, True),        # asymmetric padding
    (2, 4, 9, 7, 4, 3, 3, (2, 3), (1, 1, 0, 0), (2, 1), 4, False),       # depthwise, no bias
    (2, 4, 5, 5, 8, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1, True),        # pointwise, chunked
    (1, 6, 5, 6, 9, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 3, True),        # pointwise, one sample
    (5, 3, 11, 13, 5, 4, 5, (3, 2), (2, 1, 3, 0), (1, 1), 1, True),
    (2, 2, 3, 4, 3, 5, 5, (1, 2), (2, 2, 2, 3), (1, 1), 1, True),        # kernel > image
    (3, 6, 10, 6, 4, 2, 3, (1, 1), (1, 0, 1, 2), (3, 2), 2, True),       # 'same'-like, dilated
    (2, 3, 6, 6, 2, 1, 1, (2, 2), (1, 1, 0, 0), (1, 1), 1, True),        # strided 1x1, padded
    (3, 3, 9, 8, 6, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 3, True),        # depthwise x2
    (2, 4, 11, 9, 8, 4, 3, (2, 3), (2, 0, 1, 3), (2, 1), 4, True),       # depthwise, strided
    (1, 2, 3, 70, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2, True),       # depthwise, wide rows
    (2, 2, 4, 150, 4, 2, 3, (1, 2), (0, 0, 1, 1), (1, 1), 2, True),      # wide and strided
]


def run_both(case, dtype, num_threads, rng):
    n, c, h, w, f, kh, kw, stride, (top, bottom, left, right), dil, groups, has_bias = case
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((f, c // groups, kh, kw)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype) if has_bias else None
    oh = output_size(h, kh, stride[0], top, bottom, dil[0])
    ow = output_size(w, kw, stride[1], left, right, dil[1])
    grad_out = rng.standard_normal((n, f, oh, ow)).astype(dtype)
    args = (stride[0], stride[1], top, left, dil[0], dil[1], groups)
    results = {}
    for name, module, extra in (("kernel", kernels, (num_threads,)), ("twin", twins, ())):
        out = np.full((n, f, oh, ow), np.nan, dtype)
        grad_x = np.full_like(x, np.nan)
        grad_w = np.full_like(weight, np.nan)
        grad_b = np.full(f, np.nan, dtype)
        module.conv2d_forward(x, weight, bias, out, *args, *extra)
        module.conv2d_backward_input(grad_out, weight, grad_x, *args, *extra)
        module.conv2d_backward_weight(x, grad_out, grad_w, *args, *extra)
        module.conv2d_backward_bias(grad_out, grad_b, *extra)
        results[name] = (out, grad_x, grad_w, grad_b)
    return results


@pytest.fixture(params=["direct", "gemm"])
def algorithm(request):
    """Every kernel test runs twice: ungrouped convolutions take the channels-last direct
    kernels under 'direct' (but the input gradient of strided ones) and im2col + GEMM under
    'gemm'; grouped ones take im2col + GEMM or the depthwise loops both times."""
    kernels.set_algorithm(request.param)
    yield request.param
    kernels.set_algorithm("auto")


@pytest.mark.parametrize("case", KERNEL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_kernels_match_twins(case, dtype, num_threads, algorithm):
    results = run_both(case, dtype, num_threads, np.random.default_rng(0))
    rtol, atol = TIGHT[dtype]
    for name, mine, ref in zip(("out", "grad_x", "grad_w", "grad_b"), results["kernel"],
                               results["twin"]):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, ref, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("case", KERNEL_CASES[:5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_match_twins_in_small_chunks(case, dtype, monkeypatch):
    """Chunks of a few samples (not one, not all) exercise the batch <-> rows transposes."""
    monkeypatch.setattr(conv_gemm, "CHUNK_ELEMENTS", 600)
    kernels.set_algorithm("gemm")
    try:
        results = run_both(case, dtype, 2, np.random.default_rng(1))
    finally:
        kernels.set_algorithm("auto")
    rtol, atol = TIGHT[dtype]
    for mine, ref in zip(results["kernel"], results["twin"]):
        np.testing.assert_allclose(mine, ref, rtol=rtol, atol=atol)


def test_twins_match_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 8))
    weight = rng.standard_normal((6, 2, 3, 2))
    bias = rng.standard_normal(6)
    out = np.empty((2, 6, 5, 4))
    twins.conv2d_forward(x, weight, bias, out, 2, 2, 1, 1, 1, 2, 2)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias),
                        stride=2, padding=1, dilation=(1, 2), groups=2)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_scratch_buffers_are_reused(algorithm):
    buffer = {"direct": "conv_slabs", "gemm": "cols"}[algorithm]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    weight = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = np.empty((4, 5, 6, 6), np.float32)
    kernels.conv2d_forward(x, weight, None, out, 1, 1, 0, 0, 1, 1, 1, 1)
    first = scratch(buffer, out.dtype, 1)
    kernels.conv2d_forward(x, weight, None, out, 1, 1, 0, 0, 1, 1, 1, 1)
    assert np.shares_memory(first, scratch(buffer, out.dtype, 1))


# ----------------------------------------------------------------------------- op vs torch

def random_config(rng):
    """A random valid conv2d configuration: (x shape, weight shape, bias, kwargs)."""
    groups = int(rng.choice([1, 1, 2, 3]))
    depthwise = rng.random() < 0.15
    c = groups * int(rng.integers(1, 4))
    if depthwise:
        groups = c
    f = groups * int(rng.integers(1, 4))
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    kind = rng.choice(["int", "pair", "same", "valid"])
    if kind == "same":
        stride, padding = 1, "same"
    else:
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        padding = {"int": int(rng.integers(0, 3)), "valid": "valid",
                   "pair": tuple(int(p) for p in rng.integers(0, 3, size=2))}[kind]
    sides = conv2d_padding(padding, (kh, kw), stride if stride != 1 else (1, 1), dilation)
    h = max(int(rng.integers(1, 12)), dilation[0] * (kh - 1) + 1 - sides[0] - sides[1])
    w = max(int(rng.integers(1, 12)), dilation[1] * (kw - 1) + 1 - sides[2] - sides[3])
    n = int(rng.choice([1, 1, 2, 3]))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return (n, c, h, w), (f, c // groups, kh, kw), bool(rng.random() < 0.8), kwargs


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_matches_torch(seed, dtype):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, has_bias, kwargs = random_config(rng)
    inputs = [rng.standard_normal(x_shape).astype(dtype),
              rng.standard_normal(w_shape).astype(dtype)]
    if has_bias:
        inputs.append(rng.standard_normal(w_shape[0]).astype(dtype))
    rtol, atol = (1e-10, 1e-10) if dtype == np.float64 else (1e-4, 1e-4)
    assert_close_to_torch(lambda *t: conv2d(*t, **kwargs), lambda *t: F.conv2d(*t, **kwargs),
                          inputs, rtol=rtol, atol=atol)


@pytest.mark.parametrize("padding, kernel, dilation", [
    ("same", (4, 2), (1, 1)), ("same", (2, 3), (3, 1)), ("same", (5, 4), (2, 2)),
    ("valid", (3, 3), (1, 1)), ((2, 0), (3, 3), (1, 2)), (3, (1, 1), (1, 1)),
])
def test_padding_forms_match_torch(padding, kernel, dilation):
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, *kernel)),
              rng.standard_normal(4)]
    kwargs = dict(padding=padding, dilation=dilation)
    assert_close_to_torch(lambda *t: conv2d(*t, **kwargs), lambda *t: F.conv2d(*t, **kwargs),
                          inputs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_seed_model_convs_match_torch(dtype):
    rng = np.random.default_rng(5)
    for c, f, size, n in ((3, 32, 32, 1), (32, 32, 16, 4), (32, 64, 8, 3)):
        inputs = [rng.standard_normal((n, c, size, size)).astype(dtype),
                  (rng.standard_normal((f, c, 5, 5)) * 0.1).astype(dtype),
                  rng.standard_normal(f).astype(dtype)]
        rtol, atol = (1e-10, 1e-10) if dtype == np.float64 else (1e-4, 1e-4)
        assert_close_to_torch(lambda *t: conv2d(*t, padding=2),
                              lambda *t: F.conv2d(*t, padding=2), inputs, rtol=rtol, atol=atol)


def test_batch_256_matches_torch(monkeypatch):
    """26 chunks of 10 samples (the last one shorter)."""
    monkeypatch.setattr(conv_gemm, "CHUNK_ELEMENTS", 27 * 72 * 10)
    rng = np.random.default_rng(10)
    inputs = [rng.standard_normal((256, 3, 9, 8)).astype(np.float32),
              rng.standard_normal((5, 3, 3, 3)).astype(np.float32),
              rng.standard_normal(5).astype(np.float32)]
    # The weight gradient sums 18432 float32 products (values up to ~300): torch's own error
    # against float64 is ~5e-4 there, so the tolerance is relative to that scale.
    assert_close_to_torch(lambda *t: conv2d(*t, padding=1), lambda *t: F.conv2d(*t, padding=1),
                          inputs, rtol=1e-4, atol=3e-3)


def test_unbatched_input_matches_torch():
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 2)),
              rng.standard_normal(2)]
    assert_close_to_torch(lambda *t: conv2d(*t, padding=1), lambda *t: F.conv2d(*t, padding=1),
                          inputs, rtol=1e-10, atol=1e-10)


def test_non_contiguous_inputs_match_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 6, 5)).transpose(0, 1, 3, 2)  # a transposed view
    weight = rng.standard_normal((3, 4, 4, 3)).transpose(1, 0, 2, 3)
    assert_close_to_torch(lambda a, b: conv2d(a, b), lambda a, b: F.conv2d(a, b), [x, weight],
                          rtol=1e-10, atol=1e-10)


def test_batch_of_zero():
    x = minigrad.zeros(0, 3, 5, 5, requires_grad=True)
    w = minigrad.randn(4, 3, 3, 3, requires_grad=True)
    y = conv2d(x, w, minigrad.zeros(4, requires_grad=True))
    assert y.shape == (0, 4, 3, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    assert np.all(w.grad.array == 0)


def test_grad_fn_name_and_skipped_input_grad():
    x = minigrad.randn(2, 3, 6, 6)
    w = minigrad.randn(4, 3, 3, 3, requires_grad=True)
    y = conv2d(x, w)
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0"
    y.sum().backward()
    assert x.grad is None and w.grad is not None


@pytest.mark.parametrize("shape", [(2, 3, 6, 6), (3, 6, 6)])
def test_in_place_change_of_saved_input_raises(shape):
    x = minigrad.randn(*shape, requires_grad=True)
    y = conv2d(x, minigrad.randn(2, 3, 3, 3, requires_grad=True))
    with minigrad.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_gradcheck_float64():
    rng = np.random.default_rng(8)
    x = minigrad.tensor(rng.standard_normal((2, 4, 5, 4)), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                            dilation=(1, 2), groups=2), (x, w, b))


@pytest.mark.parametrize("groups", [1, 2])
def test_threads_give_the_same_bits(groups):
    """Forward, input, weight and bias gradients: bit for bit the same at 1, 2 and 3 threads."""
    rng = np.random.default_rng(9)
    x0 = rng.standard_normal((3, 4, 9, 9)).astype(np.float32)
    w0 = rng.standard_normal((6, 4 // groups, 3, 3)).astype(np.float32)
    results = []
    before = minigrad.get_num_threads()
    try:
        for threads in (1, 2, 3):
            minigrad.set_num_threads(threads)
            x = minigrad.tensor(x0, requires_grad=True)
            w = minigrad.tensor(w0, requires_grad=True)
            b = minigrad.zeros(6, requires_grad=True)
            y = conv2d(x, w, b, padding=1, groups=groups)
            (y * y).sum().backward()
            results.append([y.array, x.grad.array, w.grad.array, b.grad.array])
    finally:
        minigrad.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- bad input

def t(*shape, dtype=np.float32):
    return minigrad.tensor(np.zeros(shape, dtype=dtype))


BAD_INPUTS = [
    ("2-D input", lambda: conv2d(t(8, 8), t(6, 4, 3, 3)), RuntimeError, "Expected 3D"),
    ("5-D input", lambda: conv2d(t(1, 2, 4, 8, 8), t(6, 4, 3, 3)), RuntimeError, "[1, 2, 4, 8, 8]"),
    ("3-D weight", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3)), RuntimeError, "[6, 4, 3]"),
    ("channels", lambda: conv2d(t(2, 4, 8, 8), t(6, 3, 3, 3)), RuntimeError, "to have 3 channels"),
    ("groups vs channels", lambda: conv2d(t(2, 4, 8, 8), t(6, 2, 3, 3), groups=3), RuntimeError,
     "to have 6 channels"),
    ("groups vs filters", lambda: conv2d(t(2, 4, 8, 8), t(5, 2, 3, 3), groups=2), RuntimeError,
     "divisible by 2"),
    ("groups 0", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), groups=0), RuntimeError,
     "non-positive groups"),
    ("empty image", lambda: conv2d(t(1, 3, 0, 5), t(2, 3, 1, 1), padding=2), RuntimeError,
     "Only zero batch or zero channel"),
    ("too small", lambda: conv2d(t(1, 4, 2, 2), t(6, 4, 3, 3)), RuntimeError, "(2 x 2)"),
    ("too small dilated", lambda: conv2d(t(1, 4, 4, 4), t(6, 4, 3, 3), dilation=2),
     RuntimeError, "Kernel size: (5 x 5)"),
    ("stride 0", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), stride=0), RuntimeError,
     "non-positive stride"),
    ("stride -1", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), stride=(1, -1)), RuntimeError,
     "non-positive stride"),
    ("dilation 0", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), dilation=0), RuntimeError,
     "non-positive dilation"),
    ("negative padding", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), padding=-1), RuntimeError,
     "negative padding"),
    ("padding string", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), padding="foo"),
     RuntimeError, "Invalid padding string: 'foo'"),
    ("same with stride", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), padding="same", stride=2),
     RuntimeError, "strided"),
    ("three strides", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), stride=(1, 1, 1)),
     RuntimeError, "list of 2 values"),
    ("float stride", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), stride=1.5), TypeError,
     "stride"),
    ("dtype", lambda: conv2d(t(2, 4, 8, 8, dtype=np.float64), t(6, 4, 3, 3)), RuntimeError,
     "Input type (double) and weight type (float)"),
    ("bias dtype", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), t(6, dtype=np.float64)),
     RuntimeError, "bias type (double)"),
    ("bias shape", lambda: conv2d(t(2, 4, 8, 8), t(6, 4, 3, 3), t(5)), RuntimeError,
     "with 6 elements"),
    ("integer input", lambda: conv2d(t(2, 4, 8, 8, dtype=np.int64), t(6, 4, 3, 3, dtype=np.int64)),
     RuntimeError, "int64"),
    ("not a tensor", lambda: conv2d(np.zeros((2, 4, 8, 8)), t(6, 4, 3, 3)), TypeError, "Tensor"),
]


@pytest.mark.parametrize("name, call, error, text", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises(name, call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)


def test_bad_input_raises_torchs_exception_types():
    """The same mistakes make torch raise the same exception types."""
    x, w = torch.zeros(2, 4, 8, 8), torch.zeros(6, 4, 3, 3)
    for call in (lambda: F.conv2d(x, torch.zeros(6, 3, 3, 3)),
                 lambda: F.conv2d(torch.zeros(1, 4, 2, 2), w),
                 lambda: F.conv2d(x, w, stride=0), lambda: F.conv2d(x, w, padding=-1),
                 lambda: F.conv2d(x, w, padding="foo"),
                 lambda: F.conv2d(x, w, padding="same", stride=2),
                 lambda: F.conv2d(x.double(), w)):
        with pytest.raises(RuntimeError):
            call()


def test_conv2d_weight_gradient_keeps_the_weight_layout():
    """Conv2d stores its weight (KH, KW, C, F) in memory; the gradient the engine stores is laid
    out alike (as torch's gradients follow their parameter's memory format), so the optimizer
    updates both element by element without a copy."""
    layer = minigrad.nn.Conv2d(3, 8, 3, padding=1)
    layer(minigrad.randn(2, 3, 6, 6)).sum().backward()
    assert layer.weight.grad.array.strides == layer.weight.array.strides
    assert not layer.weight.array.flags.c_contiguous
    expected = layer.weight.array - 0.1 * layer.weight.grad.array
    minigrad.optim.SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_allclose(layer.weight.array, expected, rtol=1e-6)


# ----------------------------------------------------------------------------- edge inputs
# What a fuzzer found (issue 12): integers past the kernels' int32 ended in a bare
# OverflowError, absurd paddings in numpy's allocation errors.

@pytest.mark.parametrize("kwargs, kernel", [
    (dict(stride=2 ** 31), (2, 2)), (dict(stride=2 ** 62), (3, 2)),
    (dict(stride=(2 ** 40, 1)), (2, 2)), (dict(stride=(1, 2 ** 31 + 5)), (1, 3)),
    (dict(stride=2 ** 31 - 1), (2, 2)), (dict(dilation=2 ** 62), (1, 1)),
    (dict(dilation=(2 ** 31, 1), groups=2), (1, 2)),
])
def test_huge_strides_and_dilations_that_change_nothing_work_as_torch(kwargs, kernel):
    rng = np.random.default_rng(30)
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((4, 4 // kwargs.get("groups", 1)) + kernel)
    assert_close_to_torch(lambda a, b: conv2d(a, b, **kwargs),
                          lambda a, b: F.conv2d(a, b, **kwargs), [x, w])


def test_huge_integer_arguments_name_themselves():
    x, w = minigrad.zeros(1, 1, 4, 4), minigrad.zeros(1, 1, 2, 2)
    tx, tw = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 2, 2)
    for kwargs, error, name in [(dict(padding=2 ** 31), RuntimeError, "padding"),
                                (dict(stride=2 ** 63), ValueError, "stride"),
                                (dict(padding=(1, 2 ** 64)), TypeError, "padding"),
                                (dict(dilation=-2 ** 63 - 1), ValueError, "dilation"),
                                (dict(groups=2 ** 63), ValueError, "groups")]:
        with pytest.raises(error, match=name):
            conv2d(x, w, **kwargs)
        with pytest.raises(error):
            F.conv2d(tx, tw, **kwargs)


def test_an_absurd_padding_is_torchs_allocation_error():
    """An output of 2**21 x 2**21 pixels: torch's allocator refuses with a RuntimeError, and
    so does minigrad (not numpy's MemoryError or 'array is too big')."""
    for padding in (2 ** 20, 2 ** 30):
        with pytest.raises(RuntimeError, match="allocate"):
            conv2d(minigrad.zeros(1, 1, 4, 4), minigrad.zeros(1, 1, 2, 2), padding=padding)
        with pytest.raises(RuntimeError):
            F.conv2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 2, 2), padding=padding)


# (input shape, weight shape, bias, conv2d keyword arguments)
GRADCHECK_CONFIGS = [
    ((1, 3, 5, 4), (2, 3, 3, 3), True, dict(padding=1)),                   # direct, padded
    ((2, 2, 6, 5), (3, 2, 2, 3), False, dict(stride=2)),                   # strided, no bias
    ((1, 2, 7, 6), (2, 2, 3, 2), True, dict(dilation=(2, 1), padding=(2, 0))),
    ((1, 4, 5, 5), (4, 1, 3, 3), True, dict(groups=4, padding=1)),         # depthwise
    ((2, 3, 4, 4), (4, 3, 1, 1), True, dict()),                            # pointwise
    ((3, 5, 4), (2, 3, 2, 2), True, dict(padding="same")),                 # unbatched, 'same'
    ((1, 2, 6, 6), (2, 2, 3, 3), True, dict(stride=(2, 3), padding=(1, 2))),
]


@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", GRADCHECK_CONFIGS)
def test_gradcheck_float64_configurations(x_shape, w_shape, bias, kwargs):
    rng = np.random.default_rng(9)
    inputs = [minigrad.tensor(rng.standard_normal(s), requires_grad=True)
              for s in (x_shape, w_shape) + ((w_shape[0],) if bias else ())]
    assert gradcheck(lambda x, w, *b: conv2d(x, w, *b, **kwargs), inputs)


@pytest.mark.parametrize("c, f, size, stride, kernel, expected", [
    (32, 32, 16, 1, 5, {"forward": "direct", "backward_input": "direct",
                        "backward_weight": "direct"}),
    (3, 32, 16, 1, 5, {"forward": "direct", "backward_input": "im2col + GEMM",
                       "backward_weight": "direct"}),     # 3 input channels: dx by GEMM
    (16, 32, 16, 2, 3, {"forward": "direct", "backward_input": "im2col + GEMM",
                        "backward_weight": "direct"}),    # strided: dx by GEMM
    (256, 512, 4, 1, 3, {"forward": "im2col + GEMM", "backward_input": "im2col + GEMM",
                         "backward_weight": "im2col + GEMM"}),  # 4.5 MB of weights
])
def test_each_pass_takes_the_path_its_shapes_call_for(c, f, size, stride, kernel, expected):
    """The choice between the direct kernels and im2col + GEMM is a rule of the shapes
    (kernels/conv.pyx path_for), the same every run."""
    x = minigrad.randn(2, c, size, size, requires_grad=True)
    w = minigrad.randn(f, c, kernel, kernel, requires_grad=True)
    conv2d(x, w, stride=stride, padding=kernel // 2).sum().backward()
    ran = {p["pass"]: p["algorithm"] for p in kernels.plans()
           if p["shape"][0] in ((2, c, size, size),) and p["shape"][1] == (f, c, kernel, kernel)}
    assert ran == expected


@pytest.mark.parametrize("stride, padding", [(True, 1), (1.0, 1), (1, True), (1, 1.0)])
def test_conv2d_checks_arguments_that_equal_a_remembered_call(stride, padding):
    """conv2d remembers the checked geometry of a call (shapes, dtypes, window); an argument
    equal to a remembered one but of another type (True == 1, 1.0 == 1) is still refused, as
    torch refuses it."""
    for lib in (minigrad, torch):
        x, w = lib.ones(1, 2, 5, 5), lib.ones(3, 2, 3, 3)
        lib.nn.functional.conv2d(x, w, None, 1, 1)
        with pytest.raises(TypeError):
            lib.nn.functional.conv2d(x, w, None, stride, padding)


def test_conv2d_remembered_geometry_still_checks_the_bias_and_dtypes():
    x, w = minigrad.ones(1, 2, 5, 5), minigrad.ones(3, 2, 3, 3)
    minigrad.nn.functional.conv2d(x, w, minigrad.ones(3), 1, 1)
    with pytest.raises(RuntimeError, match="bias"):
        minigrad.nn.functional.conv2d(x, w, minigrad.ones(4), 1, 1)
    with pytest.raises(RuntimeError, match="should be the same"):
        minigrad.nn.functional.conv2d(x, w.double(), minigrad.ones(3), 1, 1)
