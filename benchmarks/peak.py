"""The machine's FP32 peak, measured by a tiny calibrated FMA loop.

A timed GEMM is not a peak (it measures a GEMM). The probe is a C loop of 12 independent
vector FMA chains (enough to cover the FMA latency on every current x86 core), compiled at run
time with the C compiler Python was built with and called through ctypes, which releases the
GIL. Each ISA the CPU supports (AVX-512F, AVX2+FMA) runs on one core; the best rate over a few
runs is the per-core peak, and the machine's peak for n threads is n times that.

The rate divides by the calling thread's CPU time (time.thread_time), not the wall time: on a
shared machine the probe's thread is often descheduled, and time spent waiting for a core is
not a property of the core. (Wall time there read anywhere between 40 and 117 GFLOP/s per core
on this machine; CPU time reads 116 every time.)

    flops per call = iterations * 12 chains * lanes * 2 (a fused multiply-add counts 2)

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

__all__ = ["measure_core_peak_gflops"]

CHAINS = 12

_SOURCE = r"""
#include <immintrin.h>
#include <stdint.h>

int has_avx512(void) { return __builtin_cpu_supports("avx512f"); }
int has_avx2_fma(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

#define CHAINS(V, SET1, FMA)                                                           \
    V a0 = SET1(x), a1 = SET1(x + 1), a2 = SET1(x + 2), a3 = SET1(x + 3);             \
    V a4 = SET1(x + 4), a5 = SET1(x + 5), a6 = SET1(x + 6), a7 = SET1(x + 7);         \
    V a8 = SET1(x + 8), a9 = SET1(x + 9), a10 = SET1(x + 10), a11 = SET1(x + 11);     \
    const V m = SET1(0.999999f), c = SET1(1e-7f);                                      \
    for (int64_t i = 0; i < iterations; i++) {                                         \
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);   \
        a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);   \
        a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c); \
    }

/* The chains start from different values so the compiler cannot merge them. */
__attribute__((target("avx512f")))
float fma_avx512(int64_t iterations, float x) {
    CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps)
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma")))
float fma_avx2(int64_t iterations, float x) {
    CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps)
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    return lanes[0];
}
"""

# (function, availability check, FP32 lanes per vector)
_VARIANTS = [("fma_avx512", "has_avx512", 16), ("fma_avx2", "has_avx2_fma", 8)]


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


def _rate(function, lanes: int, seconds: float, repeats: int) -> float:
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
            best = max(best, iterations * CHAINS * lanes * 2 / elapsed / 1e9)
    return best


def measure_core_peak_gflops(seconds: float = 0.02, repeats: int = 5):
    """FP32 GFLOP/s of one core at its widest FMA, or None if the probe cannot run here."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    with tempfile.TemporaryDirectory(prefix="minigrad-peak-") as directory:
        try:
            library = _compile(directory)
        except OSError:
            return None
        if library is None:
            return None
        best = 0.0
        for name, check, lanes in _VARIANTS:
            if not getattr(library, check)():
                continue
            function = getattr(library, name)
            function.restype = ctypes.c_float
            function.argtypes = [ctypes.c_int64, ctypes.c_float]
            best = max(best, _rate(function, lanes, seconds, repeats))
        return best or None
