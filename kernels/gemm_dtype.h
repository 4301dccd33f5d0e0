/* The blocked GEMM for one data type. Included twice by gemm_core.h, with
 *   GEMM_T        float or double
 *   GEMM_SUFFIX   f32 or f64 (names below get it appended: gemm_serial_f32, ...)
 *   GEMM_VEC_AVX512, GEMM_VEC_AVX2, GEMM_VEC_BASE   GCC vector types of GEMM_T (64, 32, 16 bytes)
 *   GEMM_AVX512_MR  rows of the AVX-512 micro-kernel's tile
 *   GEMM_KC         depth of a K slice (the packed panels hold GEMM_KC steps)
 *
 * The algorithm is the classic one of Goto and van de Geijn (as in BLIS): for each NC-wide
 * column block of B and each KC-deep slice of K, B[pc:pc+kc, jc:jc+nc] is packed into panels
 * NR columns wide; for each MC-high row block of A, A[ic:ic+mc, pc:pc+kc] is packed into panels
 * MR rows high; then a register-blocked MR x NR micro-kernel runs over every pair of panels.
 * Packing makes the micro-kernel's loads contiguous whatever the strides of A and B (transposes
 * included) and keeps the panels in cache: the NR-wide B micro-panel in L1 across the row
 * panels of A, the A block in L2, the B block in L2/L3.
 */

#define GEMM_NAME(name) GEMM_CAT(name, GEMM_CAT(_, GEMM_SUFFIX))

/* Each instruction set gets a kernel two vectors wide, a one-vector (narrow) one for the last
 * columns when they fit in half a tile, both again reading A in place, and a dot-product
 * kernel (gemm_isa_kernels.h). AVX-512 also reads A in place on a wide tile, 6 rows x 4
 * vectors (gemm_direct_tile_for says when); AVX2 and the base set have too few registers. */
#if GEMM_X86
#define ISA_NAME avx512
#define ISA_VEC GEMM_VEC_AVX512
#define ISA_MR GEMM_AVX512_MR
#define ISA_WIDE_MR GEMM_AVX512_WIDE_MR
#define ISA_DOT_MR 4
#define ISA_TARGET __attribute__((target("avx512f,fma")))
#include "gemm_isa_kernels.h"

#define ISA_NAME avx2
#define ISA_VEC GEMM_VEC_AVX2
#define ISA_MR 6
#define ISA_DOT_MR 2
#define ISA_TARGET __attribute__((target("avx2,fma")))
#include "gemm_isa_kernels.h"
#endif

#define ISA_NAME base
#define ISA_VEC GEMM_VEC_BASE
#define ISA_MR 4
#define ISA_DOT_MR 2
#define ISA_TARGET
#include "gemm_isa_kernels.h"

typedef void (*GEMM_NAME(gemm_microkernel_fn))(ptrdiff_t kc, const GEMM_T *a, ptrdiff_t lda,
                                               const GEMM_T *b, ptrdiff_t ldb, GEMM_T *c,
                                               ptrdiff_t ldc, int mr, int nr, int load_c);
typedef void (*GEMM_NAME(gemm_dot_fn))(ptrdiff_t k, ptrdiff_t m, ptrdiff_t n, const GEMM_T *a,
                                       ptrdiff_t lda, const GEMM_T *b, ptrdiff_t ldb, GEMM_T *c,
                                       ptrdiff_t ldc, int load_c);

/* A register tile of gemm_direct: its kernel, the one half as wide, and rows x columns. */
typedef struct {
    GEMM_NAME(gemm_microkernel_fn) kernel, narrow;
    int mr, nr;
} GEMM_NAME(gemm_direct_tile);

