"""minigrad.distributed before init_process_group, in this process (no MPI is initialised):
torch's errors and names."""
import datetime

import pytest

import minigrad
import minigrad.distributed as dist
from minigrad import nn

NOT_INITIALIZED = "Default process group has not been initialized"


def test_queries_before_init_raise_torchs_error():
    assert dist.is_available() and not dist.is_initialized()
    assert dist.group.WORLD is None
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group,
                 lambda: dist.all_reduce(minigrad.ones(2)),
                 lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(ValueError, match=NOT_INITIALIZED):
            call()


def test_reduce_op_values_are_torchs():
    torch_dist = pytest.importorskip("torch.distributed")
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
        assert int(getattr(dist.ReduceOp, name)) == int(getattr(torch_dist.ReduceOp, name))


def test_init_refuses_other_backends_and_bad_timeouts_before_starting_mpi():
    with pytest.raises(ValueError, match="'mpi' backend only"):
        dist.init_process_group("gloo")
    with pytest.raises(TypeError, match="timedelta"):
        dist.init_process_group("mpi", timeout=30)
    with pytest.raises(ValueError, match="positive"):
        dist.init_process_group("mpi", timeout=datetime.timedelta(0))
    assert not dist.is_initialized()


def test_the_default_timeout_is_torchs():
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)
