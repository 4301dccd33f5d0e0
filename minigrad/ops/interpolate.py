"""Resampling: torch.nn.functional.interpolate (nearest, nearest-exact, linear, bilinear,
trilinear, bicubic, area).

Every mode but area is separable: along each spatial axis, output position o reads a few
input positions ("taps") with weights, and the axes are resampled one after another. With
``in`` and ``out`` the axis lengths and ``s`` the scale (1/scale_factor when the caller gave
one and recompute_scale_factor is off, else in/out; (in-1)/(out-1) with align_corners), in
torch's arithmetic (float32 for float32 inputs):

    nearest        o -> min(floor(o s), in - 1)   (2-D: o for out = in, o >> 1 for out = 2 in,
                                                   whatever the scale, as torch's 2-D kernel)
    nearest-exact  o -> min(floor((o + 0.5) s), in - 1)
    linear         x = s o (align_corners) or max(s (o + 0.5) - 0.5, 0); i = min(floor(x),
                   in - 1), λ = clamp(x - i, 0, 1); taps i (weight 1 - λ) and i + 1 if
                   i < in - 1, else i (weight λ)
    cubic          x = s o or s (o + 0.5) - 0.5; i = floor(x), t = x - i; taps i-1 .. i+2
                   (clamped to the axis) with Keys' cubic convolution weights (A = -0.75)
    area           adaptive average pooling to the output size

The resampling of an axis runs on kernels/resample.pyx (NumPy twin: reference/resample.py);
its backward is its adjoint: each output's gradient, times a tap's weight, added to the tap's
input position. Forward and backward are each other's backward, so the double backward
works. One known difference from torch: its 1-D and 3-D nearest backward takes the 2-D
kernel's shortcuts where its forward does not, so for out = 2 in with a scale_factor other
than 2 its gradient is not its forward's adjoint; minigrad's is. Node names are torch's (UpsampleBilinear2DBackward0, ...).
"""
import functools
import math
import numbers

import numpy as np

from minigrad._kernels import resample as _kernels
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops import pool as _pool
from minigrad.ops.arguments import check_tensor, type_name
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_CUBIC_A = -0.75


# ----------------------------------------------------------------------------- axis maps

def _source_scale(n_in, n_out, scale, align_corners, ftype):
    """torch's area_pixel_compute_scale / compute_scales_value in the compute type."""
    if align_corners:
        return ftype(n_in - 1) / ftype(n_out - 1) if n_out > 1 else ftype(0)
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(n_in) / ftype(n_out)


def _cubic_weights(t):
    """Keys' cubic convolution weights of the taps i-1, i, i+1, i+2 at fraction t."""
    a = _CUBIC_A

    def near(x):   # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


@functools.lru_cache(maxsize=512)
def axis_taps(mode, n_in, n_out, scale, align_corners, dtype_name, dims):
    """The taps of one axis of a ``dims``-D resampling, as kernels/resample.pyx takes them:
    positions (T, n_out) int64 (each tap's sorted) and weights (T, n_out), or None for
    nearest (one tap of weight 1)."""
    ftype = np.float32 if dtype_name == "float32" else np.float64
    o = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and dims == 2 and n_out == n_in:
            index = o
        elif mode == "nearest" and dims == 2 and n_out == 2 * n_in:
            index = o >> 1
        else:
            s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
                np.float32(n_in) / np.float32(n_out)
            if mode == "nearest":
                source = np.floor(o.astype(np.float32) * s)
            else:
                source = np.floor(((o + 0.5) * np.float64(s)).astype(np.float32))
            index = np.minimum(source.astype(np.int64), n_in - 1)
        taps = [(index, None)]
    else:
        s = _source_scale(n_in, n_out, scale, align_corners, ftype)
        dst = o.astype(ftype)
        if mode == "linear":
            x = s * dst if align_corners else np.maximum(s * (dst + ftype(0.5)) - ftype(0.5),
                                                         ftype(0))
            i = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
            lam = np.clip(x - i.astype(ftype), ftype(0), ftype(1)).astype(ftype)
            # a tap of weight 0 reads its neighbour's position (0 times an infinity beside it
            # would make NaN; torch's kernels skip such a tap)
            second = np.where(lam == 0, i, i + (i < n_in - 1))
            first = np.where(lam == 1, second, i)
            taps = [(first, (ftype(1) - lam).astype(ftype)), (second, lam)]
        else:  # cubic
            x = s * dst if align_corners else s * (dst + ftype(0.5)) - ftype(0.5)
            i = np.floor(x).astype(np.int64)
            t = (x - i.astype(ftype)).astype(ftype)
            taps = [(np.clip(i + k, 0, n_in - 1), w.astype(ftype))
                    for k, w in zip((-1, 0, 1, 2), _cubic_weights(t))]
    index = np.ascontiguousarray(np.stack([t[0] for t in taps]), dtype=np.int64)
    if taps[0][1] is None:
        return index, None
    return index, np.ascontiguousarray(np.stack([t[1] for t in taps]), dtype=ftype)


