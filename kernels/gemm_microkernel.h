/* One register-blocked GEMM micro-kernel, instantiated per data type and instruction set.
 *
 * Included by gemm_dtype.h with these macros defined:
 *   MK_NAME    name of the kernel function to define
 *   MK_T       float or double
 *   MK_VEC     a GCC vector type of MK_T (unaligned loads and stores through it are allowed)
 *   MK_MR      rows of the C tile (register-blocked)
 *   MK_NV      vectors per C row, so the tile is MK_MR x (MK_NV * lanes of MK_VEC)
 *   MK_TARGET  function attributes: __attribute__((target("avx512f,fma"))) or empty
 *
 * The kernel computes, for a tile of C with `mr` <= MK_MR valid rows and `nr` <= NR valid
 * columns,
 *     C[i, j] (+)= sum_k A[k, i] * B[k, j]        (0 <= k < kc)
 * where A is a packed panel (kc rows of MK_MR values, zero-padded) and B is kc rows of NR values
 * `ldb` elements apart (a packed panel, ldb == NR, or B itself read in place). C is row-major
 * with row stride ldc; it is overwritten when load_c is 0 and added to otherwise.
 * The MK_MR x MK_NV accumulators live in vector registers; each k step loads MK_NV vectors of
 * B, broadcasts MK_MR scalars of A, and does MK_MR * MK_NV fused multiply-adds.
 */

#define MK_LANES ((int)(sizeof(MK_VEC) / sizeof(MK_T)))
#define MK_NR (MK_NV * MK_LANES)
#define MK_TILE GEMM_CAT(MK_NAME, _tile)

/* `rows` is a compile-time constant at every call site, so the loops below unroll fully and
 * the accumulator array becomes registers. */
static inline __attribute__((always_inline)) MK_TARGET void
MK_TILE(const int rows, ptrdiff_t kc, const MK_T *restrict a, const MK_T *restrict b,
        ptrdiff_t ldb, MK_T *restrict c, ptrdiff_t ldc, int nr, int load_c)
{
    MK_VEC acc[MK_MR][MK_NV];
#pragma GCC unroll 32
    for (int i = 0; i < rows; i++)
#pragma GCC unroll 8
        for (int v = 0; v < MK_NV; v++)
            acc[i][v] = (MK_VEC){0};

    for (ptrdiff_t k = 0; k < kc; k++) {
        MK_VEC bk[MK_NV];
#pragma GCC unroll 8
        for (int v = 0; v < MK_NV; v++)
            bk[v] = *(const MK_VEC *)(b + v * MK_LANES);
#pragma GCC unroll 32
        for (int i = 0; i < rows; i++) {
            const MK_T aik = a[i];
#pragma GCC unroll 8
            for (int v = 0; v < MK_NV; v++)
                acc[i][v] += aik * bk[v];
        }
        a += MK_MR;
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
MK_NAME(ptrdiff_t kc, const MK_T *restrict a, const MK_T *restrict b, ptrdiff_t ldb,
        MK_T *restrict c, ptrdiff_t ldc, int mr, int nr, int load_c)
{
    /* one fully unrolled copy per row count, so short tiles (M = 1, the last rows) do only
     * the work they need */
    switch (mr) {
#define MK_CASE(r) case r: if (r <= MK_MR) MK_TILE(r <= MK_MR ? r : 1, kc, a, b, ldb, c, ldc, nr, load_c); break;
        MK_CASE(1) MK_CASE(2) MK_CASE(3) MK_CASE(4) MK_CASE(5) MK_CASE(6) MK_CASE(7) MK_CASE(8)
        MK_CASE(9) MK_CASE(10) MK_CASE(11) MK_CASE(12) MK_CASE(13) MK_CASE(14) MK_CASE(15)
        MK_CASE(16)
#undef MK_CASE
        default: break;
    }
}

#undef MK_TILE
#undef MK_NR
#undef MK_LANES
#undef MK_NAME
#undef MK_T
#undef MK_VEC
#undef MK_MR
#undef MK_NV
#undef MK_TARGET
