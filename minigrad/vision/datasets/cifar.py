"""CIFAR-10 and CIFAR-100, read from either official format, downloaded safely on request.

Both formats store each 32x32 image as 3072 bytes: the 1024 red values row by row, then green,
then blue. The python format (``cifar-10-batches-py``, ``cifar-100-python``) pickles, per batch,
a dict with ``data`` (a uint8 array of shape (N, 3072)) and the labels as a list of ints; it is
read through a restricted unpickler (see ``safe_pickle``). The binary format
(``cifar-10-batches-bin``, ``cifar-100-binary``) is a sequence of records: 1 label byte (CIFAR-10)
or 2 (CIFAR-100: coarse, fine) followed by the 3072 pixel bytes.

Images are exposed as ``data``, a uint8 array of shape (N, 32, 32, 3) (HWC, as torchvision),
labels as ``targets``, a list of ints.
"""
import os
from dataclasses import dataclass

import numpy as np

from minigrad.vision.datasets.batching import ImageArrayDataset
from minigrad.vision.datasets.download import download_and_extract
from minigrad.vision.datasets.safe_pickle import safe_load

__all__ = ["CIFAR10", "CIFAR100", "DatasetFormatError"]

_PIXELS = 3 * 32 * 32


class DatasetFormatError(ValueError):
    """A dataset file is missing, truncated or not shaped as its format says."""


@dataclass(frozen=True)
class _Layout:
    """Where one format of one dataset lives and how its files are named."""
    format: str                 # "python" or "binary"
    folder: str
    archive: str
    url: str
    md5: str | None
    train_files: tuple
    test_files: tuple
    meta_file: str


