"""The GEMM kernel against its NumPy twin and torch.matmul.

Sizes cover the empty, single and odd cases and several cache blocks; operands come as
contiguous arrays, transposed views, strided slices, negative strides, read-only arrays and
zero-stride broadcasts; every micro-kernel this CPU supports runs (base, avx2, avx512).
"""
import itertools

import numpy as np
import pytest
import torch

from minigrad._kernels import gemm as kernel
from minigrad.reference import gemm as twin


DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}
ODD_SIZES = [0, 1, 7, 33, 257]


@pytest.fixture(params=kernel.supported_isas())
def isa(request):
    previous = kernel.get_isa()
    kernel.set_isa(request.param)
    yield request.param
    kernel.set_isa(previous)


def random(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def check_gemm(a, b, dtype, num_threads, accumulate=False):
    """Kernel == twin, and twin == torch.matmul (computed in float64)."""
    m, n = a.shape[0], b.shape[1]
    start = random((m, n), dtype, 99)
    out, expected = start.copy(), start.copy()
    kernel.gemm(a, b, out, accumulate, num_threads)
    twin.gemm(a, b, expected, accumulate)
    np.testing.assert_allclose(out, expected, **TOLERANCE[dtype])
    reference = torch.matmul(torch.from_numpy(np.array(a, np.float64)),
                             torch.from_numpy(np.array(b, np.float64))).numpy()
    if accumulate:
        reference += start
    np.testing.assert_allclose(out, reference, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_odd_sizes(dtype, num_threads):
    for m, k, n in itertools.product(ODD_SIZES, repeat=3):
        a = random((m, k), dtype, 1)
        check_gemm(a, random((k, n), dtype, 2), dtype, num_threads)
        check_gemm(a, random((n, k), dtype, 3).T, dtype, num_threads)  # as x @ W.T


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_every_isa(isa, dtype, num_threads):
    for rows in range(1, 17):  # every row count of the micro-kernel's tail
        check_gemm(random((rows, 19), dtype, rows), random((19, 40), dtype, 1), dtype, num_threads)
    for rows in range(1, 10):  # few rows and a transposed B: the dot-product kernel
        b_t = random((37, 19), dtype, 2).T
        check_gemm(random((rows, 19), dtype, 3), b_t, dtype, num_threads)
        check_gemm(random((19, rows), dtype, 4).T, b_t, dtype, num_threads, accumulate=True)
    for m, k, n in [(1, 1, 1), (7, 33, 257), (257, 7, 33), (13, 300, 31), (40, 17, 100)]:
        check_gemm(random((m, k), dtype, 5), random((k, n), dtype, 6), dtype, num_threads)
        check_gemm(random((k, m), dtype, 7).T, random((n, k), dtype, 8).T, dtype, num_threads,
                   accumulate=True)


def at_offset(x, offset_bytes):
    """A C-contiguous copy of x whose data starts `offset_bytes` past a 64-byte boundary."""
    items = offset_bytes // x.itemsize
    buffer = np.empty(x.size + 64 // x.itemsize + items, x.dtype)
    start = (-buffer.ctypes.data % 64) // x.itemsize + items
    copy = buffer[start:start + x.size].reshape(x.shape)
    copy[...] = x
    return copy


# Row-major A and B with B of at most 512 KB and K of at most one K slice (384 float32, 192
# float64) are read in place (the GEMM's direct path), others packed: (m, k, n) on both sides
# of those bounds for each dtype, rows of C on both sides of 128 (where a B whose rows
# straddle cache lines gets packed), column counts that leave a partial last panel, narrow or
# wide, for every ISA's tile; K on both sides of 128, up to which AVX-512 reads A in place on
# its wide tile (6 rows x 4 vectors), with row counts that leave 1 to 5 rows in the last
# tile.
DIRECT_EDGE_SHAPES = {
    np.float32: [(7, 384, 341), (7, 384, 342), (13, 384, 128), (13, 385, 128)],
    np.float64: [(7, 192, 341), (7, 192, 342), (13, 192, 128), (13, 193, 128)],
}
DIRECT_SHAPES = [(127, 40, 64), (128, 40, 64), (129, 33, 70), (64, 64, 64), (13, 17, 45),
                 (2, 70, 9), (200, 96, 130), (37, 128, 100), (37, 129, 100), (131, 128, 160),
                 (8, 128, 64), (62, 2, 65), (15, 127, 200)]
# Products whose thread split would cut through the wide tile's columns if the threads split
# on the tall tile (12 x 2 vectors): a last tile of 2 rows then sums in another order.
WIDE_TILE_SPLIT_SHAPES = {np.float32: [(14, 128, 320)], np.float64: [(14, 128, 336)]}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_direct_and_packed_paths(isa, dtype, num_threads):
    """Kernel == twin == torch on both sides of the direct path's bounds, B on and off cache
    lines, every ISA, overwriting and accumulating."""
    for m, k, n in DIRECT_EDGE_SHAPES[dtype] + DIRECT_SHAPES:
        a, b = random((m, k), dtype, m), random((k, n), dtype, n)
        for b_offset in (0, 16):
            operand = at_offset(b, b_offset)
            check_gemm(a, operand, dtype, num_threads)
            check_gemm(at_offset(a, 8), operand, dtype, num_threads, accumulate=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_direct_path_bits_do_not_depend_on_threads_or_alignment(dtype):
    """The direct path packs a misaligned B or reads it in place: same panels, same bits; and
    threads split C on whole tiles."""
    for m, k, n in DIRECT_SHAPES + WIDE_TILE_SPLIT_SHAPES[dtype] + [(256, 256, 256)]:
        a, b = random((m, k), dtype, 1), random((k, n), dtype, 2)
        results = []
        for b_offset in (0, 16):
            for threads in (1, 2, 3):
                out = np.empty((m, n), dtype)
                kernel.gemm(a, at_offset(b, b_offset), out, False, threads)
                results.append(out)
        for other in results[1:]:
            np.testing.assert_array_equal(other, results[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_several_cache_blocks(dtype, num_threads):
    """K beyond one KC slice, N beyond one NC block, M beyond one MC block."""
    for m, k, n in [(5, 3000, 9), (3, 20, 4500), (700, 30, 20), (130, 600, 150), (33, 1, 1030)]:
        check_gemm(random((m, k), dtype, 5), random((k, n), dtype, 6), dtype, num_threads)
        check_gemm(random((m, k), dtype, 5), random((k, n), dtype, 6), dtype, num_threads,
                   accumulate=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_strided_operands(dtype, num_threads):
    a = random((90, 70), dtype, 7)
    b = random((80, 60), dtype, 8)
    cases = [
        (a[:33, :41], b[:41, :57]),                    # slices of larger arrays
        (a.T[:50, :33], b.T[:33, :41]),                 # transposed views
        (a[::2, ::3], b[::3, ::2][:24]),                # steps in both dimensions
        (a[::-1, ::-1][:20], b[::-1][:70]),             # negative strides
        (np.broadcast_to(a[0], (30, 70)), b[:70]),      # zero row stride
        (a[:, :60], np.broadcast_to(b[:60, :1], (60, 40))),  # zero column stride
        (a[:, 5:6], b[7:8, ::-2]),                      # an outer product of strided vectors
    ]
    for left, right in cases:
        check_gemm(left, right, dtype, num_threads)
        check_gemm(left, right, dtype, num_threads, accumulate=True)


def test_read_only_inputs():
    a, b = random((20, 30), np.float32, 9), random((30, 40), np.float32, 10)
    a.flags.writeable = False
    b.flags.writeable = False
    check_gemm(a, b, np.float32, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_threads", [1, 2])
def test_batched(dtype, num_threads):
    for batch, m, k, n in [(1, 33, 17, 65), (2, 7, 33, 9), (3, 40, 40, 40), (9, 5, 3, 7),
                           (0, 3, 3, 3), (4, 0, 3, 3), (4, 3, 0, 3), (2, 1, 257, 1)]:
        a = random((batch, m, k), dtype, 11)
        b = random((batch, k, n), dtype, 12)
        operands = [
            (a, b),
            (a.transpose(0, 2, 1).copy().transpose(0, 2, 1), b.transpose(0, 2, 1).copy()
             .transpose(0, 2, 1)),
            (np.broadcast_to(a[:1], a.shape), b),       # zero batch stride
            (a, np.broadcast_to(b[:1], b.shape)),
        ]
        for left, right in operands:
            for accumulate in (False, True):
                start = random((batch, m, n), dtype, 13)
                out, expected = start.copy(), start.copy()
                kernel.gemm_batched(left, right, out, accumulate, num_threads)
                twin.gemm_batched(left, right, expected, accumulate)
                np.testing.assert_allclose(out, expected, **TOLERANCE[dtype])
                reference = torch.matmul(torch.from_numpy(np.array(left, np.float64)),
                                         torch.from_numpy(np.array(right, np.float64))).numpy()
                if accumulate:
                    reference += start
                np.testing.assert_allclose(out, reference, **TOLERANCE[dtype])


@pytest.mark.parametrize("num_threads", [1, 2])
def test_cnn_shapes(num_threads):
    """The shapes batch-1 and batch-4 training of the example CNN produces (im2col GEMMs)."""
    shapes = [(32, 75, 1024), (32, 800, 256), (64, 800, 64), (1, 1024, 64), (1, 64, 10),
              (4, 1024, 64), (32, 75, 4096)]
    for m, k, n in shapes:
        a, b = random((m, k), np.float32, 14), random((k, n), np.float32, 15)
        check_gemm(a, b, np.float32, num_threads)
        check_gemm(random((m, n), np.float32, 16), b.T, np.float32, num_threads)  # dY @ cols.T
        check_gemm(a.T, random((m, n), np.float32, 17), np.float32, num_threads)  # W.T @ dY


def test_bad_operands_raise():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    out = np.zeros((2, 4), np.float32)
    with pytest.raises(TypeError):  # mixed dtypes
        kernel.gemm(a.astype(np.float64), b, out, False, 1)
    with pytest.raises(TypeError):  # integers
        kernel.gemm(a.astype(np.int64), b.astype(np.int64), out.astype(np.int64), False, 1)
    with pytest.raises(ValueError):  # inner sizes differ
        kernel.gemm(a, np.ones((4, 4), np.float32), out, False, 1)
    with pytest.raises(ValueError):  # wrong output shape
        kernel.gemm(a, b, np.zeros((2, 5), np.float32), False, 1)
    with pytest.raises(ValueError):  # output not C-contiguous
        kernel.gemm(a, b, np.zeros((4, 2), np.float32).T, False, 1)
    with pytest.raises(ValueError):  # wrong number of dimensions
        kernel.gemm_batched(a, b, out, False, 1)
    with pytest.raises(ValueError):  # batch sizes differ
        kernel.gemm_batched(np.ones((2, 2, 3), np.float32), np.ones((3, 3, 4), np.float32),
                            np.zeros((2, 2, 4), np.float32), False, 1)
    read_only = np.zeros((2, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError):
        kernel.gemm(a, b, read_only, False, 1)


def test_concurrent_callers():
    """Python threads calling the kernel at once (the GIL is released) do not share scratch."""
    from concurrent.futures import ThreadPoolExecutor

    def product(seed):
        a, b = random((150, 260), np.float32, seed), random((260, 170), np.float32, seed + 1)
        out = np.empty((150, 170), np.float32)
        kernel.gemm(a, b, out, False, 2)
        return np.abs(out - a.astype(np.float64) @ b).max()

    with ThreadPoolExecutor(4) as pool:
        assert max(pool.map(product, range(16))) < 1e-3


def test_isa_names():
    assert kernel.get_isa() in ("base", "avx2", "avx512")
    with pytest.raises(ValueError):
        kernel.set_isa("sse9")


# (m, k, n, transpose a, transpose b): tall, wide, long K with a small C (which used to be cut
# into per-thread slices of K), dot-product shapes, the seed model's linear layers
DETERMINISM_SHAPES = [(64, 1024, 64, False, True), (16, 1024, 64, False, False),
                      (10, 4096, 12, True, False), (3, 800, 500, False, True),
                      (130, 70, 200, False, False), (1, 2000, 33, False, True),
                      (1024, 64, 64, True, False), (5, 10000, 5, False, False),
                      (1, 3000, 200, False, False), (4, 2500, 300, False, False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", DETERMINISM_SHAPES)
def test_thread_counts_give_the_same_bits(dtype, shape):
    m, k, n, transpose_a, transpose_b = shape
    a = random((k, m), dtype, 1).T if transpose_a else random((m, k), dtype, 1)
    b = random((n, k), dtype, 2).T if transpose_b else random((k, n), dtype, 2)
    results = []
    for threads in (1, 2, 3, 4):
        out = np.empty((m, n), dtype)
        kernel.gemm(a, b, out, False, threads)
        results.append(out)
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])
