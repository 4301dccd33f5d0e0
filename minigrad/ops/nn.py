"""Ops of the neural-network layers: Linear (on the GEMM kernel), LeakyRelu, Gelu, BatchNorm
and the Dropout mask multiply. Inputs are validated by the callers in minigrad.nn.functional.

Linear, x (..., K), W (N, K), b (N,):
    y = x Wᵀ + b;   dx = g W,  dW = gᵀ x,  db = Σ_rows g
LeakyRelu, slope α:  y = x if x > 0 else α x;   dy/dx = 1 if x > 0 else α
Gelu (exact):  y = x Φ(x) = x (1 + erf(x/√2)) / 2;   dy/dx = Φ(x) + x φ(x)
Gelu (tanh):   y = x (1 + tanh(u)) / 2,  u = √(2/π) (x + 0.044715 x³);
               dy/dx = (1 + t)/2 + x (1 - t²) √(2/π) (1 + 3·0.044715 x²) / 2,  t = tanh(u)
BatchNorm over every axis but the channel axis 1, m values per channel:
    x̂ = (x - μ) / √(σ² + ε),  y = γ x̂ + β  (μ, σ² the batch's biased statistics in training,
    the running ones in evaluation); running μ ← (1-f) μ + f μ_B, running σ² ← (1-f) σ² +
    f σ²_B m/(m-1).   dγ = Σ g x̂,  dβ = Σ g,  with h = γ g:
    training:  dx = (h - mean(h) - x̂ mean(h x̂)) / √(σ² + ε);   evaluation: dx = h / √(σ² + ε)
Dropout:  y = x ⊙ mask (mask already holds 0 or 1/(1-p));  dx = g ⊙ mask
"""
import math

import numpy as np

from minigrad._kernels import gemm as _gemm
from minigrad.autograd import Function
from minigrad.threads import get_num_threads

_erf_objects = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise without scipy: math.erf is exact to double precision (GELU is not on
    the seed model's hot path)."""
    return _erf_objects(x).astype(x.dtype)

__all__ = ["Linear", "linear_function", "LeakyRelu", "Gelu", "BatchNorm", "DropoutMask"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = 0.044715


class Linear(Function):
    """y = x Wᵀ + b in one GEMM call (the bias is written first and accumulated onto)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        n_out, n_in = weight.shape
        x2 = x.reshape(-1, n_in)
        out = np.empty((x2.shape[0], n_out), dtype=x.dtype)
        if bias is None:
            _gemm.gemm(x2, weight.T, out, False, get_num_threads())
        else:
            out[...] = bias
            _gemm.gemm(x2, weight.T, out, True, get_num_threads())
        ctx.save_for_backward(x, weight)
        return out.reshape(x.shape[:-1] + (n_out,))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        n_out, n_in = weight.shape
        g2 = grad.reshape(-1, n_out)
        threads = get_num_threads()
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = np.empty((g2.shape[0], n_in), dtype=grad.dtype)
            _gemm.gemm(g2, weight, grad_x, False, threads)
            grad_x = grad_x.reshape(x.shape)
        if needs[1]:
            grad_w = np.empty((n_out, n_in), dtype=grad.dtype)
            _gemm.gemm(g2.T, x.reshape(-1, n_in), grad_w, False, threads)
        if needs[2]:
            grad_b = g2.sum(axis=0)
        return grad_x, grad_w, grad_b


class LinearAddmm(Linear):
    """Linear of a matrix with a bias; the other cases are named as torch names the last node
    of its own (unfused) linear: mm, addmm, view, unsafe view or squeeze."""

    node_name = "AddmmBackward0"


class LinearMm(Linear):
    node_name = "MmBackward0"


class LinearView(Linear):
    node_name = "ViewBackward0"


class LinearUnsafeView(Linear):
    node_name = "UnsafeViewBackward0"


class LinearSqueeze(Linear):
    node_name = "SqueezeBackward4"


# (input.ndim capped at 3, has a bias) -> the Linear subclass named as torch's grad_fn
_LINEAR_FUNCTIONS = {(1, True): LinearView, (1, False): LinearSqueeze,
                     (2, True): LinearAddmm, (2, False): LinearMm,
                     (3, True): LinearView, (3, False): LinearUnsafeView}


def linear_function(ndim: int, has_bias: bool):
    """The Linear Function to apply to an input of ``ndim`` dimensions (one dict look-up)."""
    return _LINEAR_FUNCTIONS[ndim if ndim < 3 else 3, has_bias]


class LeakyRelu(Function):
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
        return np.where(positive, grad, grad * grad.dtype.type(ctx.negative_slope)), None


class Gelu(Function):
    """GELU, exact (erf) or its tanh approximation; see the module docstring for the math."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x ** 3))
            return (0.5 * x * (1.0 + t)).astype(x.dtype, copy=False)
        return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x ** 3))
            du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_C * x * x)
            slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
            slope = cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return (grad * slope).astype(grad.dtype, copy=False), None


class BatchNorm(Function):
    """Batch normalisation over axis 1 (see the module docstring); updates the running
    statistics in place during a training forward."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if training:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            if running_mean is not None:
                count = x.size // x.shape[1]
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
                running_var *= 1.0 - momentum
                running_var += momentum * var * (count / max(count - 1, 1))
        else:
            mean, var = running_mean, running_var
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(shape)
        xhat = (x - mean.reshape(shape).astype(x.dtype, copy=False)) * invstd
        out = xhat if weight is None else xhat * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.training = training
        ctx.axes = axes
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        axes, needs = ctx.axes, ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[1]:
            grad_w = (grad * xhat).sum(axis=axes)
        if needs[2]:
            grad_b = grad.sum(axis=axes)
        if needs[0]:
            h = grad if weight is None else grad * weight.reshape(invstd.shape)
            if ctx.training:
                h = (h - h.mean(axis=axes, keepdims=True)
                     - xhat * (h * xhat).mean(axis=axes, keepdims=True))
            grad_x = h * invstd
        return grad_x, grad_w, grad_b, None, None, None, None, None


class DropoutMask(Function):
    """y = x ⊙ mask, the mask holding 0 or 1/(1-p) (torch's dropout node is a multiply)."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None
