"""The default process group, as torch.distributed's: ``init_process_group(backend="mpi")``
joins the processes an MPI launcher started (``mpirun -n 4 python train.py``), which give
each its rank and the world size; the queries (``get_rank``, ``get_world_size``,
``is_initialized``) and ``destroy_process_group``.

mpi4py is imported (and MPI initialised) only by ``init_process_group``: importing
minigrad.distributed does neither.

Threads: unless the kernels' thread count was chosen (``OMP_NUM_THREADS``,
``minigrad.set_num_threads``), ``init_process_group`` sets it to the cores of this machine
divided by its ranks, and never more than the cores this rank may run on: with mpirun's
default binding of one core per rank, one thread.
"""
import atexit
import datetime
import importlib.util
import os
import warnings

import numpy as np

from minigrad import threads as _threads
from minigrad.distributed import _failure
from minigrad.distributed._engine import Engine

__all__ = ["Backend", "ProcessGroup", "group", "GroupMember", "default_pg_timeout",
           "init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "is_mpi_available", "get_rank", "get_world_size", "get_backend"]

default_pg_timeout = datetime.timedelta(minutes=30)

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")
_MPI_MISSING = ("minigrad.distributed needs mpi4py and an MPI library: pip install "
                "'minigrad[distributed]', and the system's MPI runtime (Debian and Ubuntu: "
                "apt-get install openmpi-bin libopenmpi-dev)")


class Backend(str):
    """The backends' names: only ``Backend.MPI`` ("mpi") is available."""

    MPI = "mpi"


class ProcessGroup:
    """A group of ranks; minigrad has one, the default group of every rank (``group.WORLD``)."""

    def __init__(self, engine: Engine, local_rank: int, local_size: int):
        self._engine = engine
        self.local_rank = local_rank    # this rank's index among the ranks of its machine
        self.local_size = local_size    # how many ranks run on this machine

    def rank(self) -> int:
        return self._engine.rank

    def size(self) -> int:
        return self._engine.size

    def name(self) -> str:
        return Backend.MPI

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', rank={self.rank()}, size={self.size()})"


_world = None


class _WorldProperty(type):
    @property
    def WORLD(cls):
        return _world


class group(metaclass=_WorldProperty):
    """``group.WORLD``: the default process group (None before init_process_group)."""


class GroupMember(metaclass=_WorldProperty):
    """``GroupMember.WORLD``: the default process group, as torch names it too."""


def is_available() -> bool:
    """minigrad.distributed is part of every install (its MPI backend needs mpi4py)."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py is installed (without importing it, so MPI is not initialised)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    """Whether init_process_group has been called (and not undone by destroy)."""
    return _world is not None


def world(group=None) -> ProcessGroup:
    """The default group; ValueError, as torch, before init_process_group."""
    if _world is None:
        raise ValueError(_NOT_INITIALIZED)
    if group is not None and group is not _world:
        raise ValueError(f"minigrad.distributed has only the default group, got {group!r}")
    return _world


def get_rank(group=None) -> int:
    """This process's rank, 0 to world size - 1."""
    return world(group).rank()


def get_world_size(group=None) -> int:
    """The number of processes in the group."""
    return world(group).size()


def get_backend(group=None) -> str:
    """The group's backend: "mpi"."""
    return world(group).name()


def _timeout_seconds(timeout) -> float:
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    return timeout.total_seconds()


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"{_MPI_MISSING} ({error})") from error
    if MPI.Query_thread() < MPI.THREAD_SERIALIZED:
        raise RuntimeError("minigrad.distributed needs MPI initialised with at least "
                           "MPI_THREAD_SERIALIZED (it communicates from its own thread); got "
                           f"level {MPI.Query_thread()}")
    return MPI


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the default process group: every rank the MPI launcher started calls it (it is a
    collective). Rank and world size come from the launcher; ``timeout`` (a timedelta,
    default 30 minutes as torch's) bounds every collective, after which the job is aborted
    with a message, as it is when a rank raises an uncaught exception or leaves early."""
    global _world
    if _world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != Backend.MPI:
        raise ValueError(f"minigrad.distributed has the 'mpi' backend only (start the ranks "
                         f"with mpirun), got backend={backend!r}")
    if store is not None:
        raise ValueError("the mpi backend takes its ranks from the MPI launcher: store is not "
                         "used")
    if device_id is not None and str(device_id) != "cpu":
        raise ValueError(f"minigrad runs on the CPU only, got device_id={device_id!r}")
    seconds = _timeout_seconds(timeout)
    if world_size != -1 or rank != -1:
        warnings.warn(f"For MPI backend, world_size ({world_size}) and rank ({rank}) are "
                      f"ignored since they are assigned by the MPI runtime.", stacklevel=2)
    mpi = _import_mpi()
    # Own communicators (collectives, and the notices of leaving ranks): a program's own use
    # of MPI.COMM_WORLD never matches minigrad's messages.
    comm = mpi.COMM_WORLD.Dup()
    control = mpi.COMM_WORLD.Dup()
    local = mpi.COMM_WORLD.Split_type(mpi.COMM_TYPE_SHARED)
    if not _threads._chosen:
        _threads._num_threads = _threads_per_rank(mpi, local)
    engine = Engine(mpi, comm, control, seconds)
    _world = ProcessGroup(engine, local.Get_rank(), local.Get_size())
    local.Free()
    _failure.install(engine)


def destroy_process_group(group=None) -> None:
    """Leave the default group: this rank's collectives are over (the others are told, so
    one still waiting for this rank fails fast instead of hanging)."""
    global _world
    engine = world(group)._engine
    _world = None
    _failure.uninstall()
    engine.leave()


@atexit.register
def _leave_at_exit() -> None:
    # Runs before mpi4py finalises MPI (its exit hook is registered at the C level).
    if _world is not None:
        destroy_process_group()


def _threads_per_rank(mpi, local) -> int:
    """The cores of this machine (the union of what its ranks may run on) divided by its
    ranks, at most this rank's own cores, at least one."""
    if hasattr(os, "sched_getaffinity"):
        own = sorted(os.sched_getaffinity(0))
    else:
        own = list(range(os.cpu_count() or 1))
    width = np.array([max(own[-1] + 1, os.cpu_count() or 1)], dtype=np.int64)
    local.Allreduce(mpi.IN_PLACE, width, op=mpi.MAX)
    cores = np.zeros(int(width[0]), dtype=np.int32)
    cores[own] = 1
    local.Allreduce(mpi.IN_PLACE, cores, op=mpi.MAX)  # the union of the ranks' cores
    return max(1, min(len(own), int(cores.sum()) // local.Get_size()))