/* The micro-kernel of one instruction set and the block sizes that suit it. */
typedef struct {
    GEMM_NAME(gemm_microkernel_fn) kernel;
    GEMM_NAME(gemm_microkernel_fn) narrow;  /* half as wide, for a last panel that fits */
    GEMM_NAME(gemm_direct_tile) direct;       /* the kernels reading A in place (gemm_direct) */
    GEMM_NAME(gemm_direct_tile) direct_wide;  /* the same on a wide tile, or kernel NULL */
    GEMM_NAME(gemm_dot_fn) dot;             /* the few-rows, column-major B case */
    int mr, nr;                  /* register tile */
    ptrdiff_t mc, kc, nc;        /* cache blocks: mc a multiple of mr, nc a multiple of nr */
    ptrdiff_t b_in_place_rows;   /* up to this many rows of C, row-major B is not packed */
} GEMM_NAME(gemm_config);

#define GEMM_LANES(vec) ((int)(sizeof(vec) / sizeof(GEMM_T)))
static GEMM_NAME(gemm_config) GEMM_NAME(gemm_configs)[GEMM_ISA_COUNT] = {
    [GEMM_ISA_BASE] = {GEMM_NAME(gemm_microkernel_base),
                       GEMM_NAME(gemm_microkernel_base_narrow),
                       {GEMM_NAME(gemm_microkernel_base_direct),
                        GEMM_NAME(gemm_microkernel_base_direct_narrow), 4,
                        2 * GEMM_LANES(GEMM_VEC_BASE)},
                       {NULL, NULL, 0, 0},
                       GEMM_NAME(gemm_dot_base), 4, 2 * GEMM_LANES(GEMM_VEC_BASE),
                       96, GEMM_KC, 2048, 4},
#if GEMM_X86
    [GEMM_ISA_AVX2] = {GEMM_NAME(gemm_microkernel_avx2),
                       GEMM_NAME(gemm_microkernel_avx2_narrow),
                       {GEMM_NAME(gemm_microkernel_avx2_direct),
                        GEMM_NAME(gemm_microkernel_avx2_direct_narrow), 6,
                        2 * GEMM_LANES(GEMM_VEC_AVX2)},
                       {NULL, NULL, 0, 0},
                       GEMM_NAME(gemm_dot_avx2), 6, 2 * GEMM_LANES(GEMM_VEC_AVX2),
                       120, GEMM_KC, 2048, 4 * 6},
    [GEMM_ISA_AVX512] = {GEMM_NAME(gemm_microkernel_avx512),
                         GEMM_NAME(gemm_microkernel_avx512_narrow),
                         {GEMM_NAME(gemm_microkernel_avx512_direct),
                          GEMM_NAME(gemm_microkernel_avx512_direct_narrow), GEMM_AVX512_MR,
                          2 * GEMM_LANES(GEMM_VEC_AVX512)},
                         {GEMM_NAME(gemm_microkernel_avx512_direct_wide),
                          GEMM_NAME(gemm_microkernel_avx512_direct_wide_narrow),
                          GEMM_AVX512_WIDE_MR, 4 * GEMM_LANES(GEMM_VEC_AVX512)},
                         GEMM_NAME(gemm_dot_avx512), GEMM_AVX512_MR,
                         2 * GEMM_LANES(GEMM_VEC_AVX512), 12 * GEMM_AVX512_MR,
                         GEMM_KC, 2048, 4 * GEMM_AVX512_MR},
#endif
};
#undef GEMM_LANES

static inline const GEMM_NAME(gemm_config) *GEMM_NAME(gemm_get_config)(void)
{
    return &GEMM_NAME(gemm_configs)[gemm_isa()];
}

/* Pack one panel: `width` <= W lanes over kc steps, element (p, j) at src[p * step + j * lane],
 * into dst[p * W + j], zero-padded for width <= j < W when `pad`. A panel of A has W = mr lanes
 * (rows of A; the micro-kernel never reads rows past the last, so no padding), a panel of B has
 * W = nr lanes (columns of B; the micro-kernel reads whole vectors, so zero padding). */
