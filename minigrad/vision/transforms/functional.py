"""The image functions of ``torchvision.transforms.functional``, with its names, arguments,
checks and results, for PIL images, Tensors (..., C, H, W) and numpy images (H, W[, C]).

A PIL image goes through the Pillow call torchvision makes (``resize``, ``crop``,
``rotate``, ``ImageEnhance``, ``convert``), so results are Pillow's; a Tensor or numpy image
through torchvision's tensor arithmetic, written on numpy arrays (``_resample`` for resizing
and rotation, ``_colorspace`` for colour). Tensors returned are new and do not record
autograd history: these are data transforms.
"""
import math
import numbers
from enum import Enum

import numpy as np

from minigrad.tensor import Tensor
from minigrad.vision.transforms import _colorspace, _resample
from minigrad.vision.transforms._image import (as_chw, get_dimensions, is_pil_image,
                                               pil_image_module)

__all__ = ["InterpolationMode", "get_dimensions", "to_tensor", "to_pil_image", "normalize",
           "resize", "crop", "center_crop", "resized_crop", "pad", "hflip", "vflip",
           "rotate", "adjust_brightness", "adjust_contrast", "adjust_saturation",
           "adjust_hue", "rgb_to_grayscale", "to_grayscale", "erase"]


class InterpolationMode(Enum):
    """Interpolation modes, as ``torchvision.transforms.InterpolationMode``; Tensors support
    NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC, PIL images all of them."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
                InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
                InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
                InterpolationMode.LANCZOS: 1}
_FROM_PIL = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(value) -> InterpolationMode:
    """An InterpolationMode, or the Pillow integer constant of one."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if int(value) in _FROM_PIL:
            return _FROM_PIL[int(value)]
        raise ValueError(f"{value} is not the Pillow constant of an interpolation mode")
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding "
                    "Pillow integer constant")


def _require_tensor(image, what="img"):
    if not isinstance(image, Tensor):
        raise TypeError(f"{what} should be Tensor Image. Got {type(image)}")


# ---------------------------------------------------------------------------- conversion

def to_tensor(picture) -> Tensor:
    """An HWC (or HW) image to a CHW Tensor; uint8 values v become float32 v / 255 in [0, 1],
    other dtypes are kept (as torchvision). PIL images are read as arrays (mode "1" as 0/255)."""
    if is_pil_image(picture):
        array = np.asarray(picture)
        picture = array.astype(np.uint8) * 255 if picture.mode == "1" else array
    if not isinstance(picture, np.ndarray):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(picture)}")
    if picture.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {picture.ndim} dimensions.")
    if picture.ndim == 2:
        picture = picture[:, :, None]
    return Tensor(hwc_to_chw(picture, 0))


def hwc_to_chw(array: np.ndarray, height_axis: int) -> np.ndarray:
    """Channels moved before the height axis; uint8 scaled to float32 in [0, 1]."""
    channels_first = np.moveaxis(array, -1, height_axis)
    if array.dtype != np.uint8:
        return np.ascontiguousarray(channels_first)
    out = np.ascontiguousarray(channels_first, dtype=np.float32)
    out /= np.float32(255)
    return out


def float_image_to_bytes(array: np.ndarray) -> np.ndarray:
    """torch's ``x.mul(255).byte()``: x * 255 in float32, truncated, wrapped modulo 256
    (as the conversion wraps on x86 for values outside [0, 255])."""
    scaled = np.trunc(array.astype(np.float32) * np.float32(255))
    return (scaled.astype(np.int64) & 0xFF).astype(np.uint8)


_PIL_MODE_OF = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                np.dtype(np.int32): "I", np.dtype(np.float32): "F"}
_PERMITTED_MODES = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}


