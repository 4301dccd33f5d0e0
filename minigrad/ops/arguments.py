"""Argument handling shared by the ops' front doors: dims, sizes, pairs, dtype names and the
checks that raise torch's exception types with torch's messages."""
import numbers

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["FLOATS", "normalize_dim", "normalize_dims", "size_args", "dim_alias", "pair",
           "type_name", "scalar_type_name", "check_tensor", "check_floating"]

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
        axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        return axes if ndim else ()
    axis = normalize_dim(dim, ndim)
    return (axis,) if ndim else ()  # a 0-d tensor accepts dim 0 or -1 and has no axis


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
        sizes.append(size)
    return tuple(sizes)


def _is_int(value) -> bool:
    return type(value) is int or (isinstance(value, numbers.Integral)
                                  and not isinstance(value, bool))


def pair(value, name: str, op: str, kind: str = "conv") -> tuple:
    """An int or a sequence of one or two ints -> (h, w), as torch parses 2-D window
    arguments; ``kind`` picks torch's message for a sequence of another length."""
    if type(value) is int:  # the fast path of every layer call
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int \
            and type(value[1]) is int:
        return value
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
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
