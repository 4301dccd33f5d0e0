"""torch-style free functions (``minigrad.exp(x)``, ``minigrad.cat([...])``): each forwards to
the Tensor method or op of the same name."""
import numpy as np

from minigrad.ops import elementwise as _ew
from minigrad.ops import linalg as _linalg
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor, _promote_operands, maximum, minimum

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "relu",
           "sigmoid", "tanh", "clamp", "clip", "where", "matmul", "mm", "bmm", "sum", "mean",
           "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "reshape", "flatten",
           "squeeze", "unsqueeze", "transpose", "permute", "cat", "concat", "stack", "softmax",
           "log_softmax", "maximum", "minimum", "allclose", "equal", "is_tensor", "numel",
           "is_grad_enabled"]


def add(a, b, alpha=1):
    return a + (b if alpha == 1 else b * alpha)


def sub(a, b, alpha=1):
    return a - (b if alpha == 1 else b * alpha)


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def pow(a, b):  # noqa: A001
    return a ** b


def neg(t):
    return -t


def abs(t):  # noqa: A001
    return t.abs()


def exp(t):
    return t.exp()


def log(t):
    return t.log()


def sqrt(t):
    return t.sqrt()


def relu(t):
    return t.relu()


def sigmoid(t):
    return t.sigmoid()


def tanh(t):
    return t.tanh()


def clamp(t, min=None, max=None):  # noqa: A002
    return t.clamp(min, max)


clip = clamp


def where(condition, input, other):  # noqa: A002
    """input where condition else other (as torch.where); broadcasting; gradients to both."""
    condition = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}")
    if isinstance(input, Tensor):
        input, other = _promote_operands(input, other)
    elif isinstance(other, Tensor):
        other, input = _promote_operands(other, input)
    else:
        raise TypeError("where expects at least one of input and other to be a Tensor")
    return _ew.Where.apply(condition, input, other)


def matmul(a, b):
    return _linalg.matmul(a, b)


def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {a.ndim}D and {b.ndim}D")
    return _linalg.matmul(a, b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got {a.ndim}D and {b.ndim}D")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {a.shape[0]} and {b.shape[0]}")
    return _linalg.matmul(a, b, _linalg.Bmm)


def sum(t, dim=None, keepdim=False, dtype=None):  # noqa: A001
    return t.sum(dim, keepdim, dtype)


def mean(t, dim=None, keepdim=False):
    return t.mean(dim, keepdim)


def var(t, dim=None, unbiased=None, keepdim=False, correction=None):
    return t.var(dim, unbiased, keepdim, correction)


def std(t, dim=None, unbiased=None, keepdim=False, correction=None):
    return t.std(dim, unbiased, keepdim, correction)


def max(t, dim=None, keepdim=False):  # noqa: A001
    return t.max(dim, keepdim)


def min(t, dim=None, keepdim=False):  # noqa: A001
    return t.min(dim, keepdim)


def amax(t, dim=(), keepdim=False):
    return t.amax(dim, keepdim)


def amin(t, dim=(), keepdim=False):
    return t.amin(dim, keepdim)


def argmax(t, dim=None, keepdim=False):
    return t.argmax(dim, keepdim)


def argmin(t, dim=None, keepdim=False):
    return t.argmin(dim, keepdim)


def reshape(t, shape):
    return t.reshape(shape)


def flatten(t, start_dim=0, end_dim=-1):
    return t.flatten(start_dim, end_dim)


def squeeze(t, dim=None):
    return t.squeeze(dim)


def unsqueeze(t, dim):
    return t.unsqueeze(dim)


def transpose(t, dim0, dim1):
    return t.transpose(dim0, dim1)


def permute(t, dims):
    return t.permute(dims)


def cat(tensors, dim=0):
    return _shape.cat(tensors, dim)


concat = cat


def stack(tensors, dim=0):
    return _shape.stack(tensors, dim)


def softmax(t, dim):
    return t.softmax(dim)


def log_softmax(t, dim):
    return t.log_softmax(dim)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a.data, b.data))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(t) -> int:
    return t.numel()


def is_grad_enabled() -> bool:
    from minigrad.autograd import is_grad_enabled as enabled
    return enabled()
