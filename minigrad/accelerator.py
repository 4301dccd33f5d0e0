"""``minigrad.accelerator``: torch.accelerator's answers on the CPU-only minigrad (none
available), so the tutorials' ``torch.accelerator.current_accelerator().type if
torch.accelerator.is_available() else "cpu"`` picks the CPU."""

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0
