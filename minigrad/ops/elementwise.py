"""Elementwise ops, softmax and casts, on numpy arrays with numpy broadcasting.

Binary ops return their gradients in the broadcast shape; the engine sums them back to each
input's shape. A Python number operand arrives as a plain float or int and gets no gradient.
"""
import numpy as np

from minigrad.autograd import Function


def broadcast_error(a, b) -> RuntimeError:
    """torch's message for operands whose shapes do not broadcast."""
    shape_a, shape_b = np.shape(a), np.shape(b)
    ndim = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    padded_b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    for dim in range(ndim):
        x, y = padded_a[dim], padded_b[dim]
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                                f"({y}) at non-singleton dimension {dim} (shapes "
                                f"{tuple(shape_a)} and {tuple(shape_b)})")
    return RuntimeError(f"shapes {tuple(shape_a)} and {tuple(shape_b)} do not broadcast")


def _broadcasting(ufunc, a, b):
    try:
        return ufunc(a, b)
    except ValueError:
        raise broadcast_error(a, b) from None


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return _broadcasting(np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return _broadcasting(np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Rsub(Sub):
    """z = a - b with the Python number on the left (torch's rsub: ``1 - t``)."""

    node_name = "RsubBackward1"


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        grad_b = grad * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b² = -z/b."""

    @staticmethod
    def forward(ctx, a, b):
        out = _broadcasting(np.true_divide, a, b)
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        b, out = ctx.saved_tensors
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        grad_b = -grad * out / b if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Rdiv(Div):
    """z = a / b with the Python number on the left (``2 / t``): torch computes it as
    reciprocal(t) * 2, so its last node is a multiply; minigrad's one node keeps that name."""

    node_name = "MulBackward0"


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = z ln a (taken as 0 where a = 0 and b >= 0).
    Named per call as torch: PowBackward0 for a number exponent (this class), PowBackward1
    for a tensor exponent, PowBackward2 for a number base."""

    @staticmethod
    def forward(ctx, a, b):
        if isinstance(a, np.ndarray) and a.dtype.kind in "iu" and np.any(np.asarray(b) < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        out = _broadcasting(np.power, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_a = grad * b * np.power(a, b - 1)
            if np.any(b == 0):  # d(a^0)/da = 0, also at a = 0 (as torch)
                grad_a = np.where(b == 0, 0, grad_a)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a == 0, 0, np.log(np.where(a == 0, 1, a)))
            grad_b = grad * out * log_a
        return grad_a, grad_b


class PowTensorExponent(Pow):
    node_name = "PowBackward1"


class PowNumberBase(Pow):
    node_name = "PowBackward2"


class Maximum(Function):
    """z = max(a, b); the gradient goes to the larger input, split equally on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.maximum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)


class Minimum(Function):
    """z = min(a, b); the gradient goes to the smaller input, split equally on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.minimum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)


class Neg(Function):
    """z = -a."""

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    """z = |a|;  dz/da = sign(a) (0 at 0, as torch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)


class Exp(Function):
    """z = e^a;  dz/da = z."""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """z = ln a;  dz/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


class Sqrt(Function):
    """z = √a;  dz/da = 1 / (2 z)."""

    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad / (2 * out)


class Relu(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    inplace_saves_output = True  # relu_ saves the tensor itself, as torch

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Sigmoid(Function):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z). Computed without overflow for large |a|."""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Tanh(Function):
    """z = tanh a;  dz/da = 1 - z²."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Clamp(Function):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0 (as torch);
    tensor bounds: dz/dlo = 1 where a < lo, dz/dhi = 1 where a > hi. Number bounds name the
    node ClampBackward1, tensor bounds (ClampTensorBounds) ClampBackward0, as torch."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        out = a
        if low is not None:
            out = np.maximum(out, low)
        if high is not None:
            out = np.minimum(out, high)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        inside = True  # tensor bounds may broadcast a: no in-place mask
        if ctx.low is not None:
            inside = inside & (a >= ctx.low)
        if ctx.high is not None:
            inside = inside & (a <= ctx.high)
        grad_low = grad * (a < ctx.low) if ctx.needs_input_grad[1] else None
        grad_high = grad * (a > ctx.high) if ctx.needs_input_grad[2] else None
        return grad * inside, grad_low, grad_high


class ClampTensorBounds(Clamp):
    node_name = "ClampBackward0"


class Where(Function):
    """z = a where condition else b; the gradient goes to the chosen side."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        try:
            return np.where(condition, a, b)
        except ValueError:
            try:
                left = np.broadcast_to(condition, np.broadcast_shapes(np.shape(condition),
                                                                      np.shape(a)))
            except ValueError:
                raise broadcast_error(condition, a) from None
            raise broadcast_error(left, b) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        grad_a = np.where(condition, grad, 0) if ctx.needs_input_grad[1] else None
        grad_b = np.where(condition, 0, grad) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


class Cast(Function):
    """z = a converted to another dtype; the gradient is converted back by the engine."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Clone(Function):
    """z = a copy of a (C-contiguous)."""

    @staticmethod
    def forward(ctx, a):
        return np.array(a, order="C", copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Fill(Function):
    """z = a filled with the value v (``fill_``);  da = 0, dv = Σ g (v a 0-d tensor)."""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, a, value):
        return np.full(a.shape, value, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad), (grad.sum() if ctx.needs_input_grad[1] else None)


class FillTensor(Fill):
    node_name = "FillBackward3"


class Zero(Fill):
    """z = zeros like a (``zero_``);  da = 0."""

    node_name = "ZeroBackward0"


class Copy(Function):
    """z = src broadcast to a's shape and cast to its dtype (``copy_``);  da = 0, dsrc = g
    (summed back over the broadcast dimensions by the engine)."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, a, src):
        out = np.empty_like(a)
        np.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad), grad


class Softmax(Function):
    """s = e^(a - max a) / Σ e^(a - max a) along dim;  da = s (g - Σ g s)."""

    @staticmethod
    def forward(ctx, a, dim):
        shifted = np.exp(a - a.max(axis=dim, keepdims=True))
        out = shifted / shifted.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(Function):
    """l = a - max a - ln Σ e^(a - max a) along dim;  da = g - softmax(a) Σ g."""

    @staticmethod
    def forward(ctx, a, dim):
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None
