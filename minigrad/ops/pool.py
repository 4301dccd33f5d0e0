"""2-D pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (torch.nn.functional's forms).

Input (N, C, H, W) or unbatched (C, H, W), float32 or float64. Per axis, with kernel k,
stride s, padding p and dilation d, the output size is

    out = floor((in + 2p - d*(k-1) - 1 + (s-1 if ceil_mode else 0)) / s) + 1

and with ceil_mode the last window is dropped when it would start past the input and the left
padding ((out-1)*s >= in + p), as torch does. The math of each pool is in kernels/pool.pyx.
Arguments are validated here, before a kernel runs, with torch's exception types.
"""
import numbers

import numpy as np

from minigrad._kernels import pool as _kernels
from minigrad._kernels.buffers import channels_last_empty
from minigrad.autograd import Function
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pool_output_size"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ----------------------------------------------------------------------------- validation

def _pair(value, name, op):
    """An int or a sequence of one or two ints → (h, w)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return (int(value[0]), int(value[0])) if len(value) == 1 else (int(value[0]), int(value[1]))
    if isinstance(value, (tuple, list)) and all(isinstance(v, numbers.Integral) for v in value):
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two ints")
    raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """torch's pooling output size along one axis (may be <= 0 for a too-small input)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _check_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = input.shape
    if input.ndim not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(f"{op}: expected 3D or 4D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(shape)}")
    if input.dtype not in _FLOATS:
        raise RuntimeError(f'"{op}" not implemented for dtype {input.dtype} (float32 and '
                           "float64 only)")


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
        key = (op, kernel_size, stride, padding, dilation, bool(ceil_mode), input.shape,
               input.dtype)
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
    _check_input(input, op)
    kernel = _pair(kernel_size, "kernel_size", op)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    else:
        stride = _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op)
    dilation = _pair(dilation, "dilation", op)
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
    C, H, W = input.shape[-3:]
    if (H + 1) * W >= 2 ** 31:      # the kernels' int32 window codes hold flat plane indices
        raise RuntimeError(f"{op}: input planes of {H}x{W} pixels are too large (at most "
                           f"2**31 - 1 pixels with a row to spare)")
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{out[0]}x{out[1]}). Output size is too small")
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

class MaxPool2d(Function):
    """y = max over each window (padding is -inf); dx[argmax] += dy (overlaps add up)."""

    node_name = "MaxPool2DWithIndicesBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size, indices_sink):
        out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
        codes = np.empty(out_pixels.shape, dtype=np.int32)
        window = (*kernel, *stride, *padding, *dilation)
        _kernels.max_pool2d_forward(_pixels(x), out_pixels, codes, *window, get_num_threads())
        if indices_sink is not None:
            indices = max_pool2d_indices(codes, x.shape[-2:], kernel, stride, padding, dilation)
            indices_sink.append(indices if x.ndim == 4 else indices[0])
        ctx.save_for_backward(codes)
        ctx.input_shape = x.shape
        ctx.window = window
        return out

    @staticmethod
    def backward(ctx, grad):
        (codes,) = ctx.saved_tensors
        grad_x, grad_x_pixels = _empty_like_batched(ctx.input_shape, grad.dtype)
        _kernels.max_pool2d_backward(_pixels(grad), codes, grad_x_pixels, *ctx.window,
                                     get_num_threads())
        return grad_x, None, None, None, None, None, None


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
    sink = [] if return_indices else None
    result = MaxPool2d.apply(input, kernel, stride, padding, dilation, out, sink)
    if return_indices:
        return result, Tensor(sink[0])
    return result


# ----------------------------------------------------------------------------- avg pool

class AvgPool2d(Function):
    """y = window sum / divisor; dx[window] += dy / divisor."""

    node_name = "AvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor_override):
        out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
        ctx.args = (*kernel, *stride, *padding, count_include_pad, divisor_override)
        _kernels.avg_pool2d_forward(_pixels(x), out_pixels, *ctx.args, get_num_threads())
        ctx.input_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x, grad_x_pixels = _empty_like_batched(ctx.input_shape, grad.dtype)
        _kernels.avg_pool2d_backward(_pixels(grad), grad_x_pixels, *ctx.args, get_num_threads())
        return grad_x, None, None, None, None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W), as torch.nn.functional.avg_pool2d."""
    kernel, stride, padding, _, out = _window_args(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is None:
        divisor_override = 0  # the kernels' "none": torch rejects a zero divisor
    elif not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override, bool):
        raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, not "
                        f"{type(divisor_override).__name__}")
    elif divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return AvgPool2d.apply(input, kernel, stride, padding, out, bool(count_include_pad),
                           int(divisor_override))


# ----------------------------------------------------------------------------- adaptive

class AdaptiveAvgPool2d(Function):
    """y[oh, ow] = mean of x[floor(oh*H/OH):ceil((oh+1)*H/OH), (same for w)]."""

    node_name = "AdaptiveAvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, out_size):
        out, out_pixels = _empty_like_batched(x.shape[:-2] + out_size, x.dtype)
        _kernels.adaptive_avg_pool2d_forward(_pixels(x), out_pixels, get_num_threads())
        ctx.input_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x, grad_x_pixels = _empty_like_batched(ctx.input_shape, grad.dtype)
        _kernels.adaptive_avg_pool2d_backward(_pixels(grad), grad_x_pixels, get_num_threads())
        return grad_x, None


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (int, or pair whose None entries keep the input
    size), as torch.nn.functional.adaptive_avg_pool2d."""
    op = "adaptive_avg_pool2d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    if input.dtype not in _FLOATS:
        raise RuntimeError(f'"{op}" not implemented for dtype {input.dtype} (float32 and '
                           "float64 only)")
    H, W = input.shape[-2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"{op}: output_size must be 2")
        size = tuple(n if s is None else s for s, n in zip(output_size, (H, W)))
    else:
        size = (output_size, output_size)
    size = _pair(size, "output_size", op)
    if min(size) < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{size[0]}, {size[1]}}}")
    return AdaptiveAvgPool2d.apply(input, size)
