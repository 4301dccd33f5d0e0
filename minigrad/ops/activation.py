"""The activations of torch.nn.functional beyond relu, sigmoid and tanh (ops/elementwise.py):
each op's Function and its front door, which nn.functional and the layers call.

LeakyRelu, slope α:  y = x if x > 0 else α x;   dy/dx = 1 if x > 0 else α
Gelu (exact):  y = x Φ(x) = x (1 + erf(x/√2)) / 2;   dy/dx = Φ(x) + x φ(x)
Gelu (tanh):   y = x (1 + tanh(u)) / 2,  u = √(2/π) (x + 0.044715 x³);
               dy/dx = (1 + t)/2 + x (1 - t²) √(2/π) (1 + 3·0.044715 x²) / 2,  t = tanh(u)
Silu:      y = x σ(x);   dy/dx = σ(x) (1 + x (1 - σ(x)))
Mish:      y = x tanh(sp(x)), sp(x) = ln(1 + eˣ);   dy/dx = t + x (1 - t²) σ(x),  t = tanh(sp(x))
Elu, α:    y = x if x > 0 else α (eˣ - 1);   dy/dx = 1 if x > 0 else α eˣ = y + α
Softplus, β, threshold:  y = ln(1 + e^(βx)) / β, or x where βx > threshold;
                         dy/dx = σ(βx), or 1 where βx > threshold
Hardtanh [lo, hi]:  y = min(max(x, lo), hi);  dy/dx = 1 where lo < x < hi, else 0
                    (relu6 is hardtanh on [0, 6])
Prelu, a per channel (dimension 1) or one for all:  y = x if x > 0 else a x;
                    dy/dx = 1 if x > 0 else a;  dy/da = Σ over the channel's x ≤ 0 of x g

Each backward is written with grad_math, so it is recorded under create_graph=True.
"""
import math

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops import inplace as _inplace
from minigrad.ops.arguments import check_floating, check_tensor, type_name

__all__ = ["leaky_relu", "gelu", "silu", "mish", "elu", "softplus", "hardtanh", "relu6",
           "prelu"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = 0.044715


class LeakyRelu(ArrayFunction):
    """y = x if x > 0 else slope·x."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return np.where(positive, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return G.where(positive, grad, grad * ctx.negative_slope), None


class Gelu(ArrayFunction):
    """GELU, exact (erf) or its tanh approximation; see the module docstring for the math."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x ** 3))
            return (0.5 * x * (1.0 + t)).astype(x.dtype, copy=False)
        return (0.5 * x * (1.0 + G.erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = G.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x ** 3))
            du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_C * x * x)
            slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            cdf = 0.5 * (1.0 + G.erf(x / math.sqrt(2.0)))
            slope = cdf + x * _INV_SQRT_2PI * G.exp(-0.5 * x * x)
        return G.astype(grad * slope, grad.dtype), None


