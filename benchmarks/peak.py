"""The machine's FP32 peak, measured by a tiny calibrated FMA loop.

A timed GEMM is not a peak (it measures a GEMM). The probe is a C loop of independent vector
FMA chains (16 of 512 bits, 12 of 256: as many as the registers hold), compiled at run time
with the C compiler Python was built with and called through ctypes, which releases the GIL.
That covers the FMA latency (4 cycles) times the FMA units of every current x86 core: two
512-bit units on Intel Xeons since Skylake-SP (Gold 6xxx, Platinum, Sapphire/Emerald Rapids),
two 256-bit pipes that run a 512-bit FMA as two halves on AMD Zen 4. Each width the CPU
supports (512-bit AVX-512F, 256-bit AVX2+FMA) runs on one core; `measure_core_peaks` reports
both (on Zen 4 they agree; on a two-unit Intel core the 512-bit one is about twice the 256-bit
one, a little less as 512-bit code runs at a lower clock; on a one-unit Xeon they agree), and
the per-core peak is the better one over a few runs. The machine's peak for n threads is n
times that.

The rate divides by the calling thread's CPU time (time.thread_time), not the wall time: on a
shared machine the probe's thread is often descheduled, and time spent waiting for a core is
not a property of the core. (On a Zen 4 host wall time read anywhere between 40 and 117 GFLOP/s
per core; CPU time read 116 every time. On an Emerald Rapids host: 215 at 512 bits, 114 at
256.)

    flops per call = iterations * chains * lanes * 2 (a fused multiply-add counts 2)

``measure_core_peak_gflops`` returns None when no compiler is available or the CPU is not x86:
the caller then asks for ``--peak-gflops``.
"""
import ctypes
import os
import platform
import shutil
import subprocess
import sysconfig
import tempfile
import time

__all__ = ["measure_core_peak_gflops", "measure_core_peaks"]


_SOURCE = r"""
#include <immintrin.h>
#include <stdint.h>

int has_avx512(void) { return __builtin_cpu_supports("avx512f"); }
int has_avx2_fma(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

/* N chains in registers (an array indexed by constants after unrolling); they start from
   different values so the compiler cannot merge them, and their sum is returned so that it
   cannot drop them. N + 2 registers: 16 chains with AVX-512's 32, 12 with AVX2's 16. */
#define CHAINS(N, V, SET1, FMA, ADD)                                                   \
    V a[N];                                                                            \
    _Pragma("GCC unroll 16") for (int j = 0; j < N; j++) a[j] = SET1(x + j);           \
    const V m = SET1(0.999999f), c = SET1(1e-7f);                                      \
    for (int64_t i = 0; i < iterations; i++) {                                         \
        _Pragma("GCC unroll 16") for (int j = 0; j < N; j++) a[j] = FMA(a[j], m, c);   \
    }                                                                                  \
    _Pragma("GCC unroll 16") for (int j = 1; j < N; j++) a[0] = ADD(a[0], a[j]);

__attribute__((target("avx512f")))
float fma_avx512(int64_t iterations, float x) {
    CHAINS(16, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
    return _mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2,fma")))
float fma_avx2(int64_t iterations, float x) {
    CHAINS(12, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)
    float lanes[8];
    _mm256_storeu_ps(lanes, a[0]);
    return lanes[0];
}
"""

# (function, availability check, FP32 lanes per vector, chains)
_VARIANTS = [("fma_avx512", "has_avx512", 16, 16), ("fma_avx2", "has_avx2_fma", 8, 12)]


def _compile(directory: str):
    """Build the probe as a shared library; None when that is not possible here."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return None
    source = os.path.join(directory, "fma_probe.c")
    library = os.path.join(directory, "fma_probe.so")
    with open(source, "w") as f:
        f.write(_SOURCE)
    result = subprocess.run([compiler, "-O2", "-shared", "-fPIC", source, "-o", library],
                            capture_output=True)
    return ctypes.CDLL(library) if result.returncode == 0 else None


def _rate(function, lanes: int, chains: int, seconds: float, repeats: int) -> float:
    """Best GFLOP/s of one core over ``repeats`` runs of about ``seconds`` of CPU time each."""
    iterations = 100_000
    start = time.thread_time()
    function(iterations, 1.0)
    elapsed = max(time.thread_time() - start, 1e-6)
    iterations = max(iterations, int(iterations * seconds / elapsed))
    best = 0.0
    for _ in range(repeats):
        start = time.thread_time()
        function(iterations, 1.0)
        elapsed = time.thread_time() - start
        if elapsed > 0:
            best = max(best, iterations * chains * lanes * 2 / elapsed / 1e9)
    return best


def measure_core_peaks(seconds: float = 0.02, repeats: int = 5) -> dict:
    """FP32 GFLOP/s of one core per vector width this CPU has: {'avx512': .., 'avx2': ..};
    empty when the probe cannot run here (no compiler, not x86)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return {}
    with tempfile.TemporaryDirectory(prefix="minigrad-peak-") as directory:
        try:
            library = _compile(directory)
        except OSError:
            return {}
        if library is None:
            return {}
        rates = {}
        for name, check, lanes, chains in _VARIANTS:
            if not getattr(library, check)():
                continue
            function = getattr(library, name)
            function.restype = ctypes.c_float
            function.argtypes = [ctypes.c_int64, ctypes.c_float]
            rates[name.replace("fma_", "")] = _rate(function, lanes, chains, seconds, repeats)
        return rates


def measure_core_peak_gflops(seconds: float = 0.02, repeats: int = 5):
    """FP32 GFLOP/s of one core at its best vector width, or None if the probe cannot run."""
    return max(measure_core_peaks(seconds, repeats).values(), default=None)
