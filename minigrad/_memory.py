"""Keep freed large arrays in the heap, so that each training step reuses the last one's memory.

glibc serves an allocation above M_MMAP_THRESHOLD with a fresh mmap and unmaps it when it is
freed, and it returns free space at the top of the heap to the OS beyond M_TRIM_THRESHOLD.
Either way the next step's arrays of the same sizes arrive as new pages, and every page costs
a fault: measured on the seed model's training step at batch 64, about 2,000 minor page faults
per step and 81-88 ms, against none and 77-79 ms with the thresholds below.

Applied once at import, on Linux with glibc only, and never when the user chose otherwise:
MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MINIGRAD_NO_MALLOPT=1 or
MINIGRAD_PROCESS_SETTINGS=0 (minigrad's switch for every process-wide setting, README's
"What import minigrad changes") in the environment leave the allocator as it is. The
settings are the whole process's: every library's allocations in it follow them.
"""
import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's largest allowed value: arrays up to 32 MiB use the heap
TRIM_THRESHOLD = 512 << 20  # keep up to 512 MiB of freed heap mapped for the next step
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MINIGRAD_NO_MALLOPT")


def process_settings_allowed() -> bool:
    """False when the user turned off minigrad's process-wide settings
    (MINIGRAD_PROCESS_SETTINGS=0 in the environment)."""
    return os.environ.get("MINIGRAD_PROCESS_SETTINGS", "1").strip() != "0"


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True when both settings took effect."""
    if (not sys.platform.startswith("linux") or not process_settings_allowed()
            or any(v in os.environ for v in _USER_SETTINGS)):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