static void GEMM_NAME(gemm_pack_panel)(ptrdiff_t kc, int width, int W, const GEMM_T *src,
                                       ptrdiff_t step, ptrdiff_t lane, int pad,
                                       GEMM_T *restrict dst)
{
    if (lane == 1) {  /* the lanes are contiguous: a copy per step */
        for (ptrdiff_t p = 0; p < kc; p++)
            memcpy(dst + p * W, src + p * step, width * sizeof(GEMM_T));
    } else if (step == 1) {  /* each lane is contiguous: a transpose */
        int j_done = 0;
        ptrdiff_t p_done = 0;
#if GEMM_X86
        if (gemm_isa() >= GEMM_ISA_AVX2) {
            const int block = 32 / (int)sizeof(GEMM_T);  /* 8 floats or 4 doubles */
            j_done = GEMM_NAME(gemm_transpose_blocks_avx2)(kc, width, W, src, lane, dst);
            p_done = kc / block * block;
        }
#endif
        for (int j = 0; j < width; j++) {
            const GEMM_T *lane_j = src + j * lane;
            for (ptrdiff_t p = j < j_done ? p_done : 0; p < kc; p++) dst[p * W + j] = lane_j[p];
        }
    } else {
        for (ptrdiff_t p = 0; p < kc; p++)
            for (int j = 0; j < width; j++) dst[p * W + j] = src[p * step + j * lane];
    }
    if (pad && width < W)
        for (ptrdiff_t p = 0; p < kc; p++)
            for (int j = width; j < W; j++) dst[p * W + j] = 0;
}

/* Pack A[0:mc, 0:kc] (element (i, p) at a[i * rsa + p * csa]) into ceil(mc / mr) panels of mr
 * rows, each stored as kc groups of mr values. */
static void GEMM_NAME(gemm_pack_a)(ptrdiff_t mc, ptrdiff_t kc, const GEMM_T *a, ptrdiff_t rsa,
                                   ptrdiff_t csa, int mr, GEMM_T *restrict dst)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr, dst += kc * mr)
        GEMM_NAME(gemm_pack_panel)(kc, (int)(mc - i0 < mr ? mc - i0 : mr), mr, a + i0 * rsa,
                                   csa, rsa, 0, dst);
}

/* gemm_pack_b for row-major B: read each row once, start to end (panel by panel, the reads
 * would hop between kc rows far apart, which memory serves much more slowly). `nr` is a
 * constant at the calls that matter, so the copies of whole panel rows are inlined moves
 * rather than calls of memcpy (which made packing a 128 x 128 B three times slower). */
static inline __attribute__((always_inline)) void
GEMM_NAME(gemm_pack_b_rows)(ptrdiff_t kc, ptrdiff_t nc, const GEMM_T *b, ptrdiff_t rsb,
                            const int nr, GEMM_T *restrict dst)
{
    const ptrdiff_t whole = nc / nr * nr;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const GEMM_T *row = b + p * rsb;
        GEMM_T *panel_row = dst + p * nr;
        for (ptrdiff_t j0 = 0; j0 < whole; j0 += nr, panel_row += kc * nr)
            memcpy(panel_row, row + j0, nr * sizeof(GEMM_T));
        if (whole < nc) {
            memcpy(panel_row, row + whole, (nc - whole) * sizeof(GEMM_T));
            for (ptrdiff_t j = nc - whole; j < nr; j++) panel_row[j] = 0;
        }
    }
}

/* Pack B[0:kc, 0:nc] (element (p, j) at b[p * rsb + j * csb]) into ceil(nc / nr) panels of nr
 * columns, each stored as kc rows of nr values, zero-padded. */
static void GEMM_NAME(gemm_pack_b)(ptrdiff_t kc, ptrdiff_t nc, const GEMM_T *b, ptrdiff_t rsb,
                                   ptrdiff_t csb, int nr, GEMM_T *restrict dst)
{
    if (csb == 1) {
        switch (nr) {
        case 8: GEMM_NAME(gemm_pack_b_rows)(kc, nc, b, rsb, 8, dst); break;
        case 16: GEMM_NAME(gemm_pack_b_rows)(kc, nc, b, rsb, 16, dst); break;
        case 32: GEMM_NAME(gemm_pack_b_rows)(kc, nc, b, rsb, 32, dst); break;
        case 64: GEMM_NAME(gemm_pack_b_rows)(kc, nc, b, rsb, 64, dst); break;
        default: GEMM_NAME(gemm_pack_b_rows)(kc, nc, b, rsb, nr, dst); break;
        }
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr, dst += kc * nr)
        GEMM_NAME(gemm_pack_panel)(kc, (int)(nc - j0 < nr ? nc - j0 : nr), nr, b + j0 * csb,
                                   rsb, csb, 1, dst);
}

