"""``minigrad.cuda``: torch.cuda's answers on a machine without an accelerator, so that scripts
that ask (``torch.cuda.is_available()``, ``device_count()``, ``manual_seed``) run on the CPU.
Anything that needs a GPU fails with a message naming minigrad as CPU-only."""
from minigrad import devices as _devices

__all__ = ["is_available", "device_count", "current_device", "manual_seed", "manual_seed_all",
           "synchronize", "empty_cache", "is_initialized", "get_device_name", "set_device"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed) -> None:
    """Seeding the (absent) GPUs does nothing, as torch does without CUDA."""


def manual_seed_all(seed) -> None:
    """Seeding the (absent) GPUs does nothing, as torch does without CUDA."""


def empty_cache() -> None:
    """No GPU memory to release."""


def _unavailable(call: str) -> Exception:
    return _devices.accelerator_error("cuda", f"torch.cuda.{call} needs a CUDA device")


def current_device() -> int:
    raise _unavailable("current_device()")


def synchronize(device=None) -> None:
    raise _unavailable("synchronize()")


def get_device_name(device=None) -> str:
    raise _unavailable("get_device_name()")


def set_device(device) -> None:
    raise _unavailable("set_device()")
