"""Ops of the neural-network layers: Linear (on the GEMM kernel), BatchNorm and the Dropout
mask multiply (element-wise, or of whole channels: dropout1d/2d/3d); each op's front door
(validation, then Function.apply) is here too, which minigrad.nn.functional and the modules
call. The activations are in ops/activation.py.

Linear, x (..., K), W (N, K), b (N,):
    y = x Wᵀ + b;   dx = g W,  dW = gᵀ x,  db = Σ_rows g
BatchNorm over every axis but the channel axis 1, m values per channel:
    x̂ = (x - μ) / √(σ² + ε),  y = γ x̂ + β  (μ, σ² the batch's biased statistics in training,
    the running ones in evaluation); running μ ← (1-f) μ + f μ_B, running σ² ← (1-f) σ² +
    f σ²_B m/(m-1).   dγ = Σ g x̂,  dβ = Σ g,  with h = γ g:
    training:  dx = (h - mean(h) - x̂ mean(h x̂)) / √(σ² + ε);   evaluation: dx = h / √(σ² + ε)
Dropout:  y = x ⊙ mask (mask already holds 0 or 1/(1-p); one number per channel, broadcast
          over the positions, for the channel-wise dropouts);  dx = g ⊙ mask

Each op's front door (linear, batch_norm, dropout, dropout1d/2d/3d) validates its arguments
here; minigrad.nn.functional and the layers call these.
"""
import math
import numbers
import warnings

import numpy as np

from minigrad._kernels import gemm as _gemm
from minigrad._kernels import norm as _norm
from minigrad._kernels.buffers import aligned_empty
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops import inplace as _inplace
from minigrad.ops.arguments import check_floating, check_tensor, type_name
from minigrad.ops.promotion import can_cast, result_type
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["linear", "batch_norm", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "feature_dropout"]


def _rows(shape) -> int:
    """The rows of an input (..., K) seen as a matrix."""
    return math.prod(shape[:-1])


