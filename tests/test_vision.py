"""minigrad.vision: transforms (vs hand-computed results and torch), CIFAR folders in both
formats (synthetic, built here), the restricted unpickler, and the digits dataset."""
import os
import pickle
import struct
import sys

import numpy as np
import pytest
import torch

import minigrad
from minigrad.tensor import Tensor
from minigrad.utils.data import DataLoader, default_collate
from minigrad.vision import transforms as T
from minigrad.vision.datasets import (CIFAR10, CIFAR100, DatasetFormatError, Digits,
                                      UnsafePickleError)
from minigrad.vision.datasets.safe_pickle import safe_load


def _image(seed=0, shape=(6, 5, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# ---------------------------------------------------------------------------- ToTensor

def test_to_tensor_matches_torch():
    image = _image()
    out = T.ToTensor()(image)
    expected = torch.from_numpy(image).permute(2, 0, 1).float().div(255).numpy()
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (3, 6, 5)
    np.testing.assert_array_equal(out.array, expected)
    assert out.array.flags.c_contiguous


def test_to_tensor_grey_float_and_pil():
    Image = pytest.importorskip("PIL.Image")  # Pillow is optional
    grey = _image(shape=(4, 7))
    np.testing.assert_array_equal(T.ToTensor()(grey).array, (grey / np.float32(255))[None])
    floats = np.random.default_rng(1).random((2, 3, 4))
    out = T.ToTensor()(floats)  # not uint8: values and dtype kept, as torchvision
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.array, floats.transpose(2, 0, 1))
    rgb = _image(2, (5, 4, 3))
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(rgb)).array,
                                  T.ToTensor()(rgb).array)
    mask = Image.fromarray(grey > 128).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(mask).array, (grey > 128)[None].astype(np.float32))


def test_to_tensor_errors_and_batch():
    with pytest.raises(TypeError, match="ndarray"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    batch = _image(3, (4, 6, 5, 3))
    stacked = np.stack([T.ToTensor()(image).array for image in batch])
    np.testing.assert_array_equal(T.ToTensor().apply_batch(batch).array, stacked)


# ---------------------------------------------------------------------------- Normalize

@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_normalize_matches_torch(shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    mean, std = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    out = T.Normalize(mean, std)(Tensor(x))
    expected = torch.from_numpy(x).sub(torch.tensor(mean).view(-1, 1, 1)).div(
        torch.tensor(std).view(-1, 1, 1))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.array, expected.numpy())


def test_normalize_inplace_and_errors():
    x = Tensor(np.ones((3, 2, 2), np.float64))
    out = T.Normalize([0.5], [0.25], inplace=True)(x)
    assert out is x
    np.testing.assert_array_equal(x.array, np.full((3, 2, 2), 2.0))
    untouched = Tensor(np.ones((1, 2, 2), np.float32))
    T.Normalize([0.5], [0.25])(untouched)
    np.testing.assert_array_equal(untouched.array, 1.0)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.0], [0.0])(untouched)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize([0.0], [1.0])(Tensor(np.ones((1, 2, 2), np.int64)))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize([0.0], [1.0])(Tensor(np.ones((2, 2), np.float32)))
    with pytest.raises(TypeError):
        T.Normalize([0.0], [1.0])(np.ones((1, 2, 2), np.float32))


# ---------------------------------------------------------------------------- RandomCrop

def _windows(padded, size, height_axis):
    """Every crop of ``padded`` of ``size``, with its offset."""
    rows = padded.shape[height_axis] - size[0] + 1
    cols = padded.shape[height_axis + 1] - size[1] + 1
    for top in range(rows):
        for left in range(cols):
            index = [slice(None)] * padded.ndim
            index[height_axis] = slice(top, top + size[0])
            index[height_axis + 1] = slice(left, left + size[1])
            yield (top, left), padded[tuple(index)]


def _offset_of(crop, padded, size, height_axis):
    found = [offset for offset, window in _windows(padded, size, height_axis)
             if np.array_equal(window, crop)]
    assert found, "the crop is no window of the padded image"
    return found[0]


def test_random_crop_is_a_window_of_the_padded_image_and_reproducible():
    image = _image(4, (8, 8, 3))
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)))
    crop = T.RandomCrop(8, padding=2)
    minigrad.manual_seed(0)
    first = [crop(image) for _ in range(30)]
    offsets = {_offset_of(c, padded, (8, 8), 0) for c in first}
    assert len(offsets) > 5  # offsets vary
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(np.stack(first), np.stack([crop(image) for _ in range(30)]))


