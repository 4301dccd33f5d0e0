"""Argument handling shared by the ops' front doors: dims, sizes, pairs, dtype names and the
checks that raise torch's exception types with torch's messages."""
import math
import numbers

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["FLOATS", "normalize_dim", "normalize_dims", "size_args", "dim_alias", "pair",
           "type_name", "scalar_type_name", "check_tensor", "check_floating", "int_argument",
           "check_int64", "check_int32", "check_fits", "check_dim_list"]

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

_TYPE_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double",
               np.dtype(np.float16): "Half", np.dtype(np.int64): "Long",
               np.dtype(np.int32): "Int", np.dtype(np.int16): "Short",
               np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte", np.dtype(np.bool_): "Bool"}


def type_name(dtype) -> str:
    """torch's ScalarType name: 'Float', 'Double', 'Long', ..."""
    return _TYPE_NAMES.get(np.dtype(dtype), str(dtype))


def scalar_type_name(dtype) -> str:
    """torch's C type name in messages: 'float', 'double', 'long', ..."""
    return {"float32": "float", "float64": "double", "int64": "long"}.get(str(dtype),
                                                                       str(dtype))


def normalize_dim(dim, ndim: int) -> int:
    """A dim in [-ndim, ndim) as a non-negative axis (a 0-d tensor accepts -1 and 0)."""
    if type(dim) is not int and (isinstance(dim, bool)
                                 or not isinstance(dim, numbers.Integral)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -2 ** 63 <= dim < 2 ** 63:  # torch's parser: past int64 before the range check
        raise ValueError(f"dim {dim} does not fit in a 64-bit integer (Overflow when "
                         f"unpacking long long)")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-bound}, {bound - 1}], but got {dim})")
    return dim % bound if ndim else 0


def normalize_dims(dim, ndim: int) -> tuple:
    """None or () → every axis (as torch); int or sequence → a sorted tuple of non-negative
    axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        check_dim_list(dim)
        axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        return axes if ndim else ()
    axis = normalize_dim(dim, ndim)
    return (axis,) if ndim else ()  # a 0-d tensor accepts dim 0 or -1 and has no axis


def check_dim_list(dims, name: str = "dim") -> None:
    """torch's parser on a list of dims: an item past int64 is a TypeError naming its place."""
    for position, d in enumerate(dims, 1):
        if _is_int(d) and not -2 ** 63 <= d < 2 ** 63:
            raise TypeError(f"argument '{name}' failed to unpack the object at pos {position} "
                            f"with error \"Overflow when unpacking long long\"")


def dim_alias(dim, axis, default=None):
    """torch's numpy-style alias: ``axis=`` names ``dim`` wherever torch's argument is
    ``dim``."""
    if axis is None:
        return dim
    if dim is not default:
        raise TypeError("received both dim and its alias axis")
    return axis


def size_args(args) -> tuple:
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(Size) alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    sizes = []
    for size in args:
        if type(size) is not int:
            if not isinstance(size, numbers.Integral) and hasattr(size, "item"):
                size = size.item()  # a one-element tensor
            if isinstance(size, bool) or not isinstance(size, numbers.Integral):
                raise TypeError(f"sizes must be ints, got {type(size).__name__}")
            size = int(size)
        if not -2 ** 63 <= size < 2 ** 63:  # torch's parser: a TypeError naming the position
            raise TypeError(f"argument 'size' failed to unpack the object at pos "
                            f"{len(sizes) + 1} with error \"Overflow when unpacking long long\"")
        sizes.append(size)
    return tuple(sizes)


def _is_int(value) -> bool:
    return type(value) is int or (isinstance(value, numbers.Integral)
                                  and not isinstance(value, bool))


