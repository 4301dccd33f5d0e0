"""``minigrad.backends``: the flags and questions scripts take from torch.backends (cudnn's
``benchmark`` and ``deterministic`` switches, ``mps.is_available()``); minigrad has none of
these backends, so the flags are stored and change nothing."""
from minigrad.backends import cudnn, mps  # noqa: F401

__all__ = ["cudnn", "mps"]
