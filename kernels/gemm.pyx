"""Matrix multiplication: out = a @ b, or out += a @ b, for float32 and float64.

    out[i, j] (+)= sum_p a[i, p] * b[p, j]        a: (M, K), b: (K, N), out: (M, N)

``a`` and ``b`` may have any strides (transposed views, slices, negative or zero strides,
read-only arrays): packing them into contiguous panels is the first step of the algorithm
anyway, so callers never copy. ``out`` is C-contiguous (row-major) and must not overlap ``a``
or ``b``. ``gemm_batched`` does the same for a stack of products, out[t] (+)= a[t] @ b[t]; a zero
batch stride (np.broadcast_to) shares one operand between all of them.

Layers: the blocked algorithm and its register-blocked micro-kernels are C (gemm_core.h,
gemm_dtype.h, gemm_microkernel.h) and compute one thread's share of C. This file splits the
work between OpenMP threads (whole products of a batch, blocks of rows or columns of C, or
slices of K summed at the end, whichever keeps the busiest thread least busy) and holds the
``def`` wrappers. Those take numpy arrays through the C API rather than typed memoryviews: a
GEMM is called for every linear and convolution layer, and this halves the fixed cost of a call.
They check shapes, dtypes and layout (so bad input raises instead of crashing) and release the
GIL for the work.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc

cimport numpy as cnp

from minigrad._kernels.cpu import ISA_NAMES, isa_code, supported_isas  # noqa: F401

cnp.import_array()

cdef extern from "gemm_core.h" nogil:
    int gemm_isa()
    int gemm_set_isa(int isa)
    void gemm_tile_f32(Py_ssize_t k, Py_ssize_t n, Py_ssize_t csa, Py_ssize_t csb, int *mr,
                       int *nr)
    void gemm_tile_f64(Py_ssize_t k, Py_ssize_t n, Py_ssize_t csa, Py_ssize_t csb, int *mr,
                       int *nr)
    int gemm_serial_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                        const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                        const float *b, Py_ssize_t rsb, Py_ssize_t csb,
                        float *c, Py_ssize_t ldc, int accumulate, Py_ssize_t m_whole,
                        Py_ssize_t n_whole)
    int gemm_serial_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                        const double *a, Py_ssize_t rsa, Py_ssize_t csa,
                        const double *b, Py_ssize_t rsb, Py_ssize_t csb,
                        double *c, Py_ssize_t ldc, int accumulate, Py_ssize_t m_whole,
                        Py_ssize_t n_whole)

# Below this many multiply-adds per thread, waking another thread costs more than it saves.
cdef Py_ssize_t MIN_WORK_PER_THREAD = 64 * 64 * 64

def get_isa():
    """The instruction set whose micro-kernel runs: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[gemm_isa()]


def set_isa(name):
    """Run the micro-kernel of this instruction set, or None for the widest."""
    if gemm_set_isa(isa_code(name)) != 0:
        raise RuntimeError(f"the GEMM has no {name} micro-kernel")


# ---------------------------------------------------------------------------------------------
# One product, strides in elements: element (i, p) of A is a[i * rsa + p * csa], and so on.

cdef struct Product:
    Py_ssize_t m, n, k
    Py_ssize_t rsa, csa, rsb, csb


cdef inline int gemm_block(const Product *pr, Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t j0,
                           Py_ssize_t j1, Py_ssize_t p0, Py_ssize_t p1,
                           const floating *a, const floating *b, floating *c, Py_ssize_t ldc,
                           bint accumulate) noexcept nogil:
    """C[i0:i1, j0:j1] (+)= A[i0:i1, p0:p1] @ B[p0:p1, j0:j1] on this thread (c is C[0, 0])."""
    a = a + i0 * pr.rsa + p0 * pr.csa
    b = b + p0 * pr.rsb + j0 * pr.csb
    if floating is float:
        return gemm_serial_f32(i1 - i0, j1 - j0, p1 - p0, a, pr.rsa, pr.csa, b, pr.rsb, pr.csb,
                               c + i0 * ldc + j0, ldc, accumulate, pr.m, pr.n)
    else:
        return gemm_serial_f64(i1 - i0, j1 - j0, p1 - p0, a, pr.rsa, pr.csa, b, pr.rsb, pr.csb,
                               c + i0 * ldc + j0, ldc, accumulate, pr.m, pr.n)


