"""Convolutions on the kernels of kernels/conv.pyx (direct and channels-last for groups == 1,
im2col + GEMM for grouped convolutions): torch.nn.functional.conv2d, conv1d (conv2d of rows of
height 1) and conv_transpose2d / conv_transpose1d (the adjoint of a convolution: its input
gradient, see ConvolutionTranspose).

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

__all__ = ["Convolution", "conv1d", "conv2d", "conv2d_padding", "conv_transpose1d",
           "conv_transpose2d"]


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


def _weight_gradient(x, grad_out, weight, args, grad_bias=None):
    """dw: the adjoint of w -> conv2d(x, w) applied to grad_out, laid out as `weight` (an
    array: Conv2d's HWIO weights get HWIO gradients) or C-ordered (a shape); grad_bias, when
    given, gets the bias gradient from the same pass over grad_out."""
    if grad_out.dtype != x.dtype:
        grad_out = grad_out.astype(x.dtype)
    if x.ndim == 3:
        x, grad_out = x[None], grad_out[None]
    grad_w = (np.empty_like(weight, dtype=x.dtype) if isinstance(weight, np.ndarray)
              else np.empty(weight, dtype=x.dtype))
    _kernels.conv2d_backward_weight(x, grad_out, grad_w, *args, get_num_threads(),
                                    grad_bias=grad_bias)
    return grad_w


def _both_gradients(x, grad_out, weight, args, needs_b):
    """(dx, dw, db or None) of a batched convolution in one kernel call, which may run the two
    passes side by side (see kernels/conv.pyx conv2d_backward)."""
    if grad_out.dtype != x.dtype:
        grad_out = grad_out.astype(x.dtype)
    grad_x = _empty_activation(*x.shape, x.dtype, args[-1])
    grad_w = np.empty_like(weight, dtype=x.dtype)
    grad_b = np.empty(weight.shape[0], dtype=x.dtype) if needs_b else None
    _kernels.conv2d_backward(x, grad_out, weight, grad_x, grad_w, grad_b, *args,
                             get_num_threads())
    return grad_x, grad_w, grad_b


def _bias_gradient(grad_out, dtype):
    """db[f] = sum over samples and pixels of grad_out[.., f, .., ..]."""
    grad_b = np.empty(grad_out.shape[-3], dtype=dtype)
    _kernels.conv2d_backward_bias(grad_out if grad_out.ndim == 4 else grad_out[None], grad_b,
                                  get_num_threads())
    return grad_b


class Convolution(ArrayFunction):
    """y = conv2d(x, w) + b with explicit (top, left) padding; see the module docstring.

    forward(x, weight, bias, stride, padding, dilation, groups): stride and dilation are
    (h, w) pairs, padding is (top, bottom, left, right); x is 3-D or 4-D, any strides.
    With create_graph the gradients are the ops ConvolutionBackwardInput and
    ConvolutionBackwardWeight, so they can be differentiated again.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        # x itself is saved (not a reshaped view) so that in-place changes to it are caught.
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        return _conv_forward(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grads = _convolution_backward(ctx.needs_input_grad, ctx.conv, x, weight, grad_out)
        return (*grads, None, None, None, None)


def _convolution_backward(needs, conv, x, weight, grad_out):
    """(dx, dw, db) of y = conv2d(x, w) + b for x 3-D or 4-D, each None where not needed."""
    needs_x, needs_w, needs_b = needs[:3]
    grad_x = grad_w = grad_b = None
    if G.is_tensor(grad_out):
        if needs_x:
            grad_x = ConvolutionBackwardInput.apply(grad_out, weight, tuple(x.shape), conv)
        if needs_w:
            grad_w = ConvolutionBackwardWeight.apply(x, grad_out, tuple(weight.shape), conv)
        if needs_b:
            grad_b = grad_out.sum(axis=(0, 2, 3) if grad_out.ndim == 4 else (1, 2))
        return grad_x, grad_w, grad_b
    args = _kernel_args(*conv)
    if needs_x and needs_w and x.ndim == 4:
        return _both_gradients(x, grad_out, weight, args, needs_b)
    if needs_x:
        grad_x = _input_gradient(grad_out, weight, x.shape, args)
    if needs_w:
        grad_b = np.empty(weight.shape[0], dtype=x.dtype) if needs_b else None
        grad_w = _weight_gradient(x, grad_out, weight, args, grad_b)
    elif needs_b:
        grad_b = _bias_gradient(grad_out.astype(x.dtype, copy=False), x.dtype)
    return grad_x, grad_w, grad_b


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


def _with_height(a, axis):
    """An (N, C, L) or (C, L) array or tensor, weight (F, C/G, K), seen with a height of 1 at
    ``axis`` (a view: a 1-D convolution is a 2-D one on rows of height 1)."""
    return G.expand_dims(a, (axis,))


def _without_height(a, axis):
    if a is None:
        return None
    return a[(slice(None),) * axis + (0,)]


def _backward_on_rows(backward, ctx, grad_out):
    """(dx, dw, db) of a 1-D convolution (or transposed one) from ``backward``, its 2-D
    form, run on rows of height 1."""
    x, weight = ctx.saved_tensors
    grad_x, grad_w, grad_b = backward(
        ctx.needs_input_grad, ctx.conv, _with_height(x, x.ndim - 1),
        _with_height(weight, 2), _with_height(grad_out, grad_out.ndim - 1))
    return _without_height(grad_x, x.ndim - 1), _without_height(grad_w, 2), grad_b


class Convolution1d(ArrayFunction):
    """y = conv1d(x, w) + b: Convolution on x (N, C, 1, L) and w (F, C/G, 1, K), views of
    the inputs; conv holds the 2-D arguments (a height stride, padding and dilation of 1)."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        out = _conv_forward(x[..., None, :], weight[:, :, None, :], bias, stride, padding,
                            dilation, groups)
        return out[..., 0, :]

    @staticmethod
    def backward(ctx, grad_out):
        return (*_backward_on_rows(_convolution_backward, ctx, grad_out),
                None, None, None, None)


class ConvolutionTranspose(ArrayFunction):
    """y = conv_transpose2d(x, w) + b, the adjoint of a convolution applied to x: with
    conv = (stride, padding, dilation, groups) the convolution whose weight is w
    (C_in, C_out/G, KH, KW) and whose output has x's shape, y = Bx(x, w) + b (Bx its input
    gradient), so dx = conv2d(g, w), dw = Bw(g, x) (its weight gradient with g as the input),
    db = Σ g. conv's padding is (top, top - output_padding_h, left, left - output_padding_w):
    the convolution of y's shape then gives x's shape back."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, out_shape):
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        return _transpose_forward(x, weight, bias, ctx.conv, out_shape)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grads = _transpose_backward(ctx.needs_input_grad, ctx.conv, x, weight, grad_out)
        return (*grads, None, None, None, None, None)


def _transpose_forward(x, weight, bias, conv, out_shape):
    out = _input_gradient(x, weight, out_shape, _kernel_args(*conv))
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out


def _transpose_backward(needs, conv, x, weight, grad_out):
    """(dx, dw, db) of ConvolutionTranspose for x 3-D or 4-D, None where not needed."""
    grad_x = grad_w = grad_b = None
    if G.is_tensor(grad_out):
        if needs[0]:
            grad_x = Convolution.apply(grad_out, weight, None, *conv)
        if needs[1]:
            grad_w = ConvolutionBackwardWeight.apply(grad_out, x, tuple(weight.shape), conv)
        if needs[2]:
            grad_b = grad_out.sum(axis=(0, 2, 3) if grad_out.ndim == 4 else (1, 2))
        return grad_x, grad_w, grad_b
    grad_out = grad_out.astype(x.dtype, copy=False)
    if needs[0]:
        grad_x = _conv_forward(grad_out, weight, None, *conv)
    if needs[1]:
        grad_w = _weight_gradient(grad_out, x, weight.shape, _kernel_args(*conv))
    if needs[2]:
        grad_b = _bias_gradient(grad_out, x.dtype)
    return grad_x, grad_w, grad_b


class ConvolutionTranspose1d(ArrayFunction):
    """y = conv_transpose1d(x, w) + b: ConvolutionTranspose on rows of height 1."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, out_shape):
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        shape = tuple(out_shape[:-1]) + (1, out_shape[-1])
        out = _transpose_forward(x[..., None, :], weight[:, :, None, :], bias, ctx.conv, shape)
        return out[..., 0, :]

    @staticmethod
    def backward(ctx, grad_out):
        return (*_backward_on_rows(_transpose_backward, ctx, grad_out),
                None, None, None, None, None)


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


def single(value, name: str, op: str) -> int:
    """A 1-D window argument: an int or a sequence of one int."""
    if type(value) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        if len(value) == 1:
            return int(value[0])
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 1 values "
                           f"to match the convolution dimensions, but got {name}={list(value)}")
    raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, not "
                    f"{type(value).__name__}")


def _check_tensors(input, weight, bias, op, dims, transposed=False):
    """Types, ranks and dtypes of a convolution's tensors (dims: its spatial dimensions)."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}(): argument 'bias' must be Tensor or None, not "
                        f"{type(bias).__name__}")
    if input.array.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(input.array.shape)}")
    if weight.array.ndim != dims + 2:
        layout = "in_channels, out_channels/groups" if transposed else \
            "out_channels, in_channels/groups"
        raise RuntimeError(f"Expected {dims + 2}D weight ({layout}, kernel size) for {op}, but "
                           f"got weight of size: {list(weight.array.shape)}")
    if input.array.dtype not in FLOATS:
        raise RuntimeError(f"{op} expects a float32 or float64 input, but got input of dtype "
                           f"{input.array.dtype}")
    if weight.array.dtype != input.array.dtype:
        raise RuntimeError(f"Input type ({scalar_type_name(input.array.dtype)}) and weight type "
                           f"({scalar_type_name(weight.array.dtype)}) should be the same")
    if bias is not None and bias.array.dtype != input.array.dtype:
        raise RuntimeError(f"Input type ({scalar_type_name(input.array.dtype)}) and bias type "
                           f"({scalar_type_name(bias.array.dtype)}) should be the same")


