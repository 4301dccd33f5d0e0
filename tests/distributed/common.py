"""Shared by the programs in this folder, which tests/test_distributed.py runs under mpirun:
each defines ``case_*`` functions and ends with ``run_cases(globals())``.

Every rank runs every case in the order they are written (their collectives must line up).
A failing assertion is an uncaught exception: minigrad.distributed then aborts the whole job
with the traceback, and mpirun exits non-zero, which is what the pytest side checks.
"""
import sys
import time

import minigrad.distributed as dist


def run_cases(namespace: dict, **init) -> None:
    dist.init_process_group("mpi", **init)
    cases = [(name, value) for name, value in namespace.items()
             if name.startswith("case_") and callable(value)]
    selected = sys.argv[1:]
    for name, case in cases:
        if selected and name not in selected:
            continue
        started = time.perf_counter()
        case()
        if dist.get_rank() == 0:
            print(f"{name}: {time.perf_counter() - started:.2f} s", flush=True)
    dist.barrier()
    print(f"rank {dist.get_rank()} of {dist.get_world_size()}: {len(cases)} cases passed",
          flush=True)
    dist.destroy_process_group()


def gather_bytes(array) -> list:
    """Every rank's copy of ``array`` (same shape and dtype everywhere), rank 0's first."""
    import numpy as np
    import minigrad
    out = [minigrad.zeros(array.shape, dtype=array.dtype) for _ in range(dist.get_world_size())]
    dist.all_gather(out, minigrad.tensor(np.array(array, order="C")))
    return [t.numpy() for t in out]


def same_on_every_rank(array) -> bool:
    copies = gather_bytes(array)
    return all(c.tobytes() == copies[0].tobytes() for c in copies)
