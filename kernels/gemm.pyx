"""Matrix multiplication: out = a @ b, or out += a @ b, for float32 and float64.

    out[i, j] (+)= sum_p a[i, p] * b[p, j]        a: (M, K), b: (K, N), out: (M, N)

``a`` and ``b`` may have any strides (transposed views, slices, zero strides, read-only
arrays): packing them into contiguous panels is the first step of the algorithm anyway, so
callers never copy. ``out`` is C-contiguous (row-major). ``gemm_batched`` does the same for a
stack of B products; a zero batch stride broadcasts an operand.

Layers: the blocked algorithm and its register-blocked micro-kernels are C (gemm_core.h,
gemm_dtype.h, gemm_microkernel.h), one thread's share of C at a time; this file splits C
between OpenMP threads (rows, columns or batch entries, whichever wastes least) and holds the
``def`` wrappers, which release the GIL.
"""
from cython cimport floating
from cython.parallel cimport prange


cdef extern from "gemm_core.h" nogil:
    int GEMM_ISA_BASE, GEMM_ISA_AVX2, GEMM_ISA_AVX512
    int gemm_isa()
    int gemm_set_isa(int isa)
    void gemm_tile_f32(int *mr, int *nr)
    void gemm_tile_f64(int *mr, int *nr)
    int gemm_serial_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                        const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                        const float *b, Py_ssize_t rsb, Py_ssize_t csb,
                        float *c, Py_ssize_t ldc, int accumulate)
    int gemm_serial_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                        const double *a, Py_ssize_t rsa, Py_ssize_t csa,
                        const double *b, Py_ssize_t rsb, Py_ssize_t csb,
                        double *c, Py_ssize_t ldc, int accumulate)

# Below this many multiply-adds per thread, waking another thread costs more than it saves.
cdef Py_ssize_t MIN_WORK_PER_THREAD = 32 * 32 * 64

ISA_NAMES = {GEMM_ISA_BASE: "base", GEMM_ISA_AVX2: "avx2", GEMM_ISA_AVX512: "avx512"}