def pair(value, name: str, op: str, kind: str = "conv") -> tuple:
    """An int or a sequence of one or two ints -> (h, w), as torch parses 2-D window
    arguments; ``kind`` picks torch's message for a sequence of another length."""
    if type(value) is int and -2 ** 63 <= value < 2 ** 63:  # the fast path of every layer call
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int \
            and type(value[1]) is int and -2 ** 63 <= value[0] < 2 ** 63 \
            and -2 ** 63 <= value[1] < 2 ** 63:
        return value
    if _is_int(value):
        check_int64((int(value),), name, op)
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        for position, v in enumerate(value, 1):
            if not -2 ** 63 <= v < 2 ** 63:  # torch's parser: a TypeError for a list's item
                raise TypeError(f"{op}(): argument '{name}' failed to unpack the object at pos "
                                f"{position} with error \"Overflow when unpacking long long\"")
        if len(value) == 1:
            return int(value[0]), int(value[0])
        if len(value) == 2:
            return int(value[0]), int(value[1])
        if kind == "conv":
            raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(value)}")
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two ints")
    if kind == "conv":
        raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, not "
                        f"{type(value).__name__}")
    raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def check_int64(values, name: str, op: str) -> None:
    """torch reads an int argument as a C long long: a value beyond one is its ValueError,
    here naming the argument."""
    for value in values:
        if not -2 ** 63 <= value < 2 ** 63:
            raise ValueError(f"{op}(): argument '{name}' ({value}) does not fit in a 64-bit "
                             f"integer (Overflow when unpacking long long)")


def check_int32(values, name: str, op: str) -> None:
    """Window arguments that torch's pooling (and minigrad's kernels) hold in a C int: a value
    beyond int64 is a ValueError, beyond int32 a RuntimeError, naming the argument."""
    check_int64(values, name, op)
    for value in values:
        if not -2 ** 31 <= value < 2 ** 31:
            raise RuntimeError(f"{op}(): argument '{name}' ({value}) does not fit in a 32-bit "
                               f"integer: value cannot be converted to type int without "
                               f"overflow")


def check_fits(value, dtype):
    """``value`` as torch writes it into a tensor of ``dtype``: its RuntimeError for a number
    an integer dtype cannot hold (NaN, an infinity, past the range; numpy would store garbage
    or raise its own error), a negative int wrapped into an unsigned dtype (-1 is 255 for
    uint8, as torch; numpy refuses); any number into bool is its truth value."""
    if np.dtype(dtype).kind == "b" and isinstance(value, numbers.Number):
        return bool(value)
    if np.dtype(dtype).kind == "f" and isinstance(value, numbers.Real) \
            and math.isfinite(value) and abs(value) > np.finfo(dtype).max:
        raise RuntimeError(f"value cannot be converted to type {np.dtype(dtype)} without "
                           f"overflow")  # (an infinity converts; 1e300 into float32 does not)
    if np.dtype(dtype).kind in "iu" and isinstance(value, numbers.Real) \
            and not isinstance(value, bool):
        info = np.iinfo(dtype)
        # torch wraps a negative int into an unsigned dtype (-1 is 255), not a float
        integral = isinstance(value, numbers.Integral)
        low = -info.max if info.min == 0 and integral else info.min
        if not (math.isfinite(value) and low <= value <= info.max):
            raise RuntimeError(f"value cannot be converted to type {np.dtype(dtype)} without "
                               f"overflow")
        if info.min == 0 and isinstance(value, numbers.Integral) and value < 0:
            return value % (info.max + 1)
    return value


def int_argument(value, name: str, op: str) -> int:
    """An int argument as torch's parser takes it: an integer (TypeError otherwise, a bool
    included) within int64 (ValueError beyond), named in the message."""
    if type(value) is not int:
        if not _is_int(value):
            raise TypeError(f"{op}(): argument '{name}' must be int, not "
                            f"{type(value).__name__}")
        value = int(value)
    check_int64((value,), name, op)
    return value


def check_tensor(value, name: str, op: str, position=None) -> None:
    if not isinstance(value, Tensor):
        where = f" (position {position})" if position is not None else ""
        raise TypeError(f"{op}(): argument '{name}'{where} must be Tensor, not "
                        f"{type(value).__name__}")


def check_floating(input, op: str) -> None:
    """torch's refusal of an integer input by a float-only kernel (NotImplementedError, a
    RuntimeError, as torch's dispatch raises)."""
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for \'{type_name(input.array.dtype)}\'')
