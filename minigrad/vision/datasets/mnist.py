"""MNIST and Fashion-MNIST: 28x28 grey images in ten classes, 60000 train and 10000 test, in
the IDX files their authors publish, read and downloaded as torchvision does.

IDX format (big-endian): two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions d, then d 32-bit sizes,
then the values in C order. Images are uint8 (N, 28, 28), labels uint8 (N,).

Files live in ``root/<ClassName>/raw/`` under their published names without ``.gz``
(``train-images-idx3-ubyte``, ...); a ``.gz`` left there is read as well. ``download=True``
fetches the missing ones from the class's ``mirrors`` in turn, each archive checked against
its MD5 before it is decompressed, and the decompressed file read as IDX before it is
renamed into place: an interrupted or corrupt download leaves nothing that looks valid.
"""
import gzip
import os
import shutil
import struct
import tempfile

import numpy as np

from minigrad.tensor import Tensor
from minigrad.vision.datasets.batching import ImageArrayDataset
from minigrad.vision.datasets.cifar import DatasetFormatError
from minigrad.vision.datasets.download import DownloadError, download_file

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """The array in the IDX file ``path`` (gzip-compressed when the name ends in .gz), in
    native byte order; DatasetFormatError when the file is not a whole IDX file."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise DatasetFormatError(f"{path}: cannot be read: {error}") from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetFormatError(f"{path}: not an IDX file (it starts with {data[:4].hex()})")
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise DatasetFormatError(f"{path}: unknown IDX type code 0x{code:02x}")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DatasetFormatError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:start])
    dtype = np.dtype(_IDX_TYPES[code])
    expected = start + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DatasetFormatError(f"{path}: {len(data)} bytes, but an IDX array of shape "
                                 f"{shape} and type {dtype} takes {expected}: truncated or not "
                                 f"that array")
    array = np.frombuffer(data, dtype=dtype, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


class MNIST(ImageArrayDataset):
    """The MNIST handwritten digits (``torchvision.datasets.MNIST``).

    ``MNIST(root, train=True, transform=None, target_transform=None, download=False)``, plus
    keyword-only ``timeout`` (seconds, for downloads). ``data`` is a uint8 Tensor
    (N, 28, 28) and ``targets`` an int64 Tensor, as torchvision; ``dataset[i]`` is
    (transform(image), target_transform(label)) with the image a PIL image of mode "L" (the
    (28, 28) uint8 array when Pillow is not installed) and the label an int.
    ``get_batch(indices)`` returns a whole collated batch at once.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False, *, timeout: float = 60.0):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.timeout = timeout
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(f"Dataset not found in {self.raw_folder}. You can use "
                               f"download=True to download it")
        self._images, self._labels = self._load_data()

    # ---- files ----------------------------------------------------------------------------

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _raw_path(self, archive: str):
        """The file of ``archive`` in raw/: decompressed, else the archive, else None."""
        for name in (archive[:-3], archive):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._raw_path(archive) for archive, _ in self.resources)

    def download(self) -> None:
        """Fetch the files that are missing (see the module docstring)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for archive, md5 in self.resources:
            if self._raw_path(archive):
                continue
            failures = []
            for mirror in self.mirrors:
                try:
                    self._fetch(f"{mirror}{archive}", archive, md5)
                    break
                except DownloadError as error:
                    failures.append(str(error))
            else:
                raise DownloadError(f"Error downloading {archive}: "
                                    + "; ".join(failures))

    def _fetch(self, url: str, archive: str, md5: str) -> None:
        part = download_file(url, self.raw_folder, archive, md5, timeout=self.timeout)
        try:
            fd, staging = tempfile.mkstemp(prefix=f".{archive}.", suffix=".extracting",
                                           dir=self.raw_folder)
            try:
                with os.fdopen(fd, "wb") as out, gzip.open(part, "rb") as source:
                    shutil.copyfileobj(source, out)
                read_idx(staging)
                os.rename(staging, os.path.join(self.raw_folder, archive[:-3]))
            except (OSError, EOFError) as error:
                raise DownloadError(f"cannot decompress {url}: {error}") from error
            finally:
                if os.path.exists(staging):
                    os.unlink(staging)
        finally:
            os.unlink(part)

    def _load_data(self):
        split = "train" if self.train else "t10k"
        images_path = self._raw_path(f"{split}-images-idx3-ubyte.gz")
        labels_path = self._raw_path(f"{split}-labels-idx1-ubyte.gz")
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise DatasetFormatError(f"{images_path}: expected uint8 images (N, H, W), got "
                                     f"{images.dtype} of shape {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise DatasetFormatError(f"{labels_path}: expected uint8 labels (N,), got "
                                     f"{labels.dtype} of shape {labels.shape}")
        if len(labels) != len(images):
            raise DatasetFormatError(f"{len(images)} images in {images_path} but "
                                     f"{len(labels)} labels in {labels_path}")
        if len(labels) and labels.max() >= len(self.classes):
            raise DatasetFormatError(f"{labels_path}: label {int(labels.max())} is out of "
                                     f"range for {len(self.classes)} classes")
        return images, labels.astype(np.int64)

    # ---- access ---------------------------------------------------------------------------

    @property
    def data(self) -> Tensor:
        return Tensor(self._images)

    @data.setter
    def data(self, value) -> None:
        self._images = value.array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def targets(self) -> Tensor:
        return Tensor(self._labels)

    @targets.setter
    def targets(self, value) -> None:
        array = value.array if isinstance(value, Tensor) else np.asarray(value)
        self._labels = array.astype(np.int64)

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def _arrays(self):
        return self._images, self._labels


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (``torchvision.datasets.FashionMNIST``): as :class:`MNIST`,
    with ten kinds of clothing."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
