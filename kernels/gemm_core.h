/* minigrad's GEMM in C: per-thread scratch buffers, the choice of instruction set, and the
 * blocked algorithm for float and double (gemm_dtype.h, included once per type).
 *
 * Compiled for the baseline ISA; the AVX2 and AVX-512 micro-kernels carry
 * __attribute__((target(...))) and are chosen once, at run time, from what the CPU supports.
 * Entry points: gemm_serial_f32 / gemm_serial_f64 (one thread's share of C = A @ B),
 * gemm_tile_f32 / gemm_tile_f64 (a product's register tile, for splitting it between threads),
 * gemm_isa / gemm_set_isa (which micro-kernel runs; tests force each in turn).
 */
#ifndef MINIGRAD_GEMM_CORE_H
#define MINIGRAD_GEMM_CORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)

#include "isa.h"
#define GEMM_X86 MG_X86

/* A product with column-major B runs as dot products, without packing, up to this many rows
 * of A, or when A is row-major and C is small next to K: m n < GEMM_DOT_RATIO (m + n) (packing
 * costs about (m + n) k, its gain over the dot products about m n k / GEMM_DOT_RATIO; measured). */
#define GEMM_DOT_ROWS 4
#define GEMM_DOT_RATIO 14
/* Typical per-core caches: L1 data 32-48 KB, L2 1-2 MB (AMD Zen 4, recent Intel). */
#define GEMM_L1_BYTES (32 << 10)
#define GEMM_L2_BYTES (1 << 20)
#define GEMM_SMALL_B_BYTES (64 << 10)
/* Row-major A and B are read in place, not packed, when B has at most this many bytes
 * (gemm_direct in gemm_dtype.h). */
#define GEMM_DIRECT_MAX_B_BYTES (GEMM_L2_BYTES / 2)
/* ... and pack B all the same when its rows straddle cache lines and C has this many rows */
#define GEMM_DIRECT_PACK_B_ROWS 128

enum { GEMM_ISA_BASE = MG_ISA_BASE, GEMM_ISA_AVX2 = MG_ISA_AVX2, GEMM_ISA_AVX512 = MG_ISA_AVX512,
       GEMM_ISA_COUNT = MG_ISA_COUNT };

/* The micro-kernels' instruction set; -1 until the first call takes the widest (a benign
 * race: every thread computes the same answer). */
static int gemm_isa_selected = -1;

static inline int gemm_isa(void)
{
    if (gemm_isa_selected < 0) gemm_isa_selected = mg_isa_best();
    return gemm_isa_selected;
}

/* Force one instruction set (-1: the widest again); returns 0, or -1 if this CPU lacks it. */
static int gemm_set_isa(int isa)
{
    if (isa < 0) {
        gemm_isa_selected = mg_isa_best();
        return 0;
    }
    if (isa >= GEMM_ISA_COUNT || !mg_isa_supported(isa)) return -1;
    gemm_isa_selected = isa;
    return 0;
}

/* The size of blocks that cut `size` into as few pieces of at most `max` as possible, all
 * equal up to rounding to a multiple of `unit`. */
static inline ptrdiff_t gemm_even_block(ptrdiff_t size, ptrdiff_t max, ptrdiff_t unit)
{
    const ptrdiff_t blocks = (size + max - 1) / max;
    const ptrdiff_t block = (size + blocks - 1) / blocks;
    return (block + unit - 1) / unit * unit;
}

/* Scratch for packed panels: one 64-byte aligned buffer per OS thread (OpenMP workers persist,
 * so it is allocated once and reused), grown on demand, freed when the thread exits. */
static pthread_key_t gemm_buffer_key;
static pthread_once_t gemm_buffer_once = PTHREAD_ONCE_INIT;
static __thread char *gemm_buffer_data = NULL;
static __thread size_t gemm_buffer_size = 0;

static void gemm_buffer_make_key(void) { pthread_key_create(&gemm_buffer_key, free); }

