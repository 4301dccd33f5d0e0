"""torch.backends.cudnn's switches, stored for scripts that set them (no effect on the CPU)."""
benchmark = False
deterministic = False
enabled = True


def is_available() -> bool:
    return False


def version():
    return None
