"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d, and the 1-D
forms (max_pool1d, avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d), which pool rows of
height 1 as torch does (torch.nn.functional's forms).

Input (N, C, H, W) or unbatched (C, H, W), float32 or float64. Per axis, with kernel k,
stride s, padding p and dilation d, the output size is

    out = floor((in + 2p - d*(k-1) - 1 + (s-1 if ceil_mode else 0)) / s) + 1

and with ceil_mode the last window is dropped when it would start past the input and the left
padding ((out-1)*s >= in + p), as torch does. The math of each pool is in kernels/pool.pyx.
Arguments are validated here, before a kernel runs, with torch's exception types.

Integer inputs, which torch pools too (max_pool2d any integer dtype, avg_pool2d int64), are
pooled here in numpy, exactly as torch does: the max with padding as the dtype's lowest value,
the average as the window's int64 sum (wrapping as torch's does) divided with truncation.
They carry no gradient.
"""
import numbers
import warnings

import numpy as np

from minigrad._kernels import pool as _kernels
from minigrad._kernels.buffers import channels_last_empty
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops import shape as _shape
from minigrad.ops.arguments import FLOATS as _FLOATS
from minigrad.ops.arguments import check_int32, check_int64, pair, type_name
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pool_output_size",
           "adaptive_max_pool2d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d"]


# ----------------------------------------------------------------------------- validation

def _pair(value, name, op):
    """An int or a sequence of one or two ints → (h, w)."""
    return pair(value, name, op, kind="pool")


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """torch's pooling output size along one axis (may be <= 0 for a too-small input)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pools_dtype(dtype, op) -> bool:
    """Whether torch's ``op`` takes this dtype: floats; any integer for max_pool2d, int64 for
    avg_pool2d. (float16, which torch pools too, has no kernel here.)"""
    if dtype in _FLOATS:
        return True
    if op == "max_pool2d":
        return dtype.kind in "iu"
    return op == "avg_pool2d" and dtype == np.int64


def _check_rank(input, op):
    """torch's first look at the input, before the window's checks."""
    ndim = input.array.ndim
    if op == "avg_pool2d" and ndim < 3:  # torch's avg_pool2d reads size(-3) first
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got -3)")
    if op == "max_pool2d" and ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")


def _check_input(input, op):
    """The input's shape, after the window's checks, as torch."""
    shape = input.array.shape
    if input.array.ndim not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(f"{op}: expected 3D or 4D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(shape)}")


def _check_dtype(input, op):
    """The dtype, torch's last check (its kernels' dispatch)."""
    if not _pools_dtype(input.array.dtype, op):
        raise NotImplementedError(f'"{op}" not implemented for '
                                  f"'{type_name(input.array.dtype)}'")


_window_cache = {}


def _window_args(input, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Validate the window and return ((kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW)).

    A layer calls this with the same arguments at every step: answers for plain int
    arguments are cached by (arguments, input shape and dtype), so such a step pays for one
    dict lookup. (Only exact ints: 2.0 == 2 and True == 1 would share a key.)"""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    key = None
    if (type(kernel_size) is int and (stride is None or type(stride) is int)
            and type(padding) is int and type(dilation) is int):
        key = (op, kernel_size, stride, padding, dilation, bool(ceil_mode), input.array.shape,
               input.array.dtype)
        cached = _window_cache.get(key)
        if cached is not None:
            return cached
    result = _validate_window(input, kernel_size, stride, padding, dilation, ceil_mode, op)
    if key is not None:
        if len(_window_cache) >= 4096:
            _window_cache.clear()
        _window_cache[key] = result
    return result


def _validate_window(input, kernel_size, stride, padding, dilation, ceil_mode, op):
    """torch's checks in torch's order: the arguments' types and sizes, the input's rank, the
    window, then the input's shape and dtype."""
    kernel = _pair(kernel_size, "kernel_size", op)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    else:
        stride = _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op)
    dilation = _pair(dilation, "dilation", op)
    for name, value in (("kernel_size", kernel), ("stride", stride), ("padding", padding),
                        ("dilation", dilation)):
        check_int32(value, name, op)  # torch's C ints, and the kernels'
    _check_rank(input, op)
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if min(stride) < 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} "
                           f"dW: {stride[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, "
                           f"kH = {kernel[0]}")
    _check_input(input, op)
    C, H, W = input.array.shape[-3:]
    if (H + 1) * W >= 2 ** 31:      # the kernels' int32 window codes hold flat plane indices
        raise RuntimeError(f"{op}: input planes of {H}x{W} pixels are too large (at most "
                           f"2**31 - 1 pixels with a row to spare)")
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{out[0]}x{out[1]}). Output size is too small")
    _check_dtype(input, op)
    return kernel, stride, padding, dilation, out