/* C[0:m, 0:n] (+)= A[0:m, 0:k] @ B[0:k, 0:n] for row-major A and B (row strides lda, ldb),
 * A read where it lies: the micro-kernel broadcasts A's elements from its rows and loads B's
 * rows as vectors, over the whole of K, tile by tile (the rows of C outermost, so a tile's
 * rows of A stay in L1 while B streams through them). For small products, where packing A
 * would cost as much as it saves.
 * B is read in place too, except for a partial last column panel (the kernel reads whole
 * vectors), and except when its rows do not start on cache lines and many rows of C reuse it:
 * loads that straddle two lines made the kernel ~10% slower (128^3 to 320^3, AVX-512), more
 * than packing B into panels costs from about 128 rows of C on (starting the columns read in
 * place at a line boundary instead, and copying the columns before it, was slower still below
 * 192^3). Either way the column panels and the kernel of each are the same, so are the bits.
 * Returns 0, or -1 when scratch memory ran out. */
static int GEMM_NAME(gemm_direct)(const GEMM_NAME(gemm_direct_tile) *tile, ptrdiff_t m,
                                  ptrdiff_t n, ptrdiff_t k, const GEMM_T *a, ptrdiff_t lda,
                                  const GEMM_T *b, ptrdiff_t ldb, GEMM_T *c, ptrdiff_t ldc,
                                  int accumulate)
{
    const int mr = tile->mr, nr = tile->nr;
    const int misaligned = ((uintptr_t)b | (uintptr_t)(ldb * (ptrdiff_t)sizeof(GEMM_T))) % 64;
    const ptrdiff_t n_in_place = misaligned && m >= GEMM_DIRECT_PACK_B_ROWS ? 0 : n / nr * nr;
    GEMM_T *b_packed = NULL;
    if (n_in_place < n) {
        b_packed = gemm_thread_buffer((n - n_in_place + nr - 1) / nr * nr * k * sizeof(GEMM_T));
        if (b_packed == NULL) return -1;
        GEMM_NAME(gemm_pack_b)(k, n - n_in_place, b + n_in_place, ldb, 1, nr, b_packed);
    }
    for (ptrdiff_t i = 0; i < m; i += mr) {
        const int rows = (int)(m - i < mr ? m - i : mr);
        for (ptrdiff_t j = 0; j < n; j += nr) {
            const int cols = (int)(n - j < nr ? n - j : nr);
            const GEMM_NAME(gemm_microkernel_fn) kernel =
                cols <= nr / 2 ? tile->narrow : tile->kernel;
            kernel(k, a + i * lda, lda,
                   j < n_in_place ? b + j : b_packed + (j - n_in_place) * k,
                   j < n_in_place ? ldb : nr, c + i * ldc + j, ldc, rows, cols, accumulate);
        }
    }
    return 0;
}

/* Whether gemm_serial reads A and B in place (gemm_direct) for a product of K = k and a B of
 * n_whole columns, with these column strides of A and B (see there why). */
static inline int GEMM_NAME(gemm_takes_direct)(const GEMM_NAME(gemm_config) *cfg, ptrdiff_t k,
                                                ptrdiff_t csa, ptrdiff_t csb, ptrdiff_t n_whole)
{
    return csa == 1 && csb == 1 && k > 1 && k <= cfg->kc &&
           k * n_whole * (ptrdiff_t)sizeof(GEMM_T) <= GEMM_DIRECT_MAX_B_BYTES;
}

/* gemm_direct's tile for a K of k: the wide one (where the instruction set has one) while a
 * k x nr panel of B, which each tile reads whole, fits in L1 (so up to K = 128): with A in
 * place it streams half as many rows of A and broadcasts half as often per multiply-add as
 * the 12 x 2-vector tile. Measured (AVX-512, float32, the kernel alone): 64^3 10% faster,
 * 128^3 about 2% (1 thread) and 15-20% (2 threads, one 64-column panel each); at 256^3 the
 * B panel no longer fits in L1 and the wide tile was no faster at 1 thread, 5-8% slower at 2. */