def _as_rows(shape, axis):
    """(outer, n, inner): the shape seen with ``axis`` in the middle."""
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


def _typed(weight, dtype):
    """The taps' weights in the data's type (None stays None)."""
    return weight if weight is None or weight.dtype == dtype else weight.astype(dtype)


def _resample(x, maps):
    """x resampled along its last len(maps) axes, one after another from the last: that pass
    has an inner size of 1, so it runs on the smallest array, and the others on contiguous
    rows."""
    x = np.ascontiguousarray(x)
    for k in reversed(range(len(maps))):
        index, weight = maps[k]
        axis = x.ndim - len(maps) + k
        if x.dtype.kind != "f":  # uint8 images with nearest: a gather (never differentiated)
            x = np.take(x, index[0], axis=axis)
            continue
        outer, n, inner = _as_rows(x.shape, axis)
        out = np.empty(x.shape[:axis] + (index.shape[1],) + x.shape[axis + 1:], dtype=x.dtype)
        _kernels.resample_axis(x.reshape(outer, n, inner), index, _typed(weight, x.dtype),
                               out.reshape(outer, index.shape[1], inner), get_num_threads())
        x = out
    return x


def _fold(g, maps, input_shape):
    """The adjoint of _resample: the axes folded back in reverse order."""
    g = np.ascontiguousarray(g)
    for k, (index, weight) in enumerate(maps):
        axis = g.ndim - len(maps) + k
        outer, n, inner = _as_rows(g.shape, axis)
        out = np.empty(g.shape[:axis] + (input_shape[axis],) + g.shape[axis + 1:],
                       dtype=g.dtype)
        _kernels.fold_axis(g.reshape(outer, n, inner), index, _typed(weight, g.dtype),
                           out.reshape(outer, input_shape[axis], inner), get_num_threads())
        g = out
    return g


class Upsample(ArrayFunction):
    """Separable resampling along the last len(maps) axes (see the module docstring);
    dx = the fold of g (its adjoint)."""

    @staticmethod
    def forward(ctx, x, maps):
        ctx.maps, ctx.input_shape = maps, x.shape
        out = _resample(x, maps)
        return out.astype(x.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, grad):
        if G.is_tensor(grad):
            return UpsampleFold.apply(grad, ctx.maps, ctx.input_shape, cls), None
        return _fold(grad, ctx.maps, ctx.input_shape), None


class UpsampleFold(ArrayFunction):
    """The backward of an Upsample as an op: linear in g; its backward resamples again."""

    node_name = "UpsampleBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, maps, input_shape, function):
        ctx.maps, ctx.upsample = maps, function  # (ctx.function is the node's own class)
        return _fold(grad, maps, input_shape)

    @staticmethod
    def backward(ctx, upstream):
        if G.is_tensor(upstream):
            return ctx.upsample.apply(upstream, ctx.maps), None, None, None
        return _resample(upstream, ctx.maps), None, None, None


# torch's node names, by mode and number of resampled dimensions
class UpsampleNearest1d(Upsample):
    node_name = "UpsampleNearest1DBackward0"


class UpsampleNearest2d(Upsample):
    node_name = "UpsampleNearest2DBackward0"


class UpsampleNearest3d(Upsample):
    node_name = "UpsampleNearest3DBackward0"


class UpsampleNearestExact1d(Upsample):
    node_name = "UpsampleNearestExact1DBackward0"


class UpsampleNearestExact2d(Upsample):
    node_name = "UpsampleNearestExact2DBackward0"


class UpsampleNearestExact3d(Upsample):
    node_name = "UpsampleNearestExact3DBackward0"


class UpsampleLinear1d(Upsample):
    node_name = "UpsampleLinear1DBackward0"


class UpsampleBilinear2d(Upsample):
    node_name = "UpsampleBilinear2DBackward0"


class UpsampleTrilinear3d(Upsample):
    node_name = "UpsampleTrilinear3DBackward0"


