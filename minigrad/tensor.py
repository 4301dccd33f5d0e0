"""Tensor: a numpy array with the autograd metadata that lets gradients flow to it.

``Tensor.array`` is the numpy array holding the values (float32 by default, float64, int64 for
class targets, bool); ``data`` is, as in torch, a detached Tensor sharing it. ``grad`` is a
Tensor or None; ``grad_fn`` is the graph node that made the tensor (None for leaves). Every
method that computes is one op's front door in ``minigrad.ops`` (this file only routes
Python's operators and torch's method names there); printing is in ``_tensor_str.py``, the
creation functions in ``creation.py``, type promotion in ``ops/promotion.py``.

The circle Tensor -> ops -> autograd -> Tensor is the field's idiom (teenygrad's tensor.py and
mlops.py): the ops are imported at the bottom of this file, once the class exists.
"""
import numbers
from collections import OrderedDict

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad.size import Size

__all__ = ["Tensor", "VersionCounter", "wrap"]


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


_NO_DATA = object()


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(ndarray, requires_grad=False)`` wraps the array without copying (minigrad's own,
    fast constructor; it keeps the array's dtype). torch's legacy forms make float32 tensors:
    ``Tensor([1., 2.])`` copies the data, ``Tensor(2, 3)`` and ``Tensor(Size)`` are
    uninitialised of that shape, ``Tensor()`` is empty.
    """

    __slots__ = ("array", "_grad", "requires_grad", "grad_fn", "_version", "_output_nr",
                 "__weakref__", "__dict__")
    # numpy arrays and scalars on the left of an operator (np.float64(2) * t) defer to the
    # Tensor's reflected method instead of converting it with __array__ (as torch).
    __array_priority__ = 1000

    def __init__(self, data=_NO_DATA, *sizes, requires_grad: bool = False, _version=None,
                 device=None, dtype=None):
        if type(data) is not np.ndarray or sizes or dtype is not None or device is not None:
            if isinstance(data, np.generic) and not sizes and dtype is None and device is None:
                data = np.asarray(data)  # numpy's 0-d result: a 0-d array of its dtype
            else:
                data = _legacy_array(data, sizes, device, dtype)
        self.array = data
        self._grad = None
        self.requires_grad = requires_grad
        self.grad_fn = None
        self._version = VersionCounter() if _version is None else _version
        self._output_nr = None

    # ------------------------------------------------------------------ properties
    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's array, outside the graph (torch's ``.data``): changes
        made through it are not tracked by autograd."""
        return wrap(self.array)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(value).__name__}")
        self.array = value.array

    @property
    def grad(self):
        """The gradient accumulated by backward: a Tensor of this tensor's shape and dtype, or
        None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:  # torch's checks: a float64 gradient on a float32 parameter
            _check_assigned_grad(self, value)  # would reach its optimizer kernel otherwise
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self.array.shape)  # trusted sizes: no validation

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr or 0

    @property
    def device(self):
        return _devices.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    @property
    def T(self) -> "Tensor":
        return _shape.permute(self, tuple(reversed(range(self.array.ndim))))

    @property
    def mT(self) -> "Tensor":
        return _shape.transpose(self, -2, -1)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self.array.shape)
        return self.array.shape[_arguments.normalize_dim(dim, self.array.ndim)]

    def dim(self) -> int:
        return self.array.ndim

    ndimension = dim

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    def element_size(self) -> int:
        return self.array.itemsize

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_contiguous(self, memory_format=None) -> bool:
        return self.array.flags.c_contiguous

    def get_device(self) -> int:
        return -1

    # ------------------------------------------------------------------ conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array (shares memory), as ``torch.Tensor.numpy``."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.array

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.array.dtype:
            return self.array.astype(dtype)
        return self.array.copy() if copy else self.array

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted "
                               "to Scalar")
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.array.size} elements is "
                               "ambiguous")
        return bool(self.array.reshape(()))

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return _tensor_str.format_tensor(self)

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return _rebuild, (self.array, self.requires_grad)

    # ------------------------------------------------------------------ dtype and device
    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``; devices
        other than the CPU are refused (minigrad is CPU-only)."""
        dtype, device, copy = _creation.parse_to(args, kwargs)
        _devices.check_device(device if device is not None else "cpu")
        result = self if dtype is None else self.type(dtype)
        return result.clone() if copy and result is self else result

    def cpu(self, memory_format=None) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None) -> "Tensor":
        _devices.check_device("cuda" if device is None else device if isinstance(
            device, (str, _devices.device)) else f"cuda:{device}")
        return self

    def type(self, dtype=None, non_blocking=False) -> "Tensor":
        if dtype is None:
            return _dtypes.legacy_type_name(self.array.dtype)
        dtype = _dtypes.to_dtype(dtype)
        if dtype == self.array.dtype:
            return self
        if dtype.kind not in "fc":  # integers and bools carry no gradient (as torch)
            return Tensor(self.array.astype(dtype))
        return _ew.Cast.apply(self, dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.type(other.dtype)

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

    def short(self) -> "Tensor":
        return self.type(_dtypes.int16)

    def char(self) -> "Tensor":
        return self.type(_dtypes.int8)

    def byte(self) -> "Tensor":
        return self.type(_dtypes.uint8)

    def bool(self) -> "Tensor":
        return self.type(_dtypes.bool_)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """The same data (shared memory and version counter), cut from the graph."""
        return wrap(self.array, False, self._version)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._output_nr = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "If you want to use a computed variable in a subgraph that "
                               "doesn't require differentiation use var_no_grad = var.detach().")
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook):
        """hook(grad) -> a new gradient or None, called with this tensor's gradient each time
        it is computed (before it reaches ``.grad``); returns a removable handle."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is None:
            hooks = self.__dict__.setdefault("_backward_hooks", OrderedDict())
            _engine.LeafHooks.registered = True
        else:
            hooks = self.grad_fn._hooks().tensor_pre.setdefault(self.output_nr, OrderedDict())
        handle = _hooks.RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor), called after a leaf's ``.grad`` has been accumulated."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        hooks = self.__dict__.setdefault("_post_accumulate_hooks", OrderedDict())
        _engine.LeafHooks.registered = True
        handle = _hooks.RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` (a leaf's is kept anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._hooks().retain[self.output_nr] = _weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        if self.grad_fn is None or self.grad_fn.hooks is None:
            return False
        ref = self.grad_fn.hooks.retain.get(self.output_nr)
        return ref is not None and ref() is self

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(self, other)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.rsub(self, other)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(self, other)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.rdiv(self, other)

    def __pow__(self, exponent):
        return _ew.pow(self, exponent)

    def __rpow__(self, base):
        return _ew.rpow(self, base)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(_promotion.as_tensor_operand(other, self.array.dtype), self)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    def __rmod__(self, other):
        return _ew.remainder(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def add(self, other, *, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _ew.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _ew.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    def mm(self, other):
        return _linalg.mm(self, other)

    def bmm(self, other):
        return _linalg.bmm(self, other)

    def neg(self):
        return _ew.neg(self)

    negative = neg

    def abs(self):
        return _ew.abs(self)

    absolute = abs

    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def sin(self):
        return _ew.sin(self)

    def cos(self):
        return _ew.cos(self)

    def tan(self):
        return _ew.tan(self)

    def asin(self):
        return _ew.asin(self)

    def acos(self):
        return _ew.acos(self)

    def atan(self):
        return _ew.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def atan2(self, other):
        return _ew.atan2(self, other)

    arctan2 = atan2

    def sinh(self):
        return _ew.sinh(self)

    def cosh(self):
        return _ew.cosh(self)

    def asinh(self):
        return _ew.asinh(self)

    def acosh(self):
        return _ew.acosh(self)

    def atanh(self):
        return _ew.atanh(self)

    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def exp2(self):
        return _ew.exp2(self)

    def expm1(self):
        return _ew.expm1(self)

    def log2(self):
        return _ew.log2(self)

    def log10(self):
        return _ew.log10(self)

    def log1p(self):
        return _ew.log1p(self)

    def rsqrt(self):
        return _ew.rsqrt(self)

    def square(self):
        return _ew.square(self)

    def reciprocal(self):
        return _ew.reciprocal(self)

    def floor(self):
        return _ew.floor(self)

    def ceil(self):
        return _ew.ceil(self)

    def round(self, *, decimals=0):
        return _ew.round(self, decimals=decimals)

    def trunc(self):
        return _ew.trunc(self)

    fix = trunc

    def frac(self):
        return _ew.frac(self)

    def erf(self):
        return _ew.erf(self)

    def sign(self):
        return _ew.sign(self)

    def isnan(self):
        return _ew.isnan(self)

    def isinf(self):
        return _ew.isinf(self)

    def isfinite(self):
        return _ew.isfinite(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _ew.nan_to_num(self, nan, posinf, neginf)

    def where(self, condition, other):
        return _ew.where(condition, self, other)

    def relu(self):
        return _ew.relu(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def tanh(self):
        return _ew.tanh(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def softmax(self, dim=None, dtype=None, **aliases):
        return _ew.softmax(self, dim, dtype=dtype, **aliases)

    def log_softmax(self, dim=None, dtype=None, **aliases):
        return _ew.log_softmax(self, dim, dtype=dtype, **aliases)

    # ------------------------------------------------------------------ comparisons, logic
    def __eq__(self, other):
        return _ew.eq(self, other)

    def __ne__(self, other):
        return _ew.ne(self, other)

    def __lt__(self, other):
        return _ew.lt(self, other)

    def __le__(self, other):
        return _ew.le(self, other)

    def __gt__(self, other):
        return _ew.gt(self, other)

    def __ge__(self, other):
        return _ew.ge(self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        if self.array.dtype.kind not in "biu":  # torch's operator: a TypeError
            raise TypeError("~ (operator.invert) is only implemented on integer and "
                            "Boolean-type tensors")
        return _ew.bitwise_not(self)

    def __and__(self, other):
        return _ew.bitwise_and(self, other)

    def __or__(self, other):
        return _ew.bitwise_or(self, other)

    def __xor__(self, other):
        return _ew.bitwise_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __lshift__(self, other):
        return _ew.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return _ew.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return _ew.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return _ew.bitwise_right_shift(other, self)

    def logical_not(self):
        return _ew.logical_not(self)

    def logical_and(self, other):
        return _ew.logical_and(self, other)

    def logical_or(self, other):
        return _ew.logical_or(self, other)

    def logical_xor(self, other):
        return _ew.logical_xor(self, other)

    def bitwise_and(self, other):
        return _ew.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _ew.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _ew.bitwise_xor(self, other)

    def bitwise_not(self):
        return _ew.bitwise_not(self)

    def floor_divide(self, other):
        return _ew.floor_divide(self, other)

    def remainder(self, other):
        return _ew.remainder(self, other)

    def fmod(self, other):
        return _ew.fmod(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ew.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ew.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return _ew.equal(self, other)

    # ------------------------------------------------------------------ reductions
    def sum(self, *args, **kwargs):
        return _reduce.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return _reduce.mean(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return _reduce.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return _reduce.std(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return _reduce.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return _reduce.min(self, *args, **kwargs)

    def amax(self, *args, **kwargs):
        return _reduce.amax(self, *args, **kwargs)

    def amin(self, *args, **kwargs):
        return _reduce.amin(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return _reduce.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return _reduce.argmin(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return _reduce.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return _reduce.any(self, *args, **kwargs)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return _shape.reshape(self, *shape)

    def view(self, *shape):
        return _shape.view(self, *shape)

    def view_as(self, other):
        return _shape.view(self, other.array.shape)

    def reshape_as(self, other):
        return _shape.reshape(self, other.array.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _shape.unflatten(self, dim, sizes)

    def squeeze(self, *args, **kwargs):
        return _shape.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args, **kwargs):
        return _shape.unsqueeze(self, *args, **kwargs)

    def transpose(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return _shape.permute(self, *dims)

    def t(self):
        return _shape.t(self)

    def expand(self, *sizes):
        return _shape.expand(self, *sizes)

    def gather(self, dim=None, index=None, **kwargs):
        return _shape.gather(self, dim, index, **kwargs)

    def scatter(self, dim, index, src=None, **kwargs):
        return _shape.scatter(self, dim, index, src, **kwargs)

    def scatter_add(self, dim, index, src, **kwargs):
        return _shape.scatter_add(self, dim, index, src, **kwargs)

    def index_select(self, dim=None, index=None, **kwargs):
        return _shape.index_select(self, dim, index, **kwargs)

    def masked_fill(self, mask, value):
        return _shape.masked_fill(self, mask, value)

    def repeat(self, *sizes):
        return _shape.repeat(self, *sizes)

    def tile(self, *dims):
        return _shape.tile(self, dims[0] if len(dims) == 1 else dims)

    def split(self, split_size, dim=0):
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _shape.unbind(self, dim)

    def flip(self, *dims):
        return _shape.flip(self, dims[0] if len(dims) == 1 else dims)

    def fliplr(self):
        return _shape.fliplr(self)

    def flipud(self):
        return _shape.flipud(self)

    def roll(self, shifts, dims=None):
        return _shape.roll(self, shifts, dims)

    def cumsum(self, *args, **kwargs):
        return _scan.cumsum(self, *args, **kwargs)

    def cumprod(self, *args, **kwargs):
        return _scan.cumprod(self, *args, **kwargs)

    def cummax(self, *args, **kwargs):
        return _scan.cummax(self, *args, **kwargs)

    def cummin(self, *args, **kwargs):
        return _scan.cummin(self, *args, **kwargs)

    def sort(self, *args, **kwargs):
        return _sort.sort(self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return _sort.argsort(self, *args, **kwargs)

    def topk(self, *args, **kwargs):
        return _sort.topk(self, *args, **kwargs)

    def expand_as(self, other):
        return _shape.expand(self, other.array.shape)

    def contiguous(self, memory_format=None) -> "Tensor":
        return self if self.array.flags.c_contiguous else _ew.clone(self)

    def clone(self, memory_format=None) -> "Tensor":
        return _ew.clone(self)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def __setitem__(self, index, value):
        _shape.setitem(self, index, value)

    # ------------------------------------------------------------------ in-place
    # Each in-place op either writes into the array directly (grad mode off, or nothing
    # involved requires grad: optimizers, init) or, when torch would record it, runs the
    # out-of-place op and rebases the tensor's history onto it (autograd.record_inplace).
    def add_(self, other, *, alpha=1):
        return _inplace.add_(self, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return _inplace.sub_(self, other, alpha=alpha)

    def mul_(self, other):
        return _inplace.mul_(self, other)

    def div_(self, other):
        return _inplace.div_(self, other)

    def clamp_(self, min=None, max=None):
        return _inplace.clamp_(self, min, max)

    clip_ = clamp_

    def relu_(self):
        return _inplace.relu_(self)

    def zero_(self):
        return _inplace.zero_(self)

    def fill_(self, value):
        return _inplace.fill_(self, value)

    def copy_(self, src, non_blocking=False):
        return _inplace.copy_(self, src)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return _inplace.uniform_(self, a, b, generator=generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return _inplace.normal_(self, mean, std, generator=generator)

    def pow_(self, exponent):
        return _inplace.pow_(self, exponent)

    def masked_fill_(self, mask, value):
        return _inplace.copy_(self, _shape.masked_fill(self, mask, value))

    def scatter_(self, dim, index, src=None, **kwargs):
        return _inplace.copy_(self, _shape.scatter(self, dim, index, src, **kwargs))

    def scatter_add_(self, dim, index, src, **kwargs):
        return _inplace.copy_(self, _shape.scatter_add(self, dim, index, src, **kwargs))

    def floor_divide_(self, other):
        return _inplace.floor_divide_(self, other)

    # Python's in-place operators are the in-place ops (w -= lr * w.grad changes w), as torch.
    def __iadd__(self, other):
        return _inplace.add_(self, other)

    def __isub__(self, other):
        return _inplace.sub_(self, other)

    def __imul__(self, other):
        return _inplace.mul_(self, other)

    def __itruediv__(self, other):
        return _inplace.div_(self, other)

    def __ifloordiv__(self, other):
        return _inplace.floor_divide_(self, other)

    def __imod__(self, other):
        return _inplace.remainder_(self, other)

    def __ipow__(self, other):
        return _inplace.pow_(self, other)

    def __iand__(self, other):
        return _inplace.bitwise_and_(self, other)

    def __ior__(self, other):
        return _inplace.bitwise_or_(self, other)

    def __ixor__(self, other):
        return _inplace.bitwise_xor_(self, other)

    def __ilshift__(self, other):
        return _inplace.bitwise_left_shift_(self, other)

    def __irshift__(self, other):
        return _inplace.bitwise_right_shift_(self, other)

    # ------------------------------------------------------------------ new tensors
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return _creation.tensor(data, dtype=dtype or self.array.dtype, device=device,
                                requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.zeros(*size, dtype=dtype or self.array.dtype, device=device,
                               requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.ones(*size, dtype=dtype or self.array.dtype, device=device,
                              requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return _creation.full(size, fill_value, dtype=dtype or self.array.dtype, device=device,
                              requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.empty(*size, dtype=dtype or self.array.dtype, device=device,
                               requires_grad=requires_grad)


_object_new = object.__new__


def _check_assigned_grad(tensor, grad) -> None:
    """torch's rules for ``tensor.grad = grad``: a Tensor of the tensor's dtype and size."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    if grad.array.dtype != tensor.array.dtype:
        from minigrad.ops.arguments import scalar_type_name, type_name
        raise RuntimeError(f"attempting to assign a gradient with dtype "
                           f"'{scalar_type_name(grad.array.dtype)}' to a tensor with "
                           f"grad_dtype '{type_name(tensor.array.dtype)}'. The gradient must "
                           f"match the tensor's grad_dtype (defaults to the tensor's dtype).")
    if grad.array.shape != tensor.array.shape:
        raise RuntimeError(f"attempting to assign a gradient of size "
                           f"'{list(grad.array.shape)}' to a tensor of size "
                           f"'{list(tensor.array.shape)}'. Please ensure that the gradient and "
                           f"the tensor are the same size")