static inline const GEMM_NAME(gemm_direct_tile) *
GEMM_NAME(gemm_direct_tile_for)(const GEMM_NAME(gemm_config) *cfg, ptrdiff_t k)
{
    if (cfg->direct_wide.kernel != NULL &&
        k * cfg->direct_wide.nr * (ptrdiff_t)sizeof(GEMM_T) <= GEMM_L1_BYTES)
        return &cfg->direct_wide;
    return &cfg->direct;
}

/* C[0:m, 0:n] (row stride ldc) = or += A[0:m, 0:k] @ B[0:k, 0:n] on the calling thread, one
 * block of a product of m_whole x n_whole (from which every choice that sets the order of the
 * sums is made: a block of C gets the same bits as the whole product done at once, so the
 * result does not depend on how threads share the product).
 * A's element (i, p) is at a[i * rsa + p * csa], B's (p, j) at b[p * rsb + j * csb]; strides are
 * in elements and may be zero or negative. Returns 0, or -1 when scratch memory ran out. */
static int GEMM_NAME(gemm_serial)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                  const GEMM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                                  const GEMM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                                  GEMM_T *c, ptrdiff_t ldc, int accumulate,
                                  ptrdiff_t m_whole, ptrdiff_t n_whole)
{
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        if (!accumulate)
            for (ptrdiff_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(GEMM_T));
        return 0;
    }
    if (k == 1) {
        /* an outer product (a linear layer's weight gradient at batch 1): row by row, which
         * streams C in order where tiles of it would collide in cache when ldc is a power of 2 */
        for (ptrdiff_t i = 0; i < m; i++) {
            const GEMM_T ai = a[i * rsa];
            GEMM_T *ci = c + i * ldc;
            if (accumulate)
                for (ptrdiff_t j = 0; j < n; j++) ci[j] += ai * b[j * csb];
            else
                for (ptrdiff_t j = 0; j < n; j++) ci[j] = ai * b[j * csb];
        }
        return 0;
    }
    const GEMM_NAME(gemm_config) *cfg = GEMM_NAME(gemm_get_config)();
    const int mr = cfg->mr, nr = cfg->nr;
    const int dot = rsb == 1 && csb != 1 &&
                    (m_whole <= GEMM_DOT_ROWS ||
                     (csa == 1 && m_whole * n_whole < GEMM_DOT_RATIO * (m_whole + n_whole)));
    if (dot) {
        /* dot products; they want the rows of A contiguous */
        if (csa != 1) {
            GEMM_T *a_rows = gemm_thread_buffer(m * k * sizeof(GEMM_T));
            if (a_rows == NULL) return -1;
            GEMM_NAME(gemm_pack_panel)(m, (int)k, (int)k, a, rsa, csa, 0, a_rows);
            a = a_rows;
            rsa = k;
        }
        cfg->dot(k, m, n, a, rsa, b, csb, c, ldc, accumulate);
        return 0;
    }
    /* Row-major A and B with B at most half of L2 (the whole product's: the choice sets the
     * order of the sums) need no packing: reading them in place was faster at every such shape
     * measured (64^3 to 384^3, im2col's tall products, few rows; by 5-30%, AVX-512 and AVX2),
     * packing faster from 512^3 (B of 1 MB) on. It sums over K in one run, so only up to one
     * K slice: longer sums are split into slices as below, whose rounding is closer to torch's
     * (a fit that amplifies rounding, tests/programs/polynomial_optim.py, tells them apart). */
    if (GEMM_NAME(gemm_takes_direct)(cfg, k, csa, csb, n_whole))
        return GEMM_NAME(gemm_direct)(GEMM_NAME(gemm_direct_tile_for)(cfg, k), m, n, k, a, rsa,
                                      b, rsb, c, ldc, accumulate);
    /* With few rows of C each B panel serves few micro-kernel calls, so packing it costs more
     * than it saves when B is already in cache (or serves a single row panel): the kernel then
     * reads row-major B where it lies (all but a partial last panel). So does a B of up to
     * GEMM_SMALL_B_BYTES, which stays in L1/L2 whatever its rows' stride (measured at 64^3 to
     * 128^3: 3-8% faster in place; at 192^3 and up packing wins). A large B is packed: the copy
     * streams through memory better than panels of long rows do. */
    const ptrdiff_t b_bytes = k * n * (ptrdiff_t)sizeof(GEMM_T);
    const int b_in_place = csb == 1 && (m_whole <= mr || b_bytes <= GEMM_SMALL_B_BYTES ||
                                        (m <= cfg->b_in_place_rows &&
                                         b_bytes <= GEMM_L2_BYTES / 2));
    /* equal blocks rather than full ones and a short last one */
    const ptrdiff_t nc_block = gemm_even_block(n, cfg->nc, nr);
    const ptrdiff_t mc_block = gemm_even_block(m, cfg->mc, mr);
    ptrdiff_t kc_max = cfg->kc;
    if (csb == 1 && m_whole <= mr) {
        /* One row panel streams through B once, panel by panel; that runs at the speed of L1
         * only when the kc x nc slice being walked fits in it (rows of B far apart otherwise
         * evict each other before their next panel is read). The depth of a K slice sets
         * the order of the sums: it comes from the whole product's columns, not this block's. */
        const ptrdiff_t whole_nc = gemm_even_block(n_whole, cfg->nc, nr);
        const ptrdiff_t rows_in_l1 = GEMM_L1_BYTES / (whole_nc * (ptrdiff_t)sizeof(GEMM_T));
        kc_max = rows_in_l1 < 8 ? 8 : rows_in_l1 < kc_max ? rows_in_l1 : kc_max;
    }
    const ptrdiff_t kc_block = gemm_even_block(k, kc_max, 1);

    const ptrdiff_t a_size = (mc_block + mr) * kc_block;
    GEMM_T *a_packed = gemm_thread_buffer(
        (a_size + (b_in_place ? nr : nc_block + nr) * kc_block) * sizeof(GEMM_T));
    if (a_packed == NULL) return -1;
    GEMM_T *b_packed = a_packed + a_size;

    for (ptrdiff_t jc = 0; jc < n; jc += nc_block) {
        const ptrdiff_t nc = n - jc < nc_block ? n - jc : nc_block;
        const ptrdiff_t nc_full = b_in_place ? nc / nr * nr : 0;  /* read in place */
        for (ptrdiff_t pc = 0; pc < k; pc += kc_block) {
            const ptrdiff_t kc = k - pc < kc_block ? k - pc : kc_block;
            const int load_c = accumulate || pc > 0;
            const GEMM_T *b_block = b + pc * rsb + jc * csb;
            if (nc_full < nc)
                GEMM_NAME(gemm_pack_b)(kc, nc - nc_full, b_block + nc_full * csb, rsb, csb, nr,
                                       b_packed);
            for (ptrdiff_t ic = 0; ic < m; ic += mc_block) {
                const ptrdiff_t mc = m - ic < mc_block ? m - ic : mc_block;
                GEMM_NAME(gemm_pack_a)(mc, kc, a + ic * rsa + pc * csa, rsa, csa, mr, a_packed);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    const int cols = (int)(nc - jr < nr ? nc - jr : nr);
                    const GEMM_T *b_panel = jr < nc_full ? b_block + jr
                                                         : b_packed + (jr - nc_full) * kc;
                    const ptrdiff_t ldb = jr < nc_full ? rsb : nr;
                    const GEMM_NAME(gemm_microkernel_fn) kernel =
                        cols <= nr / 2 ? cfg->narrow : cfg->kernel;
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        const int rows = (int)(mc - ir < mr ? mc - ir : mr);
                        kernel(kc, a_packed + ir * kc, mr, b_panel, ldb,
                               c + (ic + ir) * ldc + jc + jr, ldc, rows, cols, load_c);
                    }
                }
            }
        }
    }
    return 0;
}

#undef GEMM_NAME
