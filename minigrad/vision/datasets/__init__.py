"""Image datasets: CIFAR10 and CIFAR100 (both official formats, safe download) and Digits
(scikit-learn's 8x8 handwritten digits, no network needed)."""
from .cifar import CIFAR10, CIFAR100, DatasetFormatError
from .digits import Digits
from .download import DownloadError
from .safe_pickle import UnsafePickleError

__all__ = ["CIFAR10", "CIFAR100", "DatasetFormatError", "Digits", "DownloadError",
           "UnsafePickleError"]