def _pixels(a):
    """An (N, C, H, W) or (C, H, W) array as the (N, H, W, C) C-contiguous array the kernels
    read: a view of a channels-last array (a convolution's output), a copy of any other."""
    if a.ndim == 3:
        a = a[None]
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _empty_like_batched(shape, dtype):
    """A new channels-last array of shape (N, C, H, W), or (C, H, W) made (1, C, H, W); returns
    (the array to hand back, its (N, H, W, C) view for the kernels)."""
    n, c, h, w = shape if len(shape) == 4 else (1,) + tuple(shape)
    out = channels_last_empty(n, c, h, w, dtype)
    return (out if len(shape) == 4 else out[0]), out.transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------------- max pool

class MaxPool2d(ArrayFunction):
    """y = max over each window (padding is -inf); dx[argmax] += dy (overlaps add up). The
    kernels' window codes of the maxima are kept for backward; MaxPool2dWithIndices also
    returns torch's indices (the flat position ih*W + iw of each maximum in its plane), a
    second output without gradient."""

    node_name = "MaxPool2DWithIndicesBackward0"  # torch's grad_fn name
    returns_indices = False

    @classmethod
    def forward(cls, ctx, x, kernel, stride, padding, dilation, out_size):
        out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
        codes = np.empty(out_pixels.shape, dtype=np.int32)
        window = (*kernel, *stride, *padding, *dilation)
        _kernels.max_pool2d_forward(_pixels(x), out_pixels, codes, *window, get_num_threads())
        ctx.save_for_backward(codes)
        ctx.input_shape = x.shape
        ctx.window = window
        if not cls.returns_indices:
            return out
        indices = max_pool2d_indices(codes, x.shape[-2:], kernel, stride, padding, dilation)
        indices = indices if x.ndim == 4 else indices[0]
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (codes,) = ctx.saved_tensors
        if G.is_tensor(grad):
            return (MaxPool2dBackward.apply(grad, codes, ctx.input_shape, ctx.window),
                    None, None, None, None, None)
        return (_max_pool_input_gradient(grad, codes, ctx.input_shape, ctx.window),
                None, None, None, None, None)


class MaxPool2dWithIndices(MaxPool2d):
    returns_indices = True


def _max_pool_input_gradient(grad, codes, shape, window):
    grad_x, grad_x_pixels = _empty_like_batched(shape, grad.dtype)
    _kernels.max_pool2d_backward(_pixels(grad), codes, grad_x_pixels, *window, get_num_threads())
    return grad_x


class MaxPool2dBackward(ArrayFunction):
    """dx = the scatter of g to the maxima (linear in g);  dg = h read at the maxima."""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, codes, input_shape, window):
        ctx.codes, ctx.input_shape, ctx.window = codes, input_shape, window
        return _max_pool_input_gradient(grad, codes, input_shape, window)

    @staticmethod
    def backward(ctx, upstream):
        kh, kw, sh, sw, ph, pw, dh, dw = ctx.window
        indices = max_pool2d_indices(ctx.codes, ctx.input_shape[-2:], (kh, kw), (sh, sw),
                                     (ph, pw), (dh, dw))
        if len(ctx.input_shape) == 3:
            indices = indices[0]
        planes = indices.shape[:-2]
        flat = upstream.reshape(*planes, -1)
        read = G.gather_along(flat, indices.reshape(*planes, -1), len(planes))
        return read.reshape(indices.shape), None, None, None


