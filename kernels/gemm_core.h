/* minigrad's GEMM in C: per-thread scratch buffers, the choice of instruction set, and the
 * blocked algorithm for float and double (gemm_dtype.h, included once per type).
 *
 * Compiled for the baseline ISA; the AVX2 and AVX-512 micro-kernels carry
 * __attribute__((target(...))) and are chosen once, at run time, from what the CPU supports.
 * Public names: gemm_serial_f32 / gemm_serial_f64 (one thread's share of C = A @ B),
 * gemm_config_f32 / gemm_config_f64 (tile sizes, for splitting work between threads),
 * gemm_isa / gemm_set_isa (which micro-kernel runs; tests force each in turn).
 */
#ifndef MINIGRAD_GEMM_CORE_H
#define MINIGRAD_GEMM_CORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#else
#define GEMM_X86 0
#endif

enum { GEMM_ISA_BASE = 0, GEMM_ISA_AVX2 = 1, GEMM_ISA_AVX512 = 2, GEMM_ISA_COUNT = 3 };

/* -1 until the first call decides; a benign race (every thread computes the same answer) */
static int gemm_isa_selected = -1;

static int gemm_isa_supported(int isa)
{
#if GEMM_X86
    __builtin_cpu_init();
    if (isa == GEMM_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    if (isa == GEMM_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == GEMM_ISA_BASE;
}

static inline int gemm_isa(void)
{
    if (gemm_isa_selected < 0) {
        int isa = GEMM_ISA_AVX512;
        while (!gemm_isa_supported(isa)) isa--;
        gemm_isa_selected = isa;
    }
    return gemm_isa_selected;
}

/* Force one instruction set (tests and benchmarks); returns 0, or -1 if this CPU lacks it. */
static int gemm_set_isa(int isa)
{
    if (isa < 0 || isa >= GEMM_ISA_COUNT || !gemm_isa_supported(isa)) return -1;
    gemm_isa_selected = isa;
    return 0;
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
#include "gemm_dtype.h"
#undef GEMM_T
#undef GEMM_SUFFIX
#undef GEMM_VEC_AVX512
#undef GEMM_VEC_AVX2
#undef GEMM_VEC_BASE
#undef GEMM_AVX512_MR

#define GEMM_T double
#define GEMM_SUFFIX f64
#define GEMM_VEC_AVX512 gemm_v8d
#define GEMM_VEC_AVX2 gemm_v4d
#define GEMM_VEC_BASE gemm_v2d
#define GEMM_AVX512_MR 12
#include "gemm_dtype.h"
#undef GEMM_T
#undef GEMM_SUFFIX
#undef GEMM_VEC_AVX512
#undef GEMM_VEC_AVX2
#undef GEMM_VEC_BASE
#undef GEMM_AVX512_MR

static void gemm_tile_f32(int *mr, int *nr) { *mr = gemm_get_config_f32()->mr; *nr = gemm_get_config_f32()->nr; }
static void gemm_tile_f64(int *mr, int *nr) { *mr = gemm_get_config_f64()->mr; *nr = gemm_get_config_f64()->nr; }

#endif
