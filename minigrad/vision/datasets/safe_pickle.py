"""A restricted unpickler for the CIFAR python batches.

The official ``cifar-10-batches-py`` / ``cifar-100-python`` files are Python 2 pickles of
dicts holding strings, lists of ints and one numpy uint8 array. Unpickling them needs three
globals: numpy's array reconstructor, ``numpy.ndarray`` and ``numpy.dtype`` (a newer numpy
writes ``_frombuffer`` instead of the first two). ``find_class`` resolves exactly those names,
and to stand-ins defined here rather than to numpy itself: a stand-in records the arguments and
the ``__setstate__`` state, checks that they describe a plain numeric array, and the array is
then built with ``numpy.frombuffer``. No other global can be named, no numpy ``__setstate__``
sees untrusted state, so a pickle asking for ``os.system`` or ``builtins.eval`` is refused
before anything it asks for runs.
"""
import io
import math
import pickle

import numpy as np

__all__ = ["UnsafePickleError", "RestrictedUnpickler", "safe_load"]

_PLAIN_KINDS = "biuf"  # bool, signed and unsigned ints, floats


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something the CIFAR format never needs."""


class _DtypeStandIn:
    """Stands for ``numpy.dtype(spec, align, copy)`` followed by ``__setstate__``."""

    def __init__(self, spec, align=False, copy=False):
        if not isinstance(spec, str):
            raise UnsafePickleError(f"refusing a numpy dtype built from {type(spec).__name__}")
        self.dtype = np.dtype(spec)
        if self.dtype.kind not in _PLAIN_KINDS:
            raise UnsafePickleError(f"refusing numpy dtype {self.dtype}")

    def __setstate__(self, state):
        # (version, byte order, subdtype, names, fields, elsize, alignment, flags[, metadata])
        if (not isinstance(state, tuple) or len(state) < 8 or state[1] not in "<>|="
                or state[2:5] != (None, None, None)):
            raise UnsafePickleError(f"refusing numpy dtype state {state!r:.80}")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


class _ArrayStandIn:
    """Stands for ``numpy.core.multiarray._reconstruct(ndarray, ...)`` + ``__setstate__``."""

    def __init__(self, subtype, shape, typecode):
        if subtype is not _NDARRAY:
            raise UnsafePickleError("refusing to reconstruct an array subclass")
        self.array = None

    def __setstate__(self, state):
        # (version, shape, dtype, is_fortran, raw bytes)
        if not isinstance(state, tuple) or len(state) != 5:
            raise UnsafePickleError(f"refusing numpy array state {state!r:.80}")
        _, shape, dtype, is_fortran, raw = state
        if isinstance(raw, str):  # a Python 2 string, decoded as latin-1 by safe_load
            raw = raw.encode("latin1")
        self.array = _array_from_bytes(raw, dtype, shape, "F" if is_fortran else "C")


def _array_from_bytes(raw, dtype, shape, order):
    if not isinstance(dtype, _DtypeStandIn):
        raise UnsafePickleError("refusing an array whose dtype is not a plain numpy dtype")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError(f"refusing array data of type {type(raw).__name__}")
    if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise UnsafePickleError(f"refusing array shape {shape!r:.80}")
    count = math.prod(shape)
    if len(raw) != count * dtype.dtype.itemsize:
        raise pickle.UnpicklingError(
            f"array of shape {shape} and dtype {dtype.dtype} needs "
            f"{count * dtype.dtype.itemsize} bytes, the pickle holds {len(raw)}")
    return np.frombuffer(raw, dtype=dtype.dtype).reshape(shape, order=order).copy()


def _frombuffer(buffer, dtype, shape, order):
    return _array_from_bytes(buffer, dtype, shape, order)


def _latin1_encode(text, encoding):
    """Python 3 writes bytes at protocol 2 as ``_codecs.encode(text, "latin1")``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r:.40}")
    return text.encode("latin1")


class _NDARRAY:
    """Stands for ``numpy.ndarray`` as the first argument of ``_reconstruct``."""


# (module, name) -> stand-in. numpy 2 renamed numpy.core to numpy._core; files written on
# either side of the rename are accepted.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _ArrayStandIn,
    ("numpy._core.multiarray", "_reconstruct"): _ArrayStandIn,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeStandIn,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only numpy's array globals."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name}: a CIFAR batch holds only plain "
                f"Python values and numpy arrays") from None

    def persistent_load(self, pid):
        raise UnsafePickleError("refusing a persistent id")


def _resolve(value):
    """Replace array stand-ins by their arrays inside dicts, lists and tuples."""
    if isinstance(value, _ArrayStandIn):
        if value.array is None:
            raise UnsafePickleError("an array in the pickle has no data")
        return value.array
    if isinstance(value, (_DtypeStandIn, type)) or callable(value):
        raise UnsafePickleError(f"refusing a bare {type(value).__name__} in the pickle")
    if isinstance(value, dict):
        return {_resolve(k): _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v) for v in value)
    return value


def safe_load(data: bytes, what: str = "pickle"):
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; numpy arrays come back as arrays.

    Python 2 strings decode as latin-1 (as numpy expects for the raw bytes of an array).
    Failures raise ``pickle.UnpicklingError`` (``UnsafePickleError`` for a refused global),
    with ``what`` (a file name) in the message.
    """
    try:
        return _resolve(RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load())
    except UnsafePickleError as error:
        raise UnsafePickleError(f"{what}: {error}") from None
    except Exception as error:  # a truncated or malformed stream raises many types
        raise pickle.UnpicklingError(
            f"{what}: not a valid pickle ({type(error).__name__}: {error})") from None