def _kernel_ints(in_shape, kernel, stride, sides, dilation, op):
    """stride and dilation as the kernels' C ints: a value past int32 that changes nothing
    becomes one that fits (the dilation of a 1-tap kernel: 1; the stride of an axis with one
    output: the smallest that still gives one); a padding past int32 is refused, naming it
    (torch would try to allocate the padded input)."""
    INT32_MAX = 2 ** 31 - 1
    if max(sides) > INT32_MAX:
        raise RuntimeError(f"{op}(): padding {list(sides)} does not fit the kernels' 32-bit "
                           f"integers (at most {INT32_MAX})")
    stride, dilation = list(stride), list(dilation)
    for axis in (0, 1):
        size = in_shape[2 + axis] + sides[2 * axis] + sides[2 * axis + 1]
        if dilation[axis] > INT32_MAX and kernel[axis] == 1:
            dilation[axis] = 1
        span = size - dilation[axis] * (kernel[axis] - 1)  # window positions at stride 1
        if stride[axis] > INT32_MAX and span <= stride[axis]:
            stride[axis] = max(span, 1)
        check_int32((stride[axis],), "stride", op)
        check_int32((dilation[axis],), "dilation", op)
    return tuple(stride), tuple(dilation)


def _check_window(weight, stride, dilation, groups, op):
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"{op}(): argument 'groups' must be int, not {type(groups).__name__}")
    kernel = (1,) * (4 - weight.array.ndim) + weight.array.shape[2:]  # 1-D: a height of 1
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{kernel[0]} kernel_width: {kernel[1]}")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    check_int64((groups,), "groups", op)