static void *gemm_thread_buffer(size_t bytes)
{
    if (bytes > gemm_buffer_size) {
        pthread_once(&gemm_buffer_once, gemm_buffer_make_key);
        size_t size = (bytes + 4095) / 4096 * 4096;
        char *data = NULL;
        if (posix_memalign((void **)&data, 64, size) != 0) return NULL;
        free(gemm_buffer_data);
        gemm_buffer_data = data;
        gemm_buffer_size = size;
        pthread_setspecific(gemm_buffer_key, data);
    }
    return gemm_buffer_data;
}

#if GEMM_X86
#include <immintrin.h>

/* Transposing copies for packing: dst[k * W + j] = src[j * lane + k] for k < kc / 8 * 8 (float;
 * kc / 4 * 4 for double) and for the lanes j < the returned count (width rounded down to a
 * multiple of 4); the caller copies the remainders. Register transposes make this several
 * times faster than a scalar loop; it is the packing that a transposed operand (x.T, cols.T)
 * and a row-major A need. */
static __attribute__((target("avx2"))) int
gemm_transpose_blocks_avx2_f32(ptrdiff_t kc, int width, int W, const float *src, ptrdiff_t lane,
                               float *dst)
{
    int j0 = 0;
    for (; j0 + 8 <= width; j0 += 8) {
        const float *s = src + j0 * lane;
        for (ptrdiff_t k0 = 0; k0 + 8 <= kc; k0 += 8) {
            __m256 r0 = _mm256_loadu_ps(s + 0 * lane + k0), r1 = _mm256_loadu_ps(s + 1 * lane + k0);
            __m256 r2 = _mm256_loadu_ps(s + 2 * lane + k0), r3 = _mm256_loadu_ps(s + 3 * lane + k0);
            __m256 r4 = _mm256_loadu_ps(s + 4 * lane + k0), r5 = _mm256_loadu_ps(s + 5 * lane + k0);
            __m256 r6 = _mm256_loadu_ps(s + 6 * lane + k0), r7 = _mm256_loadu_ps(s + 7 * lane + k0);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            /* s_c holds column k0+c of rows 0-3 (low half) and column k0+c+4 (high half) */
            __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + k0 * W + j0;
            _mm256_storeu_ps(d + 0 * W, _mm256_permute2f128_ps(s0, s4, 0x20));
            _mm256_storeu_ps(d + 1 * W, _mm256_permute2f128_ps(s1, s5, 0x20));
            _mm256_storeu_ps(d + 2 * W, _mm256_permute2f128_ps(s2, s6, 0x20));
            _mm256_storeu_ps(d + 3 * W, _mm256_permute2f128_ps(s3, s7, 0x20));
            _mm256_storeu_ps(d + 4 * W, _mm256_permute2f128_ps(s0, s4, 0x31));
            _mm256_storeu_ps(d + 5 * W, _mm256_permute2f128_ps(s1, s5, 0x31));
            _mm256_storeu_ps(d + 6 * W, _mm256_permute2f128_ps(s2, s6, 0x31));
            _mm256_storeu_ps(d + 7 * W, _mm256_permute2f128_ps(s3, s7, 0x31));
        }
    }
    if (j0 + 4 <= width) {  /* four more lanes (the 12-row panels of A): 4 x 4 transposes */
        const float *s = src + j0 * lane;
        for (ptrdiff_t k0 = 0; k0 < kc / 8 * 8; k0 += 4) {
            __m128 r0 = _mm_loadu_ps(s + 0 * lane + k0), r1 = _mm_loadu_ps(s + 1 * lane + k0);
            __m128 r2 = _mm_loadu_ps(s + 2 * lane + k0), r3 = _mm_loadu_ps(s + 3 * lane + k0);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            float *d = dst + k0 * W + j0;
            _mm_storeu_ps(d + 0 * W, r0);
            _mm_storeu_ps(d + 1 * W, r1);
            _mm_storeu_ps(d + 2 * W, r2);
            _mm_storeu_ps(d + 3 * W, r3);
        }
        j0 += 4;
    }
    return j0;
}

