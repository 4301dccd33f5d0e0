"""The math of backward formulas, with one spelling for numpy arrays (a plain backward) and
for Tensors (a backward recorded for ``create_graph=True``), so each op's backward is written
once.

Python's operators, comparisons, ``x.sum(axis=..., keepdims=...)``, ``x.reshape(shape)`` and
basic indexing already work on both; the functions here cover the rest. On arrays each is the
numpy call; on Tensors, minigrad's recorded op. A backward must not call numpy directly on
a value that may be a Tensor: numpy would read it through ``__array__`` and drop its history
(the engine refuses an array where a recorded gradient is expected, so such a slip fails the
double-backward tests instead of giving a wrong second derivative).
"""
import numpy as np

from minigrad.tensor import Tensor

__all__ = ["is_tensor", "where", "zeros_like", "exp", "log", "sign", "tanh", "erf", "sqrt",
           "cos", "sin", "sinh", "cosh", "expand_dims", "broadcast_to", "permute", "swap_last_axes",
           "matmul", "scatter_into_zeros", "index_into_zeros", "add_at_zeros", "split",
           "astype", "softmax", "gather_along", "log1p", "sigmoid"]


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _any_tensor(*values) -> bool:
    for value in values:
        if isinstance(value, Tensor):
            return True
    return False


def where(condition, a, b):
    """a where condition else b (condition a bool array or tensor, never differentiated)."""
    if _any_tensor(a, b):
        if isinstance(condition, Tensor):
            condition = condition.array
        return _ew.where(Tensor(np.asarray(condition)), a, b)
    if isinstance(condition, Tensor):
        condition = condition.array
    return np.where(condition, a, b)


def zeros_like(x):
    if isinstance(x, Tensor):
        return Tensor(np.zeros(x.array.shape, dtype=x.array.dtype))
    return np.zeros_like(x)


def _unary(tensor_op, numpy_op, x):
    return tensor_op(x) if isinstance(x, Tensor) else numpy_op(x)


def exp(x):
    return _unary(_ew.exp, np.exp, x)


def log(x):
    return _unary(_ew.log, np.log, x)


def log1p(x):
    return _unary(_ew.log1p, np.log1p, x)


def sigmoid(x):
    """1 / (1 + e^-x), without overflow for large |x| on arrays."""
    if isinstance(x, Tensor):
        return _ew.sigmoid(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sqrt(x):
    return _unary(_ew.sqrt, np.sqrt, x)


def _sign(x):
    """numpy's sign with torch's 0 for NaN (sign(NaN) is NaN in numpy)."""
    out = np.sign(x)
    return np.where(np.isnan(out), 0, out).astype(out.dtype) if out.dtype.kind == "f" else out


def sign(x):
    return _unary(_ew.sign, _sign, x)


def tanh(x):
    return _unary(_ew.tanh, np.tanh, x)


def cos(x):
    return _unary(_ew.cos, np.cos, x)


def sin(x):
    return _unary(_ew.sin, np.sin, x)


def sinh(x):
    return _unary(_ew.sinh, np.sinh, x)


def cosh(x):
    return _unary(_ew.cosh, np.cosh, x)


def erf(x):
    return _unary(_ew.erf, _ew.erf_array, x)


def astype(x, dtype):
    return x.type(dtype) if isinstance(x, Tensor) else x.astype(dtype, copy=False)


def expand_dims(x, axes):
    """x with size-1 axes inserted at ``axes`` (positions in the result, ascending)."""
    if isinstance(x, Tensor):
        for axis in sorted(axes):
            x = _shape.unsqueeze(x, axis)
        return x
    return np.expand_dims(x, axes)


def broadcast_to(x, shape):
    return _shape.expand(x, tuple(shape)) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def permute(x, axes):
    return _shape.permute(x, tuple(axes)) if isinstance(x, Tensor) else x.transpose(axes)


def swap_last_axes(x):
    return _shape.transpose(x, -2, -1) if isinstance(x, Tensor) else np.swapaxes(x, -1, -2)


def matmul(a, b):
    """a @ b for floating operands of ndim >= 2, batch dimensions broadcast."""
    if _any_tensor(a, b):
        return _linalg.matmul(_tensor(a), _tensor(b))
    return _linalg.matrix_product(a, b)


def softmax(x, axis):
    if isinstance(x, Tensor):
        return _ew.softmax(x, axis)
    if x.size == 0:  # no maximum to subtract: an empty result
        return x.copy()
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def gather_along(x, indices, axis):
    """x's values at ``indices`` along ``axis`` (numpy's take_along_axis, torch's gather)."""
    if isinstance(x, Tensor):
        return _shape.GatherAlong.apply(x, axis, np.asarray(indices))
    return np.take_along_axis(x, indices, axis=axis)


def scatter_into_zeros(shape, indices, values, axis):
    """zeros(shape) with ``values`` added at ``indices`` along ``axis`` (torch's
    scatter_add; repeated indices sum)."""
    return _shape.ScatterAddIntoZeros.forward_or_apply(values, tuple(shape),
                                                       np.asarray(indices), axis)


def index_into_zeros(shape, index, values):
    """zeros(shape) with ``values`` written at a basic index (ints and slices)."""
    if isinstance(values, Tensor):
        return _shape.IndexIntoZeros.apply(values, tuple(shape), index)
    out = np.zeros(shape, dtype=values.dtype)
    out[index] = values
    return out


def add_at_zeros(shape, index, values):
    """zeros(shape) with ``values`` added at an advanced index (repeats summed)."""
    if isinstance(values, Tensor):
        return _shape.AddAtZeros.apply(values, tuple(shape), index)
    out = np.zeros(shape, dtype=values.dtype)
    _shape.add_at_index(out, index, values)
    return out


def split(x, bounds, axis):
    """x cut along ``axis`` before each position in ``bounds``."""
    if isinstance(x, Tensor):
        edges = [0, *bounds, x.array.shape[axis]]
        prefix = (slice(None),) * axis
        return [x[prefix + (slice(lo, hi),)] for lo, hi in zip(edges[:-1], edges[1:])]
    return np.split(x, bounds, axis=axis)


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
