"""One thread count for every kernel.

Kernels never ask OpenMP for its default team size: the Python layer passes
``get_num_threads()`` into each kernel call, so ``set_num_threads`` is honoured everywhere,
whichever Python thread calls the kernel. The default is ``OMP_NUM_THREADS`` when it is set,
otherwise the number of cores this process may run on.
"""
import os

__all__ = ["set_num_threads", "get_num_threads"]


def _default_num_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_num_threads = _default_num_threads()


def set_num_threads(n: int) -> None:
    """Set the number of threads every minigrad kernel uses (as ``torch.set_num_threads``)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive number of threads, got {n}")
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads minigrad kernels use."""
    return _num_threads
