"""torch.backends.mps: Apple's GPU backend, absent from minigrad."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
