"""The CPU's instruction sets, as kernels/isa.h sees them, and the names every kernel module's
get_isa / set_isa use for them: 'base' (the platform's baseline), 'avx2' (AVX2 + FMA) and
'avx512' (AVX-512 F/VL/BW/DQ + FMA)."""

cdef extern from "isa.h" nogil:
    int MG_ISA_BASE, MG_ISA_AVX2, MG_ISA_AVX512
    int mg_isa_supported(int isa)
    int mg_isa_best()

ISA_NAMES = {MG_ISA_BASE: "base", MG_ISA_AVX2: "avx2", MG_ISA_AVX512: "avx512"}


def supported_isas():
    """The instruction sets this CPU runs, widest first."""
    return [ISA_NAMES[code] for code in (MG_ISA_AVX512, MG_ISA_AVX2, MG_ISA_BASE)
            if mg_isa_supported(code)]


def best_isa():
    """The widest instruction set this CPU runs."""
    return ISA_NAMES[mg_isa_best()]


def isa_code(name):
    """The code (kernels/isa.h) of the instruction set `name`, or of the widest for None;
    ValueError for an unknown name, RuntimeError for one this CPU lacks."""
    if name is None:
        return mg_isa_best()
    codes = {isa: code for code, isa in ISA_NAMES.items()}
    if name not in codes:
        raise ValueError(f"unknown instruction set {name!r}; expected one of {sorted(codes)}")
    if not mg_isa_supported(codes[name]):
        raise RuntimeError(f"this CPU does not support {name}")
    return codes[name]