def to_pil_image(picture, mode=None):
    """A Tensor (C, H, W) or an array (H, W, C) to a PIL image, as torchvision: float
    Tensors are scaled by 255 and converted to uint8 (truncated, wrapping modulo 256 as
    torch's byte() does) unless ``mode`` is "F"; the mode follows from the channels (2 LA,
    3 RGB, 4 RGBA) or, for one channel, from the dtype (uint8 L, int16 I;16, int32 I,
    float32 F)."""
    Image = pil_image_module("ToPILImage")
    if isinstance(picture, Tensor):
        array = picture.array
        if array.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        if array.ndim == 2:
            array = array[None]
        if array.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-3]} "
                             f"channels.")
        if array.dtype.kind == "f" and mode != "F":
            array = float_image_to_bytes(array)
        array = np.transpose(array, (1, 2, 0))
    elif isinstance(picture, np.ndarray):
        array = picture
        if array.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        if array.ndim == 2:
            array = array[:, :, None]
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} "
                             f"channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(picture)}.")
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        expected = _PIL_MODE_OF.get(array.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type "
                             f"{array.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = _PERMITTED_MODES[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and array.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    raw = np.ascontiguousarray(array)
    if mode == "I;16":
        raw = raw.astype("<u2")
    return Image.frombytes(mode, (raw.shape[1], raw.shape[0]), raw.tobytes())


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """out[c] = (x[c] - mean[c]) / std[c] over a float Tensor (..., C, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Input tensor should be a minigrad tensor. Got {type(tensor)}.")
    if tensor.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). "
                         f"Got tensor.size() = {tuple(tensor.shape)}")
    mean = np.asarray(mean, dtype=tensor.dtype).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=tensor.dtype).reshape(-1, 1, 1)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                         f"leading to division by zero.")
    if not inplace:
        return Tensor((tensor.array - mean) / std)
    tensor.array -= mean
    tensor.array /= std
    tensor._version.value += 1
    return tensor


# ---------------------------------------------------------------------------- geometry

def _resized_size(height: int, width: int, size: list, max_size):
    """torchvision's ``_compute_resized_output_size``: [h, w] for ``size`` (one number: the
    smaller edge, the other edge scaled and truncated; two: (h, w))."""
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_h, new_w]


def resize(image, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias=True):
    """Resize to ``size``: (h, w), or one number for the smaller edge (``max_size`` caps the
    longer one). A PIL image is resized by Pillow (always antialiased); a Tensor or array
    as torchvision's ``interpolate`` call (see ``_resample``)."""
    mode = interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = [int(size)]
    else:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, height, width = get_dimensions(image)
    out_h, out_w = _resized_size(height, width, list(size), max_size)
    if (out_h, out_w) == (height, width):
        return image
    if is_pil_image(image):
        return image.resize((out_w, out_h), _PIL_FILTERS[mode])
    array, back = as_chw(image)
    return back(_resample.resize(array, (out_h, out_w), mode.value, antialias))


