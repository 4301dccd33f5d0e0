"""Pooling: kernels/pool.pyx against its NumPy twin, and minigrad.ops.pool against torch.

Kernel tests run both dtypes, 1 and 2 threads and odd shapes; op tests draw many random
window configurations (kernel, stride, padding, dilation, ceil_mode, count_include_pad,
divisor_override, unbatched input) and compare forward values, indices and input gradients.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import minigrad
from minigrad._kernels import pool as kernel
from minigrad.autograd import gradcheck
from minigrad.ops import pool
from minigrad.ops.pool import pool_output_size
from minigrad.reference import pool as twin
from minigrad.testing import assert_close_to_torch

DTYPES = [np.float32, np.float64]
EXACT = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}


def random_window(rng, dilation=True):
    """A valid (kernel, stride, padding, dilation, ceil_mode) per torch's rules."""
    k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if dilation else (1, 1)
    return k, s, p, d, bool(rng.integers(0, 2))


def random_input(rng, dtype, k, s, p, d, ceil_mode, batch=None):
    """An (N, C, H, W) array large enough for the window."""
    need = [(kk - 1) * dd + 1 - 2 * pp for kk, pp, dd in zip(k, p, d)]
    H, W = (max(n, 1) + int(rng.integers(0, 7)) for n in need)
    N = int(rng.integers(1, 4)) if batch is None else batch
    C = int(rng.integers(1, 4))
    shape = (N, C, H, W)
    assert min(pool_output_size(n, kk, ss, pp, dd, ceil_mode)
               for n, kk, ss, pp, dd in zip((H, W), k, s, p, d)) >= 1
    return rng.standard_normal(shape).astype(dtype)


def has_empty_window(x, k, s, p, d, ceil_mode):
    """Whether some max-pool window has every tap in the padding (dilation makes it possible).

    torch gives -inf there and an index that its own backward follows into a neighbouring
    plane, so such configurations are compared on forward values and indices only."""
    for size, kk, ss, pp, dd in zip(x.shape[-2:], k, s, p, d):
        for o in range(pool_output_size(size, kk, ss, pp, dd, ceil_mode)):
            if not any(0 <= o * ss - pp + i * dd < size for i in range(kk)):
                return True
    return False


def out_shape(x, k, s, p, d, ceil_mode):
    return x.shape[:2] + tuple(pool_output_size(n, kk, ss, pp, dd, ceil_mode)
                               for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d))


# ----------------------------------------------------------------------------- kernels vs twins

