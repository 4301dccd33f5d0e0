"""Sorting along one dim: sort, argsort, topk (values and the indices they came from).

The values are read from the input at the indices, so their gradient goes back to those
positions (each at most once): da = zeros with g put at the indices. Sorting is stable; NaN
sorts as the largest value, as torch.
"""
from collections import namedtuple

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_tensor, dim_alias, normalize_dim
from minigrad.tensor import Tensor

__all__ = ["sort", "argsort", "topk", "msort"]

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable sorting permutation along ``axis`` (NaN largest)."""
    if a.dtype == np.bool_:
        a = a.astype(np.int8)
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # Descending and stable: sort the reversed array ascending, then reverse that order
    # (equal elements keep their original order); NaN first, as torch's largest.
    n = a.shape[axis]
    reversed_order = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - reversed_order, axis)


class SortAlong(ArrayFunction):
    """(values, indices) = the first ``count`` elements of a's sorted order along a dim."""

    node_name = "SortBackward0"

    @staticmethod
    def forward(ctx, a, axis, descending, count):
        order = _order(a, axis, descending)
        if count is not None:
            order = np.take(order, np.arange(count), axis=axis)
        values = np.take_along_axis(a, order, axis=axis)
        ctx.shape, ctx.axis, ctx.indices = a.shape, axis, order
        order = order.astype(np.int64, copy=False)
        ctx.mark_non_differentiable(order)
        return values, order

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return G.scatter_into_zeros(ctx.shape, ctx.indices, grad, ctx.axis), None, None, None


class TopkAlong(SortAlong):
    node_name = "TopkBackward0"


def _dim(input, dim, axis, name):
    check_tensor(input, "input", name)
    return normalize_dim(dim_alias(dim, axis, -1), input.array.ndim)


def sort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """(values, indices) sorted along ``dim``, ascending unless ``descending``."""
    axis = _dim(input, dim, axis, "sort")
    if input.array.ndim == 0:
        return SortResult(input.clone(), Tensor(np.array(0)))
    return SortResult(*SortAlong.apply(input, axis, bool(descending), None))


def argsort(input, dim=-1, descending=False, stable=False, *, axis=None) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    axis = _dim(input, dim, axis, "argsort")
    if input.array.ndim == 0:
        return Tensor(np.array(0))
    return Tensor(_order(input.array, axis, bool(descending)).astype(np.int64))


def msort(input) -> Tensor:
    return sort(input, 0)[0]


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):  # noqa: A002
    """(values, indices) of the k largest (or smallest) elements along ``dim``, sorted."""
    axis = _dim(input, dim, axis, "topk")
    if input.array.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    size = input.array.shape[axis] if input.array.ndim else 1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range (k={k}, size {size} along dim "
                           f"{axis})")
    if input.array.ndim == 0:
        return TopkResult(input.clone(), Tensor(np.array(0)))
    return TopkResult(*TopkAlong.apply(input, axis, bool(largest), int(k)))