class Linear(ArrayFunction):
    """y = x Wᵀ + b in one GEMM call (the bias is written first and accumulated onto)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        n_out, n_in = weight.shape
        x2 = x.reshape(_rows(x.shape), n_in)  # not -1: ambiguous when n_in is 0
        out = np.empty((x2.shape[0], n_out), dtype=x.dtype)
        if bias is None:
            _gemm.gemm(x2, weight.T, out, False, get_num_threads())
        else:
            out.reshape(x.shape[:-1] + (n_out,))[...] = bias  # any shape that broadcasts
            _gemm.gemm(x2, weight.T, out, True, get_num_threads())
        ctx.save_for_backward(x, weight)
        ctx.bias_is_vector = bias is None or bias.ndim <= 1
        return out.reshape(x.shape[:-1] + (n_out,))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        n_out, n_in = weight.shape
        rows = _rows(x.shape)
        g2 = grad.reshape(rows, n_out)
        grad_x = grad_w = grad_b = None
        if G.is_tensor(grad):  # create_graph: the same products, recorded
            if needs[0]:
                grad_x = G.matmul(g2, weight).reshape(x.shape)
            if needs[1]:
                grad_w = G.matmul(g2.T, x.reshape(rows, n_in))
            if needs[2]:
                grad_b = g2.sum(axis=0) if ctx.bias_is_vector else grad
            return grad_x, grad_w, grad_b
        threads = get_num_threads()
        if needs[0]:
            grad_x = np.empty((g2.shape[0], n_in), dtype=grad.dtype)
            _gemm.gemm(g2, weight, grad_x, False, threads)
            grad_x = grad_x.reshape(x.shape)
        if needs[1]:
            grad_w = np.empty((n_out, n_in), dtype=grad.dtype)
            _gemm.gemm(g2.T, x.reshape(rows, n_in), grad_w, False, threads)
        if needs[2]:  # the engine sums the output's shape down to a bias of more dimensions
            grad_b = g2.sum(axis=0) if ctx.bias_is_vector else grad
        return grad_x, grad_w, grad_b


class LinearAddmm(Linear):
    """Linear of a matrix with a bias; the other cases are named as torch names the last node
    of its own (unfused) linear: mm, addmm, view, unsafe view or squeeze."""

    node_name = "AddmmBackward0"
    graph_arguments = (2, 0, 1)  # torch's addmm(bias, input, weight.t()) lists them so
    graph_transposed = (1,)


class LinearMm(Linear):
    node_name = "MmBackward0"
    graph_transposed = (1,)  # torch's mm(input, weight.t())


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


class BatchNorm(ArrayFunction):
    """Batch normalisation over axis 1 (see the module docstring) on the fused kernels of
    kernels/norm.pyx; updates the running statistics in place during a training forward.
    The output (and the input gradient) keep the input's layout: channels-last stays
    channels-last, anything else is NCHW."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        channels = x.shape[1]
        view = _channel_view(x)
        count = x.size // max(channels, 1)
        if training:
            mean, m2 = np.zeros(channels), np.zeros(channels)
            if count:  # an empty batch has no statistics and updates nothing (torch)
                _norm.batch_norm_statistics(view, mean, m2, get_num_threads())
            var = m2 / max(count, 1)
            if running_mean is not None and count:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
                running_var *= 1.0 - momentum
                running_var += momentum * var * (count / max(count - 1, 1))
        else:
            mean = running_mean.astype(np.float64)
            var = running_var.astype(np.float64)
        invstd = 1.0 / np.sqrt(var + eps)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        out = _empty_in_layout_of(x)
        _norm.batch_norm_affine(view, scale.astype(x.dtype), shift.astype(x.dtype),
                                _channel_view(out, like=x), get_num_threads())
        ctx.save_for_backward(x, weight, bias)
        ctx.training, ctx.eps = training, eps
        ctx.mean, ctx.invstd = mean, invstd   # float64, (C,)
        return out

    @staticmethod
    def decomposition(ctx, x, weight, bias):
        """The forward in recorded ops (for create_graph=True)."""
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        axes = (0,) + tuple(range(2, x.ndim))
        if ctx.training:
            centered = x - x.mean(axis=axes, keepdims=True)
            xhat = centered / G.sqrt((centered * centered).mean(axis=axes, keepdims=True)
                                     + ctx.eps)
        else:
            xhat = ((x - ctx.mean.reshape(shape).astype(x.dtype))
                    * ctx.invstd.reshape(shape).astype(x.dtype))
        out = xhat if weight is None else xhat * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, _ = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dtype, threads = x.dtype, get_num_threads()
        mean, invstd = ctx.mean, ctx.invstd
        count = x.size // max(x.shape[1], 1)
        view = _channel_view(x)
        grad_view = _channel_view(grad, like=x)
        grad_x = grad_w = grad_b = None
        if needs[1] or needs[2] or ctx.training:
            sum_grad, sum_grad_centred = np.empty(x.shape[1]), np.empty(x.shape[1])
            _norm.batch_norm_gradient_sums(grad_view, view, mean, sum_grad, sum_grad_centred,
                                           threads)
            grad_w = (sum_grad_centred * invstd).astype(dtype) if needs[1] else None
            grad_b = sum_grad.astype(dtype) if needs[2] else None
        if needs[0]:
            scale = invstd if weight is None else invstd * weight
            if ctx.training:
                grad_mean = sum_grad / count
                coef = sum_grad_centred / count * invstd * invstd
            else:
                grad_mean = coef = np.zeros_like(invstd)
            grad_x = _empty_in_layout_of(x)
            _norm.batch_norm_input_gradient(
                grad_view, view, mean.astype(dtype), scale.astype(dtype),
                grad_mean.astype(dtype), coef.astype(dtype), _channel_view(grad_x, like=x), threads)
        return grad_x, grad_w, grad_b, None, None, None, None, None


def _channels_last_order(ndim):
    """The axis order that puts the channel axis 1 last: (0, 2, ..., ndim - 1, 1)."""
    return (0,) + tuple(range(2, ndim)) + (1,)


def _is_channels_last(a):
    """Whether an (N, C, ...) array is stored channels innermost (2-D arrays are)."""
    return a.ndim == 2 or a.transpose(_channels_last_order(a.ndim)).flags.c_contiguous


def _channel_view(a, like=None):
    """The (A, C, B) C-contiguous view the batch-norm kernels read, in the layout of ``like``
    (default ``a`` itself): (N*H*W, C, 1) for channels-last, (N, C, H*W) for NCHW; a copy
    when ``a`` is not stored that way."""
    like = a if like is None else like
    channels, positions = a.shape[1], int(np.prod(a.shape[2:], dtype=np.int64))
    if _is_channels_last(like):
        rows = np.ascontiguousarray(a.transpose(_channels_last_order(a.ndim)))
        return rows.reshape(a.shape[0] * positions, channels, 1)
    return np.ascontiguousarray(a).reshape(a.shape[0], channels, positions)


