"""minigrad.save / minigrad.load: state dicts as safetensors files, written atomically.

File layout (the safetensors format): 8 bytes, the little-endian length N of a JSON header;
N bytes of header mapping each tensor's key to its dtype, shape and byte range; then the raw
little-endian tensor bytes. Tensors and numpy arrays in the saved object are stored under
readable keys: the path to them joined by "." ("state.0.exp_avg"), so a plain module
state_dict keeps its own keys and any safetensors reader (``safetensors.torch.load_file``)
gets the weights. Everything else (dicts with str or int keys, lists, tuples, numbers,
strings, None, bools) is kept as JSON in the header's ``__metadata__["minigrad"]``, with the
tensors referred to by key.

The format does not depend on the file's name: ``save(obj, "model.pt")`` writes safetensors
too (so a script that swapped ``import torch`` for minigrad reads it back with
``minigrad.load``), and warns that ``torch.load`` cannot read it (``safetensors.torch.
load_file`` can). PyTorch's own files (``torch.save``'s zip or pickle formats) are recognised
by ``load`` and refused with a message saying how to convert them
(``convert_torch_checkpoint``, with torch installed).

Saving to a path is atomic (minigrad/_atomic_file.py): a crash at any point leaves the
previous file as it was, and the temporary file of a save that was killed is removed by the
next save to that path. Loading never unpickles anything and checks the whole header before
it allocates: the header's size (at most MAX_HEADER_BYTES), every tensor's dtype, shape
(its size in bytes must not overflow) and byte range, and that the ranges tile the data
section exactly (in order, no gap, no overlap, nothing after). Every problem is a
SerializationError that names the file, the tensor and what is wrong.
"""
import io
import json
import os
import struct
import warnings

import numpy as np

from minigrad._atomic_file import write_atomically
from minigrad._torch_checkpoint import convert_torch_checkpoint, describe_torch_file
from minigrad.tensor import Tensor

__all__ = ["SerializationError", "save", "load", "convert_torch_checkpoint", "MAX_HEADER_BYTES"]

# The safetensors library's own cap is 100 MB. Ours is lower: a header costs ~25 times its
# size in Python objects while it is checked, and 16 MiB describes ~150,000 tensors, far
# more than any model this engine trains has.
MAX_HEADER_BYTES = 16 << 20

_FORMAT_VERSION = 1
_METADATA_KEY = "minigrad"
_DTYPES = {  # safetensors dtype name <-> numpy dtype
    "BOOL": np.dtype("bool"), "U8": np.dtype("uint8"), "I8": np.dtype("int8"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
}
_STORABLE = set(_DTYPES.values())
# Named by the safetensors format, but numpy (so minigrad) has no such type.
_UNSUPPORTED_DTYPES = {"BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2",
                       "F4", "C64"}
_MAX_NDIM = 64  # numpy's limit
_MAX_BYTES = np.iinfo(np.intp).max
_TORCH_NAMES = (".pt", ".pth", ".bin", ".ckpt", ".tar")


class SerializationError(ValueError):
    """A file is not a valid minigrad/safetensors file (truncated, corrupt, another format)."""


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
    payload = safetensors_save(flattener.arrays, metadata={_METADATA_KEY: header})
    (header_length,) = struct.unpack("<Q", payload[:8])
    if header_length > MAX_HEADER_BYTES:  # refused now rather than written and never read
        raise ValueError(f"minigrad.save: {len(flattener.arrays)} tensors make a "
                         f"{header_length}-byte header, above the {MAX_HEADER_BYTES} bytes "
                         f"minigrad.load accepts (MAX_HEADER_BYTES)")
    return payload


def _write_all(f, payload: bytes) -> None:
    f.write(payload)


def save(obj, f) -> None:
    """Save ``obj`` (a state dict, or nested dicts/lists of tensors, arrays and plain values)
    to ``f``: a path (written atomically) or a binary file object. The file is safetensors,
    whatever its name."""
    payload = _to_bytes(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if path.lower().endswith(_TORCH_NAMES):
            warnings.warn(f"minigrad.save writes safetensors, whatever the name: {path!r} "
                          f"loads with minigrad.load or safetensors.torch.load_file, not "
                          f"with torch.load. Name it .safetensors to say so.", stacklevel=2)
        write_atomically(path, payload, write=lambda file, data: _write_all(file, data))
    else:
        f.write(payload)


# ---------------------------------------------------------------------------- load

class _Entry:
    """One tensor of the header, checked: key, dtype, shape and byte range [begin, end)."""

    __slots__ = ("key", "dtype", "shape", "begin", "end")

    def __init__(self, key, dtype, shape, begin, end):
        self.key, self.dtype, self.shape, self.begin, self.end = key, dtype, shape, begin, end


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _parse_header(raw: bytes, name: str) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # ValueError includes json's errors and Python's cap on an integer's digits
        raise SerializationError(f"{name}: header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{name}: header is not a JSON object")
    return header


def _check_entry(key: str, entry, body_length: int, name: str) -> _Entry:
    where = f"{name}: tensor {key!r}"
    if not isinstance(entry, dict):
        raise SerializationError(f"{where}: its description is not a JSON object")
    dtype_name = entry.get("dtype")
    if dtype_name in _UNSUPPORTED_DTYPES:
        raise SerializationError(f"{where} has dtype {dtype_name}, which numpy (so minigrad) "
                                 f"cannot hold")
    if dtype_name not in _DTYPES:
        raise SerializationError(f"{where} has an unknown or missing dtype {dtype_name!r}")
    dtype = _DTYPES[dtype_name]
    shape = entry.get("shape")
    if not (isinstance(shape, list) and all(_is_int(n) and n >= 0 for n in shape)):
        raise SerializationError(f"{where} has an invalid shape {shape!r:.80} (a list of "
                                 f"non-negative integers is needed)")
    if len(shape) > _MAX_NDIM:
        raise SerializationError(f"{where} has {len(shape)} dimensions; at most {_MAX_NDIM}")
    nbytes = dtype.itemsize
    for n in shape:  # as numpy counts: zero-length dimensions aside, the size must fit
        nbytes *= n or 1
        if nbytes > _MAX_BYTES:
            raise SerializationError(f"{where}: shape {shape!r:.80} of {dtype_name} is too "
                                     f"large (its size in bytes overflows)")
    if 0 in shape:
        nbytes = 0
    offsets = entry.get("data_offsets")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))
            and 0 <= offsets[0] <= offsets[1]):
        raise SerializationError(f"{where} has invalid data_offsets {offsets!r:.80} (two "
                                 f"integers, begin <= end, are needed)")
    begin, end = offsets
    if end > body_length:
        raise SerializationError(f"{where}: bytes [{begin}, {end}) are outside the "
                                 f"{body_length}-byte data section (truncated or corrupt)")
    if end - begin != nbytes:
        raise SerializationError(f"{where}: shape {shape} of {dtype_name} needs {nbytes} "
                                 f"bytes, data_offsets give {end - begin}")
    return _Entry(key, dtype, tuple(shape), begin, end)