def pixels(x):
    """(N, C, H, W) -> the (N, H, W, C) C-contiguous layout of the kernels."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def pixel_shape(shape):
    return (shape[0], shape[2], shape[3], shape[1])


SUPPORTED_ISAS = kernel.supported_isas()


@pytest.fixture(params=SUPPORTED_ISAS)
def isa(request):
    """Every kernel test runs with each instruction set this CPU has."""
    kernel.set_isa(request.param)
    yield request.param
    kernel.set_isa(None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_max_pool_kernel_matches_twin(dtype, threads, isa):
    rng = np.random.default_rng(1)
    for trial in range(25):
        k, s, p, d, ceil_mode = random_window(rng)
        x = random_input(rng, dtype, k, s, p, d, ceil_mode)
        if trial == 0:  # enough work for the kernels to use the threads
            k, s, p, d, ceil_mode = (3, 3), (1, 1), (1, 1), (1, 1), False
            x = rng.standard_normal((3, 8, 48, 48)).astype(dtype)
        if trial == 1:  # the seed model's 2x2 pool, with channels for whole vectors
            k, s, p, d, ceil_mode = (2, 2), (2, 2), (0, 0), (1, 1), False
            x = rng.standard_normal((2, 32, 9, 8)).astype(dtype)
        if rng.random() < 0.3:  # ties and NaNs exercise the first-max / last-NaN rules
            x = np.round(x).astype(dtype)
            x.flat[rng.integers(0, x.size, 3)] = np.nan
        shape = pixel_shape(out_shape(x, k, s, p, d, ceil_mode))
        out, codes = np.empty(shape, dtype), np.empty(shape, np.int32)
        ref_out, ref_codes = np.empty(shape, dtype), np.empty(shape, np.int32)
        kernel.max_pool2d_forward(pixels(x), out, codes, *k, *s, *p, *d, threads)
        twin.max_pool2d_forward(pixels(x), ref_out, ref_codes, *k, *s, *p, *d)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(codes, ref_codes)
        grad_out = rng.standard_normal(shape).astype(dtype)
        grad_x = np.full(pixel_shape(x.shape), 7, dtype)  # the kernel overwrites, not adds
        ref_grad_x = np.empty(pixel_shape(x.shape), dtype)
        kernel.max_pool2d_backward(grad_out, codes, grad_x, *k, *s, *p, *d, threads)
        twin.max_pool2d_backward(grad_out, ref_codes, ref_grad_x, *k, *s, *p, *d)
        np.testing.assert_allclose(grad_x, ref_grad_x, **EXACT[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_max_pool_2x2_matches_twin(dtype, threads, isa):
    """The seed model's 2x2 stride-2 pool: channel counts with and without a vector tail, odd
    sizes (last row/column unused), ties, NaNs and -inf."""
    rng = np.random.default_rng(5)
    for shape in [(1, 1, 2, 2), (2, 3, 7, 9), (1, 19, 5, 4), (3, 32, 16, 16), (4, 33, 9, 10)]:
        x = np.round(rng.standard_normal(shape) * 2).astype(dtype)  # many ties
        x.flat[rng.integers(0, x.size, 1 + x.size // 20)] = np.nan
        x.flat[rng.integers(0, x.size, 1 + x.size // 20)] = -np.inf
        out_pixels = (shape[0], shape[2] // 2, shape[3] // 2, shape[1])
        out, codes = np.empty(out_pixels, dtype), np.empty(out_pixels, np.int32)
        ref_out, ref_codes = np.empty(out_pixels, dtype), np.empty(out_pixels, np.int32)
        kernel.max_pool2d_forward(pixels(x), out, codes, 2, 2, 2, 2, 0, 0, 1, 1, threads)
        twin.max_pool2d_forward(pixels(x), ref_out, ref_codes, 2, 2, 2, 2, 0, 0, 1, 1)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(codes, ref_codes)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_avg_pool_kernel_matches_twin(dtype, threads, isa):
    rng = np.random.default_rng(2)
    for trial in range(25):
        k, s, p, d, ceil_mode = random_window(rng, dilation=False)
        x = random_input(rng, dtype, k, s, p, d, ceil_mode)
        if trial == 0:  # enough work for the kernels to use the threads
            k, s, p, d, ceil_mode = (3, 3), (1, 1), (1, 1), (1, 1), False
            x = rng.standard_normal((3, 8, 48, 48)).astype(dtype)
        include_pad = bool(rng.integers(0, 2))
        divisor = int(rng.choice([0, 0, 3, -2]))
        shape = pixel_shape(out_shape(x, k, s, p, d, ceil_mode))
        out, ref_out = np.empty(shape, dtype), np.empty(shape, dtype)
        kernel.avg_pool2d_forward(pixels(x), out, *k, *s, *p, include_pad, divisor, threads)
        twin.avg_pool2d_forward(pixels(x), ref_out, *k, *s, *p, include_pad, divisor)
        np.testing.assert_allclose(out, ref_out, **EXACT[dtype])
        grad_out = rng.standard_normal(shape).astype(dtype)
        grad_x = np.full(pixel_shape(x.shape), 7, dtype)
        ref_grad_x = np.empty(pixel_shape(x.shape), dtype)
        kernel.avg_pool2d_backward(grad_out, grad_x, *k, *s, *p, include_pad, divisor, threads)
        twin.avg_pool2d_backward(grad_out, ref_grad_x, *k, *s, *p, include_pad, divisor)
        np.testing.assert_allclose(grad_x, ref_grad_x, **EXACT[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_adaptive_avg_pool_kernel_matches_twin(dtype, threads, isa):
    rng = np.random.default_rng(3)
    for trial in range(20):
        N, C = rng.integers(1, 4, 2)
        H, W = rng.integers(1, 12, 2)
        OH, OW = rng.integers(1, 2 * H + 1), rng.integers(1, 2 * W + 1)
        if trial == 0:  # enough work for the kernels to use the threads
            N, C, H, W, OH, OW = 4, 8, 48, 45, 7, 10
        x = rng.standard_normal((N, H, W, C)).astype(dtype)
        out, ref_out = np.empty((N, OH, OW, C), dtype), np.empty((N, OH, OW, C), dtype)
        kernel.adaptive_avg_pool2d_forward(x, out, threads)
        twin.adaptive_avg_pool2d_forward(x, ref_out)
        np.testing.assert_allclose(out, ref_out, **EXACT[dtype])
        grad_out = rng.standard_normal(out.shape).astype(dtype)
        grad_x, ref_grad_x = np.full(x.shape, 7, dtype), np.empty(x.shape, dtype)
        kernel.adaptive_avg_pool2d_backward(grad_out, grad_x, threads)
        twin.adaptive_avg_pool2d_backward(grad_out, ref_grad_x)
        np.testing.assert_allclose(grad_x, ref_grad_x, **EXACT[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_give_the_same_bits_at_any_thread_count(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 10, 12, 24)).astype(dtype)
    dy = rng.standard_normal((3, 5, 6, 24)).astype(dtype)
    dy_overlap = rng.standard_normal((3, 9, 11, 24)).astype(dtype)
    results = []
    for threads in (1, 2, 3):
        out, codes = np.empty(dy.shape, dtype), np.empty(dy.shape, np.int32)
        kernel.max_pool2d_forward(x, out, codes, 2, 2, 2, 2, 0, 0, 1, 1, threads)
        dx = np.empty_like(x)
        kernel.max_pool2d_backward(dy, codes, dx, 2, 2, 2, 2, 0, 0, 1, 1, threads)
        avg_dx = np.empty_like(x)
        kernel.avg_pool2d_backward(dy_overlap, avg_dx, 3, 3, 1, 1, 1, 1, True, 0, threads)
        results.append((out, codes, dx, avg_dx))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_kernels_accept_empty_batch():
    x = np.zeros((0, 4, 4, 3), np.float32)
    out, codes = np.empty((0, 2, 2, 3), np.float32), np.empty((0, 2, 2, 3), np.int32)
    kernel.max_pool2d_forward(x, out, codes, 2, 2, 2, 2, 0, 0, 1, 1, 2)
    kernel.max_pool2d_backward(out, codes, x, 2, 2, 2, 2, 0, 0, 1, 1, 2)
    kernel.avg_pool2d_forward(x, out, 2, 2, 2, 2, 0, 0, True, 0, 2)
    kernel.adaptive_avg_pool2d_forward(x, out, 2)


# ----------------------------------------------------------------------------- ops vs torch

def tensor(x, requires_grad=True):
    return minigrad.Tensor(x.copy(), requires_grad=requires_grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_matches_torch(dtype):
    rng = np.random.default_rng(10)
    for trial in range(40):
        k, s, p, d, ceil_mode = random_window(rng)
        x = random_input(rng, dtype, k, s, p, d, ceil_mode, batch=1 if trial % 5 == 0 else None)
        if trial % 4 == 0:
            x = x[0]  # unbatched (C, H, W)
        stride = None if trial % 3 == 0 and s == k else s

        def mg(t):
            return pool.max_pool2d(t, k, stride, p, d, ceil_mode, return_indices=True)

        def th(t):
            return F.max_pool2d(t, k, stride, p, d, ceil_mode, return_indices=True)

        if has_empty_window(x, k, s, p, d, ceil_mode):  # -inf outputs: compare exactly
            for mine, theirs in zip(mg(tensor(x)), th(torch.tensor(x))):
                np.testing.assert_array_equal(mine.array, theirs.numpy())
        else:
            assert_close_to_torch(mg, th, [x])


def test_max_pool_window_all_in_padding():
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 1))
    args = ((1, 2), (3, 3), (0, 1), (2, 2))
    x_mg = tensor(x)
    mine, mine_idx = pool.max_pool2d(x_mg, *args, return_indices=True)
    theirs, their_idx = F.max_pool2d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(mine.array, theirs.numpy())
    np.testing.assert_array_equal(mine_idx.array, their_idx.numpy())
    mine.sum().backward()  # index 4 lies outside the 4x1 plane: skipped, not spilled over
    np.testing.assert_array_equal(x_mg.grad.array[:, :, :, 0], [[[0, 1, 0, 0]] * 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_matches_torch(dtype):
    rng = np.random.default_rng(11)
    for trial in range(40):
        k, s, p, d, ceil_mode = random_window(rng, dilation=False)
        x = random_input(rng, dtype, k, s, p, d, ceil_mode)
        if trial % 4 == 0:
            x = x[0]
        include_pad = bool(rng.integers(0, 2))
        divisor = [None, None, 3, -2][trial % 4]

        def mg(t):
            return pool.avg_pool2d(t, k, s, p, ceil_mode, include_pad, divisor)

        def th(t):
            return F.avg_pool2d(t, k, s, p, ceil_mode, include_pad, divisor)

        assert_close_to_torch(mg, th, [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool2d_matches_torch(dtype):
    rng = np.random.default_rng(12)
    for trial in range(30):
        H, W = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        x = rng.standard_normal((int(rng.integers(1, 4)), 3, H, W)).astype(dtype)
        if trial % 4 == 0:
            x = x[0]
        size = [int(rng.integers(1, 2 * H + 1)), (int(rng.integers(1, 9)), None),
                (int(rng.integers(1, 9)), int(rng.integers(1, 9)))][trial % 3]
        assert_close_to_torch(lambda t: pool.adaptive_avg_pool2d(t, size),
                              lambda t: F.adaptive_avg_pool2d(t, size), [x])


def test_seed_model_pool_shapes():
    for shape in [(1, 32, 32, 32), (4, 32, 16, 16), (2, 64, 8, 8)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        assert_close_to_torch(lambda t: pool.max_pool2d(t, 2), lambda t: F.max_pool2d(t, 2), [x])


def test_max_pool_non_contiguous_input_and_nan():
    x = np.random.default_rng(5).standard_normal((2, 6, 9, 3)).transpose(0, 3, 1, 2)
    assert not x.flags.c_contiguous
    assert_close_to_torch(lambda t: pool.max_pool2d(t, 3, 2, 1),
                          lambda t: F.max_pool2d(t, 3, 2, 1), [x])
    x = np.array([[[[1.0, np.nan, 2.0, np.nan], [0.0, 5.0, -1.0, 3.0]]]])
    mine, mine_idx = pool.max_pool2d(tensor(x), 2, return_indices=True)
    theirs, their_idx = F.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(mine_idx.array, their_idx.numpy())
    np.testing.assert_array_equal(mine.array, theirs.numpy())


def test_pool_gradcheck_float64():
    rng = np.random.default_rng(6)
    x = tensor(rng.standard_normal((1, 2, 5, 6)))  # distinct values: max is differentiable
    assert gradcheck(lambda t: pool.max_pool2d(t, 3, 2, 1, ceil_mode=True), [x])
    assert gradcheck(lambda t: pool.avg_pool2d(t, 3, 2, 1, True, False), [x])
    assert gradcheck(lambda t: pool.adaptive_avg_pool2d(t, (4, 3)), [x])


def test_pool_grad_fn_names():
    x = tensor(np.ones((1, 1, 4, 4), np.float32))
    assert type(pool.max_pool2d(x, 2).grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    assert type(pool.avg_pool2d(x, 2).grad_fn).__name__ == "AvgPool2DBackward0"
    assert type(pool.adaptive_avg_pool2d(x, 1).grad_fn).__name__ == "AdaptiveAvgPool2DBackward0"


def test_pool_uses_the_thread_count():
    x = np.random.default_rng(7).standard_normal((2, 8, 9, 9)).astype(np.float32)
    previous = minigrad.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            minigrad.set_num_threads(n)
            results.append(pool.max_pool2d(tensor(x, False), 3, 2, 1).array)
        np.testing.assert_array_equal(*results)
    finally:
        minigrad.set_num_threads(previous)


# ----------------------------------------------------------------------------- bad input

def raises_like_torch(mg_call, torch_call, error):
    """Both frameworks raise ``error``."""
    with pytest.raises(error):
        torch_call()
    with pytest.raises(error):
        mg_call()


X = np.random.default_rng(8).standard_normal((2, 3, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("args, kwargs", [
    ((0,), {}),                             # kernel 0 (stride defaults to it)
    ((0, 1), {}),                           # kernel 0
    ((2, 0), {}),                           # stride 0
    ((-1,), {}),                            # negative kernel
    ((2,), dict(dilation=0)),               # dilation 0
    ((2,), dict(padding=2)),                # padding above half the kernel
    ((3,), dict(padding=2, dilation=3)),    # ... of the kernel, not the dilated one
    ((9,), {}),                             # output size 0
    (((1, 2, 3),), {}),                     # three kernel sizes
])
def test_max_pool_bad_arguments(args, kwargs):
    raises_like_torch(lambda: pool.max_pool2d(tensor(X), *args, **kwargs),
                      lambda: F.max_pool2d(torch.tensor(X), *args, **kwargs), RuntimeError)


@pytest.mark.parametrize("args, kwargs", [
    ((0,), {}), ((2, 0), {}), ((2,), dict(padding=2)), ((9,), {}),
    ((2,), dict(divisor_override=0)),
])
def test_avg_pool_bad_arguments(args, kwargs):
    raises_like_torch(lambda: pool.avg_pool2d(tensor(X), *args, **kwargs),
                      lambda: F.avg_pool2d(torch.tensor(X), *args, **kwargs), RuntimeError)


def test_pool_bad_inputs():
    for shape in [(8, 8), (1, 2, 3, 8, 8), (1, 2, 0, 8)]:
        x = np.zeros(shape, np.float32)
        raises_like_torch(lambda: pool.max_pool2d(tensor(x), 2),
                          lambda: F.max_pool2d(torch.tensor(x), 2), RuntimeError)
    pool.max_pool2d(tensor(X), 2)  # a cached valid window must not let 2.0 through
    raises_like_torch(lambda: pool.max_pool2d(tensor(X), 2.0),
                      lambda: F.max_pool2d(torch.tensor(X), 2.0), TypeError)
    raises_like_torch(lambda: pool.adaptive_avg_pool2d(tensor(X), -1),
                      lambda: F.adaptive_avg_pool2d(torch.tensor(X), -1), RuntimeError)
    raises_like_torch(lambda: pool.adaptive_avg_pool2d(tensor(X), (1, 2, 3)),
                      lambda: F.adaptive_avg_pool2d(torch.tensor(X), (1, 2, 3)), RuntimeError)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        pool.max_pool2d(tensor(X[:, :, :2, :2]), 3)
    with pytest.raises(RuntimeError, match="pad should be"):
        pool.max_pool2d(tensor(X), 2, padding=2)


# ----------------------------------------------------------------------------- edge inputs
# What a fuzzer found (issue 12): an out-of-bounds read, integers torch pools, huge arguments.

@pytest.mark.parametrize("shape", [(1, 2, 0, 4), (1, 2, 3, 0), (2, 0, 5), (3, 4, 0)])
def test_adaptive_pool_refuses_empty_planes_as_torch(shape):
    """A window over an empty axis averages nothing (the kernel formed addresses past the
    input): torch refuses, naming the empty dimension."""
    x = np.zeros(shape, np.float32)
    raises_like_torch(lambda: pool.adaptive_avg_pool2d(tensor(x), 2),
                      lambda: F.adaptive_avg_pool2d(torch.tensor(x), 2), RuntimeError)
    with pytest.raises(RuntimeError, match=f"dimension {len(shape) - 2 + (shape[-1] == 0)} "
                                           "being empty"):
        pool.adaptive_avg_pool2d(tensor(x), 2)


@pytest.mark.parametrize("shape, size", [((1, 0, 3, 4), 2), ((0, 2, 3, 4), 2),
                                         ((0, 3, 4), 2), ((1, 2, 3, 4), 0), ((2, 3, 4), (0, 2))])
def test_adaptive_pool_of_empty_batches_and_outputs_as_torch(shape, size):
    x = np.random.default_rng(0).standard_normal(shape)
    # (torch's own backward refuses the empty gradient: forward only)
    assert_close_to_torch(lambda t: pool.adaptive_avg_pool2d(t, size),
                          lambda t: F.adaptive_avg_pool2d(t, size), [x], grad=False)


def integer_cases(rng, count):
    for trial in range(count):
        k, s, p, d, ceil_mode = random_window(rng)
        x = random_input(rng, np.float64, k, s, p, d, ceil_mode)
        dtype = [np.int64, np.int32, np.int16, np.int8, np.uint8][trial % 5]
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, x.shape, dtype=dtype, endpoint=True)
        if trial % 3 == 0:  # ties, and the dtype's extremes (the padding value among them)
            values = rng.choice(np.array([info.min, info.min + 1, 0, info.max], dtype), x.shape)
        yield values, (k, s, p, d, ceil_mode), trial


def test_integer_max_pool_matches_torch():
    """torch max-pools every integer dtype (the first maximum, padding as the lowest value):
    values and indices equal."""
    for x, (k, s, p, d, ceil_mode), trial in integer_cases(np.random.default_rng(20), 150):
        x = x[0] if trial % 4 == 0 else x  # unbatched too
        mine = pool.max_pool2d(tensor(x), k, s, p, d, ceil_mode, return_indices=True)
        theirs = F.max_pool2d(torch.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
        for a, b in zip(mine, theirs):
            assert a.dtype == b.numpy().dtype
            np.testing.assert_array_equal(a.array, b.numpy())
        assert not mine[0].requires_grad


def test_integer_avg_pool_matches_torch():
    """torch average-pools int64 (the int64 window sum, wrapping, divided with truncation)."""
    rng = np.random.default_rng(21)
    for trial in range(150):
        k, s, p, _, ceil_mode = random_window(rng, dilation=False)
        x = random_input(rng, np.float64, k, s, p, (1, 1), ceil_mode)
        x = rng.integers(-50, 50, x.shape) if trial % 3 else rng.choice(
            np.array([-2 ** 63, 2 ** 62, -7, 5, 2 ** 63 - 1]), x.shape)
        kw = dict(ceil_mode=ceil_mode, count_include_pad=bool(trial % 2),
                  divisor_override=[None, 3, -2, 2 ** 40][trial % 4])
        mine = pool.avg_pool2d(tensor(x), k, s, p, **kw)
        theirs = F.avg_pool2d(torch.tensor(x), k, s, p, **kw)
        assert mine.dtype == np.int64
        np.testing.assert_array_equal(mine.array, theirs.numpy())


@pytest.mark.parametrize("op, dtype", [("max_pool2d", np.bool_), ("avg_pool2d", np.int32),
                                       ("avg_pool2d", np.uint8), ("avg_pool2d", np.bool_),
                                       ("adaptive_avg_pool2d", np.int64)])
def test_pools_refuse_dtypes_as_torch(op, dtype):
    x = np.ones((1, 1, 4, 4), dtype)
    raises_like_torch(lambda: getattr(pool, op)(tensor(x), 2),
                      lambda: getattr(F, op)(torch.tensor(x), 2), NotImplementedError)


@pytest.mark.parametrize("name", ["kernel_size", "stride", "padding", "dilation"])
@pytest.mark.parametrize("value, error", [(2 ** 31, RuntimeError), (-2 ** 31 - 1, RuntimeError),
                                          (2 ** 63, ValueError), (2 ** 70, ValueError)])
def test_huge_window_arguments_name_themselves(name, value, error):
    """torch keeps these in C ints; so do the kernels: a clear error naming the argument, never
    a bare OverflowError from a kernel."""
    kwargs = dict(kernel_size=2, stride=2, padding=0, dilation=1)
    kwargs[name] = value
    x = tensor(X)
    with pytest.raises(error, match=name):
        pool.max_pool2d(x, **kwargs)
    with pytest.raises(error):
        F.max_pool2d(torch.tensor(X), **kwargs)
    if name != "dilation":
        kwargs.pop("dilation")
        with pytest.raises(error, match=name):
            pool.avg_pool2d(x, **kwargs)
        with pytest.raises(error):
            F.avg_pool2d(torch.tensor(X), **kwargs)


def test_divisor_override_is_an_int64_as_torch():
    for divisor in (2 ** 31, -3, 2 ** 62, -2 ** 63):
        assert_close_to_torch(lambda t: pool.avg_pool2d(t, 2, divisor_override=divisor),
                              lambda t: F.avg_pool2d(t, 2, divisor_override=divisor),
                              [X.astype(np.float64)])
    for divisor in (2 ** 63, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="divisor_override"):
            pool.avg_pool2d(tensor(X), 2, divisor_override=divisor)
        with pytest.raises(ValueError):
            F.avg_pool2d(torch.tensor(X), 2, divisor_override=divisor)


def test_huge_sizes_name_themselves():
    """Beyond int64 torch's parser raises ValueError for an int, TypeError for a list's item;
    an output too large to allocate is a RuntimeError, as torch's allocator raises."""
    for call, error in ((lambda m: m.adaptive_avg_pool2d(X_, 2 ** 63), ValueError),
                        (lambda m: m.adaptive_avg_pool2d(X_, (1, 2 ** 63)), TypeError),
                        (lambda m: m.max_pool2d(X_, (2, 2 ** 63)), TypeError),
                        (lambda m: m.max_pool2d(X_, 2, stride=[2 ** 64]), TypeError),
                        (lambda m: m.adaptive_avg_pool2d(X_, 2 ** 31), RuntimeError)):
        X_ = tensor(X)
        with pytest.raises(error, match="output_size|kernel_size|stride|allocate"):
            call(pool)
        X_ = torch.tensor(X)
        with pytest.raises(error):
            call(F)