def _empty_in_layout_of(x):
    """A new array of x's shape and dtype in x's layout (channels-last or NCHW)."""
    if x.ndim > 2 and _is_channels_last(x):
        order = _channels_last_order(x.ndim)
        stored = aligned_empty(x.size, x.dtype).reshape([x.shape[axis] for axis in order])
        return stored.transpose(np.argsort(order))
    return np.empty(x.shape, dtype=x.dtype)


class DropoutMask(ArrayFunction):
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


# ----------------------------------------------------------------------------- front doors

def linear(input, weight, bias=None):
    """y = input Weightᵀ + bias for input (..., in_features), weight (out, in) and a bias that
    broadcasts to the output's shape (..., out) without changing it ((out,), (), (1,), ...),
    as torch. Integer operands multiply exactly (no gradient); a 1-D weight is a vector
    product, as torch's matmul makes it."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        _linear_error(input, weight)
    if bias is not None and not isinstance(bias, Tensor):
        check_tensor(bias, "bias", "linear", 3)
    x, w = input.array, weight.array
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        if w.ndim == 1 and x.ndim > 0 and (bias is None or bias.array.ndim != 1):
            return _vector_linear(input, weight, bias)
        _linear_error(input, weight)
    if x.dtype != w.dtype or x.dtype.kind not in "fiu" or x.dtype == np.float16:
        _linear_error(input, weight)
    if bias is not None:
        if bias.array.ndim == 0 and x.ndim != 2 and bias.array.dtype != x.dtype \
                and bias.array.dtype.kind == x.dtype.kind:
            bias = bias.to(x.dtype)  # torch's matmul + add: a 0-d bias takes x's dtype
        _check_linear_bias(bias.array, x, w)
    if x.dtype.kind != "f":  # exact in numpy, wrapping as torch's; no gradient
        out = np.matmul(x, w.T)
        return Tensor(out if bias is None else (out + bias.array).astype(x.dtype))
    return linear_function(x.ndim, bias is not None).apply(input, weight, bias)


def _check_linear_bias(b, x, w):
    if b.dtype != x.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{type_name(b.dtype)} and {type_name(x.dtype)}")
    out_shape = x.shape[:-1] + (w.shape[0],)
    try:
        fits = np.broadcast_shapes(b.shape, out_shape) == out_shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"linear: a bias of shape {list(b.shape)} does not broadcast to the "
                           f"output's shape {list(out_shape)}")


def _vector_linear(input, weight, bias):
    """linear with a 1-D weight: torch's matmul(input, weight) (+ bias)."""
    from minigrad.ops.linalg import matmul
    if bias is not None and input.array.ndim == 2:  # torch's addmm wants a matrix
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    out = matmul(input, weight)
    if bias is None:
        return out
    try:
        shape = np.broadcast_shapes(out.array.shape, bias.array.shape)
    except ValueError:
        shape = None
    if shape != out.array.shape:  # torch adds the bias in place
        raise RuntimeError(f"output with shape {list(out.array.shape)} doesn't match the "
                           f"broadcast shape {list(shape or bias.array.shape)}")
    dtype = result_type(out, bias)
    if dtype == out.array.dtype:
        return out + bias
    if not can_cast(dtype, out.array.dtype):  # added in place: the output keeps its dtype
        raise RuntimeError(f"result type {type_name(dtype)} can't be cast to the desired "
                           f"output type {type_name(out.array.dtype)}")
    return (out.to(dtype) + bias).to(out.array.dtype)


def _linear_error(input, weight):
    check_tensor(input, "input", "linear", 1)
    check_tensor(weight, "weight", "linear", 2)
    x, w = input.array, weight.array
    if x.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D "
                           f"and {w.ndim}D")
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D, got shape {tuple(w.shape)}")
    if x.shape[-1] != w.shape[1]:
        rows = int(np.prod(x.shape[:-1], dtype=np.int64))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} "
                           f"and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{type_name(x.dtype)} and {type_name(w.dtype)}")
    if x.dtype == np.float16:
        raise NotImplementedError("linear: minigrad's GEMM has no float16 ('Half') kernel; use "
                                  "float32")
    raise NotImplementedError(f"\"addmm_impl_cpu_\" not implemented for "
                              f"'{type_name(x.dtype)}'")


