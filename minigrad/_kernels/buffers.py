"""Memory for the kernels: arrays that start on a 64-byte boundary, and scratch buffers reused
from call to call (one set per thread and dtype), so that a training step allocates its large
temporary arrays once, not once per step."""
import threading
import weakref

import numpy as np

__all__ = ["aligned_empty", "channels_last_empty", "made_here", "scratch"]

ALIGNMENT = 64  # bytes: one cache line, and the width of an AVX-512 vector

_local = threading.local()
_raw_buffers = weakref.WeakValueDictionary()    # id -> a byte buffer behind aligned_empty


def aligned_empty(count: int, dtype) -> np.ndarray:
    """A new 1-D array of ``count`` numbers whose first starts on a 64-byte boundary (numpy
    guarantees 16: vector loads that straddle two cache lines cost the kernels 5-8%)."""
    dtype = np.dtype(dtype)
    raw = _bytes(max(count, 1) * dtype.itemsize + ALIGNMENT)
    _raw_buffers[id(raw)] = raw
    skip = -raw.ctypes.data % ALIGNMENT
    return raw[skip:skip + count * dtype.itemsize].view(dtype)


def _bytes(count: int) -> np.ndarray:
    """``count`` bytes, or torch's RuntimeError where numpy cannot allocate them (an output
    sized by an absurd padding or output_size: numpy's MemoryError, or its ValueError past
    the largest array it can describe)."""
    try:
        return np.empty(count, dtype=np.uint8)
    except (MemoryError, ValueError):
        raise RuntimeError(f"can't allocate memory: you tried to allocate {count} bytes") \
            from None


def made_here(array: np.ndarray) -> bool:
    """Whether array is (a view of) memory aligned_empty allocated: a fresh array that owns its
    memory in all but numpy's flag (the autograd engine may then keep it without a copy)."""
    base = array.base
    return base is not None and _raw_buffers.get(id(base)) is base


def channels_last_empty(n: int, c: int, h: int, w: int, dtype) -> np.ndarray:
    """A new (N, C, H, W) array stored NHWC (channels innermost), from a 64-byte boundary: the
    layout of the convolution and pooling kernels' activations."""
    return aligned_empty(n * c * h * w, dtype).reshape(n, h, w, c).transpose(0, 3, 1, 2)


def scratch(name: str, dtype, size: int) -> np.ndarray:
    """A 1-D buffer of ``size`` numbers of ``dtype`` on a 64-byte boundary, cached under
    ``name`` for the calling thread. Its contents are undefined, and the next call with the
    same name on the same thread may return the same memory: never hand one to a caller."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (name, np.dtype(dtype))
    buf = buffers.get(key)
    if buf is None or buf.shape[0] < size:
        buf = buffers[key] = aligned_empty(size, dtype)
    return buf[:size]
