"""Memory for the kernels: arrays that start on a 64-byte boundary (made by kernels/memory.pyx),
and scratch buffers reused from call to call (one set per thread and dtype), so that a training
step allocates its large temporary arrays once, not once per step."""
import threading

import numpy as np

from minigrad._kernels.memory import ALIGNMENT, aligned_empty, channels_last_empty, made_here

__all__ = ["ALIGNMENT", "aligned_empty", "channels_last_empty", "made_here", "scratch"]

_local = threading.local()


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
