"""Image datasets, as torchvision's: CIFAR10 and CIFAR100 (both official formats, safe
download), MNIST and FashionMNIST (IDX files, checked download), ImageFolder and
DatasetFolder (a folder per class), FakeData (random images), and Digits (scikit-learn's
8x8 handwritten digits, no network needed).

Samples are what torchvision returns, so torchvision-style transforms work: PIL images
(Pillow: the ``vision`` extra) before ``ToTensor``, CHW float Tensors after it; without
Pillow the in-memory datasets give the image's uint8 array (H, W[, C]) instead, which every
transform here also takes."""
from minigrad.vision.datasets.cifar import CIFAR10, CIFAR100, DatasetFormatError
from minigrad.vision.datasets.digits import Digits
from minigrad.vision.datasets.download import DownloadError
from minigrad.vision.datasets.fakedata import FakeData
from minigrad.vision.datasets.folder import DatasetFolder, ImageFolder
from minigrad.vision.datasets.mnist import MNIST, FashionMNIST
from minigrad.vision.datasets.safe_pickle import UnsafePickleError

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "DatasetFormatError", "Digits",
           "DownloadError", "FakeData", "FashionMNIST", "ImageFolder", "MNIST",
           "UnsafePickleError"]
