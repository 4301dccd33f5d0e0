"""Image transforms with torchvision's names: ToTensor, Normalize, Compose, RandomCrop,
RandomHorizontalFlip, Lambda.

Layouts: a numpy array (or a PIL image) is an image as it is stored, height x width
(x channels), HWC; a Tensor is (..., C, H, W), as torchvision's tensors.

Every transform except Lambda also has ``apply_batch(images)`` for a whole batch at once:
numpy input (N, H, W[, C]), Tensor input (N, C, H, W); random transforms draw independently
per image. Datasets use it (``supports_batch``) to transform a batch in one vectorised step.
Random draws come from ``minigrad.random.numpy_generator()``, so ``minigrad.manual_seed``
makes them reproducible.
"""
import numbers

import numpy as np

from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

__all__ = ["Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "ToTensor", "supports_batch"]


def supports_batch(transform) -> bool:
    """Whether ``transform.apply_batch`` exists and can be used."""
    batchable = getattr(transform, "batchable", None)
    if batchable is not None:
        return bool(batchable)
    return callable(getattr(transform, "apply_batch", None))


def _is_pil_image(image) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(image, Image.Image)


def _unwrap(image):
    """(array, height axis, rewrap) for a Tensor, a numpy array or a PIL image."""
    if isinstance(image, Tensor):
        return image.array, image.array.ndim - 2, Tensor
    if isinstance(image, np.ndarray):
        return image, 0, lambda array: array
    if _is_pil_image(image):
        from PIL import Image
        return np.asarray(image), 0, Image.fromarray
    raise TypeError(f"img should be a Tensor, a numpy array or a PIL Image. Got {type(image)}")


def _unwrap_batch(images):
    """(array, height axis, rewrap) for a batch: Tensor (N, C, H, W) or numpy (N, H, W[, C])."""
    if isinstance(images, Tensor):
        return images.array, images.array.ndim - 2, Tensor
    if isinstance(images, np.ndarray):
        return images, 1, lambda array: array
    raise TypeError(f"a batch should be a Tensor or a numpy array. Got {type(images)}")


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    @property
    def batchable(self) -> bool:
        return all(supports_batch(t) for t in self.transforms)

    def apply_batch(self, images):
        for transform in self.transforms:
            images = transform.apply_batch(images)
        return images

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """An HWC (or HW) image to a CHW Tensor; uint8 values v become float32 v / 255 in [0, 1],
    other dtypes are kept as they are (as torchvision). PIL images are read as arrays
    (mode "1" as 0/255)."""

    def __call__(self, picture) -> Tensor:
        if _is_pil_image(picture):
            array = np.asarray(picture)
            picture = array.astype(np.uint8) * 255 if picture.mode == "1" else array
        if not isinstance(picture, np.ndarray):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(picture)}")
        if picture.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {picture.ndim} dimensions.")
        if picture.ndim == 2:
            picture = picture[:, :, None]
        return Tensor(_to_chw(picture, 0))

    def apply_batch(self, pictures: np.ndarray) -> Tensor:
        if not isinstance(pictures, np.ndarray):
            raise TypeError(f"a batch for ToTensor should be an ndarray. Got {type(pictures)}")
        if pictures.ndim not in (3, 4):
            raise ValueError(f"a batch should be (N, H, W) or (N, H, W, C). "
                             f"Got {pictures.ndim} dimensions.")
        if pictures.ndim == 3:
            pictures = pictures[..., None]
        return Tensor(_to_chw(pictures, 1))

    def __repr__(self) -> str:
        return "ToTensor()"


def _to_chw(array: np.ndarray, height_axis: int) -> np.ndarray:
    channels_first = np.moveaxis(array, -1, height_axis)
    if array.dtype != np.uint8:
        return np.ascontiguousarray(channels_first)
    out = np.ascontiguousarray(channels_first, dtype=np.float32)
    out /= np.float32(255)
    return out