def get_isa():
    """The instruction set whose micro-kernel runs: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[gemm_isa()]


def set_isa(name):
    """Force the micro-kernel of one instruction set (for tests and benchmarks)."""
    codes = {v: k for k, v in ISA_NAMES.items()}
    if name not in codes:
        raise ValueError(f"unknown instruction set {name!r}; expected one of {sorted(codes)}")
    if gemm_set_isa(codes[name]) != 0:
        raise RuntimeError(f"this CPU does not support {name}")


# ---------------------------------------------------------------------------------------------
# one thread's tile of one product

cdef inline int gemm_tile(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                          const floating *a, Py_ssize_t rsa, Py_ssize_t csa,
                          const floating *b, Py_ssize_t rsb, Py_ssize_t csb,
                          floating *c, Py_ssize_t ldc, bint accumulate) noexcept nogil:
    if floating is float:
        return gemm_serial_f32(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate)
    else:
        return gemm_serial_f64(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate)


cdef struct Split:
    int rows      # threads along M
    int cols      # threads along N
    int mr, nr    # the micro-kernel's tile, so thread boundaries fall on whole tiles


cdef Split split_work(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, int num_threads,
                      int mr, int nr) noexcept nogil:
    """Choose a rows x cols grid of threads over C that minimises the busiest thread's work.

    A thread's work is its multiply-adds plus the packing of its A rows and B columns (every
    thread packs its own panels), both rounded up to whole micro-tiles.
    """
    cdef Split best
    best.rows = 1
    best.cols = 1
    best.mr = mr
    best.nr = nr
    cdef Py_ssize_t threads = min(<Py_ssize_t> num_threads,
                                  max(<Py_ssize_t> 1, m * n * k // MIN_WORK_PER_THREAD))
    cdef Py_ssize_t row_tiles = (m + mr - 1) // mr, col_tiles = (n + nr - 1) // nr
    cdef Py_ssize_t rows, cols, busiest_m, busiest_n, cost, best_cost = -1
    for rows in range(1, threads + 1):
        if threads % rows or rows > row_tiles:
            continue
        cols = threads // rows
        if cols > col_tiles:
            continue
        busiest_m = (row_tiles + rows - 1) // rows * mr
        busiest_n = (col_tiles + cols - 1) // cols * nr
        cost = busiest_m * busiest_n * k + 2 * k * (busiest_m + busiest_n)
        if best_cost < 0 or cost < best_cost:
            best_cost = cost
            best.rows = <int> rows
            best.cols = <int> cols
    return best


cdef inline Py_ssize_t tile_start(Py_ssize_t part, Py_ssize_t parts, Py_ssize_t size,
                                  int tile) noexcept nogil:
    """Start of part `part` of `parts` when `size` is cut on multiples of `tile`."""
    cdef Py_ssize_t tiles = (size + tile - 1) // tile
    return min(size, tiles * part // parts * tile)


cdef int gemm_part(Py_ssize_t part, Split split, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                   const floating *a, Py_ssize_t rsa, Py_ssize_t csa,
                   const floating *b, Py_ssize_t rsb, Py_ssize_t csb,
                   floating *c, bint accumulate) noexcept nogil:
    """Part `part` of the split product C[m, n] = A @ B (C row-major with row stride n)."""
    cdef Py_ssize_t r = part // split.cols, s = part % split.cols
    cdef Py_ssize_t i0 = tile_start(r, split.rows, m, split.mr)
    cdef Py_ssize_t i1 = tile_start(r + 1, split.rows, m, split.mr)
    cdef Py_ssize_t j0 = tile_start(s, split.cols, n, split.nr)
    cdef Py_ssize_t j1 = tile_start(s + 1, split.cols, n, split.nr)
    return gemm_tile(i1 - i0, j1 - j0, k, a + i0 * rsa, rsa, csa, b + j0 * csb, rsb, csb,
                     c + i0 * n + j0, n, accumulate)


cdef inline Py_ssize_t element_stride(Py_ssize_t stride_bytes, Py_ssize_t itemsize) except? -1:
    if stride_bytes % itemsize:
        raise ValueError(f"gemm needs strides that are multiples of the item size, "
                         f"got a stride of {stride_bytes} bytes for {itemsize}-byte items")
    return stride_bytes // itemsize


cdef void tile_shape(floating dummy, int *mr, int *nr) noexcept nogil:
    if floating is float:
        gemm_tile_f32(mr, nr)
    else:
        gemm_tile_f64(mr, nr)


# ---------------------------------------------------------------------------------------------
# Python entry points

def gemm(const floating[:, :] a,     # IN  (M, K), any strides
         const floating[:, :] b,     # IN  (K, N), any strides
         floating[:, ::1] out,       # OUT (M, N)
         bint accumulate,
         int num_threads):
    """out = a @ b, or out += a @ b when accumulate; the GIL is released while it runs."""
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef Py_ssize_t size = sizeof(floating)
    cdef Py_ssize_t rsa = element_stride(a.strides[0], size), csa = element_stride(a.strides[1], size)
    cdef Py_ssize_t rsb = element_stride(b.strides[0], size), csb = element_stride(b.strides[1], size)
    cdef int mr, nr, failed = 0
    cdef Py_ssize_t part
    cdef Split split
    if m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            out[:, :] = 0
        return
    tile_shape(<floating> 0, &mr, &nr)
    with nogil:
        split = split_work(m, n, k, num_threads, mr, nr)
        if split.rows * split.cols == 1:
            failed = gemm_tile(m, n, k, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb,
                               &out[0, 0], n, accumulate)
        else:
            for part in prange(split.rows * split.cols, num_threads=split.rows * split.cols,
                               schedule="static", chunksize=1):
                failed += gemm_part(part, split, m, n, k, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb,
                                    &out[0, 0], accumulate) != 0
    if failed:
        raise MemoryError("gemm could not allocate its packing buffers")


def gemm_batched(const floating[:, :, :] a,   # IN  (B, M, K), any strides (0 broadcasts)
                 const floating[:, :, :] b,   # IN  (B, K, N), any strides (0 broadcasts)
                 floating[:, :, ::1] out,     # OUT (B, M, N)
                 bint accumulate,
                 int num_threads):
    """out[t] = a[t] @ b[t], or out[t] += a[t] @ b[t], for every t; the GIL is released."""
    cdef Py_ssize_t batch = out.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
    cdef Py_ssize_t size = sizeof(floating)
    cdef Py_ssize_t sa = element_stride(a.strides[0], size), sb = element_stride(b.strides[0], size)
    cdef Py_ssize_t rsa = element_stride(a.strides[1], size), csa = element_stride(a.strides[2], size)
    cdef Py_ssize_t rsb = element_stride(b.strides[1], size), csb = element_stride(b.strides[2], size)
    cdef int mr, nr, failed = 0
    cdef Py_ssize_t item, t, parts_per_product, threads
    cdef Split split
    if batch == 0 or m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            out[:, :, :] = 0
        return
    tile_shape(<floating> 0, &mr, &nr)
    with nogil:
        # Whole products per thread when the batch divides evenly or is long; otherwise each
        # product is split between all threads.
        threads = min(<Py_ssize_t> num_threads,
                      max(<Py_ssize_t> 1, batch * m * n * k // MIN_WORK_PER_THREAD))
        if batch % threads == 0 or batch >= 4 * threads:
            split.rows = 1
            split.cols = 1
            split.mr = mr
            split.nr = nr
        else:
            split = split_work(m, n, k, <int> threads, mr, nr)
        parts_per_product = split.rows * split.cols
        if threads == 1:
            for t in range(batch):
                failed += gemm_tile(m, n, k, &a[0, 0, 0] + t * sa, rsa, csa,
                                    &b[0, 0, 0] + t * sb, rsb, csb, &out[t, 0, 0], n,
                                    accumulate) != 0
        else:
            for item in prange(batch * parts_per_product, num_threads=threads,
                               schedule="static"):
                t = item // parts_per_product
                failed += gemm_part(item % parts_per_product, split, m, n, k,
                                    &a[0, 0, 0] + t * sa, rsa, csa, &b[0, 0, 0] + t * sb,
                                    rsb, csb, &out[t, 0, 0], accumulate) != 0
    if failed:
        raise MemoryError("gemm_batched could not allocate its packing buffers")
