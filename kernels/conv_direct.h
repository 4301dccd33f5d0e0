/* Direct convolution for stride 1 and dilation 1: no im2col matrix, no GEMM.
 *
 * Forward, per sample and group, with xp the input zero-padded on every side,
 * xp[c, r, q] = x[c, r - PT, q - PL] (0 outside the image), of shape (Cg, Hp, Wp):
 *
 *     out[f, i, j] = bias[f] + sum over c < Cg, a < KH, b < KW of
 *                    w[f, c, a, b] * xp[c, i + a, j + b]
 *
 * The output is computed in tiles of FB channels x NR rows x NC vectors of columns whose sums
 * stay in registers; a tile skips the tap rows a that read only padding for all its rows (at
 * 16x16 with a 5x5 kernel and padding 2 that is 14% of the multiply-adds of im2col + GEMM; at
 * 8x8, 28% with one-row tiles, 15% less with two-row ones). Columns are not skipped: Hp and Wp
 * leave room for whole tiles, so the inner loop has no edge cases. The weights are packed per
 * block of FB output channels as wp[c, a, b, f] (zero for channels past the end), so that one
 * tap of the inner loop loads NR * NC vectors of x and broadcasts FB consecutive weights.
 * Input channels are taken in chunks whose padded planes and weights fit in L1; the sums wait
 * in a small per-item buffer between chunks.
 *
 * The gradient to the input is the same computation: a stride-1 convolution's adjoint is a
 * convolution of dy with the weights flipped in both spatial axes and their two channel axes
 * swapped, with padding KH-1-PT and KW-1-PL (negative padding crops, which the shifted copy
 * into xp handles as well).
 *
 * The gradient to the weights, per input channel c and block of FBW output channels:
 *
 *     dw[f, c, a, b] = sum over n, i, j of dy[n, f, i, j] * xp[n, c, i + a, j + b]
 *
 * vectorised over j: each (a, b, f) has a vector accumulator whose lanes are summed at the end,
 * and rows i whose input row i + a is padding are skipped. dy is read with a row stride OWp (a
 * multiple of the vector width, zero columns past OW).
 *
 * Instruction sets, chosen at run time: AVX-512VL on 256-bit vectors (32 vector registers:
 * bigger tiles, broadcasts folded into the FMAs), AVX2+FMA, and a portable baseline (128-bit
 * GCC vectors, which compile to SSE2 on x86 and NEON on ARM).
 */
#include <stddef.h>
#include <string.h>

#define CD_CAT_(a, b) a##b
#define CD_CAT(a, b) CD_CAT_(a, b)

#if defined(__x86_64__) || defined(__i386__)
#define CD_X86 1
#else
#define CD_X86 0
#endif

enum { CD_ISA_BASE = 0, CD_ISA_AVX2 = 1, CD_ISA_AVX512 = 2 };

typedef float cd_v8f __attribute__((vector_size(32), aligned(4), may_alias));
typedef float cd_v4f __attribute__((vector_size(16), aligned(4), may_alias));
typedef double cd_v4d __attribute__((vector_size(32), aligned(8), may_alias));
typedef double cd_v2d __attribute__((vector_size(16), aligned(8), may_alias));

/* -1 until the first call decides; a benign race (every thread computes the same answer) */
static int cd_isa_selected = -1;

