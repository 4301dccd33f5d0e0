"""Layer and group normalisation on the fused kernels of kernels/norm.pyx (NumPy twins in
minigrad/reference/norm.py), torch.nn.functional.layer_norm and group_norm.

LayerNorm: each sample's last len(normalized_shape) dimensions (K numbers) are normalised
together; GroupNorm: each sample's channels are split into G groups of C/G, each normalised
over its channels and spatial positions. Per normalised set of M numbers:

    mean = Σ x / M,  var = Σ (x - mean)² / M,  x̂ = (x - mean) / sqrt(var + eps)
    y = x̂ w + b         (w, b shaped as normalized_shape for LayerNorm, per channel for
                         GroupNorm; none when not given)
    dx = (h - mean(h) - x̂ mean(h x̂)) / sqrt(var + eps),  h = g w;  dw = Σ g x̂,  db = Σ g

Double backward differentiates each op's ``decomposition`` (the forward in recorded ops).
"""
import math
import numbers

import numpy as np

from minigrad._kernels import norm as _kernels
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_tensor, type_name
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["layer_norm", "group_norm"]


def _contiguous(a, dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def _normalised(x, axes, eps):
    """x̂ in recorded ops (the decompositions' shared step)."""
    centered = x - x.mean(axis=axes, keepdims=True)
    return centered / G.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)


def _rows(shape, dims):
    """(rows, numbers per row) of an input normalised over its last ``dims`` dimensions."""
    return math.prod(shape[:len(shape) - dims]), math.prod(shape[len(shape) - dims:])


class LayerNorm(ArrayFunction):
    """Layer normalisation over the last ``dims`` dimensions (see the module docstring)."""

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        rows = np.ascontiguousarray(x).reshape(_rows(x.shape, dims))
        out = np.empty(rows.shape, dtype=x.dtype)
        mean = np.empty(rows.shape[0], dtype=x.dtype)
        rstd = np.empty(rows.shape[0], dtype=x.dtype)
        _kernels.layer_norm_forward(rows, _contiguous(weight, x.dtype), _contiguous(bias, x.dtype),
                                    eps, out, mean, rstd, get_num_threads())
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        ctx.dims, ctx.eps = dims, eps
        return out.reshape(x.shape)

    @staticmethod
    def decomposition(ctx, x, weight, bias, mean, rstd):
        out = _normalised(x, tuple(range(x.ndim - ctx.dims, x.ndim)), ctx.eps)
        out = out if weight is None else out * weight
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias, mean, rstd = ctx.saved_tensors
        needs = ctx.needs_input_grad
        shape = _rows(x.shape, ctx.dims)
        k = shape[1]
        grad_x = np.empty(shape, x.dtype) if needs[0] else None
        grad_w = np.empty(k, x.dtype) if needs[1] else None
        grad_b = np.empty(k, x.dtype) if needs[2] else None
        _kernels.layer_norm_backward(
            np.ascontiguousarray(grad, dtype=x.dtype).reshape(shape),
            np.ascontiguousarray(x).reshape(shape), mean, rstd, _contiguous(weight, x.dtype),
            grad_x, grad_w, grad_b, get_num_threads())
        return (None if grad_x is None else grad_x.reshape(x.shape),
                None if grad_w is None else grad_w.reshape(weight.shape),
                None if grad_b is None else grad_b.reshape(bias.shape), None, None)


