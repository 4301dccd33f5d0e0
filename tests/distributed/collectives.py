"""Each collective against numpy, on every rank (run under mpirun by test_distributed.py).

Rank r's inputs are drawn from a generator seeded with r, so every rank can compute every
other rank's inputs and the expected result; reductions are expected bit for bit as the fold
in rank order (((x_0 op x_1) op x_2) ...), which is what minigrad computes, and compared with
a float64 sum within rounding as a check on that claim."""
import hashlib
import os

import numpy as np

import minigrad
import minigrad.distributed as dist
from common import run_cases, same_on_every_rank

SIZES = [1, 2, 3, 17, 1000, 65537, 300001]   # < ranks, small path, large path, odd chunks
DTYPES = [np.float32, np.float64, np.int64]


def inputs(rank, n, dtype, salt=0):
    rng = np.random.default_rng([rank, n, salt])
    if np.dtype(dtype).kind == "i":
        return rng.integers(-1000, 1000, n).astype(dtype)
    return rng.standard_normal(n).astype(dtype)


def folded(n, dtype, ufunc, salt=0):
    pieces = [inputs(r, n, dtype, salt) for r in range(dist.get_world_size())]
    total = pieces[0].copy()
    for piece in pieces[1:]:
        total = ufunc(total, piece)
    return total


def case_all_reduce_every_op_is_the_rank_order_fold():
    ops = {"SUM": np.add, "PRODUCT": np.multiply, "MIN": np.minimum, "MAX": np.maximum}
    for n in SIZES:
        for dtype in DTYPES:
            for name, ufunc in ops.items():
                mine = inputs(dist.get_rank(), n, dtype)
                tensor = minigrad.tensor(mine)
                dist.all_reduce(tensor, op=getattr(dist.ReduceOp, name))
                expected = folded(n, dtype, ufunc)
                assert tensor.dtype == dtype
                assert np.array_equal(tensor.numpy(), expected), (n, dtype, name)


def case_sum_is_within_rounding_of_the_exact_sum_and_avg_divides():
    n = 100003
    exact = sum(inputs(r, n, np.float32).astype(np.float64) for r in range(dist.get_world_size()))
    tensor = minigrad.tensor(inputs(dist.get_rank(), n, np.float32))
    dist.all_reduce(tensor)
    assert np.allclose(tensor.numpy(), exact, rtol=0, atol=4e-6 * dist.get_world_size() * 8)
    average = minigrad.tensor(inputs(dist.get_rank(), n, np.float32))
    dist.all_reduce(average, op=dist.ReduceOp.AVG)
    expected = folded(n, np.float32, np.add) / np.float32(dist.get_world_size())
    assert np.array_equal(average.numpy(), expected)


def case_results_are_the_same_bits_on_every_rank_and_every_run():
    digest = hashlib.sha256()
    for n in (5, 4099, 300001):
        tensor = minigrad.tensor(inputs(dist.get_rank(), n, np.float32, salt=9))
        dist.all_reduce(tensor)
        assert same_on_every_rank(tensor.numpy())
        digest.update(tensor.numpy().tobytes())
    if dist.get_rank() == 0:
        print("digest", digest.hexdigest(), flush=True)   # compared across runs by pytest


def case_a_strided_tensor_is_reduced_in_place():
    base = np.arange(24, dtype=np.float64).reshape(4, 6) * (dist.get_rank() + 1)
    tensor = minigrad.tensor(base).t()        # a transposed view: not contiguous
    dist.all_reduce(tensor)
    scale = sum(range(1, dist.get_world_size() + 1))
    assert np.array_equal(tensor.numpy(), (np.arange(24.0).reshape(4, 6) * scale).T)


def case_async_collectives_complete_in_order():
    tensors = [minigrad.tensor(inputs(dist.get_rank(), n, np.float64)) for n in SIZES]
    works = [dist.all_reduce(t, async_op=True) for t in tensors]
    for work, tensor, n in zip(works, tensors, SIZES):
        assert work.wait() is True and work.is_completed() and work.is_success()
        assert work.result() == [tensor]
        assert np.array_equal(tensor.numpy(), folded(n, np.float64, np.add))


def case_broadcast_from_each_rank():
    for src in range(dist.get_world_size()):
        for n in (1, 1000, 300001):
            tensor = minigrad.tensor(inputs(dist.get_rank(), n, np.float32))
            work = dist.broadcast(tensor, src=src, async_op=src % 2 == 1)
            if work is not None:
                work.wait()
            assert np.array_equal(tensor.numpy(), inputs(src, n, np.float32))


def case_all_gather_and_all_gather_into_tensor():
    size = dist.get_world_size()
    for n in (1, 7, 50000):
        mine = inputs(dist.get_rank(), n, np.float64).reshape(-1, 1)
        out = [minigrad.zeros(mine.shape, dtype=minigrad.float64) for _ in range(size)]
        dist.all_gather(out, minigrad.tensor(mine))
        for rank in range(size):
            assert np.array_equal(out[rank].numpy(), inputs(rank, n, np.float64).reshape(-1, 1))
        whole = minigrad.zeros((size * n, 1), dtype=minigrad.float64)
        dist.all_gather_into_tensor(whole, minigrad.tensor(mine))
        expected = np.concatenate([inputs(r, n, np.float64) for r in range(size)])
        assert np.array_equal(whole.numpy().ravel(), expected)


def case_reduce_scatter_and_reduce_scatter_tensor():
    size, rank = dist.get_world_size(), dist.get_rank()
    for n in (1, 13, 40000):
        full = [inputs(r, size * n, np.float32, salt=3) for r in range(size)]
        pieces = [minigrad.tensor(full[rank][k * n:(k + 1) * n]) for k in range(size)]
        out = minigrad.zeros(n)
        dist.reduce_scatter(out, pieces)
        expected = full[0][rank * n:(rank + 1) * n].copy()
        for r in range(1, size):
            expected = expected + full[r][rank * n:(rank + 1) * n]
        assert np.array_equal(out.numpy(), expected)
        out = minigrad.zeros(n)
        dist.reduce_scatter_tensor(out, minigrad.tensor(full[rank]), op=dist.ReduceOp.MAX)
        expected = np.max([f[rank * n:(rank + 1) * n] for f in full], axis=0)
        assert np.array_equal(out.numpy(), expected)


def case_barrier_and_queries():
    dist.barrier()
    dist.barrier(async_op=True).wait()
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert dist.group.WORLD.size() == dist.get_world_size() == int(
        os.environ["OMPI_COMM_WORLD_SIZE"])
    assert dist.get_rank() == int(os.environ["OMPI_COMM_WORLD_RANK"])


def case_threads_share_the_cores():
    expected = os.environ.get("EXPECT_THREADS")
    if expected is not None:
        assert minigrad.get_num_threads() == int(expected), minigrad.get_num_threads()


def case_bad_arguments_raise_before_any_communication():
    checks = [
        (TypeError, lambda: dist.all_reduce([1.0])),
        (ValueError, lambda: dist.all_reduce(minigrad.tensor([1, 2]), op=dist.ReduceOp.AVG)),
        (ValueError, lambda: dist.all_reduce(minigrad.ones(2), op=42)),
        (ValueError, lambda: dist.broadcast(minigrad.ones(2), src=dist.get_world_size())),
        (ValueError, lambda: dist.all_gather([minigrad.ones(2)] * 5, minigrad.ones(2))),
        (ValueError, lambda: dist.init_process_group("mpi")),
    ]
    for error, call in checks:
        try:
            call()
        except error:
            continue
        raise AssertionError(f"expected {error.__name__}")


run_cases(globals())
