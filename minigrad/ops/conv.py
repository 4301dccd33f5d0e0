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
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import FLOATS, check_int32, check_int64, pair, scalar_type_name
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["Convolution", "conv2d", "conv2d_padding"]


# ----------------------------------------------------------------------------- kernels

def _conv_forward(x, weight, bias, stride, padding, dilation, groups):
    """y = conv2d(x, w) + b on the kernel; x 3-D or 4-D (any strides); padding is
    (top, bottom, left, right)."""
    unbatched = x.ndim == 3
    x4 = x[None] if unbatched else x
    n, _, h, w = x4.shape
    f, _, kh, kw = weight.shape
    top, bottom, left, right = padding
    oh = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (w + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = _empty_activation(n, f, oh, ow, x.dtype, groups)
    args = _kernel_args(stride, padding, dilation, groups)
    _kernels.conv2d_forward(x4, weight, bias, out, *args, get_num_threads())
    return out[0] if unbatched else out


def _empty_activation(n, c, h, w, dtype, groups):
    """A new (N, C, H, W) array in the layout the kernels write fastest: channels-last for
    the direct kernels (groups == 1), NCHW for the grouped ones."""
    if groups == 1:
        return channels_last_empty(n, c, h, w, dtype)
    return np.empty((n, c, h, w), dtype=dtype)


def _kernel_args(stride, padding, dilation, groups) -> tuple:
    return stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1], groups


def _input_gradient(grad_out, weight, input_shape, args):
    """dx: the adjoint of x -> conv2d(x, w) applied to grad_out."""
    unbatched = len(input_shape) == 3
    if grad_out.dtype != weight.dtype:
        grad_out = grad_out.astype(weight.dtype)
    if unbatched:
        grad_out = grad_out[None]
    n, c, h, w = ((1,) if unbatched else ()) + tuple(input_shape)
    grad_x = _empty_activation(n, c, h, w, weight.dtype, args[-1])
    _kernels.conv2d_backward_input(grad_out, weight, grad_x, *args, get_num_threads())
    return grad_x[0] if unbatched else grad_x


def _weight_gradient(x, grad_out, weight_shape, args):
    """dw: the adjoint of w -> conv2d(x, w) applied to grad_out."""
    if grad_out.dtype != x.dtype:
        grad_out = grad_out.astype(x.dtype)
    if x.ndim == 3:
        x, grad_out = x[None], grad_out[None]
    grad_w = np.empty(weight_shape, dtype=x.dtype)
    _kernels.conv2d_backward_weight(x, grad_out, grad_w, *args, get_num_threads())
    return grad_w


