"""Creation functions, as torch's: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and
their ``_like`` forms), arange, linspace, eye, rand/randn/randint/randperm (and ``_like``).

Each takes torch's keywords: ``dtype``, ``device`` (the CPU only: anything else fails with a
message naming minigrad as CPU-only), ``requires_grad`` and, for random draws, ``generator``.
Python floats become float32, ints int64, bools bool; numpy arrays keep their dtype.
"""
import math
import numbers

import numpy as np

from minigrad import devices as _devices
from minigrad import dtypes as _dtypes
from minigrad.ops.arguments import size_args
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "array_from_data", "parse_to"]


def array_from_data(data, dtype) -> np.ndarray:
    """A new C-contiguous array holding ``data`` (nested lists, numbers, arrays, tensors)."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype, as in torch
        return np.array(data, dtype=dtype, copy=True, order="C")
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x.array if isinstance(x, Tensor) else x for x in data]
    try:
        array = np.array(data)
    except ValueError:
        raise ValueError(f"expected sequence of equal lengths: could not build a tensor from "
                         f"{type(data).__name__}") from None
    if array.dtype == object:
        raise TypeError(f"could not build a tensor from {type(data).__name__}: ragged or "
                        "non-numeric data")
    target = dtype if dtype is not None else _dtypes.infer_dtype(array)
    return np.asarray(array, dtype=target, order="C")  # ascontiguousarray makes 0-d 1-d


def _finish(array: np.ndarray, requires_grad: bool, device) -> Tensor:
    if device is not None:
        _devices.check_device(device)
    elif _devices.get_default_device() is not _devices.CPU:
        _devices.check_device(None)
    out = Tensor(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats → float32, ints → int64)."""
    return _finish(array_from_data(data, _dtypes.to_dtype(dtype)), requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` itself when it already is a tensor of that dtype, an array shared without a
    copy when it is a numpy array of that dtype, else a new tensor."""
    if device is not None:
        _devices.check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor(data)
    if isinstance(data, Tensor):
        return data.type(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    if copy:
        return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)
    result = as_tensor(obj, dtype=dtype, device=device)
    return result.requires_grad_(True) if requires_grad else result


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def _float_dtype(dtype):
    dtype = _dtypes.to_dtype(dtype)
    return _dtypes.default_float if dtype is None else dtype


def _size(size, keywords: dict):
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    keyword = keywords.pop("size", None)
    if keywords:
        raise TypeError(f"got unexpected keyword arguments {sorted(keywords)}")
    if keyword is not None:
        if size:
            raise TypeError("size given both positionally and as a keyword")
        size = (keyword,)
    return size_args(size)


def _filled(size, value, dtype, requires_grad, device) -> Tensor:
    return _finish(np.full(size_args(size), value, dtype=_float_dtype(dtype)), requires_grad,
                   device)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          **keyword) -> Tensor:
    return _filled(_size(size, keyword), 0, dtype, requires_grad, device)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         **keyword) -> Tensor:
    return _filled(_size(size, keyword), 1, dtype, requires_grad, device)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **keyword) -> Tensor:
    shape = _size(size, keyword)
    return _finish(np.empty(shape, dtype=_float_dtype(dtype)), requires_grad, device)


def _fill_dtype(fill_value):
    if isinstance(fill_value, bool):
        return _dtypes.bool_
    if isinstance(fill_value, numbers.Integral):
        return _dtypes.int64
    return _dtypes.default_float


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = _dtypes.to_dtype(dtype) or _fill_dtype(fill_value)
    return _filled(size, fill_value, dtype, requires_grad, device)


def _like(t: Tensor, dtype):
    return t.array.shape, (_dtypes.to_dtype(dtype) or t.array.dtype)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _filled(shape, 0, dtype, requires_grad, device)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _filled(shape, 1, dtype, requires_grad, device)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _filled(shape, fill_value, dtype, requires_grad, device)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _finish(np.empty(shape, dtype=dtype), requires_grad, device)


def _number(value):
    return value.item() if isinstance(value, Tensor) else value


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start (default 0) up to but excluding end, every step."""
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dtypes.int64 if integral else _dtypes.default_float
    dtype = _dtypes.to_dtype(dtype)
    count = max(math.ceil((end - start) / step), 0)
    values = start + step * np.arange(count, dtype=np.float64 if dtype.kind == "f" else np.int64)
    return _finish(values.astype(dtype), requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end (both included); integer dtypes
    truncate toward zero, as torch."""
    start, end = _number(start), _number(end)
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    if dtype.kind in "iub":  # the ends take the dtype first (an unsigned -3 is 253), as torch
        start, end = (np.array([start, end]).astype(np.int64).astype(dtype)).tolist()
    values = np.linspace(start, end, steps, dtype=np.float64)
    if dtype.kind in "iu":
        values = np.trunc(values)
    return _finish(values.astype(dtype), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def _random(draw, size, keywords, dtype, requires_grad, device) -> Tensor:
    shape = _size(size, keywords)
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f'"check_uniform_bounds" not implemented for '
                           f"'{_dtypes.dtype_name(dtype)}'")
    return _finish(draw(shape).astype(dtype), requires_grad, device)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **keyword) -> Tensor:
    """Uniform on [0, 1), drawn from minigrad's generator."""
    return _random(numpy_generator(generator).random, size, keyword, dtype, requires_grad,
                   device)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **keyword) -> Tensor:
    """Standard normal, drawn from minigrad's generator."""
    return _random(numpy_generator(generator).standard_normal, size, keyword, dtype,
                   requires_grad, device)


def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, low=None, high=None) -> Tensor:
    """``randint(high, size)``, ``randint(low, high, size)`` or the keyword forms
    (``randint(low=0, high=10, size=(3,))``): integers in [low, high)."""
    if size is None and args and isinstance(args[-1], (tuple, list)):
        args, size = args[:-1], args[-1]
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError("randint expects (high, size) or (low, high, size)")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    low = 0 if low is None else low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dtype = _dtypes.to_dtype(dtype) or _dtypes.int64
    values = numpy_generator(generator).integers(low, high, size_args((size,)) if isinstance(
        size, numbers.Integral) else size_args(size))
    return _finish(values.astype(dtype), requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dtype = _dtypes.to_dtype(dtype) or _dtypes.int64
    values = numpy_generator(generator).permutation(int(n))
    return _finish(values.astype(dtype), requires_grad, device)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return rand(shape, generator=generator, dtype=dtype, device=device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return randn(shape, generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None) -> Tensor:
    if high is None:
        low, high = 0, low
    shape, dtype = _like(input, dtype)
    return randint(low, high, shape, generator=generator, dtype=dtype, device=device)


def parse_to(args, kwargs):
    """(dtype, device, copy) from the arguments of ``Tensor.to`` / ``Module.to``:
    ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``, keywords."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype, device = arg.dtype, _devices.CPU
        elif isinstance(arg, _devices.device) or (isinstance(arg, str)
                                                   and not _is_dtype_name(arg)):
            device = arg
        elif isinstance(arg, numbers.Integral) and not isinstance(arg, bool):
            # torch reads a bare int as an accelerator's index
            raise RuntimeError(f"minigrad is CPU-only: cannot access accelerator device {arg} "
                               "(none is available)")
        elif arg is not None:
            dtype = arg
    return _dtypes.to_dtype(dtype), device, copy


def _is_dtype_name(text: str) -> bool:
    try:
        np.dtype(text)
        return True
    except TypeError:
        return False