def wrap(array: np.ndarray, requires_grad: bool = False, version=None) -> Tensor:
    """``Tensor(array, requires_grad, _version=version)`` without the constructor's argument
    parsing: the ops' and the engine's hot path (150 ns instead of 380 ns a tensor)."""
    t = _object_new(Tensor)
    t.array = array
    t._grad = None
    t.requires_grad = requires_grad
    t.grad_fn = None
    t._version = VersionCounter() if version is None else version
    t._output_nr = None
    return t


def _legacy_array(data, sizes, device, dtype) -> np.ndarray:
    """The array of torch's legacy ``torch.Tensor(...)`` forms (float32)."""
    if device is not None:
        _devices.check_device(device)
    if dtype is not None:
        raise TypeError("new() received an invalid combination of arguments: torch.Tensor() "
                        "takes no dtype (use minigrad.tensor(data, dtype=...))")
    if data is _NO_DATA:
        return np.empty((0,), dtype=_dtypes.default_float)
    if isinstance(data, Size) or (isinstance(data, numbers.Integral)
                                  and not isinstance(data, bool)):
        shape = (tuple(data) if isinstance(data, Size) else (int(data),)) + tuple(sizes)
        return np.empty(_arguments.size_args(shape), dtype=_dtypes.default_float)
    if sizes:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({type(data).__name__}, ...)")
    if isinstance(data, Tensor):
        if data.array.dtype != _dtypes.default_float:
            raise TypeError(f"expected {_dtypes.dtype_name(_dtypes.default_float)} (got "
                            f"{_dtypes.dtype_name(data.array.dtype)})")
        return data.array
    if isinstance(data, np.ndarray):
        return np.array(data, dtype=data.dtype)
    if isinstance(data, (list, tuple)) or hasattr(data, "__array__"):
        return _creation.array_from_data(data, _dtypes.default_float)
    raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")


def _rebuild(array, requires_grad):
    return Tensor(np.array(array), requires_grad=requires_grad)


# The ops import Tensor from this module, so they are imported once it is defined.
import weakref as _weakref  # noqa: E402

from minigrad import _tensor_str, devices as _devices  # noqa: E402
from minigrad import creation as _creation  # noqa: E402
from minigrad.autograd import engine as _engine  # noqa: E402
from minigrad.ops import arguments as _arguments  # noqa: E402
from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import inplace as _inplace  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import promotion as _promotion  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
from minigrad.ops import scan as _scan  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
from minigrad.ops import sort as _sort  # noqa: E402
from minigrad.utils import hooks as _hooks  # noqa: E402
