"""torch's top-level functions (``minigrad.exp(x)``, ``minigrad.cat([...])``): each name is
the op's one front door in minigrad.ops, re-exported here for ``minigrad/__init__.py``."""
from minigrad.autograd.grad_mode import is_grad_enabled  # noqa: F401
from minigrad.ops.elementwise import (  # noqa: F401
    abs, absolute, acos, acosh, add, allclose, arccos, arccosh, arcsin, arcsinh, arctan,
    arctan2, arctanh, asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_left_shift,
    bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, ceil, clamp, clip, cos, cosh,
    div, divide, eq, equal, erf, exp, exp2, expm1, fix, floor, floor_divide, fmod, frac, ge,
    gt, isclose, isfinite, isinf, isnan, isneginf, isposinf, le, log, log10, log1p, log2,
    log_softmax, logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul,
    multiply, nan_to_num, ne, neg, negative, pow, reciprocal, relu, remainder, round, rsqrt,
    sigmoid, sign, sin, sinh, softmax, sqrt, square, sub, subtract, tan, tanh, true_divide,
    trunc, where,
)
from minigrad.ops.linalg import bmm, einsum, matmul, mm  # noqa: F401
from minigrad.ops.reduce import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, max, mean, min, std, sum, var,
)
from minigrad.ops.scan import cummax, cummin, cumprod, cumsum  # noqa: F401
from minigrad.ops.shape import (  # noqa: F401
    cat, chunk, concat, concatenate, flatten, flip, fliplr, flipud, gather, index_select,
    masked_fill, meshgrid, permute, reshape, roll, scatter, scatter_add, split, squeeze,
    stack, swapaxes, swapdims, t, tile, transpose, unbind, unflatten, unsqueeze,
)
from minigrad.ops.sort import argsort, msort, sort, topk  # noqa: F401
from minigrad.tensor import Tensor

__all__ = [  # every name imported above, and the few defined below
    "is_grad_enabled", "abs", "absolute", "acos", "acosh", "add", "allclose", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan",
    "atan2", "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "ceil", "clamp", "clip", "cos", "cosh", "div",
    "divide", "eq", "equal", "erf", "exp", "exp2", "expm1", "fix", "floor", "floor_divide",
    "fmod", "frac", "ge", "gt", "isclose", "isfinite", "isinf", "isnan", "isneginf",
    "isposinf", "le", "log", "log10", "log1p", "log2", "log_softmax", "logical_and",
    "logical_not", "logical_or", "logical_xor", "lt", "maximum", "minimum", "mul",
    "multiply", "nan_to_num", "ne", "neg", "negative", "pow", "reciprocal", "relu",
    "remainder", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "softmax", "sqrt",
    "square", "sub", "subtract", "tan", "tanh", "true_divide", "trunc", "where", "bmm",
    "einsum", "matmul", "mm", "all", "amax", "amin", "any", "argmax", "argmin", "max", "mean",
    "min", "std", "sum", "var", "cummax", "cummin", "cumprod", "cumsum", "cat", "chunk",
    "concat", "concatenate", "flatten", "flip", "fliplr", "flipud", "gather", "index_select",
    "masked_fill", "meshgrid", "permute", "reshape", "roll", "scatter", "scatter_add", "split",
    "squeeze", "stack", "swapaxes", "swapdims", "t", "tile", "transpose", "unbind",
    "unflatten", "unsqueeze", "argsort", "msort", "sort", "topk", "is_tensor", "numel",
    "is_floating_point", "get_default_dtype"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


numel = Tensor.numel
is_floating_point = Tensor.is_floating_point


def get_default_dtype():
    """The dtype of float tensors created without one (float32)."""
    from minigrad import dtypes
    return dtypes.default_float
