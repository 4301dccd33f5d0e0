"""Utilities: ``minigrad.utils.data`` (datasets and the data loader)."""
from minigrad.utils import data

__all__ = ["data"]