static int cd_isa_supported(int isa)
{
#if CD_X86
    __builtin_cpu_init();
    if (isa == CD_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == CD_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == CD_ISA_BASE;
}

static int cd_isa(void)
{
    if (cd_isa_selected < 0) {
        int isa = CD_ISA_AVX512;
        while (!cd_isa_supported(isa)) isa--;
        cd_isa_selected = isa;
    }
    return cd_isa_selected;
}

/* Force one instruction set (tests run each); -1 if the CPU lacks it. */
static int cd_set_isa(int isa)
{
    if (isa < CD_ISA_BASE || isa > CD_ISA_AVX512 || !cd_isa_supported(isa))
        return -1;
    cd_isa_selected = isa;
    return 0;
}

/* Lanes of the vectors the selected instruction set uses for this element size. */
static int cd_lanes(int element_bytes)
{
    return (cd_isa() == CD_ISA_BASE ? 16 : 32) / element_bytes;
}

/* The forward tile shapes (FB, NR, NC) compiled for every type and instruction set, by FB; the
 * Cython side reads them through cd_forward_shape and chooses among them. */
#define CD_FORWARD_SHAPES(X) X(4, 3, 1) X(6, 2, 1) X(8, 3, 1) X(12, 2, 1)
#define CD_SHAPE_ROW(FB, NR, NC) {FB, NR, NC},
static const int cd_forward_shapes[][3] = {CD_FORWARD_SHAPES(CD_SHAPE_ROW)};
#undef CD_SHAPE_ROW

static int cd_forward_shape_count(void)
{
    return (int)(sizeof cd_forward_shapes / sizeof cd_forward_shapes[0]);
}

/* Shape k (0 <= k < cd_forward_shape_count()): FB, NR, NC. */
static const int *cd_forward_shape(int k)
{
    return cd_forward_shapes[k];
}

#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _base_f32))
#define CD_T float
#define CD_VEC cd_v4f
#define CD_TARGET
#include "conv_direct_kernel.h"

#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _base_f64))
#define CD_T double
#define CD_VEC cd_v2d
#define CD_TARGET
#include "conv_direct_kernel.h"

#if CD_X86
#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _avx2_f32))
#define CD_T float
#define CD_VEC cd_v8f
#define CD_TARGET __attribute__((target("avx2,fma")))
#include "conv_direct_kernel.h"

#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _avx2_f64))
#define CD_T double
#define CD_VEC cd_v4d
#define CD_TARGET __attribute__((target("avx2,fma")))
#include "conv_direct_kernel.h"

/* AVX-512VL with 256-bit vectors: the same lanes as AVX2, but 32 vector registers (bigger
 * tiles) and broadcasts folded into the FMAs. */
#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _avx512_f32))
#define CD_T float
#define CD_VEC cd_v8f
#define CD_TARGET __attribute__((target("avx512f,avx512vl,avx2,fma")))
#include "conv_direct_kernel.h"

#define CD_NAME(x) CD_CAT(cd_, CD_CAT(x, _avx512_f64))
#define CD_T double
#define CD_VEC cd_v4d
#define CD_TARGET __attribute__((target("avx512f,avx512vl,avx2,fma")))
#include "conv_direct_kernel.h"
#endif

/* The entry points the Cython module calls, per type: the selected instruction set's kernel.
 * Both return -1 for a block shape that has no kernel (a bug of the caller). */
#if CD_X86
#define CD_DISPATCH(SUFFIX, call)                                                       \
    (cd_isa() == CD_ISA_AVX512 ? CD_CAT(call, CD_CAT(_avx512_, SUFFIX))                  \
     : cd_isa() == CD_ISA_AVX2 ? CD_CAT(call, CD_CAT(_avx2_, SUFFIX))                    \
                               : CD_CAT(call, CD_CAT(_base_, SUFFIX)))
#else
#define CD_DISPATCH(SUFFIX, call) CD_CAT(call, CD_CAT(_base_, SUFFIX))
#endif

#define CD_ENTRY_POINTS(T, SUFFIX)                                                            \
    static int CD_CAT(cd_forward_, SUFFIX)(int fb, int nr, int nc, const T *xp, ptrdiff_t Hp,  \
                                           ptrdiff_t Wp, ptrdiff_t Cg, ptrdiff_t chunk,       \
                                           const T *wp, int KH, int KW, ptrdiff_t valid_top,  \
                                           ptrdiff_t valid_bottom, const T *bias, int nf,     \
                                           T *out, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t i0,  \
                                           ptrdiff_t i1, T *acc)                              \
    {                                                                                         \
        return CD_DISPATCH(SUFFIX, cd_forward)(fb, nr, nc, xp, Hp, Wp, Cg, chunk, wp, KH, KW, \
                                               valid_top, valid_bottom, bias, nf, out, OH,    \
                                               OW, i0, i1, acc);                              \
    }                                                                                         \
    static int CD_CAT(cd_wgrad_, SUFFIX)(int fbw, const T *xp, ptrdiff_t x_nstride,           \
                                         ptrdiff_t H, ptrdiff_t Wp, const T *dy,              \
                                         ptrdiff_t dy_nstride, ptrdiff_t dy_fstride,          \
                                         ptrdiff_t OH, ptrdiff_t OWp, ptrdiff_t N, int KH,    \
                                         int KW, int pt, int nf, T *dw, ptrdiff_t dw_fstride) \
    {                                                                                         \
        return CD_DISPATCH(SUFFIX, cd_wgrad)(fbw, xp, x_nstride, H, Wp, dy, dy_nstride,       \
                                             dy_fstride, OH, OWp, N, KH, KW, pt, nf, dw,      \
                                             dw_fstride);                                     \
    }

CD_ENTRY_POINTS(float, f32)
CD_ENTRY_POINTS(double, f64)