def _check_shapes(in_shape, w_shape, bias, groups, padding, dilation, shown, transposed=False):
    """Channel counts, groups, bias length and the padded input against the dilated kernel,
    on the 2-D shapes (N, C, H, W) and (F, C/G, KH, KW); ``shown`` = (input, weight) shapes
    as the user gave them, for the messages."""
    shown_in, shown_w = shown
    f, cg, kh, kw = w_shape
    if 0 in in_shape[2:]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {shown_in}")
    if f == 0 or f % groups != 0:
        need = "at least 1" if f == 0 else f"divisible by {groups}"
        raise RuntimeError(f"Given groups={groups}, expected weight to be {need} at dimension 0, "
                           f"but got weight of size {shown_w} instead")
    given = f"Given transposed=1, weight of size {shown_w}" if transposed else \
        f"Given groups={groups}, weight of size {shown_w}"
    channels_in = f if transposed else cg * groups
    if in_shape[1] != channels_in:
        raise RuntimeError(f"{given}, expected input{shown_in} to have {channels_in} channels, "
                           f"but got {in_shape[1]} channels instead")
    if transposed:
        return  # the bias and the output size: see _transposed_geometry
    if bias is not None and (bias.array.ndim != 1 or bias.array.shape[0] != f):
        raise RuntimeError(f"Given weight of size {shown_w}, expected bias to be 1-dimensional "
                           f"with {f} elements, but got bias of size {list(bias.array.shape)} "
                           f"instead")
    top, bottom, left, right = padding
    padded = (in_shape[2] + top + bottom, in_shape[3] + left + right)
    dilated = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if padded[0] < dilated[0] or padded[1] < dilated[1]:
        one_d = len(shown_in) < 4 and len(shown_w) == 3
        sizes = (f"({padded[1]})", f"({dilated[1]})") if one_d else \
            (f"({padded[0]} x {padded[1]})", f"({dilated[0]} x {dilated[1]})")
        raise RuntimeError(f"Calculated padded input size per channel: {sizes[0]}. Kernel size: "
                           f"{sizes[1]}. Kernel size can't be greater than actual input size")


