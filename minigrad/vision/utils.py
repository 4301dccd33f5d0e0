"""Image grids, as ``torchvision.utils``: ``make_grid`` tiles a batch of images into one image,
``save_image`` writes that grid to a file (PNG, JPEG, ... through Pillow)."""
import math

import numpy as np

from minigrad.tensor import Tensor
from minigrad.vision.transforms._image import pil_image_module

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor) -> np.ndarray:
    """A Tensor (B, C, H, W), (C, H, W) or (H, W), or a list of (C, H, W) Tensors, as a
    (B, 3 or C, H, W) array; one channel is repeated into three."""
    if isinstance(tensor, list):
        for item in tensor:
            if not isinstance(item, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(item)}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{sorted(shapes)}")
        array = np.stack([t.array for t in tensor])
    elif isinstance(tensor, Tensor):
        array = tensor.array
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    if array.ndim != 4:
        raise ValueError(f"make_grid expects images of 2, 3 or 4 dimensions, got {array.ndim}")
    return array


def _normalise(array: np.ndarray, value_range) -> None:
    """Clamp to ``value_range`` (the array's min and max when None) and map it to [0, 1]."""
    low, high = ((float(array.min()), float(array.max())) if value_range is None
                 else value_range)
    np.clip(array, low, high, out=array)
    array -= array.dtype.type(low)
    array /= array.dtype.type(max(high - low, 1e-5))


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile images (B, C, H, W) into one (C, rows (H + padding) + padding, columns
    (W + padding) + padding) image, ``nrow`` images a row, ``pad_value`` between them.

    ``normalize`` maps ``value_range`` (each image's own range with ``scale_each``, else the
    whole batch's, when None) to [0, 1]. A single image comes back as it is (3 channels).
    """
    array = _as_batch(tensor)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and "
                            "max are numbers")
        array = array.copy()
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        for image in (array if scale_each else [array]):
            _normalise(image, value_range)
    if array.shape[0] == 1:
        return Tensor(np.ascontiguousarray(array[0]))
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = int(math.ceil(float(count) / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value,
                   dtype=array.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        grid[:, y * cell_h + padding:(y + 1) * cell_h, x * cell_w + padding:(x + 1) * cell_w] = \
            array[k]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Write ``make_grid(tensor, **kwargs)`` to ``fp`` (a path or a file object) as an image:
    values in [0, 1] become bytes round(255 x) (clamped). Needs Pillow."""
    Image = pil_image_module("save_image")
    grid = make_grid(tensor, **kwargs).array
    scaled = grid * grid.dtype.type(255) + grid.dtype.type(0.5) if grid.dtype.kind == "f" \
        else grid.astype(np.float32) * 255 + 0.5
    pixels = np.clip(scaled, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