# How the threads share one product: a rows x cols grid of blocks of C, on whole micro-tiles.
# (Never slices of K: summing per-thread partial products would make the bits depend on the
# thread count.)
cdef struct Split:
    int rows, cols
    int mr, nr    # the micro-kernel's tile: block boundaries fall on whole tiles


cdef inline Py_ssize_t ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


cdef Split split_product(const Product *pr, int threads, int mr, int nr) noexcept nogil:
    """The grid of blocks whose busiest thread does the least work: multiply-adds over whole
    micro-tiles plus the packing of the thread's own panels. Fewer blocks than threads when C
    has fewer tiles."""
    cdef Split best
    best.rows = best.cols = 1
    best.mr = mr
    best.nr = nr
    cdef Py_ssize_t row_tiles = ceil_div(pr.m, mr), col_tiles = ceil_div(pr.n, nr)
    cdef Py_ssize_t rows, cols, busiest_m, busiest_n, cost, best_cost = -1
    cdef int used
    for used in range(threads, 0, -1):
        for rows in range(1, used + 1):
            cols = used // rows
            if used % rows or rows > row_tiles or cols > col_tiles:
                continue
            busiest_m = ceil_div(row_tiles, rows) * mr
            busiest_n = ceil_div(col_tiles, cols) * nr
            cost = busiest_m * busiest_n * pr.k + 2 * pr.k * (busiest_m + busiest_n)
            if best_cost < 0 or cost < best_cost:
                best_cost = cost
                best.rows = <int> rows
                best.cols = <int> cols
        if best_cost >= 0:
            break
    return best


