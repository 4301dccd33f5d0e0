"""Resampling images stored as numpy arrays (..., C, H, W): resizing and rotation, with the
arithmetic of torch's ``interpolate`` and ``grid_sample`` (which torchvision's tensor
transforms call).

Resizing is separable: along the width, then along the height (torch's order), each output
pixel is a weighted sum of a few input pixels, ``out[o] = sum_k w[o, k] * x[i[o, k]]``,
summed in k order. For an axis of n_in pixels resized to n_out, with s = n_in / n_out:

- nearest: i = min(floor(o * s), n_in - 1); nearest-exact: floor((o + 0.5) * s) (in float32);
- bilinear: x = max(s (o + 1/2) - 1/2, 0), the two pixels around x with weights 1 - f, f;
- bicubic: x = s (o + 1/2) - 1/2, four pixels (clamped to the edge), Keys' cubic with
  a = -0.75;
- antialiased bilinear / bicubic (PIL's resampling): the filter (triangle, or Keys' cubic with
  a = -0.5) stretched by s when shrinking, over every pixel within its support of the centre
  s (o + 1/2), normalised to sum 1.

Integer images are resized in float32 and rounded half to even (bicubic clamped to [0, 255]
first for uint8), as torchvision does.

Rotation (``affine_grid_sample``) is torchvision's: an output pixel's centre, relative to the
image centre, goes through the inverse affine matrix; the point is sampled (nearest or
bilinear) with zeros outside the image; a sampled all-ones mask says where ``fill`` goes.
"""
import math

import numpy as np

__all__ = ["resize", "affine_grid_sample", "affine_output_size", "TENSOR_RESIZE_MODES"]

TENSOR_RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def _compute_dtype(dtype):
    return np.dtype(dtype) if np.dtype(dtype) in (np.float32, np.float64) else np.dtype(np.float32)


def _cast_back(array: np.ndarray, dtype) -> np.ndarray:
    """A float result to the image's dtype: integers are rounded half to even first."""
    if array.dtype == dtype:
        return array
    if np.dtype(dtype).kind in "iub":
        array = np.rint(array)
    return array.astype(dtype)


def _keys_cubic(x, a):
    """Keys' cubic convolution kernel at |x| (x an array)."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, x.dtype.type(0)))


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, x.dtype.type(0))


def axis_weights(n_in: int, n_out: int, mode: str, antialias: bool, dtype):
    """(indices (n_out, K) int64, weights (n_out, K) of ``dtype``) resizing one axis."""
    t = np.dtype(dtype).type
    out = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        scale = np.float32(n_in) / np.float32(n_out)
        position = out.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else 0)
        index = np.minimum(np.floor(position * scale).astype(np.int64), n_in - 1)
        return index[:, None], np.ones((n_out, 1), dtype)
    scale = t(n_in) / t(n_out)
    if antialias:
        return _antialias_weights(n_in, n_out, scale, 2 if mode == "bilinear" else 4,
                                  _triangle if mode == "bilinear" else
                                  (lambda x: _keys_cubic(x, t(-0.5))), t)
    source = scale * (out.astype(dtype) + t(0.5)) - t(0.5)
    if mode == "bilinear":
        source = np.maximum(source, t(0))
        first = source.astype(np.int64)
        second = first + (first < n_in - 1)
        upper = np.clip(source - first.astype(dtype), t(0), t(1))
        return (np.stack([first, second], axis=1),
                np.stack([t(1) - upper, upper], axis=1).astype(dtype))
    first = np.minimum(np.floor(source).astype(np.int64), n_in - 1)
    frac = np.clip(source - first.astype(dtype), t(0), t(1))
    a = t(-0.75)
    weights = np.stack([_keys_cubic(frac + t(1), a), _keys_cubic(frac, a),
                        _keys_cubic(t(1) - frac, a), _keys_cubic(t(2) - frac, a)], axis=1)
    indices = np.clip(first[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return indices, weights.astype(dtype)


def _antialias_weights(n_in, n_out, scale, interp_size, kernel, t):
    """torch's ``_compute_indices_min_size_weights_aa``: every pixel in the support."""
    support = t(interp_size * 0.5) * scale if scale >= 1 else t(interp_size * 0.5)
    width = int(math.ceil(support)) * 2 + 1
    inverse = t(1) / scale if scale >= 1 else t(1)
    centre = scale * (np.arange(n_out).astype(type(scale)) + t(0.5))
    first = np.maximum((centre - support + t(0.5)).astype(np.int64), 0)
    count = np.minimum((centre + support + t(0.5)).astype(np.int64), n_in) - first
    count = np.clip(count, 0, width)
    taps = np.arange(width)
    weights = kernel(((taps[None, :] + first[:, None]).astype(type(scale))
                      - centre[:, None] + t(0.5)) * inverse)
    weights = np.where(taps[None, :] < count[:, None], weights, t(0)).astype(type(scale))
    total = weights.sum(axis=1, keepdims=True)
    weights = np.where(total != 0, weights / np.where(total != 0, total, t(1)), weights)
    indices = np.minimum(first[:, None] + taps[None, :], n_in - 1)
    return indices, weights.astype(type(scale))


