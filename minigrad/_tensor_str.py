"""How a tensor prints: torch's format (``torch/_tensor_str.py``), with 'minigrad.' for 'torch.'."""
import math

import numpy as np

from minigrad import dtypes as _dtypes

__all__ = ["format_tensor"]

# torch's print options: 4 decimals, summarize above 1000 elements to 3 at each edge, 80 columns.
_PRECISION, _THRESHOLD, _EDGEITEMS, _LINEWIDTH = 4, 1000, 3, 80


class _ElementFormat:
    """How torch prints the elements of a tensor: one common width and, for floats, one mode
    chosen from the finite nonzero values: integers as "3.", scientific notation when their
    magnitudes span more than 1000x or leave [1e-4, 1e8], else 4 fixed decimals."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max([len(str(v)) for v in values.tolist()] + [1])
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        texts = [self._text(v) for v in finite.tolist()]
        self.width = max(len(text) for text in texts)

    def _text(self, value) -> str:
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_PRECISION}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{_PRECISION}f}"

    def format(self, value) -> str:
        return self._text(value).rjust(self.width)


def _edges(data: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: the first and last _EDGEITEMS along each axis."""
    for axis, size in enumerate(data.shape):
        if size > 2 * _EDGEITEMS:
            keep = list(range(_EDGEITEMS)) + list(range(size - _EDGEITEMS, size))
            data = np.take(data, keep, axis=axis)
    return data


def _format_block(data: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    if data.ndim == 0:
        return fmt.format(data.item())
    size = data.shape[0]
    cut = summarize and size > 2 * _EDGEITEMS
    rows = list(range(_EDGEITEMS)) + [None] + list(range(size - _EDGEITEMS, size)) if cut \
        else list(range(size))
    if data.ndim == 1:
        items = [" ..." if i is None else fmt.format(data[i].item()) for i in rows]
        per_line = max(1, (_LINEWIDTH - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _format_block(data[i], indent + 1, summarize, fmt)
             for i in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_tensor(t) -> str:
    """The string torch prints for the same tensor, with 'minigrad.' for 'torch.'."""
    data = t.array
    prefix = "tensor("
    suffixes = []
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={data.shape}")
        if data.dtype != _dtypes.default_float:
            suffixes.append(f"dtype={_dtypes.dtype_name(data.dtype)}")
    else:
        summarize = data.size > _THRESHOLD
        fmt = _ElementFormat((_edges(data) if summarize else data).reshape(-1))
        body = _format_block(data, len(prefix), summarize, fmt)
        if data.dtype not in (_dtypes.float32, _dtypes.int64, _dtypes.bool_):
            suffixes.append(f"dtype={_dtypes.dtype_name(data.dtype)}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _LINEWIDTH:
            text += ",\n" + " " * len(prefix) + suffix
            line_length = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            line_length += len(suffix) + 2
    return text + ")"
