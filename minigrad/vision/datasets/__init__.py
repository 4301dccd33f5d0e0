"""Image datasets: CIFAR10 and CIFAR100 (both official formats, safe download) and Digits
(scikit-learn's 8x8 handwritten digits, no network needed)."""
from minigrad.vision.datasets.cifar import CIFAR10, CIFAR100, DatasetFormatError
from minigrad.vision.datasets.digits import Digits
from minigrad.vision.datasets.download import DownloadError
from minigrad.vision.datasets.safe_pickle import UnsafePickleError

__all__ = ["CIFAR10", "CIFAR100", "DatasetFormatError", "Digits", "DownloadError",
           "UnsafePickleError"]
