"""minigrad.serialization: safetensors round trips, torch interop, atomic writes, bad files."""
import json
import os
import struct

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import minigrad
from minigrad import serialization
from minigrad.serialization import SerializationError, load, save
from minigrad.tensor import Tensor


def _tensor(array):
    return Tensor(np.asarray(array))


def _assert_same(a, b):
    """Structural equality with tensors and arrays compared by dtype, shape and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.array, b.array)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8,
                                   np.bool_, np.float16])
def test_round_trip_dtypes(tmp_path, dtype):
    rng = np.random.default_rng(0)
    state = {"w": _tensor((rng.standard_normal((3, 5)) * 10).astype(dtype)),
             "scalar": _tensor(np.array(7, dtype=dtype)),
             "empty": _tensor(np.zeros((0, 4), dtype=dtype))}
    save(state, tmp_path / "m.safetensors")
    _assert_same(state, load(tmp_path / "m.safetensors"))


def test_round_trip_optimizer_like_state(tmp_path):
    rng = np.random.default_rng(1)
    state = {
        "model": {"conv.weight": _tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32)),
                  "fc.bias": _tensor(np.zeros(10, np.float32))},
        "optimizer": {
            "state": {0: {"step": _tensor(np.array(12.0, np.float32)),
                          "exp_avg": _tensor(rng.standard_normal((4, 3, 3, 3))),
                          "exp_avg_sq": _tensor(rng.random((4, 3, 3, 3)))},
                      1: {"momentum_buffer": None}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                              "weight_decay": 0, "amsgrad": False, "maximize": False,
                              "foreach": None, "params": [0, 1], "name": "all"}],
        },
        "epoch": 3, "losses": [2.3, 1.1, float("inf"), float("nan")],
        "rng": np.arange(4, dtype=np.uint64), "best": np.float64(0.97),
        "nested": [[_tensor(np.ones(2, np.int64))], ()],
    }
    path = tmp_path / "checkpoint.safetensors"
    save(state, path)
    loaded = load(str(path))
    _assert_same(state, loaded)
    # Non-contiguous, transposed input is stored in logical order.
    save({"t": _tensor(np.arange(6.0).reshape(2, 3).T)}, path)
    np.testing.assert_array_equal(load(path)["t"].array, np.arange(6.0).reshape(2, 3).T)


def test_requires_grad_survives(tmp_path):
    weight = Tensor(np.ones(3, np.float32), requires_grad=True)
    save({"w": weight}, tmp_path / "w.st")
    assert load(tmp_path / "w.st")["w"].requires_grad


def test_file_objects(tmp_path):
    path = tmp_path / "f.st"
    with open(path, "wb") as f:
        save({"a": _tensor(np.arange(3))}, f)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(load(f)["a"].array, np.arange(3))


def test_flat_state_dict_keys_are_kept_and_torch_reads_them(tmp_path):
    rng = np.random.default_rng(2)
    state = {"conv1.weight": _tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32)),
             "conv1.bias": _tensor(rng.standard_normal(8).astype(np.float32)),
             "fc.weight": _tensor(rng.standard_normal((10, 32))),
             "bn.num_batches_tracked": _tensor(np.array(5, np.int64))}
    path = tmp_path / "model.safetensors"
    save(state, path)
    weights = safetensors.torch.load_file(str(path))
    assert set(weights) == set(state)
    for key, value in state.items():
        assert weights[key].dtype == torch.from_numpy(value.array).dtype
        np.testing.assert_array_equal(weights[key].numpy(), value.array)
    # And the other way: a file written by torch loads as a dict of tensors.
    torch_path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file({"w": torch.arange(6.0).reshape(2, 3)}, str(torch_path))
    loaded = load(torch_path)
    assert isinstance(loaded["w"], Tensor)
    np.testing.assert_array_equal(loaded["w"].array, np.arange(6.0, dtype=np.float32).reshape(2, 3))


def test_nested_keys_are_readable(tmp_path):
    path = tmp_path / "n.st"
    save({"optimizer": {"state": {0: {"exp_avg": _tensor(np.ones(2))}}}}, path)
    assert list(safetensors.numpy.load_file(str(path))) == ["optimizer.state.0.exp_avg"]


def test_colliding_paths_get_distinct_keys(tmp_path):
    state = {"a.b": _tensor(np.ones(1)), "a": {"b": _tensor(np.zeros(1))}}
    save(state, tmp_path / "c.st")
    _assert_same(state, load(tmp_path / "c.st"))


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object"):
        save({"f": object()}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="dtype"):
        save({"c": np.ones(2, np.complex64)}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="dict keys"):
        save({(1, 2): 3}, tmp_path / "x.st")
    assert not os.listdir(tmp_path)


def test_minigrad_exports_save_and_load(tmp_path):
    # The lead exports these; until then the module functions are the API.
    save_fn = getattr(minigrad, "save", save)
    load_fn = getattr(minigrad, "load", load)
    save_fn({"x": _tensor(np.ones(2))}, tmp_path / "e.st")
    np.testing.assert_array_equal(load_fn(tmp_path / "e.st")["x"].array, np.ones(2))


# ---------------------------------------------------------------------------- atomicity

def _leftovers(directory, keep):
    return sorted(name for name in os.listdir(directory) if name != keep)


def test_crash_while_writing_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    save({"w": _tensor(np.ones(1000))}, path)
    before = path.read_bytes()

    def write_half_then_die(f, payload):
        f.write(payload[: len(payload) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization, "_write_all", write_half_then_die)
    with pytest.raises(OSError, match="simulated"):
        save({"w": _tensor(np.zeros(1000))}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, "ckpt.st") == []


def test_crash_before_rename_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    save({"w": _tensor(np.ones(10))}, path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError("power cut (simulated)")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="simulated"):
        save({"w": _tensor(np.zeros(10))}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, "ckpt.st") == []


def test_save_replaces_with_fsync_and_default_permissions(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    path = tmp_path / "p.st"
    save({"w": _tensor(np.ones(2))}, path)
    assert len(calls) == 2  # the file, then its directory
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------- bad files

@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.st"
    save({"w": _tensor(np.arange(12, dtype=np.float32).reshape(3, 4)), "step": 3}, path)
    return path


def _rewrite(path, data):
    path.write_bytes(data)
    return path


def test_truncated_files_are_refused(good_file):
    data = good_file.read_bytes()
    for cut in (0, 5, 8, 20, len(data) - 1):
        _rewrite(good_file, data[:cut])
        with pytest.raises(SerializationError, match="good.st"):
            load(good_file)


def test_bad_header_length_is_refused(good_file):
    data = good_file.read_bytes()
    _rewrite(good_file, struct.pack("<Q", 10**12) + data[8:])
    with pytest.raises(SerializationError, match="header length"):
        load(good_file)


def test_bad_json_is_refused(good_file):
    data = bytearray(good_file.read_bytes())
    data[8] = ord("[")  # the header no longer parses
    _rewrite(good_file, bytes(data))
    with pytest.raises(SerializationError, match="JSON"):
        load(good_file)


def _with_header(path, change):
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    change(header)
    text = json.dumps(header).encode()
    return _rewrite(path, struct.pack("<Q", len(text)) + text + data[8 + length:])


@pytest.mark.parametrize("change, message", [
    (lambda h: h["w"].update(data_offsets=[0, 10**9]), "outside"),
    (lambda h: h["w"].update(data_offsets=[8, 4]), "outside"),
    (lambda h: h["w"].update(shape=[5, 4]), "needs"),
    (lambda h: h["w"].update(shape=[-3, -4]), "shape"),
    (lambda h: h["w"].update(dtype="X99"), "dtype"),
    (lambda h: h["__metadata__"].update(minigrad="{not json"), "metadata"),
    (lambda h: h["__metadata__"].update(
        minigrad='{"version": 1, "structure": {"tensor": "nope"}}'), "missing tensor"),
    (lambda h: h["__metadata__"].update(minigrad='{"version": 99, "structure": 1}'), "version"),
    (lambda h: h["__metadata__"].update(
        minigrad='{"version": 1, "structure": {"dict": [[[1], 2]]}}'), "malformed"),
    (lambda h: h["__metadata__"].update(
        minigrad='{"version": 1, "structure": ' + '{"list": [' * 50000 + ']}' * 50000 + '}'),
     "JSON|deeply"),
])
def test_corrupt_headers_are_refused(good_file, change, message):
    _with_header(good_file, change)
    with pytest.raises(SerializationError, match=message):
        load(good_file)


def test_load_never_unpickles(tmp_path):
    import pickle
    path = tmp_path / "evil.st"
    path.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(ValueError):
        load(path)


# ---------------------------------------------------------------------------- resume

def test_training_resumed_after_epoch_2_ends_with_the_same_weights(tmp_path, capsys):
    """The training command, killed after epoch 2 and resumed, matches an unbroken run."""
    pytest.importorskip("sklearn")
    from minigrad.examples import train

    def run(name, epochs, resume=False):
        args = ["--limit", "64", "--batch-size", "32", "--epochs", str(epochs), "--quiet",
                "--checkpoint", str(tmp_path / name), "--plot", ""]
        return train.main(args + (["--resume"] if resume else []))

    unbroken = run("a.st", 3)
    run("b.st", 2)
    resumed = run("b.st", 3, resume=True)
    assert "resumed from" in capsys.readouterr().out
    assert resumed["train_loss"] == unbroken["train_loss"]
    a, b = load(tmp_path / "a.st"), load(tmp_path / "b.st")
    assert a["epoch"] == b["epoch"] == 3
    for key, value in a["model"].items():
        np.testing.assert_array_equal(value.array, b["model"][key].array, err_msg=key)
    for index, state in a["optimizer"]["state"].items():
        for name, value in state.items():
            other = b["optimizer"]["state"][index][name]
            np.testing.assert_array_equal(np.asarray(getattr(value, "data", value)),
                                          np.asarray(getattr(other, "data", other)))
