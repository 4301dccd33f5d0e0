"""2-D convolution, torch.nn.functional.conv2d, on the kernels of kernels/conv.pyx (direct and
channels-last for groups == 1, im2col + GEMM for grouped convolutions).

Input x (N, C, H, W) or unbatched (C, H, W), weight w (F, C/G, KH, KW), bias b (F,) or None,
G groups; per axis a stride s, a dilation d and a padding before/after (p0, p1):

    y[n, f, i, j] = b[f] + sum over c, a, b' of
                    w[f, c, a, b'] * x[n, g*C/G + c, i*sh - p0h + a*dh, j*sw - p0w + b'*dw]
    OH = (H + p0h + p1h - dh*(KH-1) - 1) // sh + 1        (and OW alike)

with g = f // (F/G) and x read as 0 in the padding. y is linear in x and in w, so the gradients
are the adjoint maps (in im2col terms: dx = col2im(w_g^T @ dy_g), dw_g = sum over the batch of
dy_g @ cols_g^T), and db[f] = sum over n, i, j of dy[n, f, i, j]. padding may be an int, a
pair, 'valid' (none) or 'same' (stride 1 only; total d*(k-1) per axis, the odd one on the
bottom/right as torch does).

Layout: the output (and the input gradient) of an ungrouped convolution is stored channels-last
(NHWC in memory, strides presenting it as (N, C, H, W), like torch's channels_last tensors), the
layout the next convolution and pooling read without a reorder. Values, shapes and every
operation on the result are as torch's; only ``is_contiguous()`` and ``stride()`` tell.
"""
import numbers

import numpy as np

from minigrad._kernels import conv as _kernels
from minigrad._kernels.buffers import channels_last_empty
from minigrad.autograd import Function
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["Convolution", "conv2d", "conv2d_padding"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Convolution(Function):
    """y = conv2d(x, w) + b with explicit (top, left) padding; see the module docstring.

    forward(x, weight, bias, stride, padding, dilation, groups): stride and dilation are
    (h, w) pairs, padding is (top, bottom, left, right); x is 3-D or 4-D, all C-contiguous.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        # x itself is saved (not a reshaped view) so that in-place changes to it are caught.
        ctx.save_for_backward(x, weight)
        ctx.unbatched = x.ndim == 3
        x4 = x[None] if ctx.unbatched else x
        n, _, h, w = x4.shape
        f, _, kh, kw = weight.shape
        top, bottom, left, right = padding
        oh = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (w + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        out = _empty_activation(n, f, oh, ow, x.dtype, groups)
        ctx.args = (stride[0], stride[1], top, left, dilation[0], dilation[1], groups)
        _kernels.conv2d_forward(x4, weight, bias, out, *ctx.args, get_num_threads())
        return out[0] if ctx.unbatched else out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        if grad_out.dtype != x.dtype:
            grad_out = grad_out.astype(x.dtype)
        if ctx.unbatched:
            x, grad_out = x[None], grad_out[None]
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        threads = get_num_threads()
        grad_x = grad_w = grad_b = None
        if needs_x:
            n, c, h, w = x.shape
            grad_x = _empty_activation(n, c, h, w, x.dtype, ctx.args[-1])
            _kernels.conv2d_backward_input(grad_out, weight, grad_x, *ctx.args, threads)
            if ctx.unbatched:
                grad_x = grad_x[0]
        if needs_b:
            grad_b = np.empty(weight.shape[0], dtype=x.dtype)
        if needs_w:
            grad_w = np.empty_like(weight)      # in the weight's layout (HWIO for Conv2d's)
            _kernels.conv2d_backward_weight(x, grad_out, grad_w, *ctx.args, threads,
                                            grad_bias=grad_b)
        elif needs_b:
            _kernels.conv2d_backward_bias(grad_out, grad_b, threads)
        return grad_x, grad_w, grad_b, None, None, None, None


def _empty_activation(n, c, h, w, dtype, groups):
    """A new (N, C, H, W) array in the layout the kernels write fastest: channels-last for
    the direct kernels (groups == 1), NCHW for the grouped ones."""
    if groups == 1:
        return channels_last_empty(n, c, h, w, dtype)
    return np.empty((n, c, h, w), dtype=dtype)


# ----------------------------------------------------------------------------- validation

def _dtype_name(dtype) -> str:
    return {"float32": "float", "float64": "double", "int64": "long"}.get(str(dtype), str(dtype))


def _pair(value, name):
    """An int or a sequence of one or two ints -> (h, w), as torch parses conv arguments."""
    # Fast paths for what nn.Conv2d passes on every call: a plain int or a pair of ints.
    if type(value) is int:
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int \
            and type(value[1]) is int:
        return value

    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) == 1:
            return int(value[0]), int(value[0])
        if len(value) == 2:
            return int(value[0]), int(value[1])
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 values "
                           f"to match the convolution dimensions, but got {name}={list(value)}")
    raise TypeError(f"conv2d(): argument '{name}' must be an int or a tuple of ints, not "
                    f"{type(value).__name__}")


def conv2d_padding(padding, kernel_size, stride, dilation):
    """torch's padding argument -> explicit (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if stride != (1, 1):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        sides = []
        for k, d in zip(kernel_size, dilation):
            total = d * (k - 1)
            sides += [total // 2, total - total // 2]
        return tuple(sides)
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise RuntimeError("negative padding is not supported")
    return ph, ph, pw, pw


def _check_tensors(input, weight, bias):
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"conv2d(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"conv2d(): argument 'bias' must be Tensor or None, not "
                        f"{type(bias).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"Expected 4D weight (out_channels, in_channels/groups, kH, kW) for "
                           f"conv2d, but got weight of size: {list(weight.shape)}")
    if input.dtype not in _FLOATS:
        raise RuntimeError(f"conv2d expects a float32 or float64 input, but got input of dtype "
                           f"{input.dtype}")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_dtype_name(input.dtype)}) and weight type "
                           f"({_dtype_name(weight.dtype)}) should be the same")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_dtype_name(input.dtype)}) and bias type "
                           f"({_dtype_name(bias.dtype)}) should be the same")