def test_random_crop_tensor_chw_and_padding_forms():
    x = Tensor(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    # (left/right, top/bottom) = (1, 2): the padded image is exactly the crop size.
    out = T.RandomCrop((7, 6), padding=(1, 2), fill=-1)(x)
    expected = np.pad(x.array, ((0, 0), (2, 2), (1, 1)), constant_values=-1)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.array, expected)
    # (left, top, right, bottom)
    out = T.RandomCrop((3 + 1 + 3, 4 + 2 + 4), padding=(2, 1, 4, 3))(x)
    np.testing.assert_array_equal(out.array, np.pad(x.array, ((0, 0), (1, 3), (2, 4))))
    np.testing.assert_array_equal(T.RandomCrop((3, 4))(x).array, x.array)  # no room to move


@pytest.mark.parametrize("mode, torch_mode", [("reflect", "reflect"), ("edge", "replicate")])
def test_random_crop_padding_modes_match_torch_pad(mode, torch_mode):
    x = np.random.default_rng(5).random((2, 5, 6), dtype=np.float32)
    out = T.RandomCrop((5 + 4, 6 + 4), padding=2, padding_mode=mode)(Tensor(x))
    expected = torch.nn.functional.pad(torch.from_numpy(x)[None], (2, 2, 2, 2), mode=torch_mode)
    np.testing.assert_array_equal(out.array, expected[0].numpy())


def test_random_crop_symmetric_by_hand():
    x = np.array([[1, 2, 3]], dtype=np.uint8)[:, :, None]  # HWC, 1 x 3
    out = T.RandomCrop((1, 7), padding=(2, 0), padding_mode="symmetric")(x)
    np.testing.assert_array_equal(out[0, :, 0], [2, 1, 1, 2, 3, 3, 2])


def test_random_crop_pad_if_needed_and_errors():
    x = _image(6, (3, 4, 3))
    out = T.RandomCrop((5, 4), pad_if_needed=True)(x)
    assert out.shape == (5, 4, 3)
    with pytest.raises(ValueError, match="larger than input image"):
        T.RandomCrop(5)(x)
    with pytest.raises(ValueError, match="Padding mode"):
        T.RandomCrop(2, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be"):
        T.RandomCrop(2, padding=(1, 2, 3))


@pytest.mark.parametrize("as_tensor", [False, True])
def test_random_crop_batch_crops_each_image_independently(as_tensor):
    batch = _image(7, (16, 6, 6, 3))
    if as_tensor:
        batch = Tensor(batch.transpose(0, 3, 1, 2).copy())
        height_axis, pad = 1, ((0, 0), (2, 2), (2, 2))
    else:
        height_axis, pad = 0, ((2, 2), (2, 2), (0, 0))
    out = T.RandomCrop(6, padding=2).apply_batch(batch)
    data = batch.array if as_tensor else batch
    result = out.array if as_tensor else out
    assert result.shape == data.shape and result.flags.c_contiguous
    offsets = {_offset_of(crop, np.pad(image, pad), (6, 6), height_axis)
               for crop, image in zip(result, data)}
    assert len(offsets) > 3


# ---------------------------------------------------------------------------- flips, Lambda

def test_horizontal_flip():
    image = _image(8, (4, 5, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(image), image[:, ::-1])
    assert T.RandomHorizontalFlip(0.0)(image) is image
    x = Tensor(image.transpose(2, 0, 1).copy())
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).array,
                                  torch.from_numpy(x.array).flip(-1).numpy())
    batch = Tensor(np.random.default_rng(0).random((64, 2, 3, 4)))
    minigrad.manual_seed(3)
    out = T.RandomHorizontalFlip().apply_batch(batch).array
    flipped = [np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch.array)]
    kept = [np.array_equal(o, b) for o, b in zip(out, batch.array)]
    assert all(f != k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip().apply_batch(batch).array, out)


def test_pil_images_stay_pil_images():
    Image = pytest.importorskip("PIL.Image")
    image = _image(10, (6, 7, 3))
    flipped = T.RandomHorizontalFlip(1.0)(Image.fromarray(image))
    assert isinstance(flipped, Image.Image)
    np.testing.assert_array_equal(np.asarray(flipped), image[:, ::-1])
    cropped = T.RandomCrop((8, 9), padding=1)(Image.fromarray(image))
    assert isinstance(cropped, Image.Image)
    np.testing.assert_array_equal(np.asarray(cropped), np.pad(image, ((1, 1), (1, 1), (0, 0))))