# conv2d's checked geometry by its arguments' shapes, dtypes and window: a layer called again
# with the same shapes (every step of a training loop) skips the ~10 us of checks. The key
# holds everything the checks read; arguments that cannot be a key (lists) are checked anew.
_checked_conv2d = {}


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight (F, C/groups, KH, KW),
    bias (F,) or None; stride, dilation an int or pair; padding an int, a pair, 'valid' or
    'same'. Everything is validated here, before the kernel runs (or was, for the same
    shapes, dtypes and window: see _checked_conv2d)."""
    key = checked = None
    if (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor)) and type(groups) is int
            and _plain(stride) and _plain(padding) and _plain(dilation)):
        key = (input.array.shape, input.array.dtype, weight.array.shape, weight.array.dtype,
               None if bias is None else (bias.array.shape, bias.array.dtype),
               stride, padding, dilation, groups)
        checked = _checked_conv2d.get(key)
        if checked is not None:
            return Convolution.apply(input, weight, bias, *checked)
    geometry = _conv2d_geometry(input, weight, bias, stride, padding, dilation, groups)
    if key is not None:
        if len(_checked_conv2d) >= 4096:
            _checked_conv2d.clear()
        _checked_conv2d[key] = geometry
    return Convolution.apply(input, weight, bias, *geometry)


def _plain(value) -> bool:
    """Whether a window argument is an int, a string or a tuple of ints, exactly (so that a
    key of it cannot match another type's equal value: True == 1, 1.0 == 1)."""
    kind = type(value)
    return kind is int or kind is str or (kind is tuple and all(type(v) is int for v in value))


def _conv2d_geometry(input, weight, bias, stride, padding, dilation, groups) -> tuple:
    """conv2d's checks; (stride, (top, bottom, left, right), dilation, groups) for the
    kernels."""
    _check_tensors(input, weight, bias, "conv2d", 2)
    stride = pair(stride, "stride", "conv2d")
    dilation = pair(dilation, "dilation", "conv2d")
    _check_window(weight, stride, dilation, groups, "conv2d")
    sides = conv2d_padding(padding, weight.array.shape[2:], stride, dilation)
    in_shape = [1, *input.array.shape] if input.array.ndim == 3 else list(input.array.shape)
    _check_shapes(in_shape, weight.array.shape, bias, int(groups), sides, dilation,
                  (list(input.array.shape), list(weight.array.shape)))
    stride, dilation = _kernel_ints(in_shape, weight.array.shape[2:], stride, sides, dilation,
                                    "conv2d")
    # The kernels read any strides (channels-last activations and HWIO weights fastest).
    return stride, sides, dilation, int(groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """torch.nn.functional.conv1d: input (N, C, L) or (C, L), weight (F, C/groups, K), bias
    (F,) or None; stride, dilation an int; padding an int, 'valid' or 'same'. Runs as a 2-D
    convolution of rows of height 1, on the same kernels."""
    _check_tensors(input, weight, bias, "conv1d", 1)
    stride = (1, single(stride, "stride", "conv1d"))
    dilation = (1, single(dilation, "dilation", "conv1d"))
    _check_window(weight, stride, dilation, groups, "conv1d")
    if not isinstance(padding, str):
        padding = (0, single(padding, "padding", "conv1d"))
    f, cg, k = weight.array.shape
    sides = conv2d_padding(padding, (1, k), stride, dilation)
    shape = input.array.shape
    in_shape = [1, shape[0], 1, shape[1]] if len(shape) == 2 else [shape[0], shape[1], 1, shape[2]]
    _check_shapes(in_shape, (f, cg, 1, k), bias, int(groups), sides, dilation,
                  (list(shape), list(weight.array.shape)))
    stride, dilation = _kernel_ints(in_shape, (1, k), stride, sides, dilation, "conv1d")
    return Convolution1d.apply(input, weight, bias, stride, sides, dilation, int(groups))


def _transposed_geometry(input, weight, stride, padding, output_padding, dilation, groups,
                         op, dims):
    """(the stride for the kernels, the output shape of a transposed convolution, its conv
    padding) in 2-D terms, after torch's checks; stride, padding, output_padding, dilation are
    (h, w) pairs."""
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    for o, s, d in zip(output_padding, stride, dilation):
        if o >= s and o >= d:
            names = ("height", "width")
            parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)]
            parts += [f"stride_{n}: {v}" for n, v in zip(names, stride)]
            parts += [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               "but got " + " ".join(parts[i] for i in _shown(dims)))
    shape = input.array.shape
    spatial = (1,) + tuple(shape[-1:]) if dims == 1 else tuple(shape[-2:])
    # a stride past int32 changes nothing along an axis of one input position
    stride = tuple(1 if s > 2 ** 31 - 1 and n == 1 else s for s, n in zip(stride, spatial))
    for values, name in ((stride, "stride"), (padding, "padding"), (dilation, "dilation")):
        check_int32(values, name, op)  # the kernels' C ints
    batched = len(shape) == dims + 2
    n = shape[0] if batched else 1
    c_in = shape[1] if batched else shape[0]
    w4 = weight.array.shape if dims == 2 else weight.array.shape[:2] + (1,) + \
        weight.array.shape[2:]
    shown = (list(shape), list(weight.array.shape))
    _check_shapes([n, c_in, *spatial], w4, None, groups, None, dilation, shown, True)
    out = tuple((size - 1) * s - 2 * p + d * (k - 1) + o + 1 for size, s, p, d, k, o in
                zip(spatial, stride, padding, dilation, w4[2:], output_padding))
    if min(out) <= 0:
        given = " x ".join(str(v) for v in spatial[2 - dims:])
        found = " x ".join(str(v) for v in out[2 - dims:])
        raise RuntimeError(f"Given input size per channel: ({given}). Calculated output size "
                           f"per channel: ({found}). Output size is too small")
    c_out = w4[1] * groups
    return stride, ((n,) if batched else ()) + (c_out,) + out[2 - dims:], \
        (padding[0], padding[0] - output_padding[0], padding[1], padding[1] - output_padding[1])


