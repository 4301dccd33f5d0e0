"""Padding: torch.nn.functional.pad in its four modes.

``pad`` lists (before, after) pairs from the last dimension backwards: (left, right) for the
last, then (top, bottom), then (front, back). Along a padded axis of length n with pads
(b, a), output position o in [0, n + b + a) reads the input at p = o - b mapped into [0, n):

    constant   x[p] for 0 <= p < n, else value (a negative pad crops; any dimensions)
    reflect    p -> -p below 0, 2(n-1) - p from n on (the edge is not repeated; b, a < n)
    replicate  p clamped to [0, n-1]
    circular   the axis is first cropped by its negative pads to [lo, hi); then output
               position q (counted from the cropped start) reads lo + (q mod (hi - lo))
               (each pad at most hi - lo: the input wraps around once)

reflect, replicate and circular pad the last 1, 2 or 3 dimensions of a (batched or unbatched)
input, as torch. The map of an axis is a few runs of consecutive or reversed positions (the
core, each pad), so the forward copies and the backward sums (the adjoint: each output
position's gradient added to the input position it read) are slices of whole blocks, never
elementwise scatters. Both are ops: the backward of each is the other, so the double backward
works (torch's node names: ReflectionPad2DBackward0, ..., CopySlices for circular).
"""
import functools
import numbers

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_tensor
from minigrad.tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


# ----------------------------------------------------------------------------- index maps

@functools.lru_cache(maxsize=1024)
def axis_runs(mode: str, n: int, before: int, after: int) -> tuple:
    """The map of one padded axis as runs (o0, o1, i0, step): output positions o0..o1-1 read
    input positions i0, i0 + step, ... (step 1, -1, or 0 for a repeated edge)."""
    size = n + before + after
    if mode == "circular":
        lo, hi = max(-before, 0), n - max(-after, 0)
        start = max(before, 0)
        index = lo + (np.arange(size) - start) % (hi - lo)
    else:
        p = np.arange(size) - before
        if mode == "reflect":
            index = np.where(p < 0, -p, np.where(p >= n, 2 * (n - 1) - p, p))
        else:  # replicate
            index = np.clip(p, 0, n - 1)
    runs = []
    o = 0
    while o < size:
        step = int(index[o + 1] - index[o]) if o + 1 < size else 1
        if step not in (-1, 0, 1):
            step = 1
        end = o + 1
        while end < size and index[end] - index[end - 1] == step:
            end += 1
        runs.append((o, end, int(index[o]), step))
        o = end
    return tuple(runs)


def _input_slice(i0: int, length: int, step: int):
    if step == 1:
        return slice(i0, i0 + length)
    if step == -1:
        stop = i0 - length
        return slice(i0, stop if stop >= 0 else None, -1)
    return slice(i0, i0 + 1)  # step 0: the edge, broadcast over the run


def _gather_axis(x, runs, axis, size):
    """The padded axis: out[o] = x[map(o)] along ``axis`` (runs of whole slices)."""
    shape = list(x.shape)
    shape[axis] = size
    out = np.empty(shape, dtype=x.dtype)
    lead = (slice(None),) * axis
    for o0, o1, i0, step in runs:
        out[lead + (slice(o0, o1),)] = x[lead + (_input_slice(i0, o1 - o0, step),)]
    return out


def _fold_axis(g, runs, axis, n):
    """The adjoint of _gather_axis: each output position's value added to the input position
    it read."""
    shape = list(g.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=g.dtype)
    lead = (slice(None),) * axis
    for o0, o1, i0, step in runs:
        block = g[lead + (slice(o0, o1),)]
        if step == 0:
            out[lead + (slice(i0, i0 + 1),)] += block.sum(axis=axis, keepdims=True)
        else:
            out[lead + (_input_slice(i0, o1 - o0, step),)] += block
    return out


def _pad_array(x, mode, pairs):
    """x padded along its last len(pairs) axes; pairs[k] = (before, after) of axis -1-k."""
    for k, (before, after) in enumerate(pairs):
        axis = x.ndim - 1 - k
        n = x.shape[axis]
        x = _gather_axis(x, axis_runs(mode, n, before, after), axis, n + before + after)
    return x


