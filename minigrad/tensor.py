"""Tensor: a numpy array with the autograd metadata that lets gradients flow to it.

``Tensor.data`` is the array (float32 by default, float64, int64 for class targets, bool);
``grad`` is a Tensor or None; ``grad_fn`` is the graph node that made the tensor (None for
leaves). Every method that computes is one op from ``minigrad.ops``; this file only routes
Python's operators and torch's method names to them, and applies torch's type rules.
"""
import math
import numbers

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad.random import numpy_generator

__all__ = ["Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty",
           "arange", "linspace", "eye", "rand", "randn", "randint", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand_like", "randn_like"]


class VersionCounter:
    """Counts in-place writes to an array; views share their base's counter.

    ``shared`` is set (to True) once a view op has given the counter to a second tensor; it is
    left unset until then, so that making a counter, once per op, costs no more than before.
    """

    __slots__ = ("value", "shared")

    def __init__(self):
        self.value = 0

    def has_views(self) -> bool:
        return getattr(self, "shared", False)


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_version", "__weakref__",
                 "__dict__")
    # numpy arrays and scalars on the left of an operator (np.float64(2) * t) defer to the
    # Tensor's reflected method instead of converting it with __array__ (as torch).
    __array_priority__ = 1000

    def __init__(self, data: np.ndarray, requires_grad: bool = False, _version=None):
        # Wraps the array without copying; minigrad.tensor() is the converting constructor.
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.grad_fn = None
        self._version = VersionCounter() if _version is None else _version

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.data.ndim)))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.data.shape
        return self.data.shape[_shape.normalize_dim(dim, self.data.ndim)]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return self.data.size

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self.data.flags.c_contiguous

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shares memory), as ``torch.Tensor.numpy``."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted "
                               "to Scalar")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} elements is "
                               "ambiguous")
        return bool(self.data.reshape(()))

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return _format_tensor(self)

    # ------------------------------------------------------------------ dtype casts
    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to("cpu")`` or ``to(other_tensor)``; other devices are refused."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) and not _is_dtype_name(arg):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"minigrad runs on the CPU only; got device {device!r}")
        return self if dtype is None else self.type(dtype)

    def cpu(self) -> "Tensor":
        return self

    def type(self, dtype) -> "Tensor":
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind not in "fc":  # integers and bools carry no gradient (as torch)
            return Tensor(self.data.astype(dtype))
        return _ew.Cast.apply(self, dtype)

    def float(self) -> "Tensor":
        return self.type(_dtypes.float32)

    def double(self) -> "Tensor":
        return self.type(_dtypes.float64)

    def half(self) -> "Tensor":
        return self.type(_dtypes.float16)

    def long(self) -> "Tensor":
        return self.type(_dtypes.int64)

    def int(self) -> "Tensor":
        return self.type(_dtypes.int32)

    def bool(self) -> "Tensor":
        return self.type(_dtypes.bool_)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """The same data (shared memory and version counter), cut from the graph."""
        return Tensor(self.data, _version=self._version)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "If you want to use a computed variable in a subgraph that "
                               "doesn't require differentiation use var_no_grad = var.detach().")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def clone(self) -> "Tensor":
        return _ew.Clone.apply(self)

    def contiguous(self) -> "Tensor":
        return self if self.data.flags.c_contiguous else _ew.Clone.apply(self)

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, function, other, reverse=False):
        a, b = _promote_operands(self, other)
        if a is NotImplemented:
            return NotImplemented
        return function.apply(b, a) if reverse else function.apply(a, b)

    def __add__(self, other):
        return self._binary(_ew.Add, other)

    def __radd__(self, other):
        return self._binary(_ew.Add, other, reverse=True)

    def __sub__(self, other):
        _check_not_bool_subtraction(self, other)
        return self._binary(_ew.Sub, other)

    def __rsub__(self, other):
        _check_not_bool_subtraction(self, other)
        return self._binary(_ew.Rsub, other, reverse=True)

    def __mul__(self, other):
        return self._binary(_ew.Mul, other)

    def __rmul__(self, other):
        return self._binary(_ew.Mul, other, reverse=True)

    def __truediv__(self, other):
        return self._true_divide(other, reverse=False)

    def __rtruediv__(self, other):
        return self._true_divide(other, reverse=True)

    def _true_divide(self, other, reverse):
        function = _ew.Rdiv if reverse else _ew.Div
        if self.data.dtype.kind == "f":
            return self._binary(function, other, reverse)
        # Integer by integer divides in float32; with a float operand, promotion decides.
        other_is_float = (other.data.dtype.kind == "f" if isinstance(other, Tensor)
                          else isinstance(other, float))
        a = self if other_is_float else self.type(_dtypes.default_float)
        return a._binary(function, other, reverse)

    def __pow__(self, exponent):
        return self._binary(_ew.PowTensorExponent if isinstance(exponent, Tensor) else _ew.Pow,
                            exponent)

    def __rpow__(self, base):
        return self._binary(_ew.PowNumberBase, base, reverse=True)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(_as_tensor_operand(other, self.dtype), self)

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.Abs.apply(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    divide = __truediv__
    multiply = __mul__
    subtract = __sub__
    pow = __pow__
    matmul = __matmul__
    neg = __neg__
    abs = __abs__

    def _floating(self) -> "Tensor":
        """self, or self cast to float32 when it holds integers (torch's exp(int) is float)."""
        return self if self.data.dtype.kind == "f" else self.type(_dtypes.default_float)

    def exp(self):
        return _ew.Exp.apply(self._floating())

    def log(self):
        return _ew.Log.apply(self._floating())

    def sqrt(self):
        return _ew.Sqrt.apply(self._floating())

    def relu(self):
        return _ew.Relu.apply(self)

    def sigmoid(self):
        return _ew.Sigmoid.apply(self._floating())

    def tanh(self):
        return _ew.Tanh.apply(self._floating())

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("At least one of 'min' or 'max' must not be None")
        if self.data.dtype.kind != "f" and any(
                isinstance(bound, float) for bound in (min, max)):
            return self._floating().clamp(min, max)  # int clamped to a float bound is float
        bounds_are_tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
        return (_ew.ClampTensorBounds if bounds_are_tensors else _ew.Clamp).apply(self, min, max)

    clip = clamp

    def softmax(self, dim):
        return _ew.Softmax.apply(self._floating(), _shape.normalize_dim(dim, self.data.ndim))

    def log_softmax(self, dim):
        return _ew.LogSoftmax.apply(self._floating(),
                                    _shape.normalize_dim(dim, self.data.ndim))

    # ------------------------------------------------------------------ comparisons
    def _compare(self, ufunc, other):
        other = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor(np.asarray(ufunc(self.data, other)))
        except ValueError as error:
            raise _ew.broadcast_error(self.data, np.asarray(other)) from error

    def __eq__(self, other):
        return self._compare(np.equal, other)

    def __ne__(self, other):
        return self._compare(np.not_equal, other)

    def __lt__(self, other):
        return self._compare(np.less, other)

    def __le__(self, other):
        return self._compare(np.less_equal, other)

    def __gt__(self, other):
        return self._compare(np.greater, other)

    def __ge__(self, other):
        return self._compare(np.greater_equal, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError("~ (bitwise not) is only supported for integer and bool tensors")
        return Tensor(np.invert(self.data))

    def __and__(self, other):
        return Tensor(np.logical_and(self.data, _array_of(other)))

    def __or__(self, other):
        return Tensor(np.logical_or(self.data, _array_of(other)))

    def argmax(self, dim=None, keepdim=False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _reduce.argmin(self, dim, keepdim)

    def all(self):
        return Tensor(np.asarray(self.data.all()))

    def any(self):
        return Tensor(np.asarray(self.data.any()))

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return _reduce.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False):
        return _reduce.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _reduce.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _reduce.std(self, dim, unbiased, keepdim, correction)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        return _reduce.max_or_min(self, dim, keepdim, "max")

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        return _reduce.max_or_min(self, dim, keepdim, "min")

    def amax(self, dim=(), keepdim=False):
        return _reduce.amax_or_amin(self, dim, keepdim, "max")

    def amin(self, dim=(), keepdim=False):
        return _reduce.amax_or_amin(self, dim, keepdim, "min")

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return _shape.reshape(self, _shape.size_args(shape))

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return self.type(shape[0])
        return _shape.view(self, _shape.size_args(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _shape.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shape.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    swapaxes = transpose

    def permute(self, *dims):
        return _shape.permute(self, _shape.size_args(dims))

    def t(self):
        return _shape.matrix_transpose(self)

    def expand(self, *sizes):
        return _shape.expand(self, _shape.size_args(sizes))

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def __setitem__(self, index, value):
        if _autograd.inplace_is_recorded(self, (value,)):
            function, index = _shape.setitem_function(index)
            _autograd.record_inplace(self, function, value, index)
            return
        if isinstance(index, Tensor):
            index = index.data
        self.data[index] = _array_of(value)
        self._version.value += 1

    # ------------------------------------------------------------------ in-place
    # Each in-place op either writes into .data directly (grad mode off, or nothing involved
    # requires grad: optimizers, init) or, when torch would record it, runs the out-of-place
    # op and rebases the tensor's history onto it (autograd.record_inplace).

    def _inplace(self, ufunc, *operands):
        try:
            ufunc(self.data, *operands, out=self.data, casting="same_kind")
        except (TypeError, ValueError) as error:
            raise RuntimeError(f"in-place {ufunc.__name__} on a tensor of shape "
                               f"{self.data.shape} and dtype {self.data.dtype}: {error}") from None
        self._version.value += 1
        return self

    def add_(self, other, alpha=1):
        if _autograd.inplace_is_recorded(self, (other,)):
            return _autograd.record_inplace(self, _ew.Add, other if alpha == 1 else other * alpha)
        other = _array_of(other)
        return self._inplace(np.add, other if alpha == 1 else np.multiply(other, alpha))

    def sub_(self, other, alpha=1):
        if _autograd.inplace_is_recorded(self, (other,)):
            return _autograd.record_inplace(self, _ew.Sub, other if alpha == 1 else other * alpha)
        other = _array_of(other)
        return self._inplace(np.subtract, other if alpha == 1 else np.multiply(other, alpha))

    def mul_(self, other):
        if _autograd.inplace_is_recorded(self, (other,)):
            return _autograd.record_inplace(self, _ew.Mul, other)
        return self._inplace(np.multiply, _array_of(other))

    def div_(self, other):
        if _autograd.inplace_is_recorded(self, (other,)):
            return _autograd.record_inplace(self, _ew.Div, other)
        return self._inplace(np.true_divide, _array_of(other))

    def clamp_(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("At least one of 'min' or 'max' must not be None")
        if _autograd.inplace_is_recorded(self, (min, max)):
            bounds_are_tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
            function = _ew.ClampTensorBounds if bounds_are_tensors else _ew.Clamp
            return _autograd.record_inplace(self, function, min, max)
        return self._inplace(np.clip, _array_of(min), _array_of(max))

    clip_ = clamp_

    def relu_(self):
        if _autograd.inplace_is_recorded(self):
            return _autograd.record_inplace(self, _ew.Relu)
        return self._inplace(np.maximum, 0)

    def zero_(self):
        if _autograd.inplace_is_recorded(self):
            return _autograd.record_inplace(self, _ew.Zero, 0)
        return self.fill_(0)

    def fill_(self, value):
        if _autograd.inplace_is_recorded(self, (value,)):
            function = _ew.FillTensor if isinstance(value, Tensor) else _ew.Fill
            return _autograd.record_inplace(self, function, value)
        self.data.fill(_array_of(value))
        self._version.value += 1
        return self

    def copy_(self, src):
        source = _array_of(src)
        if _autograd.inplace_is_recorded(self, (src,)):
            if not _broadcasts_to(np.shape(source), self.data.shape):
                raise _copy_shape_error(source, self.data.shape)
            return _autograd.record_inplace(self, _ew.Copy, src)
        try:
            np.copyto(self.data, source, casting="unsafe")
        except ValueError:
            raise _copy_shape_error(source, self.data.shape) from None
        self._version.value += 1
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        rng = numpy_generator(generator)
        return self.copy_(rng.uniform(a, b, self.data.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        rng = numpy_generator(generator)
        return self.copy_(rng.normal(mean, std, self.data.shape))


# ---------------------------------------------------------------------- operand helpers

def _array_of(value):
    return value.data if isinstance(value, Tensor) else value


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _copy_shape_error(source, shape) -> RuntimeError:
    return RuntimeError(f"copy_: the size of src {np.shape(source)} does not broadcast to the "
                        f"destination's {shape}")


def _check_not_bool_subtraction(a: "Tensor", other) -> None:
    if a.data.dtype == np.bool_ or (isinstance(other, Tensor) and other.data.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _is_dtype_name(text: str) -> bool:
    try:
        np.dtype(text)
        return True
    except TypeError:
        return False


def _as_tensor_operand(value, dtype) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=dtype))


def _promote_operands(a: Tensor, other):
    """Both operands of a binary op, cast as torch's type promotion wants.

    A Python number keeps the tensor's dtype (a float with an integer tensor gives
    float32); between tensors, a float tensor wins over an integer one, and a 0-d tensor
    does not widen a dimensioned one of its own kind (float32 tensor * float64 0-d: float32).
    """
    if isinstance(other, Tensor):
        if other.data.dtype != a.data.dtype:
            if (a.data.ndim == 0) != (other.data.ndim == 0) and _dtypes.same_category(
                    a.data.dtype, other.data.dtype):
                if a.data.ndim == 0:
                    return a.type(other.data.dtype), other
                return a, other.type(a.data.dtype)
            target = _dtypes.promote(a.data.dtype, other.data.dtype)
            if a.data.dtype.kind != "f" and target.kind == "f":
                a = a.type(target)
            if other.data.dtype.kind != "f" and target.kind == "f":
                other = other.type(target)
        return a, other
    kind = type(other)  # exact types first: the abstract-class checks below are slow
    if kind is int or kind is bool:
        return a, other
    if kind is not float and isinstance(other, numbers.Integral):
        return a, int(other)  # a numpy integer would widen float32 to float64
    if kind is float or isinstance(other, numbers.Real):
        if a.data.dtype.kind != "f":
            a = a.type(_dtypes.default_float)
        return a, float(other)
    if isinstance(other, np.ndarray):
        return _promote_operands(a, Tensor(other))
    return NotImplemented, None


# ---------------------------------------------------------------------- repr
# torch's print options: 4 decimals, summarize above 1000 elements to 3 at each edge, 80 columns.
_PRECISION, _THRESHOLD, _EDGEITEMS, _LINEWIDTH = 4, 1000, 3, 80


class _ElementFormat:
    """How torch prints the elements of a tensor: one common width and, for floats, one mode
    chosen from the finite nonzero values: integers as "3.", scientific notation when their
    magnitudes span more than 1000x or leave [1e-4, 1e8], else 4 fixed decimals."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max([len(str(v)) for v in values.tolist()] + [1])
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        texts = [self._text(v) for v in finite.tolist()]
        self.width = max(len(text) for text in texts)

    def _text(self, value) -> str:
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_PRECISION}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{_PRECISION}f}"

    def format(self, value) -> str:
        return self._text(value).rjust(self.width)


def _edges(data: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: the first and last _EDGEITEMS along each axis."""
    for axis, size in enumerate(data.shape):
        if size > 2 * _EDGEITEMS:
            keep = list(range(_EDGEITEMS)) + list(range(size - _EDGEITEMS, size))
            data = np.take(data, keep, axis=axis)
    return data


def _format_block(data: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    if data.ndim == 0:
        return fmt.format(data.item())
    size = data.shape[0]
    cut = summarize and size > 2 * _EDGEITEMS
    rows = list(range(_EDGEITEMS)) + [None] + list(range(size - _EDGEITEMS, size)) if cut \
        else list(range(size))
    if data.ndim == 1:
        items = [" ..." if i is None else fmt.format(data[i].item()) for i in rows]
        per_line = max(1, (_LINEWIDTH - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _format_block(data[i], indent + 1, summarize, fmt)
             for i in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _format_tensor(t: Tensor) -> str:
    """The string torch prints for the same tensor, with 'minigrad.' for 'torch.'."""
    data = t.data
    prefix = "tensor("
    suffixes = []
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={data.shape}")
        if data.dtype != _dtypes.default_float:
            suffixes.append(f"dtype={_dtypes.dtype_name(data.dtype)}")
    else:
        summarize = data.size > _THRESHOLD
        fmt = _ElementFormat((_edges(data) if summarize else data).reshape(-1))
        body = _format_block(data, len(prefix), summarize, fmt)
        if data.dtype not in (_dtypes.float32, _dtypes.int64, _dtypes.bool_):
            suffixes.append(f"dtype={_dtypes.dtype_name(data.dtype)}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _LINEWIDTH:
            text += ",\n" + " " * len(prefix) + suffix
            line_length = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            line_length += len(suffix) + 2
    return text + ")"


# ---------------------------------------------------------------------- creation

def _size(size) -> tuple:
    return _shape.size_args(size)


def _array_from_data(data, dtype):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype, as in torch
        return np.array(data, dtype=dtype, copy=True)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x.data if isinstance(x, Tensor) else x for x in data]
    array = np.array(data)
    if array.dtype == object:
        raise TypeError(f"could not build a tensor from {type(data).__name__}: ragged or "
                        "non-numeric data")
    target = dtype if dtype is not None else _dtypes.infer_dtype(array)
    return np.asarray(array, dtype=target, order="C")  # ascontiguousarray makes 0-d 1-d


def _finish(array: np.ndarray, requires_grad: bool) -> Tensor:
    out = Tensor(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats → float32, ints → int64)."""
    return _finish(_array_from_data(data, _dtypes.to_dtype(dtype)), requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def _filled(size, value, dtype, requires_grad) -> Tensor:
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    return _finish(np.full(_size(size), value, dtype=dtype), requires_grad)


def zeros(*size, dtype=None, requires_grad=False) -> Tensor:
    return _filled(size, 0, dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False) -> Tensor:
    return _filled(size, 1, dtype, requires_grad)


def empty(*size, dtype=None, requires_grad=False) -> Tensor:
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    return _finish(np.empty(_size(size), dtype=dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = (_dtypes.bool_ if isinstance(fill_value, bool) else _dtypes.int64
                 if isinstance(fill_value, numbers.Integral) else _dtypes.default_float)
    return _filled(size, fill_value, dtype, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _filled(t.shape, 0, dtype or t.dtype, requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _filled(t.shape, 1, dtype or t.dtype, requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return _filled(t.shape, fill_value, dtype or t.dtype, requires_grad)


def empty_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _finish(np.empty(t.shape, dtype=dtype or t.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dtypes.int64 if integral else _dtypes.default_float
    return _finish(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False) -> Tensor:
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    return _finish(np.linspace(start, end, steps, dtype=dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    return _finish(np.eye(n, m, dtype=dtype), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1), drawn from minigrad's generator."""
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    values = numpy_generator(generator).random(_size(size))
    return _finish(values.astype(dtype), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal, drawn from minigrad's generator."""
    dtype = _dtypes.to_dtype(dtype) or _dtypes.default_float
    values = numpy_generator(generator).standard_normal(_size(size))
    return _finish(values.astype(dtype), requires_grad)


def randint(*args, size=None, generator=None, dtype=None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint expects (high, size) or (low, high, size)")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dtype = _dtypes.to_dtype(dtype) or _dtypes.int64
    values = numpy_generator(generator).integers(low, high, _size(size))
    return Tensor(values.astype(dtype))


def rand_like(t: Tensor, generator=None, dtype=None) -> Tensor:
    return rand(t.shape, generator=generator, dtype=dtype or t.dtype)


def randn_like(t: Tensor, generator=None, dtype=None) -> Tensor:
    return randn(t.shape, generator=generator, dtype=dtype or t.dtype)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    return a._binary(_ew.Maximum, b)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    return a._binary(_ew.Minimum, b)


# The ops import Tensor from this module, so they are imported once it is defined.
from minigrad import autograd as _autograd  # noqa: E402
from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