@pytest.mark.parametrize("name, call, shape", [
    ("max dilated", lambda t: pool.max_pool2d(t, 2, 1, 1, dilation=2), (1, 2, 5, 5)),
    ("max ceil", lambda t: pool.max_pool2d(t, (3, 2), (2, 3), (1, 0), ceil_mode=True),
     (2, 1, 6, 7)),
    ("max unbatched", lambda t: pool.max_pool2d(t, 2), (2, 4, 4)),
    ("avg include pad", lambda t: pool.avg_pool2d(t, 3, 2, 1), (1, 2, 5, 6)),
    ("avg exclude pad ceil", lambda t: pool.avg_pool2d(t, 2, 2, 1, True, False), (1, 1, 5, 5)),
    ("avg divisor", lambda t: pool.avg_pool2d(t, (2, 3), 1, divisor_override=5), (2, 1, 4, 4)),
    ("adaptive up", lambda t: pool.adaptive_avg_pool2d(t, (5, 7)), (1, 2, 3, 4)),
    ("adaptive uneven", lambda t: pool.adaptive_avg_pool2d(t, (3, None)), (3, 7, 2)),
])
def test_pool_gradcheck_float64_configurations(name, call, shape):
    x = tensor(np.random.default_rng(7).permutation(np.prod(shape)).reshape(shape) / 7.0)
    assert gradcheck(call, [x])  # distinct values: every max is differentiable
