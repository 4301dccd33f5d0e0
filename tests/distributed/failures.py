"""A job in which the last rank fails in the way argv[1] names, after one all_reduce that
every rank completes; the others then wait in a second one. test_distributed.py checks that
mpirun ends quickly, non-zero, with a message naming the failure."""
import datetime
import os
import signal
import sys
import time

import minigrad
import minigrad.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=float(sys.argv[2])))
tensor = minigrad.ones(1000)
dist.all_reduce(tensor)
if dist.get_rank() == dist.get_world_size() - 1:
    if mode == "raise":
        raise ValueError("this rank's data loader failed")
    if mode == "exit":
        sys.exit(0)              # e.g. one rank ran out of batches before the others
    if mode == "hang":
        time.sleep(120)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
dist.all_reduce(tensor)
print(f"rank {dist.get_rank()} finished", flush=True)