def _check_probability(p):
    if not isinstance(p, numbers.Real) or p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p != p:  # NaN passes torch's Python check; its kernel refuses it
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout_mask(shape, p, dtype, generator=None):
    """0 with probability p, else 1/(1-p), of the given shape."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = numpy_generator(generator).random(shape, dtype=dtype) >= p
    return keep * dtype.type(1.0 / (1.0 - p))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p), when training;
    with ``inplace``, written into ``input``."""
    _check_probability(p)
    check_tensor(input, "input", "dropout", 1)
    if not training or p == 0.0:
        return input
    if input.array.dtype.kind != "f":  # torch's message: its mask multiply cannot cast back
        if p == 1.0:  # ... but times zero it can
            return Tensor(np.zeros_like(input.array))
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(input.array.dtype)}")
    mask = dropout_mask(input.array.shape, p, input.array.dtype, generator)
    if inplace:
        return _inplace.apply_(input, DropoutMask, mask)
    return DropoutMask.apply(input, mask)


def feature_dropout(input, p: float, training: bool, inplace: bool = False, batched=True,
                    generator=None):
    """torch's feature dropout: zero whole channels (dimension 1, or 0 when not ``batched``)
    with probability p, scaling the rest by 1/(1-p); one draw per (sample, channel)."""
    check_tensor(input, "input", "feature_dropout", 1)
    if not training or p == 0.0:
        return input
    if p == 1.0 and not inplace:  # torch multiplies by 0 before it looks at dims or dtype
        return input * 0.0 if input.array.dtype.kind == "f" else \
            Tensor(np.zeros_like(input.array))
    check_floating(input, "feature_dropout")
    shape = input.array.shape
    lead = 2 if batched else 1
    if len(shape) < lead:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    mask = dropout_mask(shape[:lead] + (1,) * (len(shape) - lead), p, input.array.dtype,
                         generator)
    if inplace:
        return _inplace.apply_(input, DropoutMask, mask)
    return DropoutMask.apply(input, mask)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel-wise dropout of (N, C, L) or (C, L) inputs."""
    _check_probability(p)
    check_tensor(input, "input", "dropout1d", 1)
    ndim = input.array.ndim
    if ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return feature_dropout(input, p, training, inplace, batched=ndim == 3)


def _deprecated_rank(name, ndim, dims):
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  "result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {name} exists to "
                  f"provide channel-wise dropout on inputs with {dims} spatial dimensions, a "
                  f"channel dimension, and an optional batch dimension (i.e. {dims + 1}D or "
                  f"{dims + 2}D inputs).", stacklevel=3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel-wise dropout of (N, C, H, W) inputs. As torch 2.13, a 3-D input is read as
    (N, C, L) (with torch's warning), other ranks as (N, C, ...) with a deprecation warning."""
    _check_probability(p)
    check_tensor(input, "input", "dropout2d", 1)
    ndim = input.array.ndim
    if ndim not in (3, 4):
        _deprecated_rank("dropout2d", ndim, 2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return feature_dropout(input, p, training, inplace)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel-wise dropout of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_probability(p)
    check_tensor(input, "input", "dropout3d", 1)
    ndim = input.array.ndim
    if ndim not in (4, 5):
        _deprecated_rank("dropout3d", ndim, 3)
    return feature_dropout(input, p, training, inplace, batched=ndim != 4)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every axis but the channel axis 1 (see BatchNorm).

    In training the batch statistics are used and, when given, the running ones updated with
    factor ``momentum``; otherwise the running statistics are used."""
    check_tensor(input, "input", "batch_norm", 1)
    shape = input.array.shape
    if training and shape and shape[0] * math.prod(shape[2:]) == 1:  # torch's Python check
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(shape)}")
    if eps < 0:  # torch's Python-side checks, first
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training and eps == 0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"batch_norm(): argument '{name}' must be float, not "
                            f"{type(value).__name__}")
    channels = shape[1] if input.ndim >= 2 else 0  # torch counts 0 features for a 1-D input
    statistics = (("running_mean", running_mean), ("running_var", running_var),
                  ("weight", weight), ("bias", bias))
    for name, value in statistics:
        if value is not None and value.array.shape != (channels,):
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not "
                               f"{int(np.prod(value.array.shape))}")
    if (running_mean is None) != (running_var is None) and input.ndim >= 2:
        if not training:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if input.ndim < 2:  # no channel dim (tests/fuzz/differences.py: torch's checks vary)
        if not training and (running_mean is None or running_var is None):
            raise RuntimeError("running_mean must be defined in evaluation mode")
        raise IndexError(f"batch_norm: Dimension out of range: the input has no channel dim "
                         f"1 (expected at least 2D input, got {input.ndim}D)")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode")
    check_floating(input, "batch_norm")  # the dtype after the shapes, as torch
    if any(value is not None and value.array.dtype != input.array.dtype
           for _, value in statistics):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                          float(momentum), float(eps))
    if training and running_mean is not None:
        running_mean._version.value += 1
        running_var._version.value += 1
    return out
