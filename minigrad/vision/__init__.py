"""Vision: image transforms and datasets (CIFAR-10/100, scikit-learn's digits)."""
from minigrad.vision import datasets, transforms

__all__ = ["datasets", "transforms"]