class Convolution(ArrayFunction):
    """y = conv2d(x, w) + b with explicit (top, left) padding; see the module docstring.

    forward(x, weight, bias, stride, padding, dilation, groups): stride and dilation are
    (h, w) pairs, padding is (top, bottom, left, right); x is 3-D or 4-D, all C-contiguous.
    With create_graph the gradients are the ops ConvolutionBackwardInput and
    ConvolutionBackwardWeight, so they can be differentiated again.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        # x itself is saved (not a reshaped view) so that in-place changes to it are caught.
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        ctx.args = _kernel_args(stride, padding, dilation, groups)
        return _conv_forward(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if G.is_tensor(grad_out):
            if needs_x:
                grad_x = ConvolutionBackwardInput.apply(grad_out, weight, tuple(x.shape),
                                                        ctx.conv)
            if needs_w:
                grad_w = ConvolutionBackwardWeight.apply(x, grad_out, tuple(weight.shape),
                                                         ctx.conv)
            if needs_b:
                grad_b = grad_out.sum(axis=(0, 2, 3) if grad_out.ndim == 4 else (1, 2))
            return grad_x, grad_w, grad_b, None, None, None, None
        if grad_out.dtype != x.dtype:
            grad_out = grad_out.astype(x.dtype)
        unbatched = x.ndim == 3
        if unbatched:
            x, grad_out = x[None], grad_out[None]
        threads = get_num_threads()
        if needs_x:
            n, c, h, w = x.shape
            grad_x = _empty_activation(n, c, h, w, x.dtype, ctx.args[-1])
            _kernels.conv2d_backward_input(grad_out, weight, grad_x, *ctx.args, threads)
            if unbatched:
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


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


class ConvolutionBackwardInput(ArrayFunction):
    """dx = Bx(g, w), the input gradient of conv2d, as an op: linear in g and in w, with
    dg = conv2d(h, w) and dw = Bw(h, g) for an upstream h (the adjoints of the adjoint)."""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_out, weight, input_shape, conv):
        ctx.save_for_backward(grad_out, weight)
        ctx.conv = conv
        return _input_gradient(grad_out, weight, input_shape, _kernel_args(*conv))

    @staticmethod
    def backward(ctx, upstream):
        grad_out, weight = ctx.saved_tensors
        needs_g, needs_w = ctx.needs_input_grad[:2]
        d_grad = d_weight = None
        if G.is_tensor(upstream):
            if needs_g:
                d_grad = Convolution.apply(upstream, _tensor(weight), None, *ctx.conv)
            if needs_w:
                d_weight = ConvolutionBackwardWeight.apply(upstream, _tensor(grad_out),
                                                           tuple(weight.shape), ctx.conv)
            return d_grad, d_weight, None, None
        if needs_g:
            d_grad = _conv_forward(upstream, weight, None, *ctx.conv)
        if needs_w:
            d_weight = _weight_gradient(upstream, grad_out, weight.shape,
                                        _kernel_args(*ctx.conv))
        return d_grad, d_weight, None, None


class ConvolutionBackwardWeight(ArrayFunction):
    """dw = Bw(x, g), the weight gradient of conv2d, as an op: linear in x and in g, with
    dx = Bx(g, k) and dg = conv2d(x, k) for an upstream k."""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, grad_out, weight_shape, conv):
        ctx.save_for_backward(x, grad_out)
        ctx.conv = conv
        return _weight_gradient(x, grad_out, weight_shape, _kernel_args(*conv))

    @staticmethod
    def backward(ctx, upstream):
        x, grad_out = ctx.saved_tensors
        needs_x, needs_g = ctx.needs_input_grad[:2]
        d_x = d_grad = None
        if G.is_tensor(upstream):
            if needs_x:
                d_x = ConvolutionBackwardInput.apply(_tensor(grad_out), upstream,
                                                     tuple(x.shape), ctx.conv)
            if needs_g:
                d_grad = Convolution.apply(_tensor(x), upstream, None, *ctx.conv)
            return d_x, d_grad, None, None
        if needs_x:
            d_x = _input_gradient(grad_out, upstream, x.shape, _kernel_args(*ctx.conv))
        if needs_g:
            d_grad = _conv_forward(x, upstream, None, *ctx.conv)
        return d_x, d_grad, None, None


# ----------------------------------------------------------------------------- validation

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
    ph, pw = pair(padding, "padding", "conv2d")
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
    if input.array.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {list(input.array.shape)}")
    if weight.array.ndim != 4:
        raise RuntimeError(f"Expected 4D weight (out_channels, in_channels/groups, kH, kW) for "
                           f"conv2d, but got weight of size: {list(weight.array.shape)}")
    if input.array.dtype not in FLOATS:
        raise RuntimeError(f"conv2d expects a float32 or float64 input, but got input of dtype "
                           f"{input.array.dtype}")
    if weight.array.dtype != input.array.dtype:
        raise RuntimeError(f"Input type ({scalar_type_name(input.array.dtype)}) and weight type "
                           f"({scalar_type_name(weight.array.dtype)}) should be the same")
    if bias is not None and bias.array.dtype != input.array.dtype:
        raise RuntimeError(f"Input type ({scalar_type_name(input.array.dtype)}) and bias type "
                           f"({scalar_type_name(bias.array.dtype)}) should be the same")


def _check_shapes(in_shape, weight, bias, groups, padding, dilation):
    """Channel counts, groups, bias length and the padded input against the dilated kernel."""
    w_shape = list(weight.array.shape)
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
    if bias is not None and (bias.array.ndim != 1 or bias.array.shape[0] != f):
        raise RuntimeError(f"Given weight of size {w_shape}, expected bias to be 1-dimensional "
                           f"with {f} elements, but got bias of size "
                           f"{list(bias.array.shape)} instead")
    top, bottom, left, right = padding
    padded = (in_shape[2] + top + bottom, in_shape[3] + left + right)
    dilated = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if padded[0] < dilated[0] or padded[1] < dilated[1]:
        raise RuntimeError(f"Calculated padded input size per channel: ({padded[0]} x "
                           f"{padded[1]}). Kernel size: ({dilated[0]} x {dilated[1]}). Kernel "
                           f"size can't be greater than actual input size")


def _kernel_ints(in_shape, kernel, stride, sides, dilation):
    """stride and dilation as the kernels' C ints: a value past int32 that changes nothing
    becomes one that fits (the dilation of a 1-tap kernel: 1; the stride of an axis with one
    output: the smallest that still gives one); a padding past int32 is refused, naming it
    (torch would try to allocate the padded input)."""
    INT32_MAX = 2 ** 31 - 1
    if max(sides) > INT32_MAX:
        raise RuntimeError(f"conv2d(): padding {list(sides)} does not fit the kernels' 32-bit "
                           f"integers (at most {INT32_MAX})")
    stride, dilation = list(stride), list(dilation)
    for axis in (0, 1):
        size = in_shape[2 + axis] + sides[2 * axis] + sides[2 * axis + 1]
        if dilation[axis] > INT32_MAX and kernel[axis] == 1:
            dilation[axis] = 1
        span = size - dilation[axis] * (kernel[axis] - 1)  # window positions at stride 1
        if stride[axis] > INT32_MAX and span <= stride[axis]:
            stride[axis] = max(span, 1)
        check_int32((stride[axis],), "stride", "conv2d")
        check_int32((dilation[axis],), "dilation", "conv2d")
    return tuple(stride), tuple(dilation)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight (F, C/groups, KH, KW),
    bias (F,) or None; stride, dilation an int or pair; padding an int, a pair, 'valid' or
    'same'. Everything is validated here, before the kernel runs."""
    _check_tensors(input, weight, bias)
    stride = pair(stride, "stride", "conv2d")
    dilation = pair(dilation, "dilation", "conv2d")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"conv2d(): argument 'groups' must be int, not {type(groups).__name__}")
    if min(weight.array.shape[2:]) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{weight.array.shape[2]} kernel_width: {weight.array.shape[3]}")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    check_int64((groups,), "groups", "conv2d")
    sides = conv2d_padding(padding, weight.array.shape[2:], stride, dilation)
    in_shape = [1, *input.array.shape] if input.array.ndim == 3 else list(input.array.shape)
    _check_shapes(in_shape, weight, bias, int(groups), sides, dilation)
    stride, dilation = _kernel_ints(in_shape, weight.array.shape[2:], stride, sides, dilation)
    # The kernels read any strides (channels-last activations and HWIO weights fastest).
    return Convolution.apply(input, weight, bias, stride, sides, dilation, int(groups))
