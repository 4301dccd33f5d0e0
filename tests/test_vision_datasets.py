"""MNIST and FashionMNIST (IDX files built here in the real format, downloaded from a local
HTTP server on 127.0.0.1 with checksums, mirrors, corrupt and cut transfers), ImageFolder and
DatasetFolder (PNG files written with Pillow), FakeData, and what each sample is: a PIL image
as torchvision gives it, the image array when Pillow is missing."""
import gzip
import hashlib
import os
import struct
import sys

import numpy as np
import pytest
from PIL import Image

import minigrad
from local_server import server  # noqa: F401  (the fixture)
from minigrad.tensor import Tensor
from minigrad.utils.data import DataLoader, default_collate
from minigrad.vision import transforms as T
from minigrad.vision.datasets import (MNIST, DatasetFolder, DatasetFormatError, DownloadError,
                                      FakeData, FashionMNIST, ImageFolder)
from minigrad.vision.datasets import folder as folder_module
from minigrad.vision.datasets.mnist import read_idx

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file: 0, 0, type code, rank, big-endian sizes, big-endian values."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, IDX_CODES[big.dtype], array.ndim])
    return header + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()


def mnist_files(seed=0, train=6, test=4, size=28):
    """{archive name: gzip bytes} and the arrays, in MNIST's published layout."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (train, size, size), np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, train).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, size, size), np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, test).astype(np.uint8)}
    archives = {f"{name}.gz": gzip.compress(idx_bytes(array)) for name, array in arrays.items()}
    return archives, arrays


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def mirror_class(base, mirrors, archives, base_class=MNIST, md5s=None):
    """A subclass of ``base_class`` whose mirrors are on the local server."""
    order = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    md5s = md5s or {name: md5(archives[name]) for name in order}
    return type(base_class.__name__, (base_class,), {
        "mirrors": [f"{base}/{m}/" for m in mirrors],
        "resources": [(name, md5s[name]) for name in order]})


def _raw_listing(root, name="MNIST"):
    folder = os.path.join(root, name, "raw")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# ---------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_every_type(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("a", "a.gz"):
        out = read_idx(str(tmp_path / name))
        assert out.dtype.isnative and out.shape == (2, 3, 4)
        np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01", "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x02\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", r"11 bytes, but an IDX array of shape \(5,\)"),
])
def test_read_idx_errors(tmp_path, data, message):
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(DatasetFormatError, match=message):
        read_idx(str(tmp_path / "bad"))


# ---------------------------------------------------------------------------- MNIST download

def test_mnist_downloads_checks_and_reads(server, tmp_path):
    base, routes, hits = server
    archives, arrays = mnist_files()
    for name, body in archives.items():
        routes[f"/mnist/{name}"] = (body, False)
    Local = mirror_class(base, ["mnist"], archives)
    train = Local(tmp_path, download=True, timeout=5)
    assert sorted(hits) == sorted(f"/mnist/{name}" for name in archives)
    assert _raw_listing(tmp_path) == sorted(arrays)  # decompressed, nothing else left
    assert isinstance(train.data, Tensor) and train.data.dtype == np.uint8
    assert train.data.shape == (6, 28, 28) and train.targets.dtype == np.int64
    np.testing.assert_array_equal(train.data.array, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(train.targets.array, arrays["train-labels-idx1-ubyte"])
    image, label = train[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), arrays["train-images-idx3-ubyte"][3])
    assert type(label) is int and label == arrays["train-labels-idx1-ubyte"][3]
    test = Local(tmp_path, train=False, download=True)
    assert len(test) == 4 and len(hits) == 4  # present: nothing fetched again
    assert train.class_to_idx["3 - three"] == 3 and "Split: Test" in repr(test)


def test_mnist_tries_the_next_mirror(server, tmp_path):
    base, routes, hits = server
    archives, _ = mnist_files(seed=1)
    for name, body in archives.items():
        routes[f"/second/{name}"] = (body, False)
    routes["/first/train-labels-idx1-ubyte.gz"] = (archives["train-labels-idx1-ubyte.gz"], True)
    Local = mirror_class(base, ["first", "second"], archives)
    assert len(Local(tmp_path, download=True, timeout=5)) == 6
    assert "/first/train-images-idx3-ubyte.gz" in hits  # 404 there, then the second mirror
    assert "/first/train-labels-idx1-ubyte.gz" in hits  # cut short there


@pytest.mark.parametrize("problem", ["checksum", "cut", "missing"])
def test_mnist_failed_download_leaves_nothing(server, tmp_path, problem):
    base, routes, _ = server
    archives, _ = mnist_files(seed=2)
    md5s = {name: md5(body) for name, body in archives.items()}
    for name, body in archives.items():
        if name == "t10k-images-idx3-ubyte.gz":
            if problem == "missing":
                continue
            if problem == "checksum":
                md5s[name] = "0" * 32
        routes[f"/m/{name}"] = (body, problem == "cut" and name == "t10k-images-idx3-ubyte.gz")
    Local = mirror_class(base, ["m"], archives, md5s=md5s)
    message = {"checksum": "MD5", "cut": "cut short|failed", "missing": "404"}[problem]
    with pytest.raises(DownloadError, match=message):
        Local(tmp_path, download=True, timeout=5)
    listing = _raw_listing(tmp_path)
    assert "t10k-images-idx3-ubyte" not in listing
    assert not [name for name in listing if name.startswith(".")]  # no part or staging file
    with pytest.raises(RuntimeError, match="Dataset not found"):
        Local(tmp_path)


def test_mnist_corrupt_content_is_not_moved_into_place(server, tmp_path):
    base, routes, _ = server
    archives, arrays = mnist_files(seed=3)
    truncated = idx_bytes(arrays["train-images-idx3-ubyte"])[:-10]
    archives["train-images-idx3-ubyte.gz"] = gzip.compress(truncated)
    archives["train-labels-idx1-ubyte.gz"] = b"not gzip at all"
    for name, body in archives.items():
        routes[f"/m/{name}"] = (body, False)
    Local = mirror_class(base, ["m"], archives)
    with pytest.raises(DatasetFormatError, match="truncated or not that array"):
        Local(tmp_path, download=True, timeout=5)
    assert _raw_listing(tmp_path) == []
    del routes["/m/train-images-idx3-ubyte.gz"]
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(
        idx_bytes(arrays["train-images-idx3-ubyte"]))
    with pytest.raises(DownloadError, match="cannot decompress"):
        Local(tmp_path, download=True, timeout=5)
    assert _raw_listing(tmp_path) == ["train-images-idx3-ubyte"]


def test_fashion_mnist_and_files_already_there(tmp_path):
    archives, arrays = mnist_files(seed=4, train=5, test=3)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name, body in archives.items():
        if name.startswith("train"):
            (raw / name).write_bytes(body)  # the .gz as published
        else:
            (raw / name[:-3]).write_bytes(gzip.decompress(body))
    train, test = FashionMNIST(tmp_path), FashionMNIST(tmp_path, train=False)
    assert len(train) == 5 and len(test) == 3
    np.testing.assert_array_equal(test.data.array, arrays["t10k-images-idx3-ubyte"])
    assert train.classes[9] == "Ankle boot" and FashionMNIST.mirrors[0].startswith("http")
    with pytest.raises(RuntimeError, match="Dataset not found"):
        MNIST(tmp_path)  # another folder


def test_mnist_batches_transforms_and_workers(tmp_path):
    archives, arrays = mnist_files(seed=5, train=20)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, body in archives.items():
        (raw / name[:-3]).write_bytes(gzip.decompress(body))
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    dataset = MNIST(tmp_path, transform=pipeline)
    image, _ = dataset[2]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_allclose(image.array[0], (arrays["train-images-idx3-ubyte"][2] / 255
                                                - 0.1307) / 0.3081, rtol=1e-5)
    indices = [4, 0, 19, 7]
    expected = default_collate([dataset[i] for i in indices])
    batch = dataset.get_batch(indices)
    np.testing.assert_allclose(batch[0].array, expected[0].array, atol=1e-6)
    np.testing.assert_array_equal(batch[1].array, expected[1].array)
    minigrad.manual_seed(0)
    alone = list(DataLoader(dataset, batch_size=6, shuffle=True))
    minigrad.manual_seed(0)
    workers = list(DataLoader(dataset, batch_size=6, shuffle=True, num_workers=2))
    for a, b in zip(alone, workers):
        np.testing.assert_array_equal(a[0].array, b[0].array)
        np.testing.assert_array_equal(a[1].array, b[1].array)
    dataset.data = dataset.data[:3]
    dataset.targets = dataset.targets[:3]
    assert len(dataset) == 3


# ---------------------------------------------------------------------------- folders

def _write_folders(root, layout):
    """``layout`` {class: [(relative name, HWC uint8 image or bytes)]}."""
    for name, files in layout.items():
        for relative, content in files:
            path = root / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                Image.fromarray(content).save(path)


def test_image_folder_reads_classes_and_images(tmp_path):
    rng = np.random.default_rng(0)
    pictures = {key: rng.integers(0, 256, (6, 7, 3), np.uint8) for key in "abcd"}
    grey = rng.integers(0, 256, (6, 7), np.uint8)
    _write_folders(tmp_path, {
        "dog": [("b.png", pictures["a"]), ("nested/a.PNG", pictures["b"]),
                ("notes.txt", b"not an image")],
        "cat": [("z.bmp", pictures["c"]), ("y.png", grey)],
        "zebra": [("x.ppm", pictures["d"])]})
    (tmp_path / "stray.png").write_bytes(b"a file at the top is no class")
    dataset = ImageFolder(tmp_path)
    assert dataset.classes == ["cat", "dog", "zebra"]
    assert dataset.class_to_idx == {"cat": 0, "dog": 1, "zebra": 2}
    relative = [(os.path.relpath(p, tmp_path), t) for p, t in dataset.samples]
    assert relative == [("cat/y.png", 0), ("cat/z.bmp", 0), ("dog/b.png", 1),
                        ("dog/nested/a.PNG", 1), ("zebra/x.ppm", 2)]
    assert dataset.targets == [0, 0, 1, 1, 2] and dataset.imgs is dataset.samples
    image, target = dataset[0]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and target == 0
    np.testing.assert_array_equal(np.asarray(image), np.stack([grey] * 3, axis=-1))
    np.testing.assert_array_equal(np.asarray(dataset[3][0]), pictures["b"])
    with_transform = ImageFolder(tmp_path, transform=T.ToTensor(),
                                 target_transform=lambda t: t + 10)
    images, targets = next(iter(DataLoader(with_transform, batch_size=5)))
    assert images.shape == (5, 3, 6, 7) and targets.array.tolist() == [10, 10, 11, 11, 12]


def test_dataset_folder_loader_filters_and_errors(tmp_path):
    _write_folders(tmp_path, {"one": [("a.npy", b"1"), ("b.txt", b"2")],
                              "two": [("c.npy", b"3")], "empty": []})
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid file for the classes empty"):
        DatasetFolder(tmp_path, loader=lambda p: open(p).read(), extensions=(".npy",))
    dataset = DatasetFolder(tmp_path, loader=lambda p: open(p).read(), extensions=".npy",
                            allow_empty=True)
    assert [dataset[i] for i in range(len(dataset))] == [("1", 1), ("3", 2)]
    chosen = DatasetFolder(tmp_path, loader=lambda p: p[-5:],
                           is_valid_file=lambda p: p.endswith("b.txt"), allow_empty=True)
    assert [chosen[0]] == [("b.txt", 1)]
    with pytest.raises(ValueError, match="cannot be None or not None at the same time"):
        DatasetFolder(tmp_path, loader=print)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        DatasetFolder(tmp_path / "two", loader=print, extensions=".npy")
    assert folder_module.has_file_allowed_extension("X.JPEG", folder_module.IMG_EXTENSIONS)


# ---------------------------------------------------------------------------- FakeData, Pillow

def test_fake_data_is_deterministic_per_index():
    dataset = FakeData(size=5, image_size=(3, 8, 6), num_classes=4, random_offset=7)
    image, label = dataset[2]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (6, 8)
    assert 0 <= label < 4 and dataset[2][1] == label
    np.testing.assert_array_equal(np.asarray(dataset[2][0]), np.asarray(image))
    state = minigrad.random.get_rng_state()
    dataset[1]
    assert minigrad.random.get_rng_state() == state  # the global generator is untouched
    generator = minigrad.Generator(2 + 7)
    values = minigrad.randn(3, 8, 6, generator=generator).array
    expected = (np.trunc(values * np.float32(255)).astype(np.int64) & 0xFF).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(image), expected.transpose(1, 2, 0))
    assert FakeData(2, (1, 4, 4))[0][0].mode == "L"
    with pytest.raises(IndexError, match="FakeData index out of range"):
        dataset[5]
    tensors = FakeData(4, (3, 5, 5), transform=T.ToTensor())
    assert next(iter(DataLoader(tensors, batch_size=4)))[0].shape == (4, 3, 5, 5)


def test_without_pillow_samples_are_image_arrays(tmp_path, monkeypatch):
    archives, arrays = mnist_files(seed=6)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, body in archives.items():
        (raw / name[:-3]).write_bytes(gzip.decompress(body))
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` fails
    image, _ = MNIST(tmp_path)[1]
    assert isinstance(image, np.ndarray) and image.shape == (28, 28)
    np.testing.assert_array_equal(image, arrays["train-images-idx3-ubyte"][1])
    tensor, _ = MNIST(tmp_path, transform=T.Compose([T.Pad(2), T.ToTensor()]))[1]
    assert tensor.shape == (1, 32, 32)
    fake, _ = FakeData(1, (3, 4, 5))[0]
    assert isinstance(fake, np.ndarray) and fake.shape == (4, 5, 3)
    with pytest.raises(ImportError, match=r"minigrad\[vision\]"):
        ImageFolder(tmp_path)
    with pytest.raises(ImportError, match=r"minigrad\[vision\]"):
        T.ToPILImage()(Tensor(np.zeros((3, 2, 2), np.float32)))