def max_pool2d_indices(codes, size, kernel, stride, padding, dilation):
    """torch's indices from the kernels' window codes: the flat position ih*W + iw of each
    maximum in its input plane, (N, C, OH, OW) int64. (A window with every tap in the padding
    has code -1 - torch's index for it.)"""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    codes = codes.transpose(0, 3, 1, 2).astype(np.int64)
    top = (np.arange(codes.shape[2]) * sh - ph)[:, None]
    left = (np.arange(codes.shape[3]) * sw - pw)[None, :]
    inside = (top + codes // kw * dh) * size[1] + left + codes % kw * dw
    return np.ascontiguousarray(np.where(codes >= 0, inside, -1 - codes))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); with return_indices also the flat
    position ih*W + iw of each maximum in its input plane (int64), as torch."""
    kernel, stride, padding, dilation, out = _window_args(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    if input.array.dtype.kind in "iu":
        return _integer_max_pool2d(input.array, kernel, stride, padding, dilation, out,
                                   return_indices)
    if return_indices:
        return MaxPool2dWithIndices.apply(input, kernel, stride, padding, dilation, out)
    return MaxPool2d.apply(input, kernel, stride, padding, dilation, out)


# ----------------------------------------------------------------------------- avg pool

def _avg_pool_forward(x, args, out_size):
    out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
    _kernels.avg_pool2d_forward(_pixels(x), out_pixels, *args, get_num_threads())
    return out


def _avg_pool_input_gradient(grad, args, shape):
    grad_x, grad_x_pixels = _empty_like_batched(shape, grad.dtype)
    _kernels.avg_pool2d_backward(_pixels(grad), grad_x_pixels, *args, get_num_threads())
    return grad_x


class AvgPool2d(ArrayFunction):
    """y = window sum / divisor; dx[window] += dy / divisor."""

    node_name = "AvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor_override):
        ctx.args = (*kernel, *stride, *padding, count_include_pad, divisor_override)
        ctx.pool = (kernel, stride, padding, out_size, count_include_pad, divisor_override)
        ctx.input_shape = x.shape
        return _avg_pool_forward(x, ctx.args, out_size)

    @staticmethod
    def backward(ctx, grad):
        if G.is_tensor(grad):
            grad_x = AvgPool2dBackward.apply(grad, ctx.args, ctx.input_shape, ctx.pool)
        else:
            grad_x = _avg_pool_input_gradient(grad, ctx.args, ctx.input_shape)
        return grad_x, None, None, None, None, None, None


class AvgPool2dBackward(ArrayFunction):
    """dx = the adjoint of average pooling applied to g (linear);  dg = avg_pool2d(h)."""

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, args, input_shape, pool):
        ctx.args, ctx.pool = args, pool
        return _avg_pool_input_gradient(grad, args, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        if G.is_tensor(upstream):
            return AvgPool2d.apply(upstream, *ctx.pool), None, None, None
        return _avg_pool_forward(upstream, ctx.args, ctx.pool[3]), None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W), as torch.nn.functional.avg_pool2d."""
    if divisor_override is None:
        divisor_override = 0  # the kernels' "none": torch rejects a zero divisor
    elif not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override, bool):
        raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, not "
                        f"{type(divisor_override).__name__}")
    else:
        check_int64((divisor_override,), "divisor_override", "avg_pool2d")
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    kernel, stride, padding, _, out = _window_args(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if input.array.dtype.kind in "iu":
        return _integer_avg_pool2d(input.array, kernel, stride, padding, out,
                                   bool(count_include_pad), int(divisor_override))
    return AvgPool2d.apply(input, kernel, stride, padding, out, bool(count_include_pad),
                           int(divisor_override))


# ----------------------------------------------------------------------------- integers

def _tap_range(starts, k, d, size):
    """The taps i in [0, k) that land inside [0, size) for some window start in ``starts``
    (ascending): a huge kernel over a small plane visits only those."""
    first = max(0, -(-(0 - int(starts[-1])) // d))
    last = min(k, (size - 1 - int(starts[0])) // d + 1)
    return range(first, max(first, last))


def _integer_max_pool2d(x, kernel, stride, padding, dilation, out_size, return_indices):
    """max_pool2d of an integer array, as torch's: the first maximum of each window (padding
    is the dtype's lowest value, and a window of nothing larger points at its first tap in
    the plane)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, padding, dilation, \
        out_size
    x4 = x if x.ndim == 4 else x[None]
    H, W = x4.shape[-2:]
    top, left = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw
    best = np.full(x4.shape[:2] + (oh, ow), np.iinfo(x.dtype).min, x.dtype)
    # the kernels' code for a window where nothing beats the padding: -1 - torch's index
    first_row = top + np.maximum(0, -(top // dh)) * dh
    first_col = left + np.maximum(0, -(left // dw)) * dw
    codes = np.broadcast_to(-1 - (first_row[:, None] * W + first_col), best.shape).copy()
    for i in _tap_range(top, kh, dh, H):
        rows = top + i * dh
        row_ok = (rows >= 0) & (rows < H)
        for j in _tap_range(left, kw, dw, W):
            cols = left + j * dw
            inside = row_ok[:, None] & ((cols >= 0) & (cols < W))
            tap = x4[..., np.clip(rows, 0, H - 1)[:, None], np.clip(cols, 0, W - 1)]
            better = inside & (tap > best)
            best = np.where(better, tap, best)
            codes = np.where(better, i * kw + j, codes)
    out = best if x.ndim == 4 else best[0]
    if not return_indices:
        return Tensor(out)
    indices = max_pool2d_indices(codes.transpose(0, 2, 3, 1), (H, W), kernel, stride, padding,
                                 dilation)
    return Tensor(out), Tensor(indices if x.ndim == 4 else indices[0])


def _integer_avg_pool2d(x, kernel, stride, padding, out_size, count_include_pad,
                        divisor_override):
    """avg_pool2d of an int64 array, as torch's: each window's sum in int64 (wrapping on
    overflow, as torch's), divided by the divisor with truncation toward zero."""
    x4 = x if x.ndim == 4 else x[None]
    sums = np.zeros(x4.shape[:2] + (x4.shape[2] + 1, x4.shape[3] + 1), np.int64)
    with np.errstate(over="ignore"):
        # prefix sums: exact modulo 2**64, so window sums wrap exactly as torch's do
        sums[..., 1:, 1:] = x4.cumsum(axis=2).cumsum(axis=3)
    (r0, r1, rows), (c0, c1, cols) = (
        _integer_windows(n, o, k, s, p, count_include_pad)
        for n, o, k, s, p in zip(x4.shape[2:], out_size, kernel, stride, padding))
    with np.errstate(over="ignore"):
        total = (sums[..., r1[:, None], c1] - sums[..., r0[:, None], c1]
                 - sums[..., r1[:, None], c0] + sums[..., r0[:, None], c0])
    divisor = (np.int64(divisor_override) if divisor_override
               else (rows[:, None] * cols).astype(np.int64))
    divisor = np.where(divisor == 0, 1, divisor)  # an empty window: its sum 0 stays 0
    from minigrad.ops.elementwise import _integer_division  # C++'s truncation, and no trap
    out = _integer_division(total, divisor.astype(np.int64), "trunc")
    return Tensor(np.ascontiguousarray(out if x.ndim == 4 else out[0]))


def _integer_windows(size, out, k, s, p, count_include_pad):
    """(start, end, divisor factor) per output position along one axis, as the kernels'."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    clipped_start, clipped_end = np.clip(start, 0, size), np.clip(end, 0, size)
    factor = end - start if count_include_pad else clipped_end - clipped_start
    return clipped_start, np.maximum(clipped_end, clipped_start), factor


# ----------------------------------------------------------------------------- adaptive

def _adaptive_forward(x, out_size):
    out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
    _kernels.adaptive_avg_pool2d_forward(_pixels(x), out_pixels, get_num_threads())
    return out


def _adaptive_input_gradient(grad, shape):
    grad_x, grad_x_pixels = _empty_like_batched(shape, grad.dtype)
    _kernels.adaptive_avg_pool2d_backward(_pixels(grad), grad_x_pixels, get_num_threads())
    return grad_x


class AdaptiveAvgPool2d(ArrayFunction):
    """y[oh, ow] = mean of x[floor(oh*H/OH):ceil((oh+1)*H/OH), (same for w)]."""

    node_name = "AdaptiveAvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, out_size):
        ctx.input_shape, ctx.out_size = x.shape, out_size
        return _adaptive_forward(x, out_size)

    @staticmethod
    def backward(ctx, grad):
        if G.is_tensor(grad):
            return AdaptiveAvgPool2dBackward.apply(grad, ctx.input_shape, ctx.out_size), None
        return _adaptive_input_gradient(grad, ctx.input_shape), None


class AdaptiveAvgPool2dBackward(ArrayFunction):
    """dx = the adjoint of adaptive average pooling applied to g;  dg = the pooling of h."""

    node_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, input_shape, out_size):
        ctx.out_size = out_size
        return _adaptive_input_gradient(grad, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        if G.is_tensor(upstream):
            return AdaptiveAvgPool2d.apply(upstream, ctx.out_size), None, None
        return _adaptive_forward(upstream, ctx.out_size), None, None


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (int, or pair whose None entries keep the input
    size), as torch.nn.functional.adaptive_avg_pool2d."""
    op = "adaptive_avg_pool2d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = input.array.shape
    if not isinstance(output_size, (tuple, list, numbers.Integral)) or isinstance(
            output_size, bool):
        raise TypeError(f"{op}(): argument 'output_size' must be tuple of ints, not "
                        f"{type(output_size).__name__}")
    if isinstance(output_size, (tuple, list)) and len(shape) <= len(output_size):
        # torch's Python-side check, first
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if input.array.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(shape)}")
    H, W = shape[-2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"{op}: output_size must be 2")
        size = tuple(n if s is None else s for s, n in zip(output_size, (H, W)))
    else:
        size = output_size
    size = _pair(size, "output_size", op)
    if size == (1, 1) and input.array.dtype not in _FLOATS:  # torch's mean path refuses
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: "
                           f"{type_name(input.array.dtype)}")
    if size == (1, 1) and 0 in shape[-2:]:
        # torch takes the mean over the plane for a 1x1 output: of nothing, NaN
        from minigrad.ops.reduce import mean
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "mean of empty slice"
            return mean(input, dim=(-2, -1), keepdim=True)
    for axis in (-2, -1):  # the windows of an empty axis would average nothing
        if shape[axis] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension "
                               f"{axis + len(shape)} being empty")
    if min(size) < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{size[0]}, {size[1]}}}")
    if 0 in size and input.array.dtype.kind in "biu":  # nothing to compute: torch allows it
        return Tensor(np.empty(shape[:-2] + size, input.array.dtype))
    if input.array.dtype not in _FLOATS:
        raise NotImplementedError(f'"{op}" not implemented for '
                                  f"'{type_name(input.array.dtype)}'")
    return AdaptiveAvgPool2d.apply(input, size)