def _fold_array(g, mode, pairs, input_shape):
    for k in reversed(range(len(pairs))):
        before, after = pairs[k]
        axis = g.ndim - 1 - k
        g = _fold_axis(g, axis_runs(mode, input_shape[axis], before, after), axis,
                       input_shape[axis])
    return g


class Pad(ArrayFunction):
    """Reflect, replicate or circular padding (see the module docstring);
    dx = the fold of g (each output's gradient added to the input position it read)."""

    @staticmethod
    def forward(ctx, x, mode, pairs):
        ctx.mode, ctx.pairs, ctx.input_shape = mode, pairs, x.shape
        return _pad_array(x, mode, pairs)

    @classmethod
    def backward(cls, ctx, grad):
        if G.is_tensor(grad):
            fold = _FOLDS[cls]
            return fold.apply(grad, ctx.mode, ctx.pairs, ctx.input_shape), None, None
        return _fold_array(grad, ctx.mode, ctx.pairs, ctx.input_shape), None, None


class PadFold(ArrayFunction):
    """The backward of Pad as an op: linear in g, its own backward pads the upstream."""

    @staticmethod
    def forward(ctx, grad, mode, pairs, input_shape):
        ctx.mode, ctx.pairs = mode, pairs
        return _fold_array(grad, mode, pairs, input_shape)

    @classmethod
    def backward(cls, ctx, upstream):
        pad_function = _PADS[cls]
        if G.is_tensor(upstream):
            return pad_function.apply(upstream, ctx.mode, ctx.pairs), None, None, None
        return _pad_array(upstream, ctx.mode, ctx.pairs), None, None, None


# torch's node names, by mode and number of padded dimensions
class ReflectionPad1d(Pad):
    node_name = "ReflectionPad1DBackward0"


class ReflectionPad2d(Pad):
    node_name = "ReflectionPad2DBackward0"


class ReflectionPad3d(Pad):
    node_name = "ReflectionPad3DBackward0"


class ReplicationPad1d(Pad):
    node_name = "ReplicationPad1DBackward0"


class ReplicationPad2d(Pad):
    node_name = "ReplicationPad2DBackward0"


class ReplicationPad3d(Pad):
    node_name = "ReplicationPad3DBackward0"


class CircularPad(Pad):
    node_name = "CopySlices"  # torch pads circularly by copies into slices


class ReflectionPadFold(PadFold):
    node_name = "ReflectionPadBackwardBackward0"


class ReplicationPadFold(PadFold):
    node_name = "ReplicationPadBackwardBackward0"


class CircularPadFold(PadFold):
    node_name = "CopySlicesBackward0"


_PAD_FUNCTIONS = {
    ("reflect", 1): ReflectionPad1d, ("reflect", 2): ReflectionPad2d,
    ("reflect", 3): ReflectionPad3d, ("replicate", 1): ReplicationPad1d,
    ("replicate", 2): ReplicationPad2d, ("replicate", 3): ReplicationPad3d,
    ("circular", 1): CircularPad, ("circular", 2): CircularPad, ("circular", 3): CircularPad,
}
_FOLDS = {ReflectionPad1d: ReflectionPadFold, ReflectionPad2d: ReflectionPadFold,
          ReflectionPad3d: ReflectionPadFold, ReplicationPad1d: ReplicationPadFold,
          ReplicationPad2d: ReplicationPadFold, ReplicationPad3d: ReplicationPadFold,
          CircularPad: CircularPadFold}
# the fold's backward pads again: any Pad of the mode does (the name is the forward's)
_PADS = {ReflectionPadFold: ReflectionPad2d, ReplicationPadFold: ReplicationPad2d,
         CircularPadFold: CircularPad}


class ConstantPadNd(ArrayFunction):
    """y = value everywhere, x copied into the window the pads leave (negative pads crop);
    dx = the window of g (written into zeros where a pad cropped x)."""

    @staticmethod
    def forward(ctx, x, value, out_shape, source, target):
        ctx.input_shape, ctx.source, ctx.target = x.shape, source, target
        out = np.full(out_shape, value, dtype=x.dtype)
        out[target] = x[source]
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = G.index_into_zeros(ctx.input_shape, ctx.source, grad[ctx.target])
        return grad_x, None, None, None, None


