/* The micro-kernels of one instruction set for one data type. Included by gemm_dtype.h, once
 * per instruction set, with GEMM_T and GEMM_NAME set and
 *   ISA_NAME     the instruction set's part of the names: avx512, avx2 or base
 *   ISA_VEC      a GCC vector type of GEMM_T
 *   ISA_MR       rows of the register tile (two vectors wide)
 *   ISA_WIDE_MR  (optional) rows of a tile four vectors wide for the kernels that read A in
 *                place (and of its two-vector narrow twin)
 *   ISA_DOT_MR   rows of the dot-product kernel's tile (2 or 4)
 *   ISA_TARGET   function attributes (target(...)), or empty
 * It defines gemm_microkernel_<isa>, its one-vector (narrow) twin for last columns that fit in
 * half a tile, the same two reading A in place (gemm_microkernel_<isa>_direct[_narrow], see
 * gemm_direct in gemm_dtype.h), with ISA_WIDE_MR a wide pair of those too
 * (gemm_microkernel_<isa>_direct_wide[_narrow]), each suffixed by the type (_f32 / _f64), and
 * gemm_dot_<isa>.
 */
#define ISA_KERNEL(variant) GEMM_NAME(GEMM_CAT(gemm_microkernel_, GEMM_CAT(ISA_NAME, variant)))

#define MK_NAME ISA_KERNEL()
#define MK_DOT_NAME GEMM_NAME(GEMM_CAT(gemm_dot_, ISA_NAME))
#define MK_DOT_MR ISA_DOT_MR
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_MR
#define MK_NV 2
#define MK_TARGET ISA_TARGET
#include "gemm_microkernel.h"

#define MK_NAME ISA_KERNEL(_narrow)
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_MR
#define MK_NV 1
#define MK_TARGET ISA_TARGET
#include "gemm_microkernel.h"

#define MK_NAME ISA_KERNEL(_direct)
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_MR
#define MK_NV 2
#define MK_TARGET ISA_TARGET
#define MK_A_IN_PLACE 1
#include "gemm_microkernel.h"

#define MK_NAME ISA_KERNEL(_direct_narrow)
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_MR
#define MK_NV 1
#define MK_TARGET ISA_TARGET
#define MK_A_IN_PLACE 1
#include "gemm_microkernel.h"

#ifdef ISA_WIDE_MR
#define MK_NAME ISA_KERNEL(_direct_wide)
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_WIDE_MR
#define MK_NV 4
#define MK_TARGET ISA_TARGET
#define MK_A_IN_PLACE 1
#include "gemm_microkernel.h"

#define MK_NAME ISA_KERNEL(_direct_wide_narrow)
#define MK_T GEMM_T
#define MK_VEC ISA_VEC
#define MK_MR ISA_WIDE_MR
#define MK_NV 2
#define MK_TARGET ISA_TARGET
#define MK_A_IN_PLACE 1
#include "gemm_microkernel.h"
#endif

#undef ISA_KERNEL
#undef ISA_NAME
#undef ISA_VEC
#undef ISA_MR
#undef ISA_WIDE_MR
#undef ISA_DOT_MR
#undef ISA_TARGET
