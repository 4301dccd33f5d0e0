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
    (lambda h: h["w"].update(data_offsets=[8, 4]), "invalid data_offsets"),
    (lambda h: h["w"].update(data_offsets=[0, 2**70]), "outside"),
    (lambda h: h["w"].update(shape=[3, True]), "shape"),
    (lambda h: h["w"].update(shape=[1] * 65), "dimensions"),
    (lambda h: h["w"].update(dtype="BF16"), "BF16.*cannot hold"),
    (lambda h: h.update(w=[1, 2]), "not a JSON object"),
    (lambda h: h.update(__metadata__={"minigrad": 5}), "__metadata__"),
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


# ---------------------------------------------------------------------------- strict headers

def _raw_file(path, header: dict, body: bytes):
    text = json.dumps(header).encode()
    return _rewrite(path, struct.pack("<Q", len(text)) + text + body)


def _two_tensors(path, offsets_b=(16, 32), body_size=32):
    """a: 4 float32 at [0, 16); b: 4 float32 at ``offsets_b``."""
    header = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
              "b": {"dtype": "F32", "shape": [4], "data_offsets": list(offsets_b)}}
    return _raw_file(path, header, bytes(range(body_size)))


def test_contiguous_tensors_load(tmp_path):
    loaded = load(_two_tensors(tmp_path / "ok.st"))
    assert set(loaded) == {"a", "b"}
    np.testing.assert_array_equal(loaded["b"].data.view(np.uint8), np.arange(16, 32))


@pytest.mark.parametrize("offsets_b, body_size, message", [
    ((8, 24), 32, r"tensor 'b' \(bytes \[8, 24\)\) overlaps tensor 'a'"),
    ((0, 16), 16, r"overlaps tensor"),
    ((20, 36), 36, r"bytes \[16, 20\) before tensor 'b' belong to no tensor"),
    ((16, 32), 40, r"the last 8 bytes of the data section belong to no tensor"),
])
def test_overlapping_or_loose_offsets_are_refused(tmp_path, offsets_b, body_size, message):
    path = _two_tensors(tmp_path / "bad.st", offsets_b, body_size)
    with pytest.raises(SerializationError, match=message):
        load(path)
    with pytest.raises(Exception):  # the safetensors library refuses them too
        safetensors.numpy.load_file(str(path))


def test_huge_integers_in_the_header_are_a_serialization_error(tmp_path):
    text = b'{"w": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 0]}}'
    path = _rewrite(tmp_path / "digits.st", struct.pack("<Q", len(text)) + text)
    with pytest.raises(SerializationError, match="digits.st: header is not valid JSON"):
        load(path)


@pytest.mark.parametrize("shape", [[0, 2**62, 2**62], [2**40, 2**40], [2**64]])
def test_shapes_whose_size_overflows_are_refused(tmp_path, shape):
    header = {"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}}
    with pytest.raises(SerializationError, match=r"tensor 'w': shape .* too large"):
        load(_raw_file(tmp_path / "big.st", header, b""))


def test_duplicate_keys_are_refused(tmp_path):
    text = (b'{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
            b'"w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}')
    path = _rewrite(tmp_path / "dup.st", struct.pack("<Q", len(text)) + text + b"ab")
    with pytest.raises(SerializationError, match="'w' appears twice"):
        load(path)


def test_header_size_is_capped_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "cap.st"
    length = serialization.MAX_HEADER_BYTES + 1
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", length))
        f.truncate(8 + length + 8)  # a sparse file: the claimed header is really there
    monkeypatch.setattr(serialization, "_parse_header", lambda *a: pytest.fail("parsed"))
    with pytest.raises(SerializationError, match="exceeds minigrad's cap"):
        load(path)


def test_save_refuses_what_load_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 1000)
    with pytest.raises(ValueError, match="above the 1000 bytes minigrad.load accepts"):
        save({f"t{i}": _tensor(np.ones(1)) for i in range(50)}, tmp_path / "many.st")
    assert not os.listdir(tmp_path)
    save({f"t{i}": _tensor(np.ones(1)) for i in range(2)}, tmp_path / "few.st")


