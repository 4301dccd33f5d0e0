/* One register-blocked GEMM micro-kernel, instantiated per data type and instruction set.
 *
 * Included by gemm_dtype.h with these macros defined:
 *   MK_NAME      name of the kernel function to define
 *   MK_DOT_NAME  (optional) name of the dot-product kernel to define (see below), and
 *   MK_DOT_MR    its rows per tile, 2 or 4
 *   MK_T         float or double
 *   MK_VEC       a GCC vector type of MK_T (unaligned loads and stores through it are allowed)
 *   MK_MR        rows of the C tile (register-blocked)
 *   MK_NV        vectors per C row, so the tile is MK_MR x (MK_NV * lanes of MK_VEC)
 *   MK_TARGET    function attributes: __attribute__((target("avx512f,fma"))) or empty
 *   MK_A_IN_PLACE  (optional) 1 for a kernel that reads A where it lies (see below)
 *
 * The kernel computes, for a tile of C with `mr` <= MK_MR valid rows and `nr` <= NR valid
 * columns (NR = MK_NV * lanes),
 *     C[i, j] (+)= sum_k A[i, k] * B[k, j]        (0 <= k < kc)
 * where A is a packed panel (kc groups of MK_MR values, of which the first mr are read; `lda`
 * is unused), or with MK_A_IN_PLACE the rows of a row-major A, `lda` elements apart, and B
 * is kc rows of NR values `ldb` elements apart (a zero-padded packed panel, ldb == NR, or B
 * itself read in place). C is row-major with row stride ldc; it is overwritten when load_c is
 * 0 and added to otherwise.
 * The MK_MR x MK_NV accumulators live in vector registers; each k step loads MK_NV vectors of
 * B, broadcasts MK_MR scalars of A, and does MK_MR * MK_NV fused multiply-adds.
 */

#define MK_LANES ((int)(sizeof(MK_VEC) / sizeof(MK_T)))
#define MK_NR (MK_NV * MK_LANES)
#define MK_TILE GEMM_CAT(MK_NAME, _tile)
#define MK_STEP GEMM_CAT(MK_NAME, _step)

#ifndef MK_A_IN_PLACE
#define MK_A_IN_PLACE 0
#endif

/* acc[i][:] += A[i, k] * B[k, :] for one k, A[i, k] at a[i * a_row] */
static inline __attribute__((always_inline)) MK_TARGET void
MK_STEP(const int rows, MK_VEC acc[MK_MR][MK_NV], const MK_T *restrict a, ptrdiff_t a_row,
        const MK_T *restrict b)
{
    MK_VEC bk[MK_NV];
#pragma GCC unroll 8
    for (int v = 0; v < MK_NV; v++)
        bk[v] = *(const MK_VEC *)(b + v * MK_LANES);
#pragma GCC unroll 32
    for (int i = 0; i < rows; i++) {
        const MK_T aik = a[i * a_row];
#pragma GCC unroll 8
        for (int v = 0; v < MK_NV; v++)
            acc[i][v] += aik * bk[v];
    }
}

/* `rows` is a compile-time constant at every call site, so the loops below unroll fully and
 * the accumulator arrays become registers. */