class UpsampleBicubic2d(Upsample):
    node_name = "UpsampleBicubic2DBackward0"


_FUNCTIONS = {("nearest", 1): UpsampleNearest1d, ("nearest", 2): UpsampleNearest2d,
              ("nearest", 3): UpsampleNearest3d, ("nearest-exact", 1): UpsampleNearestExact1d,
              ("nearest-exact", 2): UpsampleNearestExact2d,
              ("nearest-exact", 3): UpsampleNearestExact3d, ("linear", 1): UpsampleLinear1d,
              ("bilinear", 2): UpsampleBilinear2d, ("trilinear", 3): UpsampleTrilinear3d,
              ("bicubic", 2): UpsampleBicubic2d}
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}


# ----------------------------------------------------------------------------- front door

def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _output_geometry(shape, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, scales for the coordinate maps or Nones), as torch's interpolate."""
    dims = len(shape) - 2
    spatial = list(shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{spatial} and output size of {size}. Please provide input "
                                 f"tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            if not all(_is_int(s) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, "
                                f"int] or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            return [int(s) for s in size], [None] * dims
        if not _is_int(size):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                            f"or Tuple[int, int, int], but got size with types {[type(size)]}")
        return [int(size)] * dims, [None] * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and scale_factor of shape {scale_factor}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                             f"(s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dims
    # None for a size past int64 (NaN, an infinity): torch's kernel refuses it, after the
    # rank and mode checks; when torch computes the sizes in Python (area, recomputed
    # scales), math.floor's ValueError or OverflowError
    python_sizes = recompute_scale_factor or mode == "area"
    sizes = [math.floor(float(n) * s) if python_sizes or math.isfinite(float(n) * s) else None
             for n, s in zip(spatial, scales)]
    if recompute_scale_factor or mode == "area":
        scales = [None] * dims
    return sizes, scales


def _check_sizes(shape, sizes):
    if min(shape[2:]) > 0 and min(sizes) > 0:
        return
    names = ("D", "H", "W")[3 - len(sizes):]
    given = ", ".join(f"{n}: {s}" for n, s in zip(names, shape[2:]))
    wanted = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
    raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                       f"({given}) output ({wanted})")


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """torch.nn.functional.interpolate: resample the spatial dimensions of an (N, C, d1[, d2[,
    d3]]) input to ``size`` or by ``scale_factor``; see the module docstring for each mode."""
    check_tensor(input, "input", "interpolate", 1)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
    shape = input.array.shape
    ndim = len(shape)
    supported = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic",
                 "area")
    # torch computes the output geometry (and its ValueErrors) before it looks at the rank
    sizes, scales = _output_geometry(shape, size, scale_factor, recompute_scale_factor, mode)
    if ndim not in (3, 4, 5) or mode not in supported:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if antialias and not (mode in ("bilinear", "bicubic") and ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode in _NEEDS and ndim != _NEEDS[mode]:
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {_NEEDS[mode]}D "
                                  f"input")
    if None in sizes:
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    if antialias:
        raise NotImplementedError(f"interpolate: antialias=True ({mode} with an anti-aliasing "
                                  f"filter) is not implemented in minigrad")
    dtype = input.array.dtype
    if dtype not in (np.float32, np.float64) and not (mode.startswith("nearest")
                                                      and dtype == np.uint8):
        raise NotImplementedError(f'"upsample_{mode}" not implemented for '
                                  f"'{type_name(dtype)}'")
    if mode == "area":
        if ndim == 5:
            raise NotImplementedError("interpolate: mode='area' of a 5-D input (adaptive "
                                      "average pooling in 3-D) is not implemented in minigrad")
        pool = _pool.adaptive_avg_pool1d if ndim == 3 else _pool.adaptive_avg_pool2d
        return pool(input, sizes[0] if ndim == 3 else tuple(sizes))
    _check_sizes(shape, sizes)
    if input.array.size == 0 and math.prod(shape[1:]) == 0:  # only an empty batch is allowed
        raise RuntimeError(f"Non-empty {ndim}D data tensor expected but got a tensor with sizes "
                           f"{list(shape)}")
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    name = "float32" if dtype == np.float32 else "float64"
    maps = tuple(axis_taps(kind, n, m, s, align_corners, name, ndim - 2)
                 for n, m, s in zip(shape[2:], sizes, scales))
    return _FUNCTIONS[mode, ndim - 2].apply(input, maps)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch.nn.functional.upsample (deprecated there): interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