# ----------------------------------------------------------------------------- adaptive max

class AdaptiveMaxPool2d(ArrayFunction):
    """y[oh, ow] = the max of x over the adaptive window (a NaN wins); dx[argmax] += dy.
    The maxima's flat positions ih*W + iw are kept for backward; AdaptiveMaxPool2dWithIndices
    also returns them (int64, torch's indices), a second output without gradient."""

    node_name = "AdaptiveMaxPool2DBackward0"
    returns_indices = False

    @classmethod
    def forward(cls, ctx, x, out_size):
        out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
        index = np.empty(out_pixels.shape, dtype=np.int64)
        _kernels.adaptive_max_pool2d_forward(_pixels(x), out_pixels, index, get_num_threads())
        ctx.index, ctx.input_shape = index, x.shape
        if not cls.returns_indices:
            return out
        indices = np.ascontiguousarray(index.transpose(0, 3, 1, 2))
        indices = indices if x.ndim == 4 else indices[0]
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        if G.is_tensor(grad):
            return AdaptiveMaxPool2dBackward.apply(grad, ctx.index, ctx.input_shape), None
        return _adaptive_max_input_gradient(grad, ctx.index, ctx.input_shape), None


class AdaptiveMaxPool2dWithIndices(AdaptiveMaxPool2d):
    returns_indices = True