class Normalize:
    """out[c] = (x[c] - mean[c]) / std[c] over a float Tensor (..., C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Input tensor should be a minigrad tensor. Got {type(tensor)}.")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). "
                             f"Got tensor.size() = {tuple(tensor.shape)}")
        mean = np.asarray(self.mean, dtype=tensor.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=tensor.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                             f"leading to division by zero.")
        if not self.inplace:
            return Tensor((tensor.array - mean) / std)
        tensor.array -= mean
        tensor.array /= std
        tensor._version.value += 1
        return tensor

    apply_batch = __call__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _pair(value, name: str) -> tuple:
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return int(value[0]), int(value[0])
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} should be an int or a sequence of 1 or 2 ints, got {value!r}")


def _padding_sides(padding) -> tuple:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and len(padding) in (1, 2, 4):
        if len(padding) == 1:
            return (int(padding[0]),) * 4
        if len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        return tuple(int(p) for p in padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not {padding!r}")


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


def _pad(array, height_axis, sides, mode, fill):
    left, top, right, bottom = sides
    widths = [(0, 0)] * array.ndim
    widths[height_axis] = (top, bottom)
    widths[height_axis + 1] = (left, right)
    if mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=fill)
    return np.pad(array, widths, mode=_PAD_MODES[mode])


class RandomCrop:
    """Crop a random ``size`` window, after optional padding (torchvision's arguments).

    ``padding``: int (all sides), (left/right, top/bottom) or (left, top, right, bottom);
    ``pad_if_needed`` pads an image smaller than ``size``; ``padding_mode`` is constant
    (with ``fill``), edge, reflect or symmetric. The offsets are uniform over all positions.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant"):
        self.size = _pair(size, "size")
        self.padding = padding
        self._sides = None if padding is None else _padding_sides(padding)
        self.pad_if_needed = pad_if_needed
        if not isinstance(fill, numbers.Number):
            raise TypeError(f"fill should be a number, got {type(fill).__name__}")
        self.fill = fill
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"Padding mode should be either constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.padding_mode = padding_mode

    def _padded(self, array, height_axis):
        if self._sides is not None:
            array = _pad(array, height_axis, self._sides, self.padding_mode, self.fill)
        crop_h, crop_w = self.size
        height, width = array.shape[height_axis], array.shape[height_axis + 1]
        if self.pad_if_needed and width < crop_w:
            extra = crop_w - width
            array = _pad(array, height_axis, (extra, 0, extra, 0), self.padding_mode, self.fill)
        if self.pad_if_needed and height < crop_h:
            extra = crop_h - height
            array = _pad(array, height_axis, (0, extra, 0, extra), self.padding_mode, self.fill)
        height, width = array.shape[height_axis], array.shape[height_axis + 1]
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {self.size} is larger than input image "
                             f"size {(height, width)}")
        return array, height - crop_h + 1, width - crop_w + 1

    def __call__(self, image):
        array, height_axis, rewrap = _unwrap(image)
        array, rows, cols = self._padded(array, height_axis)
        rng = numpy_generator()
        top, left = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        window = [slice(None)] * array.ndim
        window[height_axis] = slice(top, top + self.size[0])
        window[height_axis + 1] = slice(left, left + self.size[1])
        return rewrap(np.ascontiguousarray(array[tuple(window)]))

    def apply_batch(self, images):
        array, height_axis, rewrap = _unwrap_batch(images)
        array, rows, cols = self._padded(array, height_axis)
        rng = numpy_generator()
        count = array.shape[0]
        tops, lefts = rng.integers(0, rows, size=count), rng.integers(0, cols, size=count)
        # windows[n, ..., i, j, ...] is the crop of image n at offset (i, j); its window
        # axes go last, so they are moved back to where height and width were.
        windows = np.lib.stride_tricks.sliding_window_view(
            array, self.size, axis=(height_axis, height_axis + 1))
        index = [slice(None)] * array.ndim
        index[0], index[height_axis], index[height_axis + 1] = np.arange(count), tops, lefts
        crops = windows[tuple(index)]  # (N, other axes..., crop_h, crop_w)
        crops = np.moveaxis(crops, (-2, -1), (height_axis, height_axis + 1))
        return rewrap(np.ascontiguousarray(crops))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, image):
        if numpy_generator().random() >= self.p:
            return image
        array, height_axis, rewrap = _unwrap(image)
        return rewrap(np.ascontiguousarray(np.flip(array, axis=height_axis + 1)))

    def apply_batch(self, images):
        array, height_axis, rewrap = _unwrap_batch(images)
        flip = numpy_generator().random(array.shape[0]) < self.p
        out = array.copy()
        out[flip] = np.flip(array[flip], axis=height_axis + 1)
        return rewrap(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Lambda:
    """Apply a user function (per image; it has no batched form)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
