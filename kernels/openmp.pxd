# The one place kernels learn about OpenMP. With -fopenmp these are the real OpenMP calls;
# without it they are serial stand-ins, so every kernel also builds and runs without OpenMP.
# `prange(..., num_threads=n)` itself needs no shim: Cython turns it into a plain loop
# when the module is compiled without OpenMP.

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define MINIGRAD_HAS_OPENMP 1
    #define omp_barrier() _Pragma("omp barrier")
    #else
    #define MINIGRAD_HAS_OPENMP 0
    static int omp_get_thread_num(void) { return 0; }
    static int omp_get_num_threads(void) { return 1; }
    static int omp_get_max_threads(void) { return 1; }
    #define omp_barrier()
    #endif
    """
    bint MINIGRAD_HAS_OPENMP
    # Inside `with parallel():` every thread waits here for the others (a prange in such a
    # block ends without a barrier).
    void omp_barrier() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    int omp_get_num_threads() noexcept nogil
    int omp_get_max_threads() noexcept nogil
