"""PyTorch's own checkpoint files: recognised by their first bytes, converted only on request.

``torch.save`` writes a zip archive (``PK\\x03\\x04``) holding ``<name>/data.pkl``, or, in its
legacy format, pickles starting with the protocol opcode ``\\x80``. minigrad.load never
unpickles (a pickle can run any code), so it refuses them with a message that says what the
file is and how to turn it into safetensors. ``convert_torch_checkpoint`` does that when
torch is installed: torch reads the file with ``weights_only=True`` (its restricted unpickler,
which builds tensors and containers and runs no code from the file), and minigrad.save
writes what it read.
"""
import importlib.util
import os
import zipfile

__all__ = ["describe_torch_file", "convert_torch_checkpoint"]

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL = 0x80  # PROTO opcode, then the protocol number (2 to 5)
# torch's legacy format starts with a pickled magic number: LONG1 of 10 bytes.
_LEGACY_MAGIC = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
TORCH_CPU_INSTALL = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def _kind(first_bytes: bytes, open_whole) -> str | None:
    if first_bytes.startswith(_ZIP_MAGIC):  # as a safetensors header length: > 16 MiB
        if _zip_holds_pickle(open_whole):
            return "a PyTorch checkpoint (torch.save's zip format)"
        return "a zip archive (an .npz or torch file?)"
    # A safetensors file whose header is 0x280 + k * 65536 bytes long starts with
    # b"\x80\x02" too, but its header then opens with "{".
    if (len(first_bytes) >= 9 and first_bytes[0] == _PICKLE_PROTOCOL
            and 2 <= first_bytes[1] <= 5 and first_bytes[8:9] != b"{"):
        if first_bytes[2:2 + len(_LEGACY_MAGIC)] == _LEGACY_MAGIC:
            return "a PyTorch checkpoint (torch.save's legacy pickle format)"
        return "a Python pickle"
    return None


def _zip_holds_pickle(open_whole) -> bool:
    """Whether the zip archive has a data.pkl member, as torch.save's have (reading the
    archive's directory runs nothing)."""
    try:
        with open_whole() as whole, zipfile.ZipFile(whole) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def describe_torch_file(first_bytes: bytes, open_whole, name: str) -> str | None:
    """The message for a file that torch (or pickle, or zip) wrote; None for other files.
    ``open_whole()`` opens the whole file, for looking inside a zip archive."""
    kind = _kind(first_bytes, open_whole)
    if kind is None:
        return None
    message = (f"{name} is {kind}, not a safetensors file: minigrad.load reads safetensors "
               f"only and never unpickles (a pickle can run code).")
    if "PyTorch" not in kind:
        return message
    target = os.path.splitext(os.path.basename(name))[0] + ".safetensors"
    convert = (f"from minigrad.serialization import convert_torch_checkpoint; "
               f"convert_torch_checkpoint({name!r}, {target!r})")
    if importlib.util.find_spec("torch") is None:
        how = (f" Convert it once, with torch installed ({TORCH_CPU_INSTALL}): "
               f"python -c \"{convert}\"")
    else:
        how = f" torch is installed, so convert it once: python -c \"{convert}\""
    return message + how + " (torch reads it with weights_only=True: no code from the file runs)"


def _to_minigrad(value):
    """torch's objects as minigrad.save stores them: tensors, plain containers, scalars."""
    import numpy as np
    import torch

    from minigrad.tensor import Tensor
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
            tensor = tensor.float()
        return Tensor(np.array(tensor.numpy()), requires_grad=value.requires_grad)
    if isinstance(value, dict):
        return {key: _to_minigrad(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):  # torch.Size is a tuple
        items = [_to_minigrad(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)
    return value


def convert_torch_checkpoint(source, destination):
    """Read a ``torch.save`` file with torch (``weights_only=True``, on the CPU) and write its
    content with :func:`minigrad.save` (safetensors) to ``destination``; returns the converted
    object, as :func:`minigrad.load` will read it back. bfloat16 tensors become float32."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"converting a PyTorch checkpoint needs torch: "
                          f"{TORCH_CPU_INSTALL}") from None
    from minigrad.serialization import save
    loaded = torch.load(source, map_location="cpu", weights_only=True)
    converted = _to_minigrad(loaded)
    save(converted, destination)
    return converted
