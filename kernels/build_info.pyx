"""How the kernels were built: whether OpenMP is on, the largest thread count it offers, and
whether Cython's bounds checks are (MINIGRAD_DEBUG=1)."""
import array

from openmp cimport MINIGRAD_HAS_OPENMP, omp_get_max_threads


def openmp_enabled():
    """True when the kernels were compiled with OpenMP (multi-threaded)."""
    return bool(MINIGRAD_HAS_OPENMP)


def openmp_max_threads():
    """OpenMP's default team size (1 in a serial build)."""
    return omp_get_max_threads()


def bounds_checked():
    """True when the kernels were built with Cython's bounds checks (MINIGRAD_DEBUG=1): an
    index past a memoryview then raises IndexError. (The probe reads past a one-element view
    of a two-element array, so a release build reads valid memory.)"""
    cdef double[::1] two = array.array("d", [0.0, 0.0])
    cdef double[::1] one = two[:1]
    cdef Py_ssize_t past = 1
    try:
        one[past]
    except IndexError:
        return True
    return False
