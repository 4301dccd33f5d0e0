"""Reductions: sum, mean, var, max/min (with indices), amax/amin, argmax/argmin.

``dim`` follows torch: None (all dimensions), an int, or a tuple of ints, negative allowed.
"""
import math
from collections import namedtuple

import numpy as np

from minigrad import dtypes
from minigrad.autograd import Function
from minigrad.ops.shape import normalize_dim
from minigrad.tensor import Tensor

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def normalize_dims(dim, ndim: int):
    """None or () → every axis (as torch); int or sequence → a sorted tuple of non-negative
    axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        return axes if ndim else ()
    axis = normalize_dim(dim, ndim)
    return (axis,) if ndim else ()  # a 0-d tensor accepts dim 0 or -1 and has no axis


def _expand_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    if not keepdim:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    """z = Σ a over axes;  da = g broadcast back."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


class SumDim(Sum):
    """sum(dim=...): torch names it SumBackward1, the sum of everything SumBackward0."""

    node_name = "SumBackward1"


class Mean(Function):
    """z = Σ a / n over axes;  da = g / n broadcast back."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = math.prod(a.shape[i] for i in axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        grad = grad / ctx.count if ctx.count else grad * np.nan
        return _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim), None, None


class MeanDim(Mean):
    node_name = "MeanBackward1"


class Var(Function):
    """v = Σ (a - mean)² / (n - correction);  da = 2 (a - mean) g / (n - correction)."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        count = math.prod(a.shape[i] for i in axes)
        ctx.divisor = max(count - correction, 0)
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 2 * centered * grad / ctx.divisor, None, None, None


class Std(Function):
    """s = √v, v as in Var;  da = (a - mean) g / ((n - correction) s), taken as 0 where s = 0
    (as torch: a constant input gets a zero gradient, not 0 · ∞)."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        out = np.sqrt(Var.forward(ctx, a, axes, correction, keepdim))
        ctx.save_for_backward(ctx.saved[0], out)
        return out

    @staticmethod
    def backward(ctx, grad):
        centered, out = ctx.saved_tensors
        if not ctx.keepdim:
            grad, out = np.expand_dims(grad, ctx.axes), np.expand_dims(out, ctx.axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(out == 0, 0, grad / (ctx.divisor * out))
        return centered * scale, None, None, None


class MaxMinAlongDim(Function):
    """values = max (or min) of a along one dim; the gradient goes to the index chosen
    (the first extreme element, as torch)."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, largest):
        indices = np.argmax(a, axis=dim) if largest else np.argmin(a, axis=dim)
        indices = np.expand_dims(indices, dim)
        values = np.take_along_axis(a, indices, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim, ctx.indices = a.shape, dim, keepdim, indices
        return values if keepdim else np.squeeze(values, dim)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.dim)
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.indices, grad, axis=ctx.dim)
        return out, None, None, None


class MaxAlongDim(MaxMinAlongDim):
    node_name = "MaxBackward0"


class MinAlongDim(MaxMinAlongDim):
    node_name = "MinBackward0"


class AmaxAmin(Function):
    """z = max (or min) over axes; the gradient is shared equally by all tied extremes
    (torch's amax/amin, and max()/min() without dim)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, largest):
        out = np.amax(a, axis=axes, keepdims=True) if largest else np.amin(
            a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        mask = a == out
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axes)
        share = grad / mask.sum(axis=ctx.axes, keepdims=True)
        return mask * share, None, None, None


class Amax(AmaxAmin):
    """amax(dim): AmaxBackward0."""


class Amin(AmaxAmin):
    """amin(dim): AminBackward0."""


class MaxAll(AmaxAmin):
    """max() of every element (torch: MaxBackward1); the gradient is shared by ties."""

    node_name = "MaxBackward1"


class MinAll(AmaxAmin):
    node_name = "MinBackward1"


def _check_nonempty(t: Tensor, axes, name):
    for axis in axes:
        if t.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    if t.data.size == 0 and not axes:
        raise RuntimeError(f"{name}(): Expected reduction over a non-empty tensor")


def sum(t: Tensor, dim=None, keepdim=False, dtype=None) -> Tensor:  # noqa: A001
    axes = normalize_dims(dim, t.ndim)
    if dtype is None and t.dtype.kind in "biu":
        dtype = dtypes.int64  # torch sums integers and bools as int64
    function = Sum if dim is None else SumDim
    return function.apply(t, axes, keepdim, dtypes.to_dtype(dtype))


def mean(t: Tensor, dim=None, keepdim=False) -> Tensor:
    if t.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {t.dtype}")
    return (Mean if dim is None else MeanDim).apply(t, normalize_dims(dim, t.ndim), keepdim)


def var(t: Tensor, dim=None, unbiased=None, keepdim=False, correction=None,
        function=Var) -> Tensor:
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    if t.dtype.kind != "f":
        raise RuntimeError(f"{function.__name__.lower()}(): expected a floating point input, "
                           f"got {t.dtype}")
    return function.apply(t, normalize_dims(dim, t.ndim), correction, keepdim)


def std(t: Tensor, dim=None, unbiased=None, keepdim=False, correction=None) -> Tensor:
    return var(t, dim, unbiased, keepdim, correction, function=Std)


def max_or_min(t: Tensor, dim, keepdim, which: str):
    largest = which == "max"
    if dim is None:
        _check_nonempty(t, (), which)
        return (MaxAll if largest else MinAll).apply(t, tuple(range(t.ndim)), False, largest)
    dim = normalize_dim(dim, t.ndim)
    _check_nonempty(t, (dim,) if t.ndim else (), which)
    if t.ndim == 0:
        return MaxMin(t.clone(), Tensor(np.array(0)))
    values = (MaxAlongDim if largest else MinAlongDim).apply(t, dim, keepdim, largest)
    indices = values.grad_fn.indices if values.grad_fn is not None else None
    if indices is None:  # no graph recorded: recompute the indices
        indices = np.expand_dims(np.argmax(t.data, dim) if largest else np.argmin(t.data, dim),
                                 dim)
    indices = indices if keepdim else np.squeeze(indices, dim)
    return MaxMin(values, Tensor(indices.astype(np.int64)))


def amax_or_amin(t: Tensor, dim, keepdim, which: str) -> Tensor:
    axes = normalize_dims(None if dim == () else dim, t.ndim)
    _check_nonempty(t, axes, "a" + which)
    function = Amax if which == "max" else Amin
    return function.apply(t, axes, keepdim, which == "max")


def _arg(t: Tensor, dim, keepdim, fn) -> Tensor:
    if dim is None:
        out = np.asarray(fn(t.data))
        if keepdim:
            out = out.reshape((1,) * t.ndim)
        return Tensor(out.astype(np.int64))
    dim = normalize_dim(dim, t.ndim)
    _check_nonempty(t, (dim,), fn.__name__)
    out = fn(t.data, axis=dim, keepdims=keepdim)
    return Tensor(np.asarray(out).astype(np.int64))


def argmax(t: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg(t, dim, keepdim, np.argmax)


def argmin(t: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg(t, dim, keepdim, np.argmin)