def test_a_header_at_the_cap_is_checked_quickly(tmp_path):
    """~150,000 tensors in a header just under the cap: refused (one bad entry at the end)
    in seconds and a few hundred MB, not the minutes and gigabytes a lenient loader spent."""
    import subprocess
    import sys
    entries = {f"t{i:07d}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
               for i in range(150_000)}
    entries["zzz"] = {"dtype": "U8", "shape": [2], "data_offsets": [150_000, 150_001]}
    path = _raw_file(tmp_path / "many.st", entries, bytes(150_001))
    assert path.stat().st_size < serialization.MAX_HEADER_BYTES
    code = f"""
import resource, sys, time
sys.path[:0] = [{_PACKAGE!r}]
from minigrad.serialization import SerializationError, load
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    load({str(path)!r})
except SerializationError as error:
    assert "'zzz'" in str(error) and "needs 2 bytes" in str(error), error
else:
    raise AssertionError("loaded")
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    seconds, kilobytes = map(float, result.stdout.split())
    assert seconds < 10 and kilobytes < 500 << 10, (seconds, kilobytes)


def test_the_whole_header_is_checked_before_any_tensor_is_allocated(tmp_path):
    """A 64 MB tensor, then a corrupt entry: refused without reading or allocating 64 MB."""
    import tracemalloc
    size = 64 << 20
    header = {"big": {"dtype": "U8", "shape": [size], "data_offsets": [0, size]},
              "bad": {"dtype": "F32", "shape": [3], "data_offsets": [size, size + 4]}}
    text = json.dumps(header).encode()
    path = tmp_path / "late.st"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        f.truncate(8 + len(text) + size + 4)
    tracemalloc.start()
    with pytest.raises(SerializationError, match="tensor 'bad': shape"):
        load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20, peak


def test_seekable_and_unseekable_file_objects(tmp_path):
    import io
    path = tmp_path / "s.st"
    state = {"w": _tensor(np.arange(5.0)), "n": 3}
    save(state, path)
    data = path.read_bytes()

    class Stream(io.RawIOBase):  # a pipe: read() only
        def __init__(self):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.inner.readinto(buffer)

    _assert_same(state, load(Stream()))
    prefixed = io.BytesIO(b"xyz" + data)
    prefixed.seek(3)
    _assert_same(state, load(prefixed))
    with open(path) as text_file, pytest.raises(TypeError, match="binary"):
        load(text_file)


# ---------------------------------------------------------------------------- killed saves

_KILLED_SAVE = """
import os, signal, sys
sys.path[:0] = [{package!r}]
import numpy as np
from minigrad import serialization
from minigrad.tensor import Tensor