def _adaptive_max_input_gradient(grad, index, shape):
    grad_x, grad_x_pixels = _empty_like_batched(shape, grad.dtype)
    _kernels.adaptive_max_pool2d_backward(_pixels(grad), index, grad_x_pixels,
                                          get_num_threads())
    return grad_x


class AdaptiveMaxPool2dBackward(ArrayFunction):
    """dx = the scatter of g to the maxima (linear in g);  dg = h read at the maxima."""

    node_name = "AdaptiveMaxPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, index, input_shape):
        ctx.index, ctx.input_shape = index, input_shape
        return _adaptive_max_input_gradient(grad, index, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        planes = ctx.index.transpose(0, 3, 1, 2)          # (N, C, OH, OW)
        if len(ctx.input_shape) == 3:
            planes = planes[0]
        index = planes.reshape(planes.shape[:-2] + (-1,))
        flat = upstream.reshape(tuple(ctx.input_shape[:-2]) + (-1,))
        return G.gather_along(flat, index, index.ndim - 1).reshape(planes.shape), None, None


def _adaptive_size(input, output_size, op):
    """torch's output_size argument of a 2-D adaptive pool -> (OH, OW), None keeping the input
    size, after checking the input."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = input.array.shape
    if input.array.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got: {list(shape)}")
    for axis in range(input.array.ndim - 3, input.array.ndim):
        if shape[axis] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension "
                               f"{axis} being empty")
    if input.array.dtype not in _FLOATS:
        raise NotImplementedError(f'"{op}" not implemented for '
                                  f"'{type_name(input.array.dtype)}'")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"{op}(): internal error: output_size.size() must be 2")
        output_size = tuple(n if s is None else s for s, n in zip(output_size, shape[-2:]))
    size = _pair(output_size, "output_size", op)
    if min(size) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"{list(shape[:-2]) + list(size)}")
    return size


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size (an int, or a pair whose None entries keep the
    input size), as torch.nn.functional.adaptive_max_pool2d; with return_indices also the
    flat position ih*W + iw of each maximum in its plane (int64)."""
    if isinstance(input, Tensor) and isinstance(output_size, (tuple, list)) \
            and input.array.ndim <= len(output_size):  # torch's Python-side check, first
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    size = _adaptive_size(input, output_size, "adaptive_max_pool2d")
    if return_indices:
        return AdaptiveMaxPool2dWithIndices.apply(input, size)
    return AdaptiveMaxPool2d.apply(input, size)


# ----------------------------------------------------------------------------- 1-D pools

def _single(value, name, op):
    """A 1-D window argument: an int or a sequence of one int (torch's messages)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{op}() {name} must be an int, list of ints or tuple of ints "
                               f"of size 1 but got size {len(value)}")
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}")
    return int(value)


def _check_1d_input(input, op, floats_only=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = input.array.shape
    if input.array.ndim not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(shape)}")
    if floats_only and input.array.dtype not in _FLOATS:
        kernel = "max_pool1d_impl" if op == "max_pool1d" else op
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{type_name(input.array.dtype)}'")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L): max_pool2d of rows of height 1 (torch's
    graph: unsqueeze, pool, squeeze); with return_indices also each maximum's position."""
    op = "max_pool1d"
    # with indices torch runs max_pool2d's kernel, which takes integers
    _check_1d_input(input, op, floats_only=not return_indices)
    if return_indices and input.array.dtype == np.bool_:
        raise NotImplementedError('"max_pool2d" not implemented for \'Bool\'')
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride", op)
    p, d = _single(padding, "padding", op), _single(dilation, "dilation", op)
    for name, value, low in (("kernel_size", k, 1), ("stride", s, 1), ("dilation", d, 1),
                             ("padding", p, 0)):
        if value < low:
            relation = "greater than zero" if low else "non-negative"
            raise RuntimeError(f"{op}() {name} must be {relation}, but got {value}")
    if p > k // 2:
        raise RuntimeError(f"{op}() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    length = pool_output_size(input.array.shape[-1], k, s, p, d, ceil_mode)
    if length < 1:
        raise RuntimeError(f"{op}() Invalid computed output size: {length}")
    rows = _shape.unsqueeze(input, -2)
    window = ((1, k), (1, s), (0, p), (1, d), (1, length))
    if return_indices and input.array.dtype.kind in "iu":
        out, indices = _integer_max_pool2d(rows.array, *window, True)
        return _shape.squeeze(out, -2), _shape.squeeze(indices, -2)
    if return_indices:
        out, indices = MaxPool2dWithIndices.apply(rows, *window)
        return _shape.squeeze(out, -2), _shape.squeeze(indices, -2)
    return _shape.squeeze(MaxPool2d.apply(rows, *window), -2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L): avg_pool2d of rows of height 1."""
    op = "avg_pool1d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.array.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.array.ndim}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {op})")
    for name, value in (("kernel_size", kernel_size), ("stride", stride),
                        ("padding", padding)):
        if isinstance(value, (tuple, list)) and len(value) > 1:
            raise RuntimeError(f"{op}() argument '{name}' should contain one int (got "
                               f"{len(value)})")
    rows = _shape.unsqueeze(input, -2)
    kernel = (1, _single(kernel_size, "kernel_size", op))
    stride = kernel if stride is None or stride == [] or stride == () else \
        (1, _single(stride, "stride", op))
    out = avg_pool2d(rows, kernel, stride, (0, _single(padding, "padding", op)), ceil_mode,
                     count_include_pad)
    return _shape.squeeze(out, -2)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed length: adaptive_avg_pool2d of rows
    of height 1."""
    check = _adaptive_1d_input(input, "adaptive_avg_pool1d")
    return _shape.squeeze(adaptive_avg_pool2d(check, (1, _single(output_size, "output_size",
                                                                  "adaptive_avg_pool1d"))), -2)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length (with return_indices, also each
    maximum's position): adaptive_max_pool2d of rows of height 1."""
    rows = _adaptive_1d_input(input, "adaptive_max_pool1d")
    size = (1, _single(output_size, "output_size", "adaptive_max_pool1d"))
    if return_indices:
        out, indices = adaptive_max_pool2d(rows, size, True)
        return _shape.squeeze(out, -2), _shape.squeeze(indices, -2)
    return _shape.squeeze(adaptive_max_pool2d(rows, size), -2)


def _adaptive_1d_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.array.ndim not in (2, 3):
        raise RuntimeError(f"{op}() argument 'input' should have 2 or 3 dimensions, but got "
                           f"{input.array.ndim}")
    return _shape.unsqueeze(input, -2)
