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
from minigrad._kernels.buffers import aligned_empty
from minigrad import dtypes as _dtypes
from minigrad.ops.arguments import check_fits, int_argument, size_args
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "array_from_data", "parse_to"]


def array_from_data(data, dtype) -> np.ndarray:
    """A new C-contiguous array holding ``data`` (nested lists, numbers, arrays, tensors).
    A copy of numpy data starts on a 64-byte boundary, as torch's allocations do (the
    kernels' vector loads then never straddle two cache lines)."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype, as in torch
        data = np.asarray(data)
        target = data.dtype if dtype is None else np.dtype(dtype)
        if target.hasobject or data.dtype.hasobject:
            return np.array(data, dtype=dtype, copy=True, order="C")
        out = aligned_empty(data.size, target).reshape(data.shape)
        np.copyto(out, data, casting="unsafe")
        return out
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x.array if isinstance(x, Tensor) else x for x in data]
    if isinstance(data, int) and not isinstance(data, bool) and not -2 ** 63 <= data < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")  # numpy would make uint64
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


def _allocated(make, shape, *args, **kwargs) -> np.ndarray:
    """make(shape, ...) with torch's errors: a negative size, an allocation numpy cannot make
    (its MemoryError, or ValueError past the largest array it describes) or a fill value the
    dtype cannot hold are RuntimeErrors."""
    shape = tuple(shape)
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{list(shape)}")
    if math.prod(shape) >= 2 ** 60:  # past what any allocation could hold
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    try:
        return make(shape, *args, **kwargs)
    except MemoryError:
        raise RuntimeError(f"can't allocate memory for a tensor of shape {list(shape)}") \
            from None
    except ValueError as error:
        raise RuntimeError(f"can't allocate memory for a tensor of shape {list(shape)}: "
                           f"{error}") from None


def _filled(size, value, dtype, requires_grad, device) -> Tensor:
    dtype = _float_dtype(dtype)
    value = check_fits(value, dtype)  # numpy would cast NaN or 1e30 to garbage; torch refuses
    return _finish(_allocated(np.full, size_args(size), value, dtype=dtype), requires_grad,
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
    return _finish(_allocated(np.empty, shape, dtype=_float_dtype(dtype)), requires_grad,
                   device)


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
    return _finish(_allocated(np.empty, shape, dtype=dtype), requires_grad, device)


def _number(value):
    return value.item() if isinstance(value, Tensor) else value


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start (default 0) up to but excluding end, every step."""
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    ints = [v for v in (start, end, step) if isinstance(v, numbers.Integral)]
    for v in ints:  # torch's parser takes ints in [-2**63, 2**64)
        if v >= 2 ** 64:
            raise OverflowError("int too big to convert")
        if v < -2 ** 63:
            raise OverflowError("can't convert negative int to unsigned")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if not (step > 0 or step < 0):  # 0 or NaN (an infinite step is one step, or none)
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dtypes.int64 if integral else _dtypes.default_float
    dtype = _dtypes.to_dtype(dtype)
    if dtype.kind != "f" and any(v >= 2 ** 63 for v in ints):
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    if all(isinstance(v, numbers.Integral) for v in (start, end, step)):
        count = max(-((start - end) // step), 0)  # exact ceil((end - start) / step)
    else:
        count = (end - start) / step
        if not math.isfinite(count):
            raise RuntimeError("invalid size, possible overflow?")
        count = max(math.ceil(count), 0)
    if count >= 2 ** 63:
        raise RuntimeError("invalid size, possible overflow?")
    values = _allocated(lambda shape: np.empty(shape, dtype), (count,))
    wide = np.float64 if dtype.kind == "f" else np.int64
    if dtype.kind != "f":  # torch's integer accumulator: start and step truncated first
        start, step = int(start), int(step)
    chunk = 1 << 20  # start + step * i computed wide, a chunk at a time: no wide copy of it all
    for begin in range(0, count, chunk):
        values[begin:begin + chunk] = start + step * np.arange(
            begin, min(begin + chunk, count), dtype=wide)
    return _finish(values, requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end (both included); integer dtypes
    truncate toward zero, as torch."""
    start, end = _number(start), _number(end)
    if isinstance(steps, bool):
        raise TypeError("linspace(): argument 'steps' must be int, not bool")
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    if dtype.kind in "iub":  # the ends take the dtype first (an unsigned -3 is 253), as torch
        start, end = (np.array([start, end]).astype(np.int64).astype(dtype)).tolist()
    values = _allocated(lambda shape: np.linspace(start, end, shape[0], dtype=np.float64),
                        (int(steps),))
    if steps == 1:  # the start alone (numpy's step computation would spread a NaN end)
        values[:] = start
    if dtype.kind in "iu":
        values = np.trunc(values)
    return _finish(values.astype(dtype), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    return _finish(_allocated(lambda shape, **kw: np.eye(*shape, **kw),
                              (n,) if m is None else (n, m), dtype=_float_dtype(dtype)),
                   requires_grad, device)


def _random(draw, size, keywords, dtype, requires_grad, device, kernel) -> Tensor:
    shape = _size(size, keywords)
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        from minigrad.ops.arguments import type_name
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(dtype)}\'')
    return _finish(_allocated(draw, shape).astype(dtype), requires_grad, device)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **keyword) -> Tensor:
    """Uniform on [0, 1), drawn from minigrad's generator."""
    return _random(numpy_generator(generator).random, size, keyword, dtype, requires_grad,
                   device, "check_uniform_bounds")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **keyword) -> Tensor:
    """Standard normal, drawn from minigrad's generator."""
    return _random(numpy_generator(generator).standard_normal, size, keyword, dtype,
                   requires_grad, device, "normal_kernel_cpu")


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
        low = int_argument(low, "low", "randint")  # given: None is no int
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
    low, high = int_argument(low, "low", "randint"), int_argument(high, "high", "randint")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dtype = _dtypes.to_dtype(dtype) or _dtypes.int64
    values = _allocated(lambda shape: numpy_generator(generator).integers(low, high, shape),
                        size_args((size,)) if isinstance(size, numbers.Integral)
                        else size_args(size))
    return _finish(values.astype(dtype), requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    n = int_argument(n, "n", "randperm")
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dtype = _dtypes.to_dtype(dtype) or _dtypes.int64
    values = _allocated(lambda shape: numpy_generator(generator).permutation(shape[0]),
                        (int(n),))
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
    low, high = int_argument(low, "low", "randint_like"), int_argument(high, "high",
                                                                       "randint_like")
    shape, dtype = _like(input, dtype)
    top = 1 if dtype == np.bool_ else np.iinfo(dtype).max if dtype.kind in "iu" else None
    if top is not None and high - 1 > top:
        raise RuntimeError(f"to - 1 is out of bounds for {_dtypes.dtype_name(dtype)}")
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