def _check_header(header: dict, body_length: int, name: str) -> list:
    """The header's tensors in file order, every field checked, and their byte ranges
    tiling the data section exactly; raises SerializationError naming the problem."""
    metadata = header.get("__metadata__", {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise SerializationError(f"{name}: __metadata__ is not a JSON object of strings")
    entries = sorted((_check_entry(key, entry, body_length, name)
                      for key, entry in header.items() if key != "__metadata__"),
                     key=lambda e: (e.begin, e.end))
    position, previous = 0, None
    for entry in entries:
        if entry.begin < position:
            raise SerializationError(
                f"{name}: tensor {entry.key!r} (bytes [{entry.begin}, {entry.end})) overlaps "
                f"tensor {previous.key!r} (bytes [{previous.begin}, {previous.end}))")
        if entry.begin > position:
            raise SerializationError(
                f"{name}: bytes [{position}, {entry.begin}) before tensor {entry.key!r} "
                f"belong to no tensor (the data must be contiguous)")
        position, previous = entry.end, entry
    if position != body_length:
        raise SerializationError(f"{name}: the last {body_length - position} bytes of the data "
                                 f"section belong to no tensor")
    return entries


def _read_exactly(f, buffer, name: str) -> None:
    view, done = memoryview(buffer), 0
    while done < len(view):
        count = f.readinto(view[done:])
        if not count:
            raise SerializationError(f"{name}: the file ended early (truncated while reading?)")
        done += count


def _read_tensors(f, entries: list, name: str) -> dict:
    """Each tensor read straight into its own fresh array, in file order."""
    arrays = {}
    for entry in entries:
        array = np.empty(entry.shape, dtype=entry.dtype)
        if array.nbytes:
            _read_exactly(f, array.reshape(-1).view(np.uint8), name)
        arrays[entry.key] = array.astype(entry.dtype.newbyteorder("="), copy=False)
    return arrays


def _read(f, size: int, name: str, open_whole):
    """(header, arrays by key) of a file of ``size`` bytes read from ``f``'s position;
    ``open_whole()`` opens the whole file again (to look inside a zip archive)."""
    first = f.read(min(size, 16))
    message = describe_torch_file(first, open_whole, name)
    if message is not None:
        raise SerializationError(message)
    if size < 8:
        raise SerializationError(f"{name}: {size} bytes is too short for a safetensors file "
                                 f"(truncated?)")
    (header_length,) = struct.unpack("<Q", first[:8])
    if header_length > MAX_HEADER_BYTES:
        raise SerializationError(f"{name}: header length {header_length} exceeds minigrad's "
                                 f"cap of {MAX_HEADER_BYTES} bytes (corrupt, or not safetensors)")
    if header_length > size - 8:
        raise SerializationError(f"{name}: header length {header_length} exceeds the "
                                 f"{size - 8} bytes that follow (truncated or corrupt)")
    raw = bytearray(first[8:8 + header_length])
    rest = bytearray(header_length - len(raw))
    _read_exactly(f, rest, name)
    header = _parse_header(bytes(raw + rest), name)
    entries = _check_header(header, size - 8 - header_length, name)
    if len(first) > 8 + header_length:  # a tiny header: some tensor bytes already read
        f = _Prefixed(first[8 + header_length:], f)
    return header, _read_tensors(f, entries, name)


class _Prefixed:
    """``readinto`` over some bytes already read, then the file."""

    def __init__(self, prefix: bytes, f):
        self.prefix, self.f = memoryview(prefix), f

    def readinto(self, buffer) -> int:
        if not len(self.prefix):
            return self.f.readinto(buffer)
        count = min(len(buffer), len(self.prefix))
        memoryview(buffer)[:count] = self.prefix[:count]
        self.prefix = self.prefix[count:]
        return count


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
        if not isinstance(value, str) or value not in arrays:
            raise SerializationError(f"{name}: structure refers to a missing tensor {value!r:.60}")
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


def _structure(header: dict, arrays: dict, name: str):
    """What save() saved: the minigrad structure, or key -> Tensor for other files."""
    metadata = header.get("__metadata__") or {}
    if _METADATA_KEY not in metadata:
        return {key: Tensor(array) for key, array in arrays.items()}
    try:
        document = json.loads(metadata[_METADATA_KEY])
    except (ValueError, RecursionError) as error:
        raise SerializationError(f"{name}: minigrad metadata is not valid JSON "
                                 f"({error})") from None
    version = document.get("version") if isinstance(document, dict) else None
    if version != _FORMAT_VERSION or "structure" not in document:
        raise SerializationError(f"{name}: unsupported minigrad metadata (version {version}, "
                                 f"this minigrad reads {_FORMAT_VERSION})")
    try:
        return _decode(document["structure"], arrays, name)
    except RecursionError:
        raise SerializationError(f"{name}: structure nested too deeply") from None


def _check_device(map_location) -> None:
    """minigrad keeps every tensor on the CPU: a map_location may only say so."""
    if map_location is None or callable(map_location):
        return  # torch calls it per storage; here every storage is on the CPU already
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if not (isinstance(target, str) or hasattr(target, "type")):
            raise TypeError(f"map_location should be a string, a device, a dict or a "
                            f"callable, got {type(target).__name__}")
        device = str(target)
        if device.split(":")[0] != "cpu":
            raise RuntimeError(f"minigrad.load: map_location asks for device {device!r}, but "
                               f"minigrad keeps every tensor on the CPU: use "
                               f"map_location='cpu' or leave it out")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Load what :func:`save` wrote (from a path or a binary file object).

    A safetensors file written by another tool (no minigrad metadata) loads as a dict of
    key -> Tensor. The arguments torch.load takes are accepted as torch accepts them:
    ``map_location`` may be None, ``"cpu"``, a CPU device, a dict mapping to the CPU or a
    callable (every tensor is on the CPU); ``weights_only`` True, False or None gives the
    same result, because a minigrad file holds data only and loading never runs code;
    ``mmap`` is accepted and the file is read into memory. ``pickle_module`` must be None.

    Raises SerializationError (a ValueError) naming the file, and the tensor where there
    is one, when the file is truncated, corrupt, or not safetensors (a PyTorch checkpoint
    is recognised, and the message says how to convert it).
    """
    _check_device(map_location)
    if pickle_module is not None:
        raise RuntimeError("minigrad.load never unpickles: pickle_module must be None")
    for flag, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{flag} must be a bool or None, got {type(value).__name__}")
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(name, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            header, arrays = _read(handle, size, name, lambda: open(name, "rb"))
    else:
        name = str(getattr(f, "name", None) or "<file object>")
        handle, size = _sized_stream(f)
        start = handle.tell()

        def open_whole():
            handle.seek(start)
            return io.BytesIO(handle.read(size))

        header, arrays = _read(handle, size, name, open_whole)
    return _structure(header, arrays, name)


def _sized_stream(f):
    """(a seekable binary stream at ``f``'s position, the bytes that remain in it)."""
    if isinstance(f, io.TextIOBase):
        raise TypeError("minigrad.load needs a file opened in binary mode")
    seekable = getattr(f, "seekable", None)
    if seekable is not None and seekable() and hasattr(f, "readinto"):
        start = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(start)
        probe = f.read(0)
        if isinstance(probe, str):
            raise TypeError("minigrad.load needs a file opened in binary mode")
        return f, end - start
    data = f.read()
    if isinstance(data, str):
        raise TypeError("minigrad.load needs a file opened in binary mode")
    return io.BytesIO(data), len(data)