class CIFAR10(ImageArrayDataset):
    """The CIFAR-10 dataset: 50000 train and 10000 test 32x32 colour images in 10 classes.

    ``CIFAR10(root, train=True, transform=None, target_transform=None, download=False)`` as
    torchvision, plus keyword-only ``url`` and ``md5`` (a mirror and its archive's checksum),
    ``format`` ("python", "binary", or None to use whichever folder is present, the python one
    first) and ``timeout`` (seconds, for the download).

    An extracted folder under ``root`` is used as it is and checked by its structure: every
    batch file present, the keys, sizes and dtypes it must have. ``download=True`` fetches the
    archive only when the folder is missing (see ``download.download_and_extract``).
    ``dataset[i]`` is ``(transform(image), target_transform(label))`` with the image a PIL
    image, as torchvision (the HWC uint8 array when Pillow is not installed);
    ``get_batch(indices)`` returns a whole collated batch at once.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                  "data_batch_5")
    test_list = ("test_batch",)
    meta_file = "batches.meta"
    labels_key = "labels"
    names_key = "label_names"

    binary_folder = "cifar-10-batches-bin"
    binary_url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    binary_filename = "cifar-10-binary.tar.gz"
    binary_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    binary_train_list = tuple(name + ".bin" for name in train_list)
    binary_test_list = ("test_batch.bin",)
    binary_meta_file = "batches.meta.txt"
    label_bytes = 1         # bytes of label before each image in the binary format
    label_byte_index = 0    # which of them is the target

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False, *, url: str | None = None, md5: str | None = None,
                 format: str | None = None, timeout: float = 60.0):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        layout = self._choose_layout(format)
        folder = os.path.join(self.root, layout.folder)
        if os.path.isdir(folder):
            self._check_files(layout, folder)
            loaded = self._read(layout, folder, train)
        elif download:
            loaded = self._download(layout, url, md5, timeout)
        else:
            raise RuntimeError(f"Dataset not found at {folder}. "
                               f"You can use download=True to download it")
        self.format = layout.format
        self.data, targets, self.classes = loaded
        self._target_array = targets
        self.targets = targets.tolist()
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    # ---- layouts ------------------------------------------------------------------------

    def _layouts(self) -> dict:
        cls = type(self)
        return {
            "python": _Layout("python", cls.base_folder, cls.filename, cls.url, cls.tgz_md5,
                              tuple(cls.train_list), tuple(cls.test_list), cls.meta_file),
            "binary": _Layout("binary", cls.binary_folder, cls.binary_filename, cls.binary_url,
                              cls.binary_md5, tuple(cls.binary_train_list),
                              tuple(cls.binary_test_list), cls.binary_meta_file),
        }

    def _choose_layout(self, format: str | None) -> _Layout:
        layouts = self._layouts()
        if format is not None:
            if format not in layouts:
                raise ValueError(f"format must be 'python', 'binary' or None, got {format!r}")
            return layouts[format]
        for layout in layouts.values():
            if os.path.isdir(os.path.join(self.root, layout.folder)):
                return layout
        return layouts["python"]

    def _download(self, layout: _Layout, url: str | None, md5: str | None, timeout: float):
        """Fetch the archive; the extracted folder is read (so fully checked) before it is
        moved into place."""
        checksum = md5 if md5 is not None else layout.md5
        if checksum is None:
            raise ValueError(f"no official MD5 is known for {layout.archive}: pass md5=")
        loaded = []

        def validate(path):
            self._check_files(layout, path)
            loaded.append(self._read(layout, path, self.train))

        download_and_extract(url or layout.url, self.root, layout.archive, layout.folder,
                             checksum, validate, timeout=timeout)
        return loaded[0]

    @staticmethod
    def _check_files(layout: _Layout, folder: str) -> None:
        names = layout.train_files + layout.test_files + (layout.meta_file,)
        missing = [name for name in names if not os.path.isfile(os.path.join(folder, name))]
        if missing:
            raise DatasetFormatError(f"{folder} is incomplete: missing {', '.join(missing)}")

    # ---- reading --------------------------------------------------------------------------

    def _read(self, layout: _Layout, folder: str, train: bool):
        files = layout.train_files if train else layout.test_files
        paths = [os.path.join(folder, name) for name in files]
        meta = os.path.join(folder, layout.meta_file)
        if layout.format == "python":
            classes = self._read_python_names(meta)
            batches = [self._read_python_batch(path) for path in paths]
        else:
            classes = _read_text_names(meta)
            batches = [self._read_binary_batch(path) for path in paths]
        pixels = np.concatenate([pixels for pixels, _ in batches])
        targets = np.concatenate([labels for _, labels in batches])
        bad = (targets < 0) | (targets >= len(classes))
        if bad.any():
            raise DatasetFormatError(f"{folder}: label {int(targets[bad][0])} is out of range "
                                     f"for {len(classes)} classes")
        images = np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        return images, targets, classes

    def _read_python_names(self, path: str) -> list:
        meta = _read_pickled_dict(path, (self.names_key,))
        names = meta[self.names_key]
        if not isinstance(names, list) or not all(isinstance(n, (str, bytes)) for n in names):
            raise DatasetFormatError(f"{path}: {self.names_key!r} is not a list of strings")
        return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]

    def _read_python_batch(self, path: str):
        entry = _read_pickled_dict(path, ("data", self.labels_key))
        data = entry["data"]
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                or data.shape[1] != _PIXELS:
            described = (f"a {data.dtype} array of shape {data.shape}"
                         if isinstance(data, np.ndarray) else type(data).__name__)
            raise DatasetFormatError(f"{path}: 'data' must be a uint8 array of shape "
                                     f"(N, {_PIXELS}), got {described}")
        labels = entry[self.labels_key]
        if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu":
            labels = labels.astype(np.int64)
        elif isinstance(labels, (list, tuple)) and all(type(v) is int for v in labels):
            labels = np.array(labels, dtype=np.int64).reshape(-1)
        else:
            raise DatasetFormatError(f"{path}: {self.labels_key!r} must be a list of ints")
        if labels.shape != (data.shape[0],):
            raise DatasetFormatError(f"{path}: {data.shape[0]} images but {labels.size} labels")
        return data, labels

    def _read_binary_batch(self, path: str):
        record = self.label_bytes + _PIXELS
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % record:
            raise DatasetFormatError(
                f"{path}: {raw.size} bytes is not a whole number of {record}-byte records "
                f"({self.label_bytes} label byte(s) + {_PIXELS} pixels): truncated or not a "
                f"{type(self).__name__} binary batch")
        records = raw.reshape(-1, record)
        return records[:, self.label_bytes:], records[:, self.label_byte_index].astype(np.int64)

    # ---- access ---------------------------------------------------------------------------

    def _arrays(self):
        return self.data, self._target_array


class CIFAR100(CIFAR10):
    """CIFAR-100: as :class:`CIFAR10` with 100 classes; targets are the fine labels."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = ("train",)
    test_list = ("test",)
    meta_file = "meta"
    labels_key = "fine_labels"
    names_key = "fine_label_names"

    binary_folder = "cifar-100-binary"
    binary_url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    binary_filename = "cifar-100-binary.tar.gz"
    binary_md5 = None       # no official checksum published with the archive: pass md5=
    binary_train_list = ("train.bin",)
    binary_test_list = ("test.bin",)
    binary_meta_file = "fine_label_names.txt"
    label_bytes = 2         # coarse label, fine label
    label_byte_index = 1


def _read_pickled_dict(path: str, keys: tuple) -> dict:
    with open(path, "rb") as f:
        entry = safe_load(f.read(), what=path)
    if not isinstance(entry, dict):
        raise DatasetFormatError(f"{path}: expected a pickled dict, got {type(entry).__name__}")
    entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
    missing = [k for k in keys if k not in entry]
    if missing:
        raise DatasetFormatError(f"{path}: missing key(s) {', '.join(map(repr, missing))}")
    return entry


def _read_text_names(path: str) -> list:
    with open(path, encoding="utf-8", errors="replace") as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise DatasetFormatError(f"{path}: no class names")
    return names