class GroupNorm(ArrayFunction):
    """Group normalisation of (N, C, *) over G groups of channels (see the module docstring)."""

    node_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        n, c = x.shape[:2]
        samples = np.ascontiguousarray(x).reshape(n, c, math.prod(x.shape[2:]))
        out = np.empty(samples.shape, dtype=x.dtype)
        mean = np.empty((n, groups), dtype=x.dtype)
        rstd = np.empty((n, groups), dtype=x.dtype)
        _kernels.group_norm_forward(samples, _contiguous(weight, x.dtype),
                                    _contiguous(bias, x.dtype), groups, eps, out, mean, rstd,
                                    get_num_threads())
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        ctx.groups, ctx.eps = groups, eps
        return out.reshape(x.shape)

    @staticmethod
    def decomposition(ctx, x, weight, bias, mean, rstd):
        n, c = x.shape[:2]
        grouped = x.reshape(n, ctx.groups, -1)
        out = _normalised(grouped, (2,), ctx.eps).reshape(x.shape)
        channel = (1, c) + (1,) * (x.ndim - 2)
        out = out if weight is None else out * weight.reshape(channel)
        return out if bias is None else out + bias.reshape(channel)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias, mean, rstd = ctx.saved_tensors
        needs = ctx.needs_input_grad
        n, c = x.shape[:2]
        shape = (n, c, math.prod(x.shape[2:]))
        grad_x = np.empty(shape, x.dtype) if needs[0] else None
        grad_w = np.empty(c, x.dtype) if needs[1] else None
        grad_b = np.empty(c, x.dtype) if needs[2] else None
        _kernels.group_norm_backward(
            np.ascontiguousarray(grad, dtype=x.dtype).reshape(shape),
            np.ascontiguousarray(x).reshape(shape), mean, rstd, _contiguous(weight, x.dtype),
            ctx.groups, grad_x, grad_w, grad_b, get_num_threads())
        return (None if grad_x is None else grad_x.reshape(x.shape), grad_w, grad_b, None, None)


# ----------------------------------------------------------------------------- front doors

def _check_parameter(value, name, op):
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _check_dtypes(input, weight, bias, kernel):
    dtype = input.array.dtype
    if dtype.kind != "f" or dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(dtype)}\'')
    for value in (weight, bias):
        if value is not None and value.array.dtype != dtype:
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{type_name(dtype)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.layer_norm: normalise over the last len(normalized_shape)
    dimensions, which must equal normalized_shape; weight and bias shaped normalized_shape."""
    check_tensor(input, "input", "layer_norm", 1)
    if isinstance(normalized_shape, Tensor) or not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        f"of ints, not {type(normalized_shape).__name__}")
    shape = [int(s) for s in normalized_shape]
    _check_parameter(weight, "weight", "layer_norm")
    _check_parameter(bias, "bias", "layer_norm")
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and list(value.array.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(value.array.shape)} and "
                               f"normalized_shape = {shape}")
    x_shape = list(input.array.shape)
    if len(x_shape) < len(shape) or x_shape[len(x_shape) - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
                           f"{x_shape}")
    _check_dtypes(input, weight, bias, "LayerNormKernelImpl")
    return LayerNorm.apply(input, weight, bias, len(shape), float(eps))


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.group_norm: input (N, C, *), its C channels normalised in
    num_groups groups (C divisible by num_groups); weight and bias (C,)."""
    check_tensor(input, "input", "group_norm", 1)
    if not isinstance(num_groups, numbers.Integral) or isinstance(num_groups, bool):
        raise TypeError(f"group_norm(): argument 'num_groups' must be int, not "
                        f"{type(num_groups).__name__}")
    _check_parameter(weight, "weight", "group_norm")
    _check_parameter(bias, "bias", "group_norm")
    shape = list(input.array.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
    if num_groups == 0:
        raise ZeroDivisionError("integer division or modulo by zero")
    per_group = [shape[0] * shape[1] // num_groups, num_groups] + shape[2:]
    if math.prod([per_group[0]] + shape[2:]) == 1:  # torch's _verify_batch_size
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {per_group}")
    if num_groups < 0:
        raise RuntimeError(f"Expected num_groups to be positive, but got num_groups={num_groups}")
    if shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {shape} and "
                           f"num_groups={num_groups}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and (value.array.ndim != 1 or value.array.shape[0] != shape[1]):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(value.array.shape)} and input of shape {shape}")
    _check_dtypes(input, weight, bias, "GroupNormKernelImpl")
    return GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))
