"""One thread count for every kernel.

Kernels never ask OpenMP for its default team size: the Python layer passes
``get_num_threads()`` into each kernel call, so ``set_num_threads`` is honoured everywhere,
whichever Python thread calls the kernel. The default is ``OMP_NUM_THREADS`` when it is set,
otherwise the number of cores this process may run on.
"""
import os

__all__ = ["set_num_threads", "get_num_threads"]


def _environment_num_threads():
    """OMP_NUM_THREADS's first number, or None when it does not give one."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(env) if env.isdigit() and int(env) > 0 else None


def _default_num_threads() -> int:
    if _environment_num_threads() is not None:
        return _environment_num_threads()
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_num_threads = _default_num_threads()
# Whether the count was chosen (OMP_NUM_THREADS, set_num_threads) rather than taken from the
# cores: minigrad.distributed shares a machine's cores among its ranks only in the second case.
_chosen = _environment_num_threads() is not None


def set_num_threads(n: int) -> None:
    """Set the number of threads every minigrad kernel uses (as ``torch.set_num_threads``)."""
    global _num_threads, _chosen
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive number of threads, got {n}")
    _num_threads = n
    _chosen = True


def get_num_threads() -> int:
    """The number of threads minigrad kernels use."""
    return _num_threads
