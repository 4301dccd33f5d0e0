"""torch's top-level functions (``minigrad.exp(x)``, ``minigrad.cat([...])``): each name is
the op's one front door in minigrad.ops, re-exported here for ``minigrad/__init__.py``."""
from minigrad.autograd.grad_mode import is_grad_enabled  # noqa: F401
from minigrad.ops.elementwise import (  # noqa: F401
    abs, absolute, add, allclose, clamp, clip, div, divide, equal, exp, isclose, log, maximum,
    minimum, mul, multiply, neg, negative, pow, relu, sigmoid, sign, sqrt, sub, subtract, tanh,
    true_divide, where, softmax, log_softmax, erf, sin, cos, floor_divide, eq, ne, lt, le, gt,
    ge, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
)
from minigrad.ops.linalg import bmm, matmul, mm  # noqa: F401
from minigrad.ops.reduce import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, max, mean, min, std, sum, var,
)
from minigrad.ops.shape import (  # noqa: F401
    cat, concat, concatenate, flatten, gather, permute, reshape, squeeze, stack, swapaxes,
    swapdims, t, transpose, unflatten, unsqueeze,
)
from minigrad.tensor import Tensor

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
           "neg", "negative", "abs", "absolute", "exp", "log", "sqrt", "relu", "sigmoid",
           "tanh", "sign", "sin", "cos", "erf", "clamp", "clip", "where", "matmul", "mm", "bmm",
           "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "all",
           "any", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "swapaxes", "swapdims", "t", "permute", "gather", "cat", "concat", "concatenate",
           "stack", "softmax", "log_softmax", "maximum", "minimum", "floor_divide", "eq", "ne",
           "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "allclose", "isclose", "equal", "is_tensor", "numel", "is_floating_point",
           "is_grad_enabled"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


numel = Tensor.numel
is_floating_point = Tensor.is_floating_point
