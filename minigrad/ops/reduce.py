"""Reductions: sum, mean, var, std, max/min (with indices), amax/amin, argmax/argmin, all/any.

``dim`` follows torch: None (all dimensions), an int, or a tuple of ints, negative allowed;
``axis`` and ``keepdims`` are accepted as its aliases, as torch accepts them.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from minigrad import dtypes
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_dim_list, dim_alias, normalize_dim, normalize_dims
from minigrad.tensor import Tensor

__all__ = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
           "all", "any", "normalize_dims"]

MaxMin = namedtuple("MaxMin", ["values", "indices"])  # torch.return_types.max / min


def _expand_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    if not keepdim:
        grad = G.expand_dims(grad, axes)
    return G.broadcast_to(grad, shape)


class Sum(ArrayFunction):
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


class Mean(ArrayFunction):
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


class Var(ArrayFunction):
    """v = Σ (a - mean)² / (n - correction);  da = 2 (a - mean) g / (n - correction).
    Summed in float64 for float32 input (torch's CPU accumulator too): the squares of
    values near 1e30 would overflow float32."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        ctx.save_for_backward(a)
        return _variance(ctx, a, axes, correction, keepdim).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        if not ctx.keepdim:
            grad = G.expand_dims(grad, ctx.axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 2 * centered * grad / ctx.backward_divisor, None, None, None


def _variance(ctx, a, axes, correction, keepdim):
    """Var's value in float64 (at least)."""
    ctx.axes, ctx.keepdim = axes, keepdim
    count = math.prod(a.shape[i] for i in axes)
    ctx.divisor = builtins.max(count - correction, 0) if count else 0  # empty: NaN as torch
    # the backward divides by count - correction itself, even <= 0 (torch's formula: with no
    # degrees of freedom left the value is infinite and its gradient that formula's limit)
    ctx.backward_divisor = count - correction
    wide = a.astype(np.float64) if a.dtype == np.float32 else a
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        centered = wide - (wide.mean(axis=axes, keepdims=True) if wide.size else 0)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.divisor


class Std(ArrayFunction):
    """s = √v, v as in Var;  da = (a - mean) g / ((n - correction) s), taken as 0 where s = 0
    (as torch: a constant input gets a zero gradient, not 0 · ∞)."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        out = np.sqrt(_variance(ctx, a, axes, correction, keepdim)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        if not ctx.keepdim:
            grad, out = G.expand_dims(grad, ctx.axes), G.expand_dims(out, ctx.axes)
        value = out.array if G.is_tensor(out) else out
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = G.where(value == 0, 0.0, grad / G.where(value == 0, 1.0, out)) \
                / ctx.backward_divisor
        return centered * scale, None, None, None


class MaxMinAlongDim(ArrayFunction):
    """(values, indices) = max (or min) of a along one dim; the gradient goes to the index
    chosen (the first extreme element, as torch). indices are not differentiable."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, largest):
        indices = np.argmax(a, axis=dim) if largest else np.argmin(a, axis=dim)
        indices = np.expand_dims(indices, dim)
        values = np.take_along_axis(a, indices, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim, ctx.indices = a.shape, dim, keepdim, indices
        indices = indices.astype(np.int64, copy=False)
        if not keepdim:
            values, indices = np.squeeze(values, dim), np.squeeze(indices, dim)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        if not ctx.keepdim:
            grad = G.expand_dims(grad, (ctx.dim,))
        return G.scatter_into_zeros(ctx.shape, ctx.indices, grad, ctx.dim), None, None, None


class MaxAlongDim(MaxMinAlongDim):
    node_name = "MaxBackward0"


class MinAlongDim(MaxMinAlongDim):
    node_name = "MinBackward0"


class AmaxAmin(ArrayFunction):
    """z = max (or min) over axes; the gradient is shared equally by all tied extremes
    (torch's amax/amin, and max()/min() without dim)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, largest):
        out = np.amax(a, axis=axes, keepdims=True) if largest else np.amin(
            a, axis=axes, keepdims=True)
        # the elements the result came from: equal to it, or NaN where it is NaN (torch's
        # evenly_distribute_backward), so no NaN reaches the other elements' gradients
        with np.errstate(invalid="ignore"):
            ctx.mask = np.where(np.isnan(out), np.isnan(a), a == out) if a.dtype.kind == "f" \
                else a == out
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axes)

    @staticmethod
    def backward(ctx, grad):
        mask = ctx.mask
        if not ctx.keepdim:
            grad = G.expand_dims(grad, ctx.axes)
        share = grad / mask.sum(axis=ctx.axes, keepdims=True)
        return share * mask, None, None, None


class Amax(AmaxAmin):
    """amax(dim): AmaxBackward0."""


class Amin(AmaxAmin):
    """amin(dim): AminBackward0."""


class MaxAll(AmaxAmin):
    """max() of every element (torch: MaxBackward1); the gradient is shared by ties."""

    node_name = "MaxBackward1"


class MinAll(AmaxAmin):
    node_name = "MinBackward1"


# ----------------------------------------------------------------------------- front doors

def _check_nonempty(t: Tensor, axes, name):
    for axis in axes:
        if t.array.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    if t.array.size == 0 and not axes:
        raise RuntimeError(f"{name}(): Expected reduction over a non-empty tensor")


def _keepdim(keepdim, keepdims):
    return keepdim if keepdims is None else keepdims


def sum(input: Tensor, dim=None, keepdim=False, *, dtype=None, axis=None,  # noqa: A001
        keepdims=None) -> Tensor:
    """Σ over ``dim`` (all dimensions by default); integers and bools sum as int64."""
    dim = dim_alias(dim, axis)
    axes = normalize_dims(dim, input.array.ndim)
    if dtype is None and input.array.dtype.kind in "biu":
        dtype = dtypes.int64  # torch sums integers and bools as int64
    function = Sum if dim is None else SumDim
    return function.apply(input, axes, _keepdim(keepdim, keepdims), dtypes.to_dtype(dtype))


def mean(input: Tensor, dim=None, keepdim=False, *, dtype=None, axis=None,
         keepdims=None) -> Tensor:
    dim = dim_alias(dim, axis)
    if dtype is not None:
        input = input.type(dtype)
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: "
                           f"{_type_name(input.array.dtype)}")
    return (Mean if dim is None else MeanDim).apply(
        input, normalize_dims(dim, input.array.ndim), _keepdim(keepdim, keepdims))


def _type_name(dtype):
    from minigrad.ops.arguments import type_name
    return type_name(dtype)


def var(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None, function=Var) -> Tensor:
    """Σ (x - mean)² / (n - correction); correction 1 (Bessel's) unless unbiased=False."""
    dim = dim_alias(dim, axis)
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{function.__name__.lower()}(): expected a floating point input, "
                           f"got {input.array.dtype}")
    return function.apply(input, normalize_dims(dim, input.array.ndim), correction,
                          _keepdim(keepdim, keepdims))


def std(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    return var(input, dim, unbiased, keepdim, correction=correction, axis=axis,
               keepdims=keepdims, function=Std)


def _max_or_min(input: Tensor, dim, keepdim, which: str):
    largest = which == "max"
    if dim is None:
        _check_nonempty(input, (), which)
        return (MaxAll if largest else MinAll).apply(input, tuple(range(input.array.ndim)),
                                                     False, largest)
    dim = normalize_dim(dim, input.array.ndim)
    _check_nonempty(input, (dim,) if input.array.ndim else (), which)
    if input.array.ndim == 0:
        return MaxMin(input.clone(), Tensor(np.array(0)))
    return MaxMin(*(MaxAlongDim if largest else MinAlongDim).apply(input, dim, keepdim,
                                                                    largest))


def max(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """max of every element; (values, indices) along ``dim``; maximum(input, other) when
    ``dim`` is a tensor."""
    if isinstance(dim, Tensor):
        from minigrad.ops.elementwise import maximum
        return maximum(input, dim)
    return _max_or_min(input, dim_alias(dim, axis), _keepdim(keepdim, keepdims), "max")


def min(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    if isinstance(dim, Tensor):
        from minigrad.ops.elementwise import minimum
        return minimum(input, dim)
    return _max_or_min(input, dim_alias(dim, axis), _keepdim(keepdim, keepdims), "min")


def _amax_or_amin(input: Tensor, dim, keepdim, which: str) -> Tensor:
    every = dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)
    if isinstance(dim, (tuple, list)):  # each dim's emptiness before duplicates, as torch
        check_dim_list(dim)
        _check_nonempty(input, [normalize_dim(d, input.array.ndim) for d in dim
                                if input.array.ndim], "a" + which)
    axes = normalize_dims(None if every else dim, input.array.ndim)
    if every and input.array.size == 0:
        raise RuntimeError(f"a{which}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                           f"argument.")
    _check_nonempty(input, axes, "a" + which)
    function = Amax if which == "max" else Amin
    return function.apply(input, axes, keepdim, which == "max")


def amax(input: Tensor, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _amax_or_amin(input, dim_alias(dim, axis, ()), _keepdim(keepdim, keepdims), "max")


def amin(input: Tensor, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _amax_or_amin(input, dim_alias(dim, axis, ()), _keepdim(keepdim, keepdims), "min")


def _arg(input: Tensor, dim, keepdim, fn) -> Tensor:
    if input.array.dtype == np.bool_:
        raise RuntimeError(f"{fn.__name__}(): does not support bool input")
    if dim is None:
        if input.array.size == 0:
            raise IndexError(f"{fn.__name__}(): Expected reduction dim to be specified for "
                             f"input.numel() == 0.")
        out = np.asarray(fn(input.array))
        if keepdim:
            out = out.reshape((1,) * input.array.ndim)
        return Tensor(out.astype(np.int64))
    dim = normalize_dim(dim, input.array.ndim)
    if input.array.ndim == 0:  # the one element is its own arg-max
        return Tensor(np.zeros((), np.int64))
    _check_nonempty(input, (dim,), fn.__name__)
    out = fn(input.array, axis=dim, keepdims=keepdim)
    return Tensor(np.asarray(out).astype(np.int64))


def argmax(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _arg(input, dim_alias(dim, axis), _keepdim(keepdim, keepdims), np.argmax)


def argmin(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    return _arg(input, dim_alias(dim, axis), _keepdim(keepdim, keepdims), np.argmin)


def _logical_reduce(ufunc, input, dim, keepdim):
    """all/any: an empty dim sequence reduces nothing, as torch's; uint8 in, uint8 out."""
    if isinstance(dim, (tuple, list)):
        check_dim_list(dim)
        axes = tuple(normalize_dim(d, input.array.ndim) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    else:
        axes = None if dim is None else normalize_dims(dim, input.array.ndim)
    out = np.asarray(ufunc(input.array != 0 if input.array.dtype != np.bool_ else input.array,
                           axis=axes, keepdims=keepdim))
    return Tensor(out.astype(np.uint8) if input.array.dtype == np.uint8 else out)


def all(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:  # noqa
    return _logical_reduce(np.all, input, dim_alias(dim, axis), _keepdim(keepdim, keepdims))


def any(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:  # noqa
    return _logical_reduce(np.any, input, dim_alias(dim, axis), _keepdim(keepdim, keepdims))