def test_compose_lambda_and_supports_batch():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: Tensor(t.array * 2))])
    image = _image(9)
    np.testing.assert_array_equal(pipeline(image).array, T.ToTensor()(image).array * 2)
    assert not T.supports_batch(pipeline)
    assert T.supports_batch(T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])]))
    assert "ToTensor()" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


# ---------------------------------------------------------------------------- CIFAR folders

def _py2_pickle(obj) -> bytes:
    """A protocol-2 pickle laid out as Python 2's cPickle wrote the official CIFAR batches:
    str as SHORT_BINSTRING/BINSTRING, arrays through numpy.core.multiarray._reconstruct."""
    out = bytearray(b"\x80\x02")

    def string(text):
        data = text.encode("latin1") if isinstance(text, str) else text
        if len(data) < 256:
            out.extend(b"U" + bytes([len(data)]) + data)
        else:
            out.extend(b"T" + struct.pack("<i", len(data)) + data)

    def emit(value):
        if isinstance(value, dict):
            out.extend(b"}(")
            for key, item in value.items():
                emit(key)
                emit(item)
            out.extend(b"u")
        elif isinstance(value, list):
            out.extend(b"](")
            for item in value:
                emit(item)
            out.extend(b"e")
        elif isinstance(value, str):
            string(value)
        elif isinstance(value, int):
            out.extend(b"K" + bytes([value]) if 0 <= value < 256 else
                       b"M" + struct.pack("<H", value))
        elif isinstance(value, np.ndarray):
            assert value.dtype == np.uint8 and value.ndim == 2
            out.extend(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                       b"K\x00\x85U\x01b\x87R(K\x01")
            emit(value.shape[0])
            emit(value.shape[1])
            out.extend(b"\x86cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R"
                       b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89")
            string(value.tobytes())
            out.extend(b"tb")
        else:
            raise TypeError(type(value))

    emit(obj)
    out.extend(b".")
    return bytes(out)


def _dump(obj, style):
    return _py2_pickle(obj) if style == "py2" else pickle.dumps(obj, protocol=style)


def _batch(rng, count, label_key="labels", classes=10):
    return {"batch_label": "batch", label_key: rng.integers(0, classes, count).tolist(),
            "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
            "filenames": [f"img_{i}.png" for i in range(count)]}


def write_cifar10_python(root, count=3, style="py2", seed=0):
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _batch(rng, count)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(_dump(batches[name], style))
    meta = {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": count,
            "num_vis": 3072}
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        f.write(_dump(meta, style))
    return batches


def _image_of(row):
    return row.reshape(3, 32, 32).transpose(1, 2, 0)


def test_py2_style_pickle_is_what_numpy_reads():
    batch = _batch(np.random.default_rng(0), 2)
    plain = pickle.loads(_py2_pickle(batch), encoding="latin1")  # numpy's own reader
    safe = safe_load(_py2_pickle(batch))
    np.testing.assert_array_equal(plain["data"], batch["data"])
    np.testing.assert_array_equal(safe["data"], batch["data"])
    assert safe["labels"] == plain["labels"] == batch["labels"]


@pytest.mark.parametrize("style", ["py2", 2, 3, 5])
def test_cifar10_python_folder(tmp_path, style):
    batches = write_cifar10_python(tmp_path, count=3, style=style)
    train = CIFAR10(tmp_path)
    test = CIFAR10(str(tmp_path), train=False)
    assert len(train) == 15 and len(test) == 3 and train.format == "python"
    assert train.data.shape == (15, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.classes[3] == "class3" and train.class_to_idx["class3"] == 3
    rows = np.concatenate([batches[f"data_batch_{i}"]["data"] for i in range(1, 6)])
    labels = sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    assert train.targets == labels and isinstance(train.targets[0], int)
    np.testing.assert_array_equal(train.data[7], _image_of(rows[7]))
    # Pixel (y, x) of the red plane is byte y * 32 + x, green 1024 later, blue 2048.
    assert train.data[7, 2, 5, 0] == rows[7, 2 * 32 + 5]
    assert train.data[7, 2, 5, 2] == rows[7, 2048 + 2 * 32 + 5]
    image, target = test[1]
    Image = pytest.importorskip("PIL.Image")
    assert isinstance(image, Image.Image) and image.mode == "RGB"  # as torchvision's
    np.testing.assert_array_equal(image, _image_of(batches["test_batch"]["data"][1]))
    assert target == batches["test_batch"]["labels"][1]


def test_cifar_samples_are_arrays_without_pillow(tmp_path, monkeypatch):
    batches = write_cifar10_python(tmp_path, count=2)
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` fails
    image, _ = CIFAR10(tmp_path, train=False)[1]
    assert isinstance(image, np.ndarray)
    np.testing.assert_array_equal(image, _image_of(batches["test_batch"]["data"][1]))


def test_cifar100_python_folder(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    train = _batch(rng, 4, "fine_labels", 100)
    train["coarse_labels"] = [t // 5 for t in train["fine_labels"]]
    (folder / "train").write_bytes(_py2_pickle(train))
    (folder / "test").write_bytes(_py2_pickle(_batch(rng, 2, "fine_labels", 100)))
    (folder / "meta").write_bytes(_py2_pickle(
        {"fine_label_names": [f"f{i}" for i in range(100)],
         "coarse_label_names": [f"c{i}" for i in range(20)]}))
    dataset = CIFAR100(tmp_path)
    assert len(dataset) == 4 and len(dataset.classes) == 100
    assert dataset.targets == train["fine_labels"]
    np.testing.assert_array_equal(dataset.data[3], _image_of(train["data"][3]))
    assert len(CIFAR100(tmp_path, train=False)) == 2


def _write_binary(folder, files, label_bytes, rng, count, classes):
    folder.mkdir()
    written = {}
    for name in files:
        labels = rng.integers(0, classes, (count, label_bytes), dtype=np.uint8)
        pixels = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        (folder / name).write_bytes(np.concatenate([labels, pixels], axis=1).tobytes())
        written[name] = labels, pixels
    return written


def test_cifar10_binary_folder(tmp_path):
    rng = np.random.default_rng(2)
    files = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    written = _write_binary(tmp_path / "cifar-10-batches-bin", files, 1, rng, 2, 10)
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text(
        "\n".join(f"name{i}" for i in range(10)) + "\n\n")
    train = CIFAR10(tmp_path)
    assert train.format == "binary" and len(train) == 10 and train.classes[9] == "name9"
    labels, pixels = written["data_batch_3.bin"]
    np.testing.assert_array_equal(train.data[4], _image_of(pixels[0]))
    assert train.targets[4] == labels[0, 0]
    test = CIFAR10(tmp_path, train=False, format="binary")
    assert test.targets == written["test_batch.bin"][0][:, 0].tolist()
    with pytest.raises(RuntimeError, match="Dataset not found"):
        CIFAR10(tmp_path, format="python")


def test_cifar100_binary_folder_uses_the_fine_label(tmp_path):
    rng = np.random.default_rng(3)
    folder = tmp_path / "cifar-100-binary"
    written = _write_binary(folder, ["train.bin", "test.bin"], 2, rng, 3, 20)
    (folder / "fine_label_names.txt").write_text("\n".join(f"f{i}" for i in range(100)))
    (folder / "coarse_label_names.txt").write_text("\n".join(f"c{i}" for i in range(20)))
    dataset = CIFAR100(tmp_path)
    labels, pixels = written["train.bin"]
    assert dataset.targets == labels[:, 1].tolist()
    np.testing.assert_array_equal(dataset.data, np.stack([_image_of(p) for p in pixels]))


def test_cifar_transforms_get_batch_and_loader(tmp_path):
    write_cifar10_python(tmp_path, count=4)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))])
    dataset = CIFAR10(tmp_path, transform=pipeline, target_transform=lambda t: t * 10)
    image, target = dataset[5]
    assert image.shape == (3, 32, 32) and target == dataset.targets[5] * 10
    indices = [3, 0, 19, 7]
    expected = default_collate([dataset[i] for i in indices])
    got = dataset.get_batch(indices)
    np.testing.assert_allclose(got[0].array, expected[0].array, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got[1].array, expected[1].array)
    # Not batchable (a Lambda): the per-image path gives the same batch.
    dataset.transform = T.Compose([pipeline, T.Lambda(lambda t: t)])
    np.testing.assert_allclose(dataset.get_batch(indices)[0].array, expected[0].array, atol=1e-6)
    plain = CIFAR10(tmp_path)
    images, targets = next(iter(DataLoader(plain, batch_size=6)))
    assert images.dtype == np.uint8 and images.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(images.array, plain.data[:6])
    np.testing.assert_array_equal(targets.array, plain.targets[:6])
    assert targets.dtype == np.int64


# ---------------------------------------------------------------------------- refused files

class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Evals:
    def __reduce__(self):
        return eval, ("__import__('os').getpid()",)


@pytest.mark.parametrize("payload", ["system", "eval", "nested"])
def test_pickle_that_runs_code_is_refused(tmp_path, payload):
    write_cifar10_python(tmp_path, count=2)
    marker = tmp_path / "pwned"
    evil = {"system": _RunsCode(marker), "eval": _Evals(),
            "nested": {"data": np.zeros((2, 3072), np.uint8), "labels": [0, _RunsCode(marker)]}}
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(pickle.dumps(evil[payload], protocol=2))
    with pytest.raises(UnsafePickleError, match="refusing to load global") as error:
        CIFAR10(tmp_path)
    assert "data_batch_2" in str(error.value)
    assert not marker.exists()


def test_object_arrays_and_subclasses_are_refused():
    objects = pickle.dumps(np.array([1, "x"], dtype=object))
    with pytest.raises(UnsafePickleError, match="dtype"):
        safe_load(objects)
    with pytest.raises(UnsafePickleError):
        safe_load(pickle.dumps(np.ma.masked_array([1, 2])))


def test_truncated_python_batch(tmp_path):
    write_cifar10_python(tmp_path, count=2)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_4"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(pickle.UnpicklingError, match="data_batch_4"):
        CIFAR10(tmp_path)


def test_truncated_binary_batch(tmp_path):
    rng = np.random.default_rng(4)
    files = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    _write_binary(tmp_path / "cifar-10-batches-bin", files, 1, rng, 2, 10)
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text("a\n" * 10)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_2.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetFormatError, match="data_batch_2.bin.*3073-byte records"):
        CIFAR10(tmp_path)


@pytest.mark.parametrize("change, message", [
    (lambda b: b.update(data=np.zeros((2, 3000), np.uint8)), "shape"),
    (lambda b: b.update(data=np.zeros((2, 3072), np.float32)), "uint8"),
    (lambda b: b.update(data=[1, 2]), "uint8 array"),
    (lambda b: b.update(labels=[1]), "2 images but 1 labels"),
    (lambda b: b.update(labels=[1, 10]), "out of range"),
    (lambda b: b.update(labels=["a", "b"]), "list of ints"),
    (lambda b: b.pop("data"), "missing key"),
])
def test_batch_with_wrong_content(tmp_path, change, message):
    write_cifar10_python(tmp_path, count=2)
    batch = _batch(np.random.default_rng(9), 2)
    change(batch)
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(pickle.dumps(batch))
    with pytest.raises(DatasetFormatError, match=message):
        CIFAR10(tmp_path)


def test_missing_files_and_folder(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        CIFAR10(tmp_path)
    write_cifar10_python(tmp_path, count=1)
    os.remove(tmp_path / "cifar-10-batches-py" / "batches.meta")
    with pytest.raises(DatasetFormatError, match="missing batches.meta"):
        CIFAR10(tmp_path)
    with pytest.raises(ValueError, match="format"):
        CIFAR10(tmp_path, format="matlab")


# ---------------------------------------------------------------------------- digits

def test_digits():
    pytest.importorskip("sklearn")  # the 'examples' extra
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 355
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32 and 0 <= label < 10
    assert train.data.min() == 0 and train.data.max() == 1
    assert np.bincount(test.targets).min() >= 30  # the split is stratified
    assert Digits().targets == train.targets  # and fixed
    batch = train.get_batch([5, 1, 9])
    np.testing.assert_array_equal(batch[0].array, train.data[[5, 1, 9]])
    np.testing.assert_array_equal(batch[1].array, np.array(train.targets)[[5, 1, 9]])
    flipped = Digits(transform=T.RandomHorizontalFlip(1.0))
    np.testing.assert_array_equal(flipped.get_batch([2])[0].array, train.data[[2]][..., ::-1])


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    from minigrad.vision.datasets import digits
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    digits._load_digits.cache_clear()  # loaded by an earlier test
    try:
        with pytest.raises(ImportError, match=r"minigrad\[examples\]"):
            Digits()
    finally:
        digits._load_digits.cache_clear()