cdef inline Py_ssize_t part_start(Py_ssize_t part, Py_ssize_t parts, Py_ssize_t size,
                                  int tile) noexcept nogil:
    """Start of part `part` of `parts` when `size` is cut on multiples of `tile`."""
    return min(size, ceil_div(size, tile) * part // parts * tile)


cdef int gemm_part(const Product *pr, Split split, Py_ssize_t part,
                   const floating *a, const floating *b, floating *c,
                   bint accumulate) noexcept nogil:
    """Block `part` of the rows x cols grid of one product (C row-major, row stride n)."""
    cdef Py_ssize_t r = part // split.cols, s = part % split.cols
    return gemm_block(pr, part_start(r, split.rows, pr.m, split.mr),
                      part_start(r + 1, split.rows, pr.m, split.mr),
                      part_start(s, split.cols, pr.n, split.nr),
                      part_start(s + 1, split.cols, pr.n, split.nr),
                      0, pr.k, a, b, c, pr.n, accumulate)


cdef int gemm_parallel(Py_ssize_t batch, const Product *pr,
                       const floating *a, Py_ssize_t batch_stride_a,
                       const floating *b, Py_ssize_t batch_stride_b,
                       floating *c, bint accumulate, int num_threads) noexcept nogil:
    """out[t] (+)= A[t] @ B[t] for t < batch, on up to num_threads threads. 0 or -1 (no memory)."""
    cdef Py_ssize_t out_size = pr.m * pr.n, item, t, parts
    cdef int mr, nr, failed = 0
    cdef Py_ssize_t work = batch * pr.m * pr.n * pr.k
    cdef int threads = <int> min(<Py_ssize_t> num_threads,
                                 max(<Py_ssize_t> 1, work // MIN_WORK_PER_THREAD))
    cdef Split split
    if floating is float:
        gemm_tile_f32(pr.k, pr.n, pr.csa, pr.csb, &mr, &nr)
    else:
        gemm_tile_f64(pr.k, pr.n, pr.csa, pr.csb, &mr, &nr)
    if threads == 1:
        for t in range(batch):
            failed += gemm_block(pr, 0, pr.m, 0, pr.n, 0, pr.k, a + t * batch_stride_a,
                                 b + t * batch_stride_b, c + t * out_size, pr.n, accumulate) != 0
    elif batch % threads == 0 or batch >= 4 * threads:  # whole products per thread
        for t in prange(batch, num_threads=threads, schedule="static"):
            failed += gemm_block(pr, 0, pr.m, 0, pr.n, 0, pr.k, a + t * batch_stride_a,
                                 b + t * batch_stride_b, c + t * out_size, pr.n, accumulate) != 0
    else:
        split = split_product(pr, threads, mr, nr)
        parts = split.rows * split.cols
        for item in prange(batch * parts, num_threads=threads, schedule="static"):
            t = item // parts
            failed += gemm_part(pr, split, item % parts, a + t * batch_stride_a,
                                b + t * batch_stride_b, c + t * out_size, accumulate) != 0
    return -1 if failed else 0


# ---------------------------------------------------------------------------------------------
# Python entry points

cdef Py_ssize_t element_stride(cnp.ndarray x, int axis) except? -1:
    cdef Py_ssize_t stride = cnp.PyArray_STRIDES(x)[axis], size = cnp.PyArray_ITEMSIZE(x)
    if stride % size:
        raise ValueError(f"gemm needs strides that are multiples of the item size, got "
                         f"strides {(<object> x).strides} for {size}-byte items")
    return stride // size


cdef str describe(object a, object b, object out):
    return f"a {a.dtype} {a.shape} @ b {b.dtype} {b.shape} -> out {out.dtype} {out.shape}"


cdef int check_operands(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int ndim) except -1:
    """Raise unless a (.., M, K) @ b (.., K, N) -> out (.., M, N) is a valid call."""
    cdef int dtype = cnp.PyArray_TYPE(out)
    if cnp.PyArray_NDIM(a) != ndim or cnp.PyArray_NDIM(b) != ndim or cnp.PyArray_NDIM(out) != ndim:
        raise ValueError(f"gemm expects {ndim}-d arrays, got {describe(a, b, out)}")
    if dtype != cnp.NPY_FLOAT32 and dtype != cnp.NPY_FLOAT64:
        raise TypeError(f"gemm supports float32 and float64, got {describe(a, b, out)}")
    if cnp.PyArray_TYPE(a) != dtype or cnp.PyArray_TYPE(b) != dtype:
        raise TypeError(f"gemm expects one dtype, got {describe(a, b, out)}")
    cdef cnp.npy_intp *sa = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *sb = cnp.PyArray_DIMS(b)
    cdef cnp.npy_intp *so = cnp.PyArray_DIMS(out)
    cdef int batched = ndim == 3
    if (sa[batched + 1] != sb[batched] or so[batched] != sa[batched]
            or so[batched + 1] != sb[batched + 1]
            or (batched and (sa[0] != so[0] or sb[0] != so[0]))):
        raise ValueError(f"gemm shapes do not match: {describe(a, b, out)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(out) or not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("gemm needs a writeable C-contiguous output array")
    return 0


cdef object run(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, bint accumulate,
                int num_threads, int batched):
    cdef int first = 1 if batched else 0
    cdef Py_ssize_t batch = out.shape[0] if batched else 1
    cdef Product pr
    pr.m = out.shape[first]
    pr.n = out.shape[first + 1]
    pr.k = a.shape[first + 1]
    pr.rsa = element_stride(a, first)
    pr.csa = element_stride(a, first + 1)
    pr.rsb = element_stride(b, first)
    pr.csb = element_stride(b, first + 1)
    cdef Py_ssize_t batch_stride_a = element_stride(a, 0) if batched else 0
    cdef Py_ssize_t batch_stride_b = element_stride(b, 0) if batched else 0
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(out)
    cdef int failed
    if batch == 0 or pr.m == 0 or pr.n == 0:
        return
    with nogil:
        if cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32:
            failed = gemm_parallel(batch, &pr, <const float *> pa, batch_stride_a,
                                   <const float *> pb, batch_stride_b, <float *> pc,
                                   accumulate, num_threads)
        else:
            failed = gemm_parallel(batch, &pr, <const double *> pa, batch_stride_a,
                                   <const double *> pb, batch_stride_b, <double *> pc,
                                   accumulate, num_threads)
    if failed:
        raise MemoryError("gemm could not allocate its scratch buffers")


def gemm(cnp.ndarray a,      # IN  (M, K), any strides
         cnp.ndarray b,      # IN  (K, N), any strides
         cnp.ndarray out,    # OUT (M, N), C-contiguous
         bint accumulate,
         int num_threads):
    """out = a @ b, or out += a @ b when accumulate (float32 or float64, one dtype)."""
    check_operands(a, b, out, 2)
    run(a, b, out, accumulate, num_threads, 0)


def gemm_batched(cnp.ndarray a,      # IN  (B, M, K), any strides (0 broadcasts)
                 cnp.ndarray b,      # IN  (B, K, N), any strides (0 broadcasts)
                 cnp.ndarray out,    # OUT (B, M, N), C-contiguous
                 bint accumulate,
                 int num_threads):
    """out[t] = a[t] @ b[t], or out[t] += a[t] @ b[t], for every t."""
    check_operands(a, b, out, 3)
    run(a, b, out, accumulate, num_threads, 1)
