"""Arrays whose first number starts on a 64-byte boundary, made in about a microsecond.

numpy guarantees 16-byte alignment; vector loads that straddle two cache lines cost the
kernels 5-8%. An aligned array is a view of a numpy byte buffer 64 bytes longer than needed,
starting at its first 64-byte boundary. Its base is an ``AlignedMemory`` that holds the byte
buffer, so ``made_here`` knows the kernels' arrays by their base's type: such an array owns
its memory in all but numpy's flag (the autograd engine may keep it without a copy).

Building the array here rather than with numpy's Python calls (slice, view, reshape,
transpose, ``.ctypes``) saves ~2.5 us per array: a training step at batch 1 makes a dozen.
"""
import numpy as np

cimport numpy as cnp

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_NewFromDescr(type subtype, cnp.dtype descr, int nd, cnp.npy_intp *dims,
                                cnp.npy_intp *strides, void *data, int flags, object obj)
    int PyArray_SetBaseObject(cnp.ndarray arr, object obj) except -1

ALIGNMENT = 64  # bytes: one cache line, and the width of an AVX-512 vector


cdef class AlignedMemory:
    """The byte buffer behind aligned arrays (kept alive as their base)."""

    cdef readonly object bytes_
    cdef object __weakref__


cdef cnp.ndarray _bytes(Py_ssize_t count):
    """``count`` bytes, or torch's RuntimeError where numpy cannot allocate them (an output
    sized by an absurd padding or output_size: numpy's MemoryError, or its ValueError past
    the largest array it can describe)."""
    try:
        return np.empty(count, dtype=np.uint8)
    except (MemoryError, ValueError):
        raise RuntimeError(f"can't allocate memory: you tried to allocate {count} bytes") \
            from None


cdef cnp.ndarray _aligned(cnp.dtype descr, int nd, cnp.npy_intp *dims,
                          cnp.npy_intp *strides, object count):
    """A new array of ``nd`` dims/strides (bytes) over ``count`` numbers (a Python int, which
    cannot have overflowed as a product of the sizes could), 64-byte aligned."""
    cdef Py_ssize_t itemsize = descr.itemsize
    if count > (1 << 62) // max(itemsize, 1):
        raise RuntimeError(f"can't allocate memory: you tried to allocate {count} numbers "
                           f"of {itemsize} bytes")
    cdef cnp.ndarray raw = _bytes(max(count, 1) * itemsize + ALIGNMENT)
    cdef char *data = <char *>cnp.PyArray_DATA(raw)
    data += (-<size_t>data) % ALIGNMENT
    memory = AlignedMemory.__new__(AlignedMemory)
    (<AlignedMemory>memory).bytes_ = raw
    cnp.Py_INCREF(descr)  # PyArray_NewFromDescr steals a reference to the dtype
    cdef cnp.ndarray out = PyArray_NewFromDescr(np.ndarray, descr, nd, dims, strides, data,
                                                cnp.NPY_ARRAY_WRITEABLE, None)
    cnp.Py_INCREF(memory)  # PyArray_SetBaseObject steals a reference too
    PyArray_SetBaseObject(out, memory)
    return out


def aligned_empty(Py_ssize_t count, dtype):
    """A new 1-D array of ``count`` numbers of ``dtype`` (uninitialised) starting on a
    64-byte boundary."""
    cdef cnp.dtype descr = np.dtype(dtype)
    cdef cnp.npy_intp dims[1]
    if count < 0:
        raise ValueError(f"negative dimensions are not allowed: {count}")
    dims[0] = count
    return _aligned(descr, 1, dims, NULL, count)


def channels_last_empty(Py_ssize_t n, Py_ssize_t c, Py_ssize_t h, Py_ssize_t w, dtype):
    """A new (N, C, H, W) array stored NHWC (channels innermost), from a 64-byte boundary: the
    layout of the convolution and pooling kernels' activations."""
    cdef cnp.dtype descr = np.dtype(dtype)
    cdef cnp.npy_intp dims[4]
    cdef cnp.npy_intp strides[4]
    cdef Py_ssize_t itemsize = descr.itemsize
    if n < 0 or c < 0 or h < 0 or w < 0:
        raise ValueError(f"negative dimensions are not allowed: {(n, c, h, w)}")
    dims[0], dims[1], dims[2], dims[3] = n, c, h, w
    strides[1] = itemsize
    strides[3] = c * itemsize
    strides[2] = w * strides[3]
    strides[0] = h * strides[2]
    return _aligned(descr, 4, dims, strides, (<object>n) * c * h * w)


def made_here(array):
    """Whether ``array`` is (a view of) an array made by aligned_empty or channels_last_empty.
    (numpy collapses a view's base to the array that holds the memory's owner object, so at
    most one step separates an array from its AlignedMemory.)"""
    base = array.base
    if type(base) is np.ndarray:
        base = base.base
    return type(base) is AlignedMemory