def crop(image, top: int, left: int, height: int, width: int):
    """The window of ``height`` x ``width`` at (top, left); parts outside are zero."""
    if is_pil_image(image):
        return image.crop((left, top, left + width, top + height))
    array, back = as_chw(image)
    h, w = array.shape[-2:]
    right, bottom = left + width, top + height
    window = array[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    if left < 0 or top < 0 or right > w or bottom > h:
        sides = (max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                 max(right - max(w, left), 0), max(bottom - max(h, top), 0))
        window = pad_array(window, window.ndim - 2, sides, "constant", 0)
    return back(np.ascontiguousarray(window))


def _crop_size(output_size) -> tuple:
    if isinstance(output_size, numbers.Number):
        return int(output_size), int(output_size)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return output_size[0], output_size[0]
    return tuple(output_size)


def center_crop(image, output_size):
    """The centred window of ``output_size``; an image smaller than it is padded with zeros
    first (torchvision's rounding: the offset is round((size - crop) / 2), half to even)."""
    crop_h, crop_w = _crop_size(output_size)
    _, height, width = get_dimensions(image)
    if crop_w > width or crop_h > height:
        sides = [(crop_w - width) // 2 if crop_w > width else 0,
                 (crop_h - height) // 2 if crop_h > height else 0,
                 (crop_w - width + 1) // 2 if crop_w > width else 0,
                 (crop_h - height + 1) // 2 if crop_h > height else 0]
        image = pad(image, sides, fill=0)
        _, height, width = get_dimensions(image)
        if (crop_w, crop_h) == (width, height):
            return image
    top = int(round((height - crop_h) / 2.0))
    left = int(round((width - crop_w) / 2.0))
    return crop(image, top, left, crop_h, crop_w)


def resized_crop(image, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(image, top, left, height, width), size, interpolation,
                  antialias=antialias)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def padding_sides(padding) -> tuple:
    """torchvision's padding forms (one number, (left/right, top/bottom), (left, top, right,
    bottom)) -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and len(padding) in (1, 2, 4):
        if len(padding) == 1:
            return (int(padding[0]),) * 4
        if len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        return tuple(int(p) for p in padding)
    if isinstance(padding, (tuple, list)):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    raise TypeError("Got inappropriate padding arg")


def pad_array(array, height_axis: int, sides, mode: str, fill):
    """``array`` padded around the (height, width) axes starting at ``height_axis``; a
    negative side crops (as torchvision)."""
    left, top, right, bottom = sides
    if min(sides) < 0:
        index = [slice(None)] * array.ndim
        index[height_axis] = slice(max(-top, 0), array.shape[height_axis] - max(-bottom, 0))
        index[height_axis + 1] = slice(max(-left, 0),
                                       array.shape[height_axis + 1] - max(-right, 0))
        array = array[tuple(index)]
        left, top, right, bottom = (max(side, 0) for side in sides)
    widths = [(0, 0)] * array.ndim
    widths[height_axis] = (top, bottom)
    widths[height_axis + 1] = (left, right)
    if mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=fill)
    if mode == "reflect":
        for axis, (before, after) in ((height_axis, (top, bottom)),
                                      (height_axis + 1, (left, right))):
            if max(before, after) >= array.shape[axis]:
                raise RuntimeError(f"Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({before}, {after}) for a "
                                   f"dimension of size {array.shape[axis]}")
    return np.pad(array, widths, mode=mode)


def _check_fill(fill, channels: int, name: str = "fill"):
    """torchvision's ``_parse_fill`` for PIL images: a number or one value per channel."""
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and channels > 1:
        fill = (fill,) * channels
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * channels
        elif len(fill) != channels:
            raise ValueError(f"The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {channels})")
        fill = tuple(fill)
    return fill


def _pil_fill(fill, image):
    fill = _check_fill(fill, len(image.getbands()))
    if image.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def pad(image, padding, fill=0, padding_mode: str = "constant"):
    """Pad every side (``padding`` as torchvision: one number, two, or left, top, right,
    bottom; negative values crop) with ``fill`` (constant) or by edge, reflect or symmetric."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    sides = padding_sides(padding)
    if is_pil_image(image):
        if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode == "constant":
            from PIL import ImageOps
            return ImageOps.expand(image, border=sides, fill=_pil_fill(fill, image))
        Image = pil_image_module("pad")
        array = pad_array(np.asarray(image), 0, sides, padding_mode, 0)
        return Image.fromarray(np.ascontiguousarray(array))
    fill = 0 if fill is None else fill
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    array, back = as_chw(image)
    return back(pad_array(array, array.ndim - 2, sides, padding_mode, fill))


def hflip(image):
    """Mirror left-right."""
    if is_pil_image(image):
        return image.transpose(pil_image_module("hflip").Transpose.FLIP_LEFT_RIGHT)
    array, back = as_chw(image)
    return back(array[..., ::-1])


def vflip(image):
    """Mirror top-bottom."""
    if is_pil_image(image):
        return image.transpose(pil_image_module("vflip").Transpose.FLIP_TOP_BOTTOM)
    array, back = as_chw(image)
    return back(array[..., ::-1, :])


def _inverse_rotation(angle: float, center) -> list:
    """torchvision's ``_get_inverse_affine_matrix(center, -angle, [0, 0], 1, [0, 0])``: the
    matrix taking an output pixel (relative to the image centre) to its source."""
    rotation = math.radians(-angle)
    a, b = math.cos(rotation), -math.sin(rotation)
    c, d = math.sin(rotation), math.cos(rotation)
    cx, cy = center
    matrix = [d, -b, 0.0, -c, a, 0.0]
    matrix[2] += matrix[0] * -cx + matrix[1] * -cy + cx
    matrix[5] += matrix[3] * -cx + matrix[4] * -cy + cy
    return matrix


def rotate(image, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (x, y in pixels; the
    image centre by default); ``expand`` enlarges the output to hold the whole image;
    ``fill`` colours what comes from outside (zeros when None)."""
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    mode = interpolation_mode(interpolation)
    if is_pil_image(image):
        return image.rotate(angle, _PIL_FILTERS[mode], expand, center,
                            fillcolor=_pil_fill(fill, image))
    array, back = as_chw(image)
    height, width = array.shape[-2:]
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _inverse_rotation(angle, center_f)
    if fill is not None:
        if not isinstance(fill, (list, tuple)):
            fill = [float(fill)]
        if len(fill) > 1 and len(fill) != array.shape[-3]:
            raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the "
                             f"number of channels of the image ({len(fill)} != "
                             f"{array.shape[-3]})")
    out_size = _resample.affine_output_size(matrix, width, height) if expand else None
    return back(_resample.affine_grid_sample(array, matrix, mode.value, fill, out_size))


# ---------------------------------------------------------------------------- colour

def _check_channels(array, permitted=(1, 3)):
    if array.shape[-3] not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, "
                        f"but found {array.shape[-3]}")


