/* The blocked GEMM for one data type. Included twice by gemm_core.h, with
 *   GEMM_T        float or double
 *   GEMM_SUFFIX   f32 or f64 (names below get it appended: gemm_serial_f32, ...)
 *   GEMM_VEC_AVX512, GEMM_VEC_AVX2, GEMM_VEC_BASE   GCC vector types of GEMM_T (64, 32, 16 bytes)
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

#if GEMM_X86
#define MK_NAME GEMM_NAME(gemm_microkernel_avx512)
#define MK_T GEMM_T
#define MK_VEC GEMM_VEC_AVX512
#define MK_MR GEMM_AVX512_MR
#define MK_NV 2
#define MK_TARGET __attribute__((target("avx512f,fma")))
#include "gemm_microkernel.h"

#define MK_NAME GEMM_NAME(gemm_microkernel_avx2)
#define MK_T GEMM_T
#define MK_VEC GEMM_VEC_AVX2
#define MK_MR 6
#define MK_NV 2
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_microkernel.h"
#endif

#define MK_NAME GEMM_NAME(gemm_microkernel_base)
#define MK_T GEMM_T
#define MK_VEC GEMM_VEC_BASE
#define MK_MR 4
#define MK_NV 2
#define MK_TARGET
#include "gemm_microkernel.h"

typedef void (*GEMM_NAME(gemm_microkernel_fn))(ptrdiff_t kc, const GEMM_T *a, const GEMM_T *b,
                                               ptrdiff_t ldb, GEMM_T *c, ptrdiff_t ldc,
                                               int mr, int nr, int load_c);

/* The micro-kernel of one instruction set and the block sizes that suit it. */
typedef struct {
    GEMM_NAME(gemm_microkernel_fn) kernel;
    int mr, nr;          /* register tile */
    ptrdiff_t mc, kc, nc; /* cache blocks: mc multiple of mr, nc multiple of nr */
} GEMM_NAME(gemm_config);

static GEMM_NAME(gemm_config) GEMM_NAME(gemm_configs)[GEMM_ISA_COUNT] = {
    [GEMM_ISA_BASE] = {GEMM_NAME(gemm_microkernel_base), 4,
                       2 * (int)(sizeof(GEMM_VEC_BASE) / sizeof(GEMM_T)),
                       96, 256 * 4 / sizeof(GEMM_T), 2048},
#if GEMM_X86
    [GEMM_ISA_AVX2] = {GEMM_NAME(gemm_microkernel_avx2), 6,
                       2 * (int)(sizeof(GEMM_VEC_AVX2) / sizeof(GEMM_T)),
                       120, 256 * 4 / sizeof(GEMM_T), 2048},
    [GEMM_ISA_AVX512] = {GEMM_NAME(gemm_microkernel_avx512), GEMM_AVX512_MR,
                         2 * (int)(sizeof(GEMM_VEC_AVX512) / sizeof(GEMM_T)),
                         10 * GEMM_AVX512_MR, 256 * 4 / sizeof(GEMM_T), 2048},
#endif
};

static inline const GEMM_NAME(gemm_config) *GEMM_NAME(gemm_get_config)(void)
{
    return &GEMM_NAME(gemm_configs)[gemm_isa()];
}

/* Pack A[0:mc, 0:kc] (element (i, k) at a[i * rsa + k * csa]) into ceil(mc / mr) panels; panel p
 * holds rows p*mr .. p*mr+mr-1 as kc groups of mr values, zero-padded past row mc. */
static void GEMM_NAME(gemm_pack_a)(ptrdiff_t mc, ptrdiff_t kc, const GEMM_T *a, ptrdiff_t rsa,
                                   ptrdiff_t csa, int mr, GEMM_T *restrict dst)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
        const int rows = (int)(mc - i0 < mr ? mc - i0 : mr);
        const GEMM_T *src = a + i0 * rsa;
        if (rsa == 1) {  /* column-major A (a transposed view): each k gives mr contiguous values */
            for (ptrdiff_t k = 0; k < kc; k++) {
                for (int i = 0; i < rows; i++) dst[k * mr + i] = src[k * csa + i];
                for (int i = rows; i < mr; i++) dst[k * mr + i] = 0;
            }
        } else {
            for (int i = 0; i < rows; i++) {
                const GEMM_T *row = src + i * rsa;
                if (csa == 1)
                    for (ptrdiff_t k = 0; k < kc; k++) dst[k * mr + i] = row[k];
                else
                    for (ptrdiff_t k = 0; k < kc; k++) dst[k * mr + i] = row[k * csa];
            }
            for (int i = rows; i < mr; i++)
                for (ptrdiff_t k = 0; k < kc; k++) dst[k * mr + i] = 0;
        }
        dst += kc * mr;
    }
}

