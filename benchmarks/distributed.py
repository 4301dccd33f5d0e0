"""All-reduce latency and bandwidth, and DistributedDataParallel's training step with and
without overlap, measured under mpirun:

    mpirun -n 2 python -m benchmarks.distributed            # < 1 minute on 2 cores
    mpirun -n 2 python -m benchmarks.distributed --quick    # fewer rounds: ~10 s

1. ``minigrad.distributed.all_reduce`` (sum, float32) from 4 bytes to 64 MiB: the median time
   per call over rounds (the slowest rank's), the algorithm bandwidth (bytes / time) and the
   bus bandwidth (2 (N - 1) / N bytes / time: what each rank sends and receives in any
   all-reduce, so comparable across rank counts). Beside it MPI's own ``Allreduce`` (mpi4py,
   whatever algorithm Open MPI picks, which rounds in an order minigrad does not fix). The
   4-byte time is the latency.
2. The tutorial CNN on CIFAR-sized images (3 x 32 x 32), SGD with momentum, global batch 64
   (64 / N per rank): the median time of a training step (forward, backward, gradient
   averaging, optimizer step) with DDP's default buckets (25 MiB: this 0.58 MB model is one
   bucket) and with bucket_cap_mb=0.1 (6 buckets), each with overlap (a bucket's all-reduce
   starts during backward, the default) and without (the same buckets reduced after
   backward), and with no communication at all (``no_sync``: the compute alone).

Results go to benchmark_results/distributed.json (``--json``) on rank 0. See BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import minigrad
import minigrad.distributed as dist
from minigrad import nn
from minigrad.examples.train import SeedModel
from minigrad.nn.parallel import DistributedDataParallel

SIZES = [4, 64, 1024, 16 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024,
         16 * 1024 * 1024, 64 * 1024 * 1024]
GLOBAL_BATCH = 64


def slowest(seconds: float) -> float:
    """The largest of the ranks' times (a collective is as slow as its slowest rank)."""
    value = minigrad.tensor([seconds], dtype=minigrad.float64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return float(value.item())


def time_rounds(call, rounds: int, seconds_per_round: float = 0.05) -> float:
    """Median seconds per call over ``rounds`` rounds, each long enough to time well."""
    call()
    dist.barrier()
    started = time.perf_counter()
    call()
    once = max(slowest(time.perf_counter() - started), 1e-7)
    number = max(1, int(seconds_per_round / once))
    times = []
    for _ in range(rounds):
        dist.barrier()
        started = time.perf_counter()
        for _ in range(number):
            call()
        times.append(slowest((time.perf_counter() - started) / number))
    return statistics.median(times)


def all_reduce_table(rounds: int) -> list:
    from mpi4py import MPI
    size = dist.get_world_size()
    rows = []
    for nbytes in SIZES:
        array = np.zeros(nbytes // 4, dtype=np.float32)
        tensor = minigrad.tensor(array)
        ours = time_rounds(lambda: dist.all_reduce(tensor), rounds)
        theirs = time_rounds(lambda: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, array), rounds)
        bus = 2 * (size - 1) / size * nbytes
        rows.append({"bytes": nbytes, "minigrad_s": ours, "mpi_s": theirs,
                     "minigrad_algbw_GBps": nbytes / ours / 1e9,
                     "minigrad_busbw_GBps": bus / ours / 1e9,
                     "mpi_busbw_GBps": bus / theirs / 1e9})
    return rows


def step_times(rounds: int) -> list:
    size, rank = dist.get_world_size(), dist.get_rank()
    rng = np.random.default_rng(rank)
    images = minigrad.tensor(rng.standard_normal((GLOBAL_BATCH // size, 3, 32, 32),
                                                 dtype=np.float32))
    labels = minigrad.tensor(rng.integers(0, 10, GLOBAL_BATCH // size))
    loss_fn = nn.CrossEntropyLoss()
    rows = []
    for label, cap, overlap, sync in [("default buckets (1), overlap", None, True, True),
                                      ("default buckets (1), after backward", None, False,
                                       True),
                                      ("bucket_cap_mb=0.1, overlap", 0.1, True, True),
                                      ("bucket_cap_mb=0.1, after backward", 0.1, False, True),
                                      ("no communication (no_sync)", None, True, False)]:
        minigrad.manual_seed(0)
        model = DistributedDataParallel(SeedModel(3, 32), bucket_cap_mb=cap)
        model.reducer.overlap = overlap
        optimizer = minigrad.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            optimizer.zero_grad()
            if sync:
                loss_fn(model(images), labels).backward()
            else:
                with model.no_sync():
                    loss_fn(model(images), labels).backward()
            optimizer.step()

        for _ in range(3):   # the first backward rebuilds the buckets
            step()
        seconds = time_rounds(step, rounds, seconds_per_round=0.2)
        rows.append({"case": label, "buckets": len(model.reducer.bucket_indices()),
                     "step_s": seconds})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--json", default=os.path.join("benchmark_results",
                                                       "distributed.json"))
    args = parser.parse_args(argv)
    dist.init_process_group("mpi")
    rounds = 3 if args.quick else 7
    size, rank = dist.get_world_size(), dist.get_rank()
    say = print if rank == 0 else (lambda *a, **k: None)
    say(f"{size} ranks x {minigrad.get_num_threads()} thread(s), medians of {rounds} rounds, "
        f"the slowest rank's time")
    table = all_reduce_table(rounds)
    say(f"\n{'all_reduce':>12} {'minigrad':>12} {'busbw':>10} {'MPI Allreduce':>14} "
        f"{'busbw':>10}")
    for row in table:
        say(f"{_bytes(row['bytes']):>12} {row['minigrad_s'] * 1e6:10.1f}us "
            f"{row['minigrad_busbw_GBps']:7.2f}GB/s {row['mpi_s'] * 1e6:12.1f}us "
            f"{row['mpi_busbw_GBps']:7.2f}GB/s")
    steps = step_times(rounds)
    say(f"\ntraining step, tutorial CNN, 3x32x32, global batch {GLOBAL_BATCH} "
        f"({GLOBAL_BATCH // size} per rank)")
    for row in steps:
        say(f"{row['case']:>40}: {row['step_s'] * 1e3:8.2f} ms ({row['buckets']} bucket(s))")
    if rank == 0:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump({"ranks": size, "threads": minigrad.get_num_threads(),
                       "machine": platform.machine(), "rounds": rounds,
                       "all_reduce": table, "training_step": steps}, handle, indent=1)
        say(f"\nresults: {args.json}")
    dist.destroy_process_group()


def _bytes(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n // scale} {unit}"
    return f"{n} B"


if __name__ == "__main__":
    main()