def _enhance(image, enhancer: str, factor: float):
    from PIL import ImageEnhance
    return getattr(ImageEnhance, enhancer)(image).enhance(factor)


def adjust_brightness(image, brightness_factor: float):
    """Scale the values by ``brightness_factor`` (clamped to the valid range)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if is_pil_image(image):
        return _enhance(image, "Brightness", brightness_factor)
    array, back = as_chw(image)
    _check_channels(array)
    return back(_colorspace.blend(array, np.zeros_like(array), brightness_factor))


def adjust_contrast(image, contrast_factor: float):
    """Blend with the mean grey level: 0 gives a grey image, 1 the original."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if is_pil_image(image):
        return _enhance(image, "Contrast", contrast_factor)
    array, back = as_chw(image)
    _check_channels(array)
    return back(_colorspace.adjust_contrast(array, contrast_factor))


def adjust_saturation(image, saturation_factor: float):
    """Blend with the grey image: 0 gives black and white, 1 the original."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if is_pil_image(image):
        return _enhance(image, "Color", saturation_factor)
    array, back = as_chw(image)
    _check_channels(array)
    if array.shape[-3] == 1:
        return image
    return back(_colorspace.blend(array, _colorspace.rgb_to_grayscale(array),
                                  saturation_factor))


def adjust_hue(image, hue_factor: float):
    """Shift the hue by ``hue_factor`` turns (in [-0.5, 0.5]) in HSV space."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if is_pil_image(image):
        if image.mode in ("L", "1", "I", "F"):
            return image
        Image = pil_image_module("adjust_hue")
        h, s, v = image.convert("HSV").split()
        # Pillow's hue is a byte: the shift wraps around (torchvision's uint8 addition)
        shift = np.uint8(int(hue_factor * 255) % 256)
        h = Image.fromarray(np.asarray(h, dtype=np.uint8) + shift)
        return Image.merge("HSV", (h, s, v)).convert(image.mode)
    array, back = as_chw(image)
    _check_channels(array)
    if array.shape[-3] == 1:
        return image
    return back(_colorspace.adjust_hue(array, hue_factor))


def rgb_to_grayscale(image, num_output_channels: int = 1):
    """Grey levels 0.2989 R + 0.587 G + 0.114 B (Pillow's "L" conversion for PIL images), in
    one channel or repeated in three."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if is_pil_image(image):
        grey = image.convert("L")
        if num_output_channels == 1:
            return grey
        Image = pil_image_module("rgb_to_grayscale")
        return Image.fromarray(np.ascontiguousarray(np.dstack([np.asarray(grey)] * 3)))
    array, back = as_chw(image)
    if isinstance(image, Tensor) and image.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{image.ndim}")
    _check_channels(array)
    return back(_colorspace.rgb_to_grayscale(array, num_output_channels))


def to_grayscale(image, num_output_channels: int = 1):
    """``rgb_to_grayscale`` for PIL images (torchvision's older name)."""
    if not is_pil_image(image):
        raise TypeError("Input should be PIL Image")
    return rgb_to_grayscale(image, num_output_channels)


def erase(image: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """The Tensor image with the window (i, j, h, w) set to ``v`` (a Tensor or array that
    broadcasts to (C, h, w))."""
    _require_tensor(image)
    value = v.array if isinstance(v, Tensor) else np.asarray(v)
    if not inplace:
        out = image.array.copy()
        out[..., i:i + h, j:j + w] = value
        return Tensor(out)
    image.array[..., i:i + h, j:j + w] = value
    image._version.value += 1
    return image
