"""Cumulative ops along one dim: cumsum, cumprod, cummax, cummin.

    cumsum:  z_i = Σ_{k≤i} a_k;            da_i = Σ_{k≥i} g_k (a reversed cumulative sum)
    cumprod: z_i = Π_{k≤i} a_k;            da_i = Σ_{k≥i} g_k z_k / a_i, or, where a has a
             zero, Σ_{k≥i} g_k Π_{j≤k, j≠i} a_j (exact, O(n²) along the dim)
    cummax/cummin: (values, indices) of the running extreme (the last one on ties, as torch);
             the gradient goes to the index each value came from
"""
import numpy as np

from minigrad import dtypes
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_tensor, dim_alias, normalize_dim
from minigrad.tensor import Tensor

__all__ = ["cumsum", "cumprod", "cummax", "cummin"]


class Cumsum(ArrayFunction):
    """z = cumulative sum along a dim;  da = g summed from the end (see the module)."""

    @staticmethod
    def forward(ctx, a, axis, dtype):
        ctx.axis = axis
        return np.cumsum(a, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return reverse_cumsum(grad, ctx.axis), None, None


def reverse_cumsum(grad, axis):
    """Σ_{k≥i} g_k along ``axis``."""
    if G.is_tensor(grad):
        from minigrad.ops.shape import flip
        return flip(Cumsum.apply(flip(grad, (axis,)), axis, None), (axis,))
    return np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis)


class Cumprod(ArrayFunction):
    """z = cumulative product along a dim;  see the module for the gradient."""

    @staticmethod
    def forward(ctx, a, axis, dtype):
        out = np.cumprod(a, axis=axis, dtype=dtype)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        values = a.array if G.is_tensor(a) else a
        if np.all(values != 0):
            return reverse_cumsum(grad * out, ctx.axis) / a, None, None
        return _cumprod_grad_with_zeros(a, grad, ctx.axis), None, None


def _cumprod_grad_with_zeros(a, grad, axis):
    """da_i = Σ_{k≥i} g_k Π_{j≤k, j≠i} a_j, computed exactly (no division); on arrays, or on
    Tensors (create_graph: the same steps, recorded)."""
    tensor = G.is_tensor(a) or G.is_tensor(grad)
    n = a.shape[axis]
    positions = np.arange(n).reshape((n,) + (1,) * (len(a.shape) - axis - 1))
    head = (slice(None),) * axis
    parts = []
    for i in range(n):
        others = G.where(positions == i, 1, a)  # a with a_i replaced by 1
        products = Cumprod.apply(others, axis, None) if tensor else np.cumprod(others, axis)
        tail = head + (slice(i, None),)
        parts.append((grad[tail] * products[tail]).sum(axis=axis))
    if tensor:
        from minigrad.ops.shape import stack
        return stack(parts, axis)
    return np.stack(parts, axis=axis)


class CumulativeExtreme(ArrayFunction):
    """(values, indices) of the running max (or min) along a dim; ties take the later index,
    as torch. indices are not differentiable."""

    @staticmethod
    def forward(ctx, a, axis, largest):
        moved = np.moveaxis(a, axis, -1)
        n = moved.shape[-1]
        better = np.greater_equal if largest else np.less_equal
        values = moved.copy()
        indices = np.zeros(moved.shape, dtype=np.int64)
        for i in range(1, n):
            take = better(moved[..., i], values[..., i - 1]) | np.isnan(moved[..., i])
            values[..., i] = np.where(take, moved[..., i], values[..., i - 1])
            indices[..., i] = np.where(take, i, indices[..., i - 1])
        values, indices = np.moveaxis(values, -1, axis), np.moveaxis(indices, -1, axis)
        ctx.shape, ctx.axis, ctx.indices = a.shape, axis, indices
        ctx.mark_non_differentiable(indices)
        return np.ascontiguousarray(values), np.ascontiguousarray(indices)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return G.scatter_into_zeros(ctx.shape, ctx.indices, grad, ctx.axis), None, None


class Cummax(CumulativeExtreme):
    pass


class Cummin(CumulativeExtreme):
    pass


def _axis(input, dim, axis, name):
    check_tensor(input, "input", name)
    dim = dim_alias(dim, axis)
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim'")
    return normalize_dim(dim, input.array.ndim)


def _accumulator_dtype(input, dtype):
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    if input.array.dtype.kind in "biu":
        return dtypes.int64  # torch accumulates integers and bools as int64
    return None


def cumsum(input, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative sum along ``dim`` (integers and bools accumulate as int64)."""
    axis = _axis(input, dim, axis, "cumsum")
    if input.array.ndim == 0:
        return Cumsum.apply(input.reshape(1), 0, _accumulator_dtype(input, dtype)).reshape(())
    return Cumsum.apply(input, axis, _accumulator_dtype(input, dtype))


def cumprod(input, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative product along ``dim`` (integers and bools accumulate as int64)."""
    axis = _axis(input, dim, axis, "cumprod")
    if input.array.ndim == 0:
        return Cumprod.apply(input.reshape(1), 0, _accumulator_dtype(input, dtype)).reshape(())
    return Cumprod.apply(input, axis, _accumulator_dtype(input, dtype))


def _cumulative_extreme(function, input, dim, axis, name):
    axis = _axis(input, dim, axis, name)
    if input.array.ndim == 0:
        values, indices = function.apply(input.reshape(1), 0, name == "cummax")
        return _result(name)(values.reshape(()), indices.reshape(()))
    return _result(name)(*function.apply(input, axis, name == "cummax"))


def _result(name):
    from collections import namedtuple
    return _RESULTS.setdefault(name, namedtuple(name, ["values", "indices"]))


_RESULTS = {}


def cummax(input, dim=None, *, axis=None):
    """(values, indices): the running maximum along ``dim`` and where it came from."""
    return _cumulative_extreme(Cummax, input, dim, axis, "cummax")


def cummin(input, dim=None, *, axis=None):
    """(values, indices): the running minimum along ``dim`` and where it came from."""
    return _cumulative_extreme(Cummin, input, dim, axis, "cummin")
