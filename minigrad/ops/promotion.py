"""torch's type promotion for the operands of an op (on top of minigrad.dtypes' rules).

A Python number keeps the tensor's dtype (a float with an integer tensor gives float32);
between tensors, a float tensor wins over an integer one, and a 0-d tensor does not widen a
dimensioned one of its own category (float32 tensor * float64 0-d: float32).
"""
import numbers

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad.tensor import Tensor

__all__ = ["promote_operands", "floating", "as_tensor_operand", "result_type"]


def floating(t: Tensor) -> Tensor:
    """t, or t cast to float32 when it holds integers or bools (torch's exp(int) is float)."""
    return t if t.array.dtype.kind in "fc" else t.type(_dtypes.default_float)


def as_tensor_operand(value, dtype) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=dtype))


def result_type(a: Tensor, other) -> np.dtype:
    """The dtype torch gives a binary op between tensor ``a`` and ``other``."""
    if isinstance(other, Tensor):
        x, y = a.array, other.array
        if x.dtype == y.dtype:
            return x.dtype
        if (x.ndim == 0) != (y.ndim == 0) and _dtypes.same_category(x.dtype, y.dtype):
            return y.dtype if x.ndim == 0 else x.dtype
        return _dtypes.promote(x.dtype, y.dtype)
    if isinstance(other, bool):
        return a.array.dtype
    if isinstance(other, numbers.Integral):
        return a.array.dtype if a.array.dtype.kind != "b" else _dtypes.int64
    if isinstance(other, numbers.Real):
        return a.array.dtype if a.array.dtype.kind in "fc" else _dtypes.default_float
    return a.array.dtype


def promote_operands(a: Tensor, other):
    """Both operands of a binary op, cast as torch's type promotion wants (numbers stay
    numbers); (NotImplemented, None) for an operand that is no number, array or tensor."""
    if isinstance(other, Tensor):
        x, y = a.array, other.array
        if y.dtype != x.dtype:
            if (x.ndim == 0) != (y.ndim == 0) and _dtypes.same_category(x.dtype, y.dtype):
                if x.ndim == 0:
                    return a.type(y.dtype), other
                return a, other.type(x.dtype)
            target = _dtypes.promote(x.dtype, y.dtype)
            if x.dtype.kind != "f" and target.kind == "f":
                a = a.type(target)
            if y.dtype.kind != "f" and target.kind == "f":
                other = other.type(target)
        return a, other
    kind = type(other)  # exact types first: the abstract-class checks below are slow
    if kind is int or kind is bool:
        return a, other
    if kind is not float and isinstance(other, numbers.Integral):
        return a, int(other)  # a numpy integer would widen float32 to float64
    if kind is float or isinstance(other, numbers.Real):
        if a.array.dtype.kind != "f":
            a = a.type(_dtypes.default_float)
        return a, float(other)
    if isinstance(other, np.ndarray):
        return promote_operands(a, Tensor(other))
    return NotImplemented, None
