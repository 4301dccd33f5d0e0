/* The instruction sets minigrad's kernels are compiled for, and which of them this CPU runs.
 *
 * Every kernel family (GEMM, convolution, optimizer updates) is compiled for the baseline ISA
 * of the platform plus, on x86-64, variants marked __attribute__((target(...))) for AVX2+FMA
 * and AVX-512 (F, VL, BW, DQ: the Skylake-server set, which Intel Xeons since 2017 and AMD
 * Zen 4 have). Which variant runs is chosen at run time, per family, by the Python layer
 * (minigrad.backends): this header only answers "does this CPU support it".
 */
#ifndef MINIGRAD_ISA_H
#define MINIGRAD_ISA_H

#if defined(__x86_64__) || defined(__i386__)
#define MG_X86 1
#else
#define MG_X86 0
#endif

enum { MG_ISA_BASE = 0, MG_ISA_AVX2 = 1, MG_ISA_AVX512 = 2, MG_ISA_COUNT = 3 };

static inline int mg_isa_supported(int isa)
{
#if MG_X86
    __builtin_cpu_init();
    if (isa == MG_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == MG_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == MG_ISA_BASE;
}

/* The widest instruction set this CPU supports. */
static inline int mg_isa_best(void)
{
    int isa = MG_ISA_AVX512;
    while (!mg_isa_supported(isa)) isa--;
    return isa;
}

#define MG_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MG_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/* A call of the variant for `isa` of a function compiled once per ISA under the names
 * prefix_base_name, prefix_avx2_name and prefix_avx512_name (the per-ISA bodies of
 * norm_rows.h and pool_nhwc.h): MG_DISPATCH(nr, isa, mean_f32, (x, M)). */
#define MG_CAT_(a, b) a##b
#define MG_CAT(a, b) MG_CAT_(a, b)
#if MG_X86
#define MG_DISPATCH(prefix, isa, name, args)                                                  \
    ((isa) == MG_ISA_AVX512 ? MG_CAT(prefix, MG_CAT(_avx512_, name)) args                     \
     : (isa) == MG_ISA_AVX2 ? MG_CAT(prefix, MG_CAT(_avx2_, name)) args                       \
                            : MG_CAT(prefix, MG_CAT(_base_, name)) args)
#else
#define MG_DISPATCH(prefix, isa, name, args) MG_CAT(prefix, MG_CAT(_base_, name)) args
#endif

#endif