static inline __attribute__((always_inline)) MK_TARGET void
MK_TILE(const int rows, ptrdiff_t kc, const MK_T *restrict a, ptrdiff_t lda,
        const MK_T *restrict b, ptrdiff_t ldb, MK_T *restrict c, ptrdiff_t ldc, int nr,
        int load_c)
{
    /* A[i, k] at a[i * a_row + k * a_step]: constants for a packed panel */
    const ptrdiff_t a_row = MK_A_IN_PLACE ? lda : 1, a_step = MK_A_IN_PLACE ? 1 : MK_MR;
    MK_VEC acc[MK_MR][MK_NV], acc_odd[MK_MR][MK_NV];
#pragma GCC unroll 32
    for (int i = 0; i < rows; i++) {
        /* C is needed only at the end, but fetching it now hides the cache misses */
        __builtin_prefetch(c + i * ldc, 1);
        __builtin_prefetch(c + i * ldc + MK_NR - 1, 1);
#pragma GCC unroll 8
        for (int v = 0; v < MK_NV; v++)
            acc[i][v] = acc_odd[i][v] = (MK_VEC){0};
    }

    ptrdiff_t k = 0;
    if (rows * MK_NV <= 4) {
        /* Too few accumulators to hide the latency of a fused multiply-add: a second set takes
         * the odd k. */
        for (; k + 1 < kc; k += 2) {
            MK_STEP(rows, acc, a, a_row, b);
            MK_STEP(rows, acc_odd, a + a_step, a_row, b + ldb);
            a += 2 * a_step;
            b += 2 * ldb;
        }
#pragma GCC unroll 32
        for (int i = 0; i < rows; i++)
#pragma GCC unroll 8
            for (int v = 0; v < MK_NV; v++)
                acc[i][v] += acc_odd[i][v];
    }
    for (; k < kc; k++) {
        MK_STEP(rows, acc, a, a_row, b);
        a += a_step;
        b += ldb;
    }

    if (nr == MK_NR) {
#pragma GCC unroll 32
        for (int i = 0; i < rows; i++)
#pragma GCC unroll 8
            for (int v = 0; v < MK_NV; v++) {
                MK_VEC *cv = (MK_VEC *)(c + i * ldc + v * MK_LANES);
                *cv = load_c ? *cv + acc[i][v] : acc[i][v];
            }
    } else {
        /* a partial tile: spill to the stack, then copy the nr valid columns */
        MK_VEC tile[MK_MR][MK_NV];
#pragma GCC unroll 32
        for (int i = 0; i < rows; i++)
#pragma GCC unroll 8
            for (int v = 0; v < MK_NV; v++)
                tile[i][v] = acc[i][v];
        for (int i = 0; i < rows; i++) {
            const MK_T *t = (const MK_T *)tile[i];
            MK_T *ci = c + i * ldc;
            for (int j = 0; j < nr; j++)
                ci[j] = load_c ? ci[j] + t[j] : t[j];
        }
    }
}

static MK_TARGET void
MK_NAME(ptrdiff_t kc, const MK_T *restrict a, ptrdiff_t lda, const MK_T *restrict b,
        ptrdiff_t ldb, MK_T *restrict c, ptrdiff_t ldc, int mr, int nr, int load_c)
{
    /* one fully unrolled copy per row count, so short tiles (M = 1, the last rows) do only
     * the work they need */
    switch (mr) {
#define MK_CASE(r)                                                                  \
    case r:                                                                         \
        if (r <= MK_MR) MK_TILE(r <= MK_MR ? r : 1, kc, a, lda, b, ldb, c, ldc, nr, load_c); \
        break;
        MK_CASE(1) MK_CASE(2) MK_CASE(3) MK_CASE(4) MK_CASE(5) MK_CASE(6) MK_CASE(7) MK_CASE(8)
        MK_CASE(9) MK_CASE(10) MK_CASE(11) MK_CASE(12) MK_CASE(13) MK_CASE(14) MK_CASE(15)
        MK_CASE(16)
#undef MK_CASE
        default: break;
    }
}

#ifdef MK_DOT_NAME
#define MK_DOT_TILE GEMM_CAT(MK_NAME, _dot_tile)

/* The sum of the lanes of v, pairwise (log2(lanes) vector-friendly steps). */
static inline __attribute__((always_inline)) MK_TARGET MK_T
GEMM_CAT(MK_NAME, _sum_lanes)(MK_VEC v)
{
    MK_T t[MK_LANES];
    memcpy(t, &v, sizeof(t));
    for (int width = MK_LANES / 2; width > 0; width /= 2)
        for (int lane = 0; lane < width; lane++) t[lane] += t[lane + width];
    return t[0];
}

