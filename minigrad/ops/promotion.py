"""torch's type promotion for the operands of an op (on top of minigrad.dtypes' rules).

A Python number keeps the tensor's dtype (a float with an integer tensor gives float32);
between tensors, a float tensor wins over an integer one, and a 0-d tensor does not widen a
dimensioned one of its own category (float32 tensor * float64 0-d: float32).
"""
import numbers

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad.tensor import Tensor

__all__ = ["promote_operands", "floating", "as_tensor_operand", "result_type",
           "result_type_of", "can_cast"]


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


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def can_cast(source, target) -> bool:
    """torch's canCast: whether an op computed in ``source`` may write into a ``target``
    tensor (never to a lower category: float into an integer, an integer into bool)."""
    return _CATEGORY[np.dtype(source).kind] <= _CATEGORY[np.dtype(target).kind]


def result_type_of(*operands) -> np.dtype:
    """torch's result type of several operands (tensors and numbers) at once: dimensioned
    tensors first, then 0-d tensors, then numbers, each tier widening the result only when
    it is of a higher category (bool < integer < float)."""
    tiers = [None, None, None]
    for value in operands:
        if value is None:
            continue
        if isinstance(value, Tensor):
            tier, dtype = (1 if value.array.ndim == 0 else 0), value.array.dtype
        elif isinstance(value, bool):
            tier, dtype = 2, np.dtype(np.bool_)
        elif isinstance(value, numbers.Integral):
            tier, dtype = 2, _dtypes.int64
        else:
            tier, dtype = 2, _dtypes.default_float
        tiers[tier] = dtype if tiers[tier] is None else _dtypes.promote(tiers[tier], dtype)
    result = None
    for dtype in tiers:
        if dtype is None:
            continue
        if result is None:
            result = dtype
        elif _CATEGORY[dtype.kind] > _CATEGORY[result.kind]:
            result = _dtypes.promote(result, dtype)
    return result


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