def _check_shapes(in_shape, weight, bias, groups, padding, dilation):
    """Channel counts, groups, bias length and the padded input against the dilated kernel."""
    w_shape = list(weight.shape)
    f, cg, kh, kw = w_shape
    if 0 in in_shape[2:]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {in_shape}")
    if f == 0 or f % groups != 0:
        need = "at least 1" if f == 0 else f"divisible by {groups}"
        raise RuntimeError(f"Given groups={groups}, expected weight to be {need} at dimension 0, "
                           f"but got weight of size {w_shape} instead")
    if in_shape[1] != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {w_shape}, expected "
                           f"input{in_shape} to have {cg * groups} channels, but got "
                           f"{in_shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != f):
        raise RuntimeError(f"Given weight of size {w_shape}, expected bias to be 1-dimensional "
                           f"with {f} elements, but got bias of size {list(bias.shape)} instead")
    top, bottom, left, right = padding
    padded = (in_shape[2] + top + bottom, in_shape[3] + left + right)
    dilated = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if padded[0] < dilated[0] or padded[1] < dilated[1]:
        raise RuntimeError(f"Calculated padded input size per channel: ({padded[0]} x "
                           f"{padded[1]}). Kernel size: ({dilated[0]} x {dilated[1]}). Kernel "
                           f"size can't be greater than actual input size")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight (F, C/groups, KH, KW),
    bias (F,) or None; stride, dilation an int or pair; padding an int, a pair, 'valid' or
    'same'. Everything is validated here, before the kernel runs."""
    _check_tensors(input, weight, bias)
    stride = _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"conv2d(): argument 'groups' must be int, not {type(groups).__name__}")
    if min(weight.shape[2:]) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{weight.shape[2]} kernel_width: {weight.shape[3]}")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    sides = conv2d_padding(padding, weight.shape[2:], stride, dilation)
    in_shape = [1, *input.shape] if input.ndim == 3 else list(input.shape)
    _check_shapes(in_shape, weight, bias, int(groups), sides, dilation)
    # The kernels read any strides (channels-last activations and HWIO weights fastest).
    return Convolution.apply(input, weight, bias, stride, sides, dilation, int(groups))
