"""minigrad.save / minigrad.load: state dicts as safetensors files, written atomically.

File layout (the safetensors format): 8 bytes, the little-endian length N of a JSON header;
N bytes of header mapping each tensor's key to its dtype, shape and byte range; then the raw
little-endian tensor bytes. Tensors and numpy arrays in the saved object are stored under
readable keys: the path to them joined by "." ("state.0.exp_avg"), so a plain module
state_dict keeps its own keys and any safetensors reader (``safetensors.torch.load_file``)
gets the weights. Everything else (dicts with str or int keys, lists, tuples, numbers,
strings, None, bools) is kept as JSON in the header's ``__metadata__["minigrad"]``, with the
tensors referred to by key.

Saving to a path is atomic: the bytes go to a temporary file in the same directory, which is
flushed, fsynced and renamed over the target with ``os.replace``, then the directory is
fsynced; a crash at any point leaves the previous file as it was. Loading parses the header
itself, checks every offset against the file size, and never unpickles anything.
"""
import contextlib
import json
import math
import os
import secrets
import struct

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["SerializationError", "save", "load"]

_FORMAT_VERSION = 1
_METADATA_KEY = "minigrad"
_DTYPES = {  # safetensors dtype name <-> numpy dtype
    "BOOL": np.dtype("bool"), "U8": np.dtype("uint8"), "I8": np.dtype("int8"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
}
_STORABLE = set(_DTYPES.values())


class SerializationError(ValueError):
    """A file is not a valid minigrad/safetensors file (truncated, corrupt, ...)."""


# ---------------------------------------------------------------------------- save

class _Flattener:
    """Walks an object, collecting its arrays under path keys and its structure as JSON."""

    def __init__(self):
        self.arrays = {}

    def key_for(self, path: list) -> str:
        key = ".".join(path) or "tensor"
        base, suffix = key, 1
        while key in self.arrays:  # distinct paths that join to the same text
            key, suffix = f"{base}#{suffix}", suffix + 1
        return key

    def add_array(self, array: np.ndarray, path: list) -> str:
        little = array.dtype.newbyteorder("<")
        if little not in _STORABLE:
            raise TypeError(f"minigrad.save cannot store arrays of dtype {array.dtype} "
                            f"(at {'.'.join(path) or 'top level'})")
        key = self.key_for(path)
        self.arrays[key] = np.asarray(array, dtype=little, order="C")
        return key

    def encode(self, value, path: list):
        if isinstance(value, Tensor):
            node = {"tensor": self.add_array(value.data, path)}
            if value.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(value, np.ndarray):
            return {"ndarray": self.add_array(value, path)}
        if isinstance(value, np.generic):
            return {"numpy_scalar": self.add_array(np.asarray(value), path)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise TypeError(f"minigrad.save supports dict keys of type str, int, "
                                    f"float, bool or None, got {type(key).__name__}")
                items.append([key, self.encode(item, path + [str(key)])])
            return {"dict": items}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {kind: [self.encode(item, path + [str(i)]) for i, item in enumerate(value)]}
        raise TypeError(f"minigrad.save cannot store an object of type {type(value).__name__} "
                        f"(at {'.'.join(path) or 'top level'}): it saves tensors, numpy arrays, "
                        f"numbers, strings, None and dicts/lists/tuples of them")


def _to_bytes(obj) -> bytes:
    from safetensors.numpy import save as safetensors_save
    flattener = _Flattener()
    structure = flattener.encode(obj, [])
    header = json.dumps({"version": _FORMAT_VERSION, "structure": structure},
                        separators=(",", ":"))
    return safetensors_save(flattener.arrays, metadata={_METADATA_KEY: header})


def _write_all(f, payload: bytes) -> None:
    f.write(payload)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory handles (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_atomic(payload: bytes, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory,
                             f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def save(obj, f) -> None:
    """Save ``obj`` (a state dict, or nested dicts/lists of tensors, arrays and plain values)
    to ``f``: a path (written atomically) or a binary file object."""
    payload = _to_bytes(obj)
    if isinstance(f, (str, os.PathLike)):
        _save_atomic(payload, os.fspath(f))
    else:
        f.write(payload)


# ---------------------------------------------------------------------------- load

def _parse(data: bytes, name: str):
    """(header dict, tensors by key) of a safetensors byte string, every field checked."""
    if len(data) < 8:
        raise SerializationError(f"{name}: {len(data)} bytes is too short for a safetensors "
                                 f"file (truncated?)")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > len(data) - 8:
        raise SerializationError(f"{name}: header length {header_length} exceeds the "
                                 f"{len(data) - 8} bytes that follow (truncated or corrupt)")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise SerializationError(f"{name}: header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{name}: header is not a JSON object")
    body = memoryview(data)[8 + header_length:]
    arrays = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        arrays[key] = _read_entry(body, key, entry, name)
    return header, arrays


def _read_entry(body, key: str, entry, name: str) -> np.ndarray:
    where = f"{name}: tensor {key!r}"
    if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
        raise SerializationError(f"{where} has an unknown or missing dtype")
    dtype = _DTYPES[entry["dtype"]]
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise SerializationError(f"{where} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)):
        raise SerializationError(f"{where} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= len(body):
        raise SerializationError(f"{where}: bytes [{begin}, {end}) are outside the "
                                 f"{len(body)}-byte data section (truncated or corrupt)")
    count = math.prod(shape)
    if end - begin != count * dtype.itemsize:
        raise SerializationError(f"{where}: shape {shape} of {entry['dtype']} needs "
                                 f"{count * dtype.itemsize} bytes, offsets give {end - begin}")
    array = np.frombuffer(body[begin:end], dtype=dtype).reshape(tuple(shape))
    return array.astype(dtype.newbyteorder("="), copy=True)


def _decode(node, arrays: dict, name: str):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        raise SerializationError(f"{name}: malformed structure (a bare list)")
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise SerializationError(f"{name}: malformed structure node {node!r:.60}")
    kind = next(iter(node))
    value = node[kind]
    if kind in ("tensor", "ndarray", "numpy_scalar"):
        if value not in arrays:
            raise SerializationError(f"{name}: structure refers to a missing tensor {value!r}")
        array = arrays[value]
        if kind == "ndarray":
            return array
        if kind == "numpy_scalar":
            return array[()]
        return Tensor(array, requires_grad=bool(node.get("requires_grad", False)))
    if kind == "dict" and isinstance(value, list):
        pairs = []
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2
                    and (pair[0] is None or isinstance(pair[0], (bool, int, float, str)))):
                raise SerializationError(f"{name}: malformed dict entry {pair!r:.60}")
            pairs.append((pair[0], _decode(pair[1], arrays, name)))
        return dict(pairs)
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_decode(item, arrays, name) for item in value]
        return items if kind == "list" else tuple(items)
    raise SerializationError(f"{name}: malformed structure node {node!r:.60}")


def load(f):
    """Load what :func:`save` wrote (from a path or a binary file object).

    A safetensors file written by another tool (no minigrad metadata) loads as a dict of
    key -> Tensor. Raises SerializationError (a ValueError) naming the file when it is
    truncated or corrupt.
    """
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(name, "rb") as handle:
            data = handle.read()
    else:
        name = getattr(f, "name", None) or "<file object>"
        data = f.read()
        if isinstance(data, str):
            raise TypeError("minigrad.load needs a file opened in binary mode")
    header, arrays = _parse(bytes(data), str(name))
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise SerializationError(f"{name}: __metadata__ is not a JSON object")
    if _METADATA_KEY not in metadata:
        return {key: Tensor(array) for key, array in arrays.items()}
    try:
        document = json.loads(metadata[_METADATA_KEY])
    except (TypeError, json.JSONDecodeError, RecursionError) as error:
        raise SerializationError(f"{name}: minigrad metadata is not valid JSON "
                                 f"({error})") from None
    version = document.get("version") if isinstance(document, dict) else None
    if version != _FORMAT_VERSION or "structure" not in document:
        raise SerializationError(f"{name}: unsupported minigrad metadata (version {version}, "
                                 f"this minigrad reads {_FORMAT_VERSION})")
    try:
        return _decode(document["structure"], arrays, str(name))
    except RecursionError:
        raise SerializationError(f"{name}: structure nested too deeply") from None

