"""Geometric transforms: Resize, CenterCrop, Pad, RandomCrop, RandomHorizontalFlip,
RandomResizedCrop, RandomRotation (torchvision's arguments, checks and parameter draws).

Random parameters are drawn as torchvision draws them (uniform offsets, areas, log aspect
ratios and angles), from ``minigrad.random.numpy_generator()``: ``minigrad.manual_seed``
makes them reproducible (they are not torch's random numbers).
"""
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from minigrad.random import numpy_generator
from minigrad.tensor import Tensor
from minigrad.vision.transforms import functional as F
from minigrad.vision.transforms._image import (batch_as_chw, get_dimensions, is_pil_image,
                                               unwrap, unwrap_batch)

__all__ = ["Resize", "CenterCrop", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomRotation"]


def _setup_size(size, error_msg: str) -> tuple:
    """torchvision's ``_setup_size``: a number n -> (n, n); a sequence of 1 or 2."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return tuple(size)


def _pair(value, name: str) -> tuple:
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return int(value[0]), int(value[0])
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} should be an int or a sequence of 1 or 2 ints, got {value!r}")


def _on_batch(images, function):
    """``function`` (a Tensor image transform) applied to a batch in one call."""
    array, back = batch_as_chw(images)
    return back(function(Tensor(array)).array)


class Resize:
    """Resize to ``size`` ((h, w), or one number for the smaller edge with the aspect ratio
    kept; ``max_size`` caps the longer edge). ``interpolation`` is an InterpolationMode or a
    Pillow constant; ``antialias`` applies to Tensors (PIL always antialiases)."""

    def __init__(self, size, interpolation=F.InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F.interpolation_mode(interpolation)
        self.antialias = antialias

    def __call__(self, image):
        return F.resize(image, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop:
    """The centred ``size`` window (zero padding where the image is smaller)."""

    def __init__(self, size):
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def __call__(self, image):
        return F.center_crop(image, self.size)

    def apply_batch(self, images):
        return _on_batch(images, self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad:
    """Pad every side: ``padding`` one number, (left/right, top/bottom) or (left, top, right,
    bottom); ``padding_mode`` constant (with ``fill``), edge, reflect or symmetric."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, str, tuple)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, image):
        return F.pad(image, self.padding, self.fill, self.padding_mode)

    def apply_batch(self, images):
        return _on_batch(images, self)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


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
        self._sides = None if padding is None else F.padding_sides(padding)
        self.pad_if_needed = pad_if_needed
        if not isinstance(fill, numbers.Number):
            raise TypeError(f"fill should be a number, got {type(fill).__name__}")
        self.fill = fill
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"Padding mode should be either constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.padding_mode = padding_mode

    def _padded(self, array, height_axis):
        def pad(sides):
            return F.pad_array(array, height_axis, sides, self.padding_mode, self.fill)

        if self._sides is not None:
            array = pad(self._sides)
        crop_h, crop_w = self.size
        height, width = array.shape[height_axis], array.shape[height_axis + 1]
        if self.pad_if_needed and width < crop_w:
            array = pad((crop_w - width, 0, crop_w - width, 0))
        if self.pad_if_needed and height < crop_h:
            array = pad((0, crop_h - height, 0, crop_h - height))
        height, width = array.shape[height_axis], array.shape[height_axis + 1]
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {self.size} is larger than input image "
                             f"size {(height, width)}")
        return array, height - crop_h + 1, width - crop_w + 1

    def __call__(self, image):
        array, height_axis, rewrap = unwrap(image)
        array, rows, cols = self._padded(array, height_axis)
        rng = numpy_generator()
        top, left = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        window = [slice(None)] * array.ndim
        window[height_axis] = slice(top, top + self.size[0])
        window[height_axis + 1] = slice(left, left + self.size[1])
        return rewrap(np.ascontiguousarray(array[tuple(window)]))

    def apply_batch(self, images):
        array, height_axis, rewrap = unwrap_batch(images)
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
        array, height_axis, rewrap = unwrap(image)
        return rewrap(np.ascontiguousarray(np.flip(array, axis=height_axis + 1)))

    def apply_batch(self, images):
        array, height_axis, rewrap = unwrap_batch(images)
        flip = numpy_generator().random(array.shape[0]) < self.p
        out = array.copy()
        out[flip] = np.flip(array[flip], axis=height_axis + 1)
        return rewrap(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def check_scale_and_ratio(scale, ratio) -> None:
    """torchvision's checks of the (min, max) ranges of an area fraction and an aspect
    ratio (RandomResizedCrop, RandomErasing)."""
    if not isinstance(scale, Sequence):
        raise TypeError("Scale should be a sequence")
    if not isinstance(ratio, Sequence):
        raise TypeError("Ratio should be a sequence")
    if scale[0] > scale[1] or ratio[0] > ratio[1]:
        warnings.warn("Scale and ratio should be of kind (min, max)")


def draw_area_and_aspect(rng, area: int, scale, ratio) -> tuple:
    """(an area uniform in ``scale`` x ``area``, an aspect ratio log-uniform in ``ratio``),
    drawn as torchvision draws them (the bounds in float32, as torch's tensors hold them)."""
    log_ratio = np.log(np.asarray(ratio, dtype=np.float32))
    target_area = area * float(np.float32(rng.uniform(scale[0], scale[1])))
    aspect = float(np.exp(np.float32(rng.uniform(log_ratio[0], log_ratio[1]))))
    return target_area, aspect


class RandomResizedCrop:
    """Crop a random window and resize it to ``size``, as torchvision: up to 10 draws of an
    area (a fraction of the image's, uniform in ``scale``) and an aspect ratio (log-uniform in
    ``ratio``) until the window fits, at a uniform offset; else the centred window of the
    ratio nearest the image's."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=F.InterpolationMode.BILINEAR, antialias=True):
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        check_scale_and_ratio(scale, ratio)
        self.interpolation = F.interpolation_mode(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(image, scale, ratio) -> tuple:
        """(top, left, height, width) of a random window of ``image``."""
        _, height, width = get_dimensions(image)
        rng = numpy_generator()
        for _ in range(10):
            target_area, aspect_ratio = draw_area_and_aspect(rng, height * width, scale, ratio)
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), \
                    h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, image):
        top, left, height, width = self.get_params(image, self.scale, self.ratio)
        return F.resized_crop(image, top, left, height, width, self.size, self.interpolation,
                              antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(self.scale)}, "
                f"ratio={tuple(self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


def _check_sequence(value, name: str, sizes=(2,)):
    if not isinstance(value, Sequence):
        raise TypeError(f"{name} should be a sequence of length {sizes[0]}.")
    if len(value) not in sizes:
        raise ValueError(f"{name} should be a sequence of length {sizes[0]}.")


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` ((min, max), or d for (-d, d)),
    about ``center`` (the image centre by default); ``expand`` grows the output to hold the
    whole image; ``fill`` colours the corners brought in from outside."""

    def __init__(self, degrees, interpolation=F.InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = [-degrees, degrees]
        else:
            _check_sequence(degrees, "degrees")
        self.degrees = [float(d) for d in degrees]
        if center is not None:
            _check_sequence(center, "center")
        self.center = center
        self.interpolation = F.interpolation_mode(interpolation)
        self.expand = expand
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill

    @staticmethod
    def get_params(degrees) -> float:
        """An angle drawn uniformly from [degrees[0], degrees[1]]."""
        return float(np.float32(numpy_generator().uniform(float(degrees[0]),
                                                          float(degrees[1]))))

    def __call__(self, image):
        fill = self.fill
        if not is_pil_image(image):
            channels = get_dimensions(image)[0]
            fill = ([float(fill)] * channels if isinstance(fill, (int, float))
                    else [float(f) for f in fill])
        angle = self.get_params(self.degrees)
        return F.rotate(image, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})")
