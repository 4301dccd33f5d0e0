"""NumPy twin of minigrad._kernels.gemm: the same functions and arguments, less num_threads.

    out[i, j] (+)= sum_p a[i, p] * b[p, j]

Slow-and-obvious is the point: tests hold the Cython kernel to these.
"""
import numpy as np

__all__ = ["gemm", "gemm_batched"]


def gemm(a, b, out, accumulate):
    """out = a @ b, or out += a @ b when accumulate. a: (M, K), b: (K, N), out: (M, N)."""
    product = np.matmul(a, b)
    if accumulate:
        out += product
    else:
        out[...] = product


def gemm_batched(a, b, out, accumulate):
    """out[t] = a[t] @ b[t], or out[t] += a[t] @ b[t]. a: (B, M, K), b: (B, K, N)."""
    product = np.matmul(a, b)
    if accumulate:
        out += product
    else:
        out[...] = product