# ----------------------------------------------------------------------------- front door

def _pad_pairs(pad, op="pad"):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"{op}(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    values = []
    for position, value in enumerate(pad):
        if isinstance(value, Tensor) and value.array.ndim == 0 and value.array.dtype.kind in "iu":
            value = int(value.array)
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"{op}(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(value).__name__} at pos {position}")
        values.append(int(value))
    if len(values) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    return tuple((values[i], values[i + 1]) for i in range(0, len(values), 2))


def _check_non_constant(shape, mode, pairs):
    ndim, dims = len(shape), len(pairs)
    if dims not in (1, 2, 3) or ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {2 * dims} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        for k, (before, after) in enumerate(pairs):
            n = shape[ndim - 1 - k]
            if before > n or after > n:  # (torch compares with the input's size)
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if n + before + after < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            if n + min(before, 0) + min(after, 0) == 0 and n + before + after > 0:
                # (torch returns uninitialised memory here)
                raise RuntimeError(f"circular padding: the negative pads ({before}, {after}) "
                                   f"leave no element of dimension {ndim - 1 - k} to wrap")
        return
    checked = shape[1:] if ndim == dims + 2 else shape  # the batch may be empty
    if 0 in checked:
        raise RuntimeError(f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with "
                           f"possibly 0 batch size and other non-zero dimensions for input, "
                           f"but got: {list(shape)}")
    names = ("W", "H", "D")
    for k, (before, after) in enumerate(pairs):
        axis = ndim - 1 - k
        if mode == "reflect" and (before >= shape[axis] or after >= shape[axis]):
            raise RuntimeError(f"Argument #{4 + 2 * k}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {axis} of input {list(shape)}")
    sizes = [shape[ndim - 1 - k] + b + a for k, (b, a) in enumerate(pairs)]
    if max(sizes) < 1:  # torch: too small only when every padded dimension is empty
        inputs = ", ".join(f"{names[k]}: {shape[ndim - 1 - k]}" for k in reversed(range(dims)))
        outputs = " ".join(f"{names[k]}: {sizes[k]}" for k in reversed(range(dims)))
        raise RuntimeError(f"input ({inputs}) is too small. Calculated output {outputs}")
    if min(sizes) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: "
                           f"{list(shape[:ndim - dims]) + sizes[::-1]}")


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """torch.nn.functional.pad: ``pad`` = (left, right[, top, bottom[, front, back]]) from the
    last dimension backwards; ``mode`` 'constant' (with ``value``, default 0), 'reflect',
    'replicate' or 'circular'. Negative pads crop."""
    check_tensor(input, "input", "pad", 1)
    if mode not in _MODES:  # torch reads the mode before it looks at the pads
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = _pad_pairs(pad)
    shape = input.array.shape
    if len(pairs) > input.array.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {2 * len(pairs)} and input "
                           f"of dimension {input.array.ndim}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _check_non_constant(shape, mode, pairs)
        if mode != "circular" and input.array.dtype == np.bool_:
            kind = "reflection" if mode == "reflect" else "replication"
            raise NotImplementedError(f'"{kind}_pad{len(pairs)}d" not implemented for \'Bool\'')
        return _PAD_FUNCTIONS[mode, len(pairs)].apply(input, mode, pairs)
    out_shape = list(shape)
    source, target = [slice(None)] * len(shape), [slice(None)] * len(shape)
    for k, (before, after) in enumerate(pairs):
        axis = len(shape) - 1 - k
        n = shape[axis]
        size = n + before + after
        if n + min(before, 0) + min(after, 0) < 0:  # torch crops (narrow) before it pads
            raise RuntimeError("narrow(): length must be non-negative.")
        if size < 0:
            raise RuntimeError(f"pad: the pads ({before}, {after}) make dimension {axis} of "
                               f"input {list(shape)} negative ({size})")
        out_shape[axis] = size
        start = max(-before, 0)
        kept = max(n - start - max(-after, 0), 0)
        source[axis] = slice(start, start + kept)
        target[axis] = slice(max(before, 0), max(before, 0) + kept)
    return ConstantPadNd.apply(input, 0 if value is None else value, tuple(out_shape),
                               tuple(source), tuple(target))