static __attribute__((target("avx2"))) int
gemm_transpose_blocks_avx2_f64(ptrdiff_t kc, int width, int W, const double *src,
                               ptrdiff_t lane, double *dst)
{
    int j0 = 0;
    for (; j0 + 4 <= width; j0 += 4) {
        const double *s = src + j0 * lane;
        for (ptrdiff_t k0 = 0; k0 + 4 <= kc; k0 += 4) {
            __m256d r0 = _mm256_loadu_pd(s + 0 * lane + k0);
            __m256d r1 = _mm256_loadu_pd(s + 1 * lane + k0);
            __m256d r2 = _mm256_loadu_pd(s + 2 * lane + k0);
            __m256d r3 = _mm256_loadu_pd(s + 3 * lane + k0);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            double *d = dst + k0 * W + j0;
            _mm256_storeu_pd(d + 0 * W, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(d + 1 * W, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(d + 2 * W, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(d + 3 * W, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    return j0;
}
#endif

/* vector types; the aligned(...) lowers their alignment so loads and stores may be unaligned */
typedef float gemm_v16f __attribute__((vector_size(64), aligned(4)));
typedef float gemm_v8f __attribute__((vector_size(32), aligned(4)));
typedef float gemm_v4f __attribute__((vector_size(16), aligned(4)));
typedef double gemm_v8d __attribute__((vector_size(64), aligned(8)));
typedef double gemm_v4d __attribute__((vector_size(32), aligned(8)));
typedef double gemm_v2d __attribute__((vector_size(16), aligned(8)));

#define GEMM_T float
#define GEMM_SUFFIX f32
#define GEMM_VEC_AVX512 gemm_v16f
#define GEMM_VEC_AVX2 gemm_v8f
#define GEMM_VEC_BASE gemm_v4f
#define GEMM_AVX512_MR 12
#define GEMM_AVX512_WIDE_MR 6
#define GEMM_KC 384
#include "gemm_dtype.h"
#undef GEMM_KC
#undef GEMM_T
#undef GEMM_SUFFIX
#undef GEMM_VEC_AVX512
#undef GEMM_VEC_AVX2
#undef GEMM_VEC_BASE
#undef GEMM_AVX512_MR
#undef GEMM_AVX512_WIDE_MR

#define GEMM_T double
#define GEMM_SUFFIX f64
#define GEMM_VEC_AVX512 gemm_v8d
#define GEMM_VEC_AVX2 gemm_v4d
#define GEMM_VEC_BASE gemm_v2d
#define GEMM_AVX512_MR 12
#define GEMM_AVX512_WIDE_MR 6
#define GEMM_KC 192
#include "gemm_dtype.h"
#undef GEMM_KC
#undef GEMM_T
#undef GEMM_SUFFIX
#undef GEMM_VEC_AVX512
#undef GEMM_VEC_AVX2
#undef GEMM_VEC_BASE
#undef GEMM_AVX512_MR
#undef GEMM_AVX512_WIDE_MR

/* The register tile, rows x columns, that gemm_serial uses for a whole product of k x n B with
 * these column strides of A and B: threads split C on whole tiles of it, so that each thread
 * runs the tiles the whole product would. */
static void gemm_tile_f32(ptrdiff_t k, ptrdiff_t n, ptrdiff_t csa, ptrdiff_t csb, int *mr,
                          int *nr)
{
    const gemm_config_f32 *cfg = gemm_get_config_f32();
    const gemm_direct_tile_f32 *tile = gemm_direct_tile_for_f32(cfg, k);
    const int direct = gemm_takes_direct_f32(cfg, k, csa, csb, n);
    *mr = direct ? tile->mr : cfg->mr;
    *nr = direct ? tile->nr : cfg->nr;
}

static void gemm_tile_f64(ptrdiff_t k, ptrdiff_t n, ptrdiff_t csa, ptrdiff_t csb, int *mr,
                          int *nr)
{
    const gemm_config_f64 *cfg = gemm_get_config_f64();
    const gemm_direct_tile_f64 *tile = gemm_direct_tile_for_f64(cfg, k);
    const int direct = gemm_takes_direct_f64(cfg, k, csa, csb, n);
    *mr = direct ? tile->mr : cfg->mr;
    *nr = direct ? tile->nr : cfg->nr;
}

#endif