/* C[i, j] (+)= sum_p A[i, p] * B[p, j] for `rows` <= MK_DOT_MR rows of A and 4 columns of B
 * (`cols` <= 4 of them real: the others repeat a real column and are not stored). */
static inline __attribute__((always_inline)) MK_TARGET void
MK_DOT_TILE(const int rows, int cols, ptrdiff_t k, const MK_T *restrict a, ptrdiff_t lda,
            const MK_T *const bj[4], MK_T *restrict c, ptrdiff_t ldc, int load_c)
{
    const ptrdiff_t k_vec = k / MK_LANES * MK_LANES;
    MK_VEC acc[MK_DOT_MR][4];
#pragma GCC unroll 4
    for (int i = 0; i < rows; i++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) acc[i][q] = (MK_VEC){0};
    for (ptrdiff_t p = 0; p < k_vec; p += MK_LANES) {
        MK_VEC bv[4];
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) bv[q] = *(const MK_VEC *)(bj[q] + p);
#pragma GCC unroll 4
        for (int i = 0; i < rows; i++) {
            const MK_VEC av = *(const MK_VEC *)(a + i * lda + p);
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) acc[i][q] += av * bv[q];
        }
    }
    for (int i = 0; i < rows; i++)
        for (int q = 0; q < cols; q++) {
            MK_T sum = GEMM_CAT(MK_NAME, _sum_lanes)(acc[i][q]);
            for (ptrdiff_t p = k_vec; p < k; p++) sum += a[i * lda + p] * bj[q][p];
            c[i * ldc + q] = load_c ? c[i * ldc + q] + sum : sum;
        }
}

/* C[i, j] (+)= sum_p A[i, p] * B[p, j] as dot products, where row i of A (at a + i * lda) and
 * column j of B (at b + j * ldb) are both contiguous: B is column-major, a transposed view as
 * in x @ W.T. With few rows of C, or a long K and a small C, packing would cost more than this
 * saves. Tiles of MK_DOT_MR rows x 4 columns share their loads. */
static MK_TARGET void
MK_DOT_NAME(ptrdiff_t k, ptrdiff_t m, ptrdiff_t n, const MK_T *restrict a, ptrdiff_t lda,
            const MK_T *restrict b, ptrdiff_t ldb, MK_T *restrict c, ptrdiff_t ldc, int load_c)
{
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 4) {
        const int cols = n - j0 < 4 ? (int)(n - j0) : 4;
        const MK_T *bj[4];
        for (int q = 0; q < 4; q++) bj[q] = b + (j0 + (q < cols ? q : 0)) * ldb;
        for (ptrdiff_t i = 0; i < m; i += MK_DOT_MR) {
            const MK_T *ai = a + i * lda;
            MK_T *ci = c + i * ldc + j0;
            switch (m - i < MK_DOT_MR ? (int)(m - i) : MK_DOT_MR) {
            case 1: MK_DOT_TILE(1, cols, k, ai, lda, bj, ci, ldc, load_c); break;
            case 2: MK_DOT_TILE(2, cols, k, ai, lda, bj, ci, ldc, load_c); break;
#if MK_DOT_MR >= 4
            case 3: MK_DOT_TILE(3, cols, k, ai, lda, bj, ci, ldc, load_c); break;
            case 4: MK_DOT_TILE(4, cols, k, ai, lda, bj, ci, ldc, load_c); break;
#endif
            default: break;
            }
        }
    }
}

#undef MK_DOT_TILE
#endif
#undef MK_TILE
#undef MK_STEP
#undef MK_NR
#undef MK_LANES
#undef MK_NAME
#undef MK_DOT_NAME
#undef MK_DOT_MR
#undef MK_T
#undef MK_VEC
#undef MK_MR
#undef MK_NV
#undef MK_TARGET
#undef MK_A_IN_PLACE
