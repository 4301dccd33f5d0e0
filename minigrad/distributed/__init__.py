"""minigrad.distributed: data-parallel training over MPI, in torch.distributed's shape.

Start the ranks with an MPI launcher, and join them in each with ``init_process_group``::

    mpirun -n 4 python train.py

    import minigrad.distributed as dist
    dist.init_process_group(backend="mpi")
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

The collectives (all_reduce, broadcast, all_gather, all_gather_into_tensor, reduce_scatter,
reduce_scatter_tensor, barrier) have torch's signatures and an ``async_op=True`` form that
returns a ``Work``. Reductions are folded in rank order by minigrad itself, never by the MPI
library: for a given number of ranks the same inputs give the same bits, every run. While the
group exists a rank that raises, dies, leaves early or stops calling collectives makes the
job end at once with a message naming it (see ``_failure``), instead of a hang.
``minigrad.nn.parallel.DistributedDataParallel`` and
``minigrad.utils.data.distributed.DistributedSampler`` build data-parallel training on it.
"""
from minigrad.distributed._engine import Work
from minigrad.distributed.collectives import (
    ReduceOp, all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast,
    reduce_scatter, reduce_scatter_tensor,
)
from minigrad.distributed.process_group import (
    Backend, GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group, get_backend,
    get_rank, get_world_size, group, init_process_group, is_available, is_initialized,
    is_mpi_available,
)

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
           "default_pg_timeout", "destroy_process_group", "get_backend", "get_rank",
           "get_world_size", "group", "init_process_group", "is_available", "is_initialized",
           "is_mpi_available", "reduce_scatter", "reduce_scatter_tensor"]