def _resample_axis(x: np.ndarray, axis: int, indices: np.ndarray, weights: np.ndarray):
    shape = [1] * x.ndim
    shape[axis] = indices.shape[0]
    if indices.shape[1] == 1:
        return np.take(x, indices[:, 0], axis=axis)
    out = np.take(x, indices[:, 0], axis=axis) * weights[:, 0].reshape(shape)
    for k in range(1, indices.shape[1]):
        out += np.take(x, indices[:, k], axis=axis) * weights[:, k].reshape(shape)
    return out


def resize(array: np.ndarray, size, mode: str, antialias: bool) -> np.ndarray:
    """``array`` (..., H, W) resized to ``size`` = (h, w), as torchvision's tensor resize."""
    if mode not in TENSOR_RESIZE_MODES:
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    antialias = bool(antialias) and mode in ("bilinear", "bicubic")
    dtype = _compute_dtype(array.dtype)
    x = array.astype(dtype, copy=False)
    (height, width), (out_h, out_w) = array.shape[-2:], size
    # An axis whose size is kept would get weights (1, 0, ...): skipping it changes no value.
    if out_w != width:
        x = _resample_axis(x, -1, *axis_weights(width, out_w, mode, antialias, dtype))
    if out_h != height:
        x = _resample_axis(x, -2, *axis_weights(height, out_h, mode, antialias, dtype))
    if mode == "bicubic" and array.dtype == np.uint8:
        x = np.clip(x, 0, 255)
    return _cast_back(x, array.dtype)


def affine_output_size(matrix, width: int, height: int):
    """(width, height) holding the whole transformed image (``expand=True``), computed in
    float32 as torchvision does, with its 1e-4 truncation before rounding outwards."""
    f = np.float32
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]],
                       dtype=f)
    moved = corners @ np.asarray(matrix, dtype=f).reshape(2, 3).T
    shift = np.array([width * 0.5, height * 0.5], dtype=f)
    low, high = moved.min(axis=0) + shift, moved.max(axis=0) + shift
    tol = f(1e-4)
    size = np.ceil(np.trunc(high / tol) * tol) - np.floor(np.trunc(low / tol) * tol)
    return int(size[0]), int(size[1])


def _sample(x, ix, iy, mode):
    """``x`` (..., H, W) at source coordinates (ix, iy) (oh, ow), zero outside."""
    height, width = x.shape[-2:]
    if mode == "nearest":
        col, row = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        values = x[..., np.clip(row, 0, height - 1), np.clip(col, 0, width - 1)]
        return np.where(inside, values, x.dtype.type(0))
    west, north = np.floor(ix), np.floor(iy)
    east, south = west + 1, north + 1
    corners = [(west, north, (east - ix) * (south - iy)), (east, north, (ix - west) * (south - iy)),
               (west, south, (east - ix) * (iy - north)), (east, south, (ix - west) * (iy - north))]
    out = None
    for col, row, weight in corners:
        col, row = col.astype(np.int64), row.astype(np.int64)
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        values = x[..., np.clip(row, 0, height - 1), np.clip(col, 0, width - 1)]
        term = np.where(inside, values, x.dtype.type(0)) * weight
        out = term if out is None else out + term
    return out


def affine_grid_sample(array: np.ndarray, matrix, mode: str, fill, out_size=None):
    """``array`` (..., C, H, W) through the inverse affine ``matrix`` (6 numbers, mapping an
    output pixel's centre relative to the output's centre to the input's, in pixels),
    sampled with ``mode`` (nearest or bilinear); ``fill`` (None, or one value per channel)
    replaces what falls outside. ``out_size`` = (width, height), the input's by default."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    dtype = _compute_dtype(array.dtype)
    height, width = array.shape[-2:]
    out_w, out_h = (width, height) if out_size is None else out_size
    theta = np.asarray(matrix, dtype=dtype).reshape(2, 3)
    xs = (np.arange(out_w, dtype=np.float32) + np.float32(0.5 - out_w * 0.5)).astype(dtype)
    ys = (np.arange(out_h, dtype=np.float32) + np.float32(0.5 - out_h * 0.5)).astype(dtype)
    x, y = xs[None, :], ys[:, None]
    half = np.array([0.5 * width, 0.5 * height], dtype=dtype)
    rescaled = theta.T / half  # (3, 2): torchvision's theta^T / (w/2, h/2)
    grid_x = x * rescaled[0, 0] + y * rescaled[1, 0] + rescaled[2, 0]
    grid_y = x * rescaled[0, 1] + y * rescaled[1, 1] + rescaled[2, 1]
    ix = ((grid_x + 1) * dtype.type(width) - 1) / 2
    iy = ((grid_y + 1) * dtype.type(height) - 1) / 2
    source = array.astype(dtype, copy=False)
    out = _sample(source, ix, iy, mode)
    if fill is not None:
        mask = _sample(np.ones((height, width), dtype), ix, iy, mode)
        fill = np.asarray(fill, dtype=dtype).reshape(-1, 1, 1)
        if mode == "nearest":
            out = np.where(mask < 0.5, fill, out)
        else:
            out = out * mask + (1 - mask) * fill
    return _cast_back(out, array.dtype)
