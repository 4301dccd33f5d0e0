"""GEMM: minigrad's kernel next to torch.matmul, same shapes, same thread count.

Square sizes 64..2048 and the products that training the example CNN makes (im2col
convolutions and the linear layers, forward and both backward forms, batch 1 and 64). Each
group holds one minigrad case and its torch twin. Both write into a preallocated output.

    python -m pytest benchmarks/test_bench_gemm.py --benchmark-group-by=group
"""
import numpy as np
import pytest
import torch

from minigrad._kernels import gemm as kernel
from minigrad.threads import get_num_threads

SQUARE = [64, 128, 256, 512, 1024, 2048]

# (name, M, K, N, layout): layout says how A and B are stored, as the layers pass them: "nn"
# both row-major, "nt" B is a transposed view (x @ W.T, dY @ cols.T), "tn" A is a transposed
# view (W.T @ dY, dY.T @ x). Convolutions are im2col GEMMs: W (F, C*kh*kw) @ cols (C*kh*kw,
# N*OH*OW); batch 64 multiplies N or K by 64.
CNN = [
    ("conv1-fwd-b1", 32, 75, 1024, "nn"),
    ("conv1-wgrad-b1", 32, 1024, 75, "nt"),
    ("conv1-xgrad-b1", 75, 32, 1024, "tn"),
    ("conv2-fwd-b1", 32, 800, 256, "nn"),
    ("conv3-fwd-b1", 64, 800, 64, "nn"),
    ("linear1-fwd-b1", 1, 1024, 64, "nt"),
    ("linear1-xgrad-b1", 1, 64, 1024, "nn"),
    ("linear1-wgrad-b1", 64, 1, 1024, "tn"),
    ("linear2-fwd-b1", 1, 64, 10, "nt"),
    ("conv1-fwd-b64", 32, 75, 1024 * 64, "nn"),
    ("conv1-wgrad-b64", 32, 1024 * 64, 75, "nt"),
    ("conv1-xgrad-b64", 75, 32, 1024 * 64, "tn"),
    ("conv2-fwd-b64", 32, 800, 256 * 64, "nn"),
    ("linear1-fwd-b64", 64, 1024, 64, "nt"),
    ("linear1-wgrad-b64", 64, 64, 1024, "tn"),
]


def operands(m, k, n, layout, dtype=np.float32):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if layout == "tn" else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if layout == "nt" else (k, n)).astype(dtype)
    return (a.T if layout == "tn" else a), (b.T if layout == "nt" else b)


def run_case(benchmark, library, a, b):
    threads = get_num_threads()
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
    benchmark.extra_info.update(flops=flops, threads=threads)
    if library == "minigrad":
        benchmark(kernel.gemm, a, b, out, False, threads)
    else:
        torch.set_num_threads(threads)
        ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out)
        benchmark(torch.matmul, ta, tb, out=tout)
    rows = a[:8].astype(np.float64) @ b.astype(np.float64)  # a spot check of the result
    np.testing.assert_allclose(out[:8], rows, rtol=1e-3, atol=1e-3 * np.sqrt(a.shape[1]))


@pytest.mark.parametrize("library", ["minigrad", "torch"])
@pytest.mark.parametrize("n", SQUARE)
def test_gemm_square(benchmark, library, n):
    benchmark.group = f"gemm-{n}"
    run_case(benchmark, library, *operands(n, n, n, "nn"))


@pytest.mark.parametrize("library", ["minigrad", "torch"])
@pytest.mark.parametrize("name, m, k, n, layout", CNN, ids=[case[0] for case in CNN])
def test_gemm_cnn(benchmark, library, name, m, k, n, layout):
    benchmark.group = f"gemm-{name}-{m}x{k}x{n}"
    run_case(benchmark, library, *operands(m, k, n, layout))