class Silu(ArrayFunction):
    """y = x σ(x) (see the module docstring)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * G.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = G.sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


def _softplus(x):
    """ln(1 + eˣ) without overflow: max(x, 0) + ln(1 + e^-|x|), on arrays or tensors."""
    return (x + abs(x)) * 0.5 + G.log1p(G.exp(-abs(x)))


class Mish(ArrayFunction):
    """y = x tanh(ln(1 + eˣ)) (see the module docstring)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(_softplus(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = G.tanh(_softplus(x))
        return grad * (t + x * (1 - t * t) * G.sigmoid(x))


class Elu(ArrayFunction):
    """y = x if x > 0 else α (eˣ - 1); the gradient α eˣ of the negative side is y + α."""

    inplace_saves_output = True

    @staticmethod
    def forward(ctx, x, alpha):
        # as torch: x itself at 0 and NaN (whatever alpha), the gradient of the negative side
        # at 0 and of the identity at NaN
        positive = ~(x <= 0)
        out = np.where(x < 0, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)), x)
        ctx.save_for_backward(positive, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        positive, out = ctx.saved_tensors
        return G.where(positive, grad, grad * (out + ctx.alpha)), None


class EluInplace(Elu):
    node_name = "EluBackward1"  # torch's name for the in-place form, which keeps the result


class Softplus(ArrayFunction):
    """y = ln(1 + e^(βx)) / β, linear past the threshold (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        scaled = x * x.dtype.type(beta)
        linear = scaled > threshold
        ctx.save_for_backward(x, linear)
        ctx.beta = beta
        return np.where(linear, x, np.logaddexp(0, scaled) / x.dtype.type(beta))

    @staticmethod
    def backward(ctx, grad):
        x, linear = ctx.saved_tensors
        return G.where(linear, grad, grad * G.sigmoid(x * ctx.beta)), None, None


class Hardtanh(ArrayFunction):
    """y = min(max(x, lo), hi); the gradient flows where lo < x < hi (strictly, as torch)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(~((x <= low) | (x >= high)))  # NaN passes its gradient, as torch
        return np.clip(x, low, high).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return G.where(inside, grad, 0.0), None, None


class Prelu(ArrayFunction):
    """y = x if x > 0 else a x, a broadcast along the channel dimension (see the module
    docstring)."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, weight, shape):
        positive = x > 0
        ctx.save_for_backward(x, weight, positive)
        ctx.shape = shape
        return np.where(positive, x, x * weight.reshape(shape))

    @staticmethod
    def backward(ctx, grad):
        x, weight, positive = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = G.where(positive, grad, grad * weight.reshape(ctx.shape))
        if ctx.needs_input_grad[1]:
            axes = tuple(i for i, n in enumerate(ctx.shape) if n == 1)
            # (0 where positive, not x * 0: an infinite input would make NaN)
            grad_w = (G.where(positive, 0.0, x) * grad).sum(axis=axes, keepdims=True)
            grad_w = grad_w.reshape(weight.shape)
        return grad_x, grad_w, None


# ----------------------------------------------------------------------------- front doors

def _unary(function, input, name, kernel, inplace, *args):
    check_tensor(input, "input", name, 1)
    check_floating(input, kernel)
    if inplace:
        return _inplace.apply_(input, function, *args)
    return function.apply(input, *args)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope·x; with ``inplace``, written into ``input``."""
    return _unary(LeakyRelu, input, "leaky_relu", "leaky_relu", inplace, float(negative_slope))


def gelu(input, approximate: str = "none"):
    """x Φ(x), or its tanh approximation when approximate='tanh'."""
    check_tensor(input, "input", "gelu", 1)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    check_floating(input, "GeluKernelImpl")
    return Gelu.apply(input, approximate)


def silu(input, inplace: bool = False):
    """x σ(x) (the swish); with ``inplace``, written into ``input``."""
    return _unary(Silu, input, "silu", "silu_cpu", inplace)


def mish(input, inplace: bool = False):
    """x tanh(softplus(x)); with ``inplace``, written into ``input``."""
    return _unary(Mish, input, "mish", "mish_cpu", inplace)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else alpha (eˣ - 1); with ``inplace``, written into ``input``."""
    return _unary(EluInplace if inplace else Elu, input, "elu", "elu_cpu", inplace,
                  float(alpha))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """ln(1 + e^(beta x)) / beta, and x where beta x > threshold."""
    return _unary(Softplus, input, "softplus", "softplus_cpu", False, float(beta),
                  float(threshold))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clamped to [min_val, max_val] (integer inputs stay integers, as torch)."""
    check_tensor(input, "input", "hardtanh", 1)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.array.dtype == np.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if input.array.dtype.kind in "iu":  # torch's limits as the integer dtype's values
        if not all(math.isfinite(v) for v in (min_val, max_val)):
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        if input.array.dtype.kind == "u" and min(math.trunc(min_val), math.trunc(max_val)) < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        info = np.iinfo(input.array.dtype)
        if not all(info.min <= math.trunc(v) <= info.max for v in (min_val, max_val)):
            raise RuntimeError(f"value cannot be converted to type {input.array.dtype}_t "
                               f"without overflow")
    if inplace:
        return _inplace.apply_(input, Hardtanh, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6): hardtanh on [0, 6]."""
    return hardtanh(input, 0.0, 6.0, inplace)


def prelu(input, weight):
    """x if x > 0 else a x, with a = weight: one number for every element, or one per
    channel (dimension 1 of the input)."""
    check_tensor(input, "input", "prelu", 1)
    check_tensor(weight, "weight", "prelu", 2)
    x, w = input.array, weight.array
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    if w.dtype != x.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {type_name(x.dtype)} and "
                           f"{type_name(w.dtype)}")
    check_floating(input, "prelu_cpu")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.size != 1 and w.size != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {w.size} and channel size = {channels}.")
    shape = (1,) * x.ndim
    if w.size != 1:
        shape = (1, channels) + (1,) * (x.ndim - 2)
    return Prelu.apply(input, weight, shape)