def write_half(f, payload):
    f.write(payload[: len(payload) // 2])
    f.flush()
    {then}
    f.write(payload[len(payload) // 2:])

serialization._write_all = write_half
serialization.save({{"w": Tensor(np.zeros(1000))}}, {path!r})
"""
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(minigrad.__file__)))


def _temporaries(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def _save_in_subprocess(path, then, **popen):
    import subprocess
    import sys
    code = _KILLED_SAVE.format(package=_PACKAGE, path=str(path), then=then)
    return subprocess.Popen([sys.executable, "-c", code], **popen)


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "ckpt.st"
    save({"w": _tensor(np.ones(1000))}, path)
    before = path.read_bytes()
    killed = _save_in_subprocess(path, "os.kill(os.getpid(), signal.SIGKILL)")
    assert killed.wait(timeout=60) == -9
    left = _temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".ckpt.st.{killed.pid}-")
    assert path.read_bytes() == before
    save({"w": _tensor(np.full(1000, 2.0))}, path)
    assert _temporaries(tmp_path) == []
    np.testing.assert_array_equal(load(path)["w"].data, np.full(1000, 2.0))


def test_a_save_in_progress_keeps_its_temporary_file(tmp_path):
    import subprocess
    path = tmp_path / "ckpt.st"
    writer = _save_in_subprocess(path, "print('half', flush=True); sys.stdin.readline()",
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half"
        save({"w": _tensor(np.ones(3))}, path)  # another save to the same path meanwhile
        assert len(_temporaries(tmp_path)) == 1
    finally:
        writer.stdin.write("\n")
        writer.stdin.close()
        assert writer.wait(timeout=60) == 0
    assert _temporaries(tmp_path) == []
    np.testing.assert_array_equal(load(path)["w"].data, np.zeros(1000))


def test_a_locked_temporary_file_is_kept_even_if_its_pid_is_gone(tmp_path):
    """A writer on another machine sharing the folder: its pid means nothing here, its lock
    does."""
    import fcntl
    import subprocess
    import sys
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".ckpt.st.{int(gone.stdout)}-0123456789ab.tmp"
    stale.write_bytes(b"half")
    with open(stale, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        save({"w": _tensor(np.ones(3))}, tmp_path / "ckpt.st")
        assert stale.exists()
    save({"w": _tensor(np.ones(3))}, tmp_path / "ckpt.st")
    assert not stale.exists()
    unrelated = tmp_path / ".other.st.1-0123456789ab.tmp"  # another target's: never touched
    unrelated.write_bytes(b"")
    save({"w": _tensor(np.ones(3))}, tmp_path / "ckpt.st")
    assert unrelated.exists()


# ---------------------------------------------------------------------------- torch files

@pytest.fixture
def torch_state():
    generator = torch.Generator().manual_seed(0)
    return {"conv.weight": torch.randn(4, 3, 3, 3, generator=generator),
            "fc.bias": torch.randn(10, generator=generator, dtype=torch.float64),
            "half": torch.randn(3, generator=generator).to(torch.bfloat16),
            "bn.num_batches_tracked": torch.tensor(7),
            "optimizer": {"state": {0: {"step": torch.tensor(3.0)}},
                          "param_groups": [{"lr": 0.1, "params": [0], "betas": (0.9, 0.99)}]}}


@pytest.mark.parametrize("zip_format", [True, False])
def test_a_pytorch_checkpoint_is_recognised_and_the_message_says_how_to_convert(
        tmp_path, torch_state, zip_format):
    path = tmp_path / "model.pt"
    torch.save(torch_state, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(SerializationError) as raised:
        load(path)
    message = str(raised.value)
    kind = "zip format" if zip_format else "legacy pickle format"
    assert f"model.pt is a PyTorch checkpoint (torch.save's {kind})" in message
    assert "never unpickles" in message and "torch is installed" in message
    assert f"convert_torch_checkpoint({str(path)!r}, 'model.safetensors')" in message
    with open(path, "rb") as f, pytest.raises(SerializationError, match="PyTorch checkpoint"):
        load(f)


def test_without_torch_the_message_names_the_cpu_install(tmp_path, torch_state, monkeypatch):
    import importlib.util
    path = tmp_path / "model.pt"
    torch.save(torch_state, path)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real_find_spec(name, *a))
    with pytest.raises(SerializationError,
                       match=r"pip install torch==2\.13\.0 --index-url "
                             r"https://download\.pytorch\.org/whl/cpu"):
        load(path)


def test_other_pickles_and_zips_are_named(tmp_path):
    import pickle
    path = tmp_path / "thing.pkl"
    path.write_bytes(pickle.dumps({"w": [1.0] * 100}, protocol=4))
    with pytest.raises(SerializationError, match="thing.pkl is a Python pickle"):
        load(path)
    np.savez(tmp_path / "arrays.npz", a=np.ones(3))
    with pytest.raises(SerializationError, match="arrays.npz is a zip archive"):
        load(tmp_path / "arrays.npz")


def test_a_safetensors_header_of_640_bytes_is_not_taken_for_a_pickle(tmp_path):
    """640 = 0x280: the file starts with b'\\x80\\x02', as a protocol-2 pickle does."""
    key = "w"
    while True:
        text = json.dumps({key: {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}).encode()
        if len(text) >= 640:
            break
        key += "x"
    text = text[:-1] + b" " * (640 - len(text)) + b"}"
    path = _rewrite(tmp_path / "p.st", struct.pack("<Q", 640) + text + b"\x05")
    assert path.read_bytes()[:2] == b"\x80\x02"
    assert load(path)[key].data.tolist() == [5]


def test_convert_torch_checkpoint(tmp_path, torch_state):
    torch.save(torch_state, tmp_path / "model.pt")
    converted = serialization.convert_torch_checkpoint(tmp_path / "model.pt",
                                                       tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    _assert_same(converted, loaded)
    for key in ("conv.weight", "fc.bias", "bn.num_batches_tracked"):
        assert loaded[key].dtype == torch_state[key].numpy().dtype
        np.testing.assert_array_equal(loaded[key].data, torch_state[key].numpy())
    assert loaded["half"].dtype == np.float32  # numpy has no bfloat16; float32 holds it
    np.testing.assert_array_equal(loaded["half"].data, torch_state["half"].float().numpy())
    assert loaded["optimizer"]["param_groups"] == [{"lr": 0.1, "params": [0],
                                                    "betas": (0.9, 0.99)}]
    assert loaded["optimizer"]["state"][0]["step"].item() == 3.0


# ---------------------------------------------------------------------------- torch's arguments

@pytest.mark.parametrize("kwargs", [
    dict(map_location="cpu"), dict(map_location=torch.device("cpu")),
    dict(map_location={"cuda:0": "cpu"}), dict(map_location=lambda storage, location: storage),
    dict(weights_only=True), dict(weights_only=False), dict(mmap=True),
    dict(map_location="cpu", weights_only=True),
])
def test_torch_load_arguments_are_accepted(good_file, kwargs):
    _assert_same(load(good_file), load(good_file, **kwargs))


def test_torch_load_arguments_that_cannot_be_honoured(good_file):
    import pickle
    with pytest.raises(RuntimeError, match="'cuda:0'.*CPU"):
        load(good_file, map_location="cuda:0")
    with pytest.raises(RuntimeError, match="'cuda'"):
        load(good_file, map_location={"cpu": "cuda"})
    with pytest.raises(RuntimeError, match="never unpickles"):
        load(good_file, pickle_module=pickle)
    with pytest.raises(TypeError, match="weights_only"):
        load(good_file, weights_only="yes")


def test_save_under_a_torch_name_writes_safetensors_and_says_so(tmp_path):
    state = {"w": _tensor(np.arange(4.0))}
    with pytest.warns(UserWarning, match="not with torch.load"):
        save(state, tmp_path / "m.pt")
    _assert_same(state, load(tmp_path / "m.pt"))
    np.testing.assert_array_equal(safetensors.torch.load_file(str(tmp_path / "m.pt"))["w"],
                                  np.arange(4.0))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save(state, tmp_path / "m.safetensors")