/* Pack B[0:kc, 0:nc] (element (k, j) at b[k * rsb + j * csb]) into ceil(nc / nr) panels; panel p
 * holds columns p*nr .. p*nr+nr-1 as kc rows of nr values, zero-padded past column nc. */
static void GEMM_NAME(gemm_pack_b)(ptrdiff_t kc, ptrdiff_t nc, const GEMM_T *b, ptrdiff_t rsb,
                                   ptrdiff_t csb, int nr, GEMM_T *restrict dst)
{
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
        const int cols = (int)(nc - j0 < nr ? nc - j0 : nr);
        const GEMM_T *src = b + j0 * csb;
        if (csb == 1 && cols == nr) {  /* row-major B: each k gives nr contiguous values */
            for (ptrdiff_t k = 0; k < kc; k++)
                memcpy(dst + k * nr, src + k * rsb, nr * sizeof(GEMM_T));
        } else if (rsb == 1) {  /* column-major B (a transposed view) */
            for (int j = 0; j < cols; j++) {
                const GEMM_T *col = src + j * csb;
                for (ptrdiff_t k = 0; k < kc; k++) dst[k * nr + j] = col[k];
            }
            for (ptrdiff_t k = 0; k < kc; k++)
                for (int j = cols; j < nr; j++) dst[k * nr + j] = 0;
        } else {
            for (ptrdiff_t k = 0; k < kc; k++) {
                const GEMM_T *row = src + k * rsb;
                for (int j = 0; j < cols; j++) dst[k * nr + j] = row[j * csb];
                for (int j = cols; j < nr; j++) dst[k * nr + j] = 0;
            }
        }
        dst += kc * nr;
    }
}

/* C[0:m, 0:n] (row stride ldc) = or += A[0:m, 0:k] @ B[0:k, 0:n] on the calling thread.
 * A's element (i, p) is at a[i * rsa + p * csa], B's (p, j) at b[p * rsb + j * csb]; strides are
 * in elements and may be zero or negative. Returns 0, or -1 when scratch memory ran out. */
static int GEMM_NAME(gemm_serial)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                  const GEMM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                                  const GEMM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                                  GEMM_T *c, ptrdiff_t ldc, int accumulate)
{
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        if (!accumulate)
            for (ptrdiff_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(GEMM_T));
        return 0;
    }
    const GEMM_NAME(gemm_config) *cfg = GEMM_NAME(gemm_get_config)();
    const int mr = cfg->mr, nr = cfg->nr;
    const ptrdiff_t kc_max = k < cfg->kc ? k : cfg->kc;
    const ptrdiff_t mc_max = m < cfg->mc ? (m + mr - 1) / mr * mr : cfg->mc;
    const ptrdiff_t nc_max = n < cfg->nc ? (n + nr - 1) / nr * nr : cfg->nc;

    GEMM_T *a_packed = gemm_thread_buffer((mc_max * kc_max + nc_max * kc_max) * sizeof(GEMM_T));
    if (a_packed == NULL) return -1;
    GEMM_T *b_packed = a_packed + mc_max * kc_max;

    for (ptrdiff_t jc = 0; jc < n; jc += cfg->nc) {
        const ptrdiff_t nc = n - jc < cfg->nc ? n - jc : cfg->nc;
        for (ptrdiff_t pc = 0; pc < k; pc += cfg->kc) {
            const ptrdiff_t kc = k - pc < cfg->kc ? k - pc : cfg->kc;
            const int load_c = accumulate || pc > 0;
            GEMM_NAME(gemm_pack_b)(kc, nc, b + pc * rsb + jc * csb, rsb, csb, nr, b_packed);
            for (ptrdiff_t ic = 0; ic < m; ic += cfg->mc) {
                const ptrdiff_t mc = m - ic < cfg->mc ? m - ic : cfg->mc;
                GEMM_NAME(gemm_pack_a)(mc, kc, a + ic * rsa + pc * csa, rsa, csa, mr, a_packed);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    const int cols = (int)(nc - jr < nr ? nc - jr : nr);
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        const int rows = (int)(mc - ir < mr ? mc - ir : mr);
                        cfg->kernel(kc, a_packed + ir * kc, b_packed + jr * kc, nr,
                                    c + (ic + ir) * ldc + jc + jr, ldc, rows, cols, load_c);
                    }
                }
            }
        }
    }
    return 0;
}

#undef GEMM_NAME