def _check_transposed_weight(weight):
    if weight.array.size == 0:  # torch's transposed kernels refuse an empty weight
        shape = list(weight.array.shape)
        shown = shape if len(shape) == 4 else shape[:2] + [1] + shape[2:]
        raise RuntimeError(f"non-empty 2D or 4D weight tensor expected, but got: {shown}")


def _shown(dims):
    """The entries of the output-padding message for 1-D (width only) or 2-D arguments."""
    return (1, 3, 5) if dims == 1 else range(6)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """torch.nn.functional.conv_transpose2d: input (N, C_in, H, W) or unbatched, weight (C_in,
    C_out/groups, KH, KW), bias (C_out,); the output is
    (H - 1)·stride - 2·padding + dilation·(KH - 1) + output_padding + 1 high (and wide
    alike): the adjoint of conv2d with the same arguments (see ConvolutionTranspose)."""
    op = "conv_transpose2d"
    _check_tensors(input, weight, bias, op, 2, transposed=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    stride = pair(stride, "stride", op)
    dilation = pair(dilation, "dilation", op)
    padding = pair(padding, "padding", op)
    output_padding = pair(output_padding, "output_padding", op)
    _check_window(weight, stride, dilation, groups, op)
    _check_transposed_weight(weight)
    stride, out_shape, sides = _transposed_geometry(input, weight, stride, padding, output_padding,
                                            dilation, int(groups), op, 2)
    _check_bias(bias, weight, out_shape[-3])
    return ConvolutionTranspose.apply(input, weight, bias, stride, sides, dilation, int(groups),
                                      out_shape)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """torch.nn.functional.conv_transpose1d: input (N, C_in, L) or (C_in, L), weight (C_in,
    C_out/groups, K), bias (C_out,); conv_transpose2d on rows of height 1."""
    op = "conv_transpose1d"
    _check_tensors(input, weight, bias, op, 1, transposed=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    stride = (1, single(stride, "stride", op))
    dilation = (1, single(dilation, "dilation", op))
    padding = (0, single(padding, "padding", op))
    output_padding = (0, single(output_padding, "output_padding", op))
    _check_window(weight, stride, dilation, groups, op)
    _check_transposed_weight(weight)
    stride, out_shape, sides = _transposed_geometry(input, weight, stride, padding, output_padding,
                                            dilation, int(groups), op, 1)
    _check_bias(bias, weight, out_shape[-2])
    return ConvolutionTranspose1d.apply(input, weight, bias, stride, sides, dilation,
                                        int(groups), out_shape)


def _check_bias(bias, weight, channels):
    if bias is not None and (bias.array.ndim != 1 or bias.array.shape[0] != channels):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.array.shape)}, "
                           f"expected bias to be 1-dimensional with {channels} elements, but "
                           f"got bias of size {list(bias.array.shape)} instead")
