"""How the kernels were built: whether OpenMP is on, and the largest thread count it offers."""
from openmp cimport MINIGRAD_HAS_OPENMP, omp_get_max_threads


def openmp_enabled():
    """True when the kernels were compiled with OpenMP (multi-threaded)."""
    return bool(MINIGRAD_HAS_OPENMP)


def openmp_max_threads():
    """OpenMP's default team size (1 in a serial build)."""
    return omp_get_max_threads()
