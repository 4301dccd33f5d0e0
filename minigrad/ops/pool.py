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
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import FLOATS as _FLOATS
from minigrad.ops.arguments import pair
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pool_output_size"]


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


def _check_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = input.array.shape
    if input.array.ndim not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(f"{op}: expected 3D or 4D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(shape)}")
    if input.array.dtype not in _FLOATS:
        raise RuntimeError(f'"{op}" not implemented for dtype {input.array.dtype} (float32 and '
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
    C, H, W = input.array.shape[-3:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{out[0]}x{out[1]}). Output size is too small")
    return kernel, stride, padding, dilation, out


def _batched(x):
    """View (C, H, W) as (1, C, H, W); make the array C-contiguous for the kernels."""
    if x.ndim == 3:
        x = x[None]
    return np.ascontiguousarray(x)


# ----------------------------------------------------------------------------- max pool

class MaxPool2d(ArrayFunction):
    """y = max over each window (padding is -inf); dx[argmax] += dy (overlaps add up). The
    argmax indices (the flat position ih*W + iw of each maximum in its plane) are kept for
    backward; MaxPool2dWithIndices also returns them, a second output without gradient."""

    node_name = "MaxPool2DWithIndicesBackward0"  # torch's grad_fn name
    returns_indices = False

    @classmethod
    def forward(cls, ctx, x, kernel, stride, padding, dilation, out_size):
        x4 = _batched(x)
        N, C = x4.shape[:2]
        out = np.empty((N, C) + out_size, dtype=x.dtype)
        indices = np.empty((N, C) + out_size, dtype=np.int64)
        _kernels.max_pool2d_forward(x4, out, indices, *kernel, *stride, *padding, *dilation,
                                    get_num_threads())
        if x.ndim == 3:
            out, indices = out[0], indices[0]
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        if not cls.returns_indices:
            return out
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (indices,) = ctx.saved_tensors
        if G.is_tensor(grad):
            return (MaxPool2dBackward.apply(grad, indices, ctx.input_shape),
                    None, None, None, None, None)
        return (_max_pool_input_gradient(grad, indices, ctx.input_shape),
                None, None, None, None, None)


class MaxPool2dWithIndices(MaxPool2d):
    returns_indices = True


def _max_pool_input_gradient(grad, indices, shape):
    grad_x = np.empty(shape if len(shape) == 4 else (1,) + shape, dtype=grad.dtype)
    _kernels.max_pool2d_backward(_batched(grad), _batched(indices), grad_x, get_num_threads())
    return grad_x.reshape(shape)


class MaxPool2dBackward(ArrayFunction):
    """dx = the scatter of g to the maxima (linear in g);  dg = h read at the maxima."""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, indices, input_shape):
        ctx.indices = indices
        return _max_pool_input_gradient(grad, indices, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        indices = ctx.indices
        planes = indices.shape[:-2]
        flat = upstream.reshape(*planes, -1)
        read = G.gather_along(flat, indices.reshape(*planes, -1), len(planes))
        return read.reshape(indices.shape), None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); with return_indices also the flat
    position ih*W + iw of each maximum in its input plane (int64), as torch."""
    kernel, stride, padding, dilation, out = _window_args(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    if return_indices:
        return MaxPool2dWithIndices.apply(input, kernel, stride, padding, dilation, out)
    return MaxPool2d.apply(input, kernel, stride, padding, dilation, out)


# ----------------------------------------------------------------------------- avg pool

def _avg_pool_forward(x, args, out_size):
    kernel, stride, padding, count_include_pad, divisor_override = args
    x4 = _batched(x)
    N, C = x4.shape[:2]
    out = np.empty((N, C) + out_size, dtype=x.dtype)
    _kernels.avg_pool2d_forward(x4, out, *kernel, *stride, *padding, count_include_pad,
                                divisor_override, get_num_threads())
    return out[0] if x.ndim == 3 else out


def _avg_pool_input_gradient(grad, args, shape):
    kernel, stride, padding, count_include_pad, divisor_override = args
    grad_x = np.empty(shape if len(shape) == 4 else (1,) + shape, dtype=grad.dtype)
    _kernels.avg_pool2d_backward(_batched(grad), grad_x, *kernel, *stride, *padding,
                                 count_include_pad, divisor_override, get_num_threads())
    return grad_x.reshape(shape)


class AvgPool2d(ArrayFunction):
    """y = window sum / divisor; dx[window] += dy / divisor."""

    node_name = "AvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor_override):
        ctx.args = (kernel, stride, padding, count_include_pad, divisor_override)
        ctx.input_shape, ctx.out_size = x.shape, out_size
        return _avg_pool_forward(x, ctx.args, out_size)

    @staticmethod
    def backward(ctx, grad):
        if G.is_tensor(grad):
            grad_x = AvgPool2dBackward.apply(grad, ctx.args, ctx.input_shape, ctx.out_size)
        else:
            grad_x = _avg_pool_input_gradient(grad, ctx.args, ctx.input_shape)
        return grad_x, None, None, None, None, None, None


class AvgPool2dBackward(ArrayFunction):
    """dx = the adjoint of average pooling applied to g (linear);  dg = avg_pool2d(h)."""

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, args, input_shape, out_size):
        ctx.args, ctx.out_size = args, out_size
        return _avg_pool_input_gradient(grad, args, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        if G.is_tensor(upstream):
            kernel, stride, padding, count_include_pad, divisor_override = ctx.args
            return AvgPool2d.apply(upstream, kernel, stride, padding, ctx.out_size,
                                   count_include_pad, divisor_override), None, None, None
        return _avg_pool_forward(upstream, ctx.args, ctx.out_size), None, None, None


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

def _adaptive_forward(x, out_size):
    x4 = _batched(x)
    N, C = x4.shape[:2]
    out = np.empty((N, C) + out_size, dtype=x.dtype)
    _kernels.adaptive_avg_pool2d_forward(x4, out, get_num_threads())
    return out[0] if x.ndim == 3 else out


def _adaptive_input_gradient(grad, shape):
    grad_x = np.empty(shape if len(shape) == 4 else (1,) + shape, dtype=grad.dtype)
    _kernels.adaptive_avg_pool2d_backward(_batched(grad), grad_x, get_num_threads())
    return grad_x.reshape(shape)


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
    if input.array.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(input.array.shape)}")
    if input.array.dtype not in _FLOATS:
        raise RuntimeError(f'"{op}" not implemented for dtype {input.array.dtype} (float32 and '
                           "float64 only)")
    H, W = input.array.shape[-2:]
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
