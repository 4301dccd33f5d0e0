"""Colour adjustments of images stored as numpy arrays (..., C, H, W), with the arithmetic of
torchvision's tensor functions.

- grey = 0.2989 R + 0.587 G + 0.114 B, cast back to the image's dtype (truncated for uint8);
- blend(a, b, r) = clamp(r a + (1 - r) b, 0, max), max = 255 for uint8 and 1 for floats,
  cast back to a's dtype (truncated): brightness blends with black, saturation with the
  grey image, contrast with the mean of the grey image;
- hue: the image in [0, 1] as float32 (uint8 / 255) to HSV, h -> (h + factor) mod 1, back to
  RGB and to the image's dtype (float x to uint8 as trunc(x * (256 - 1e-3))).

uint8 images are computed in float32, as torch promotes them; float images in their dtype.
"""
import numpy as np

__all__ = ["max_value", "blend", "rgb_to_grayscale", "adjust_contrast", "adjust_hue"]


def max_value(dtype) -> float:
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def _float(array: np.ndarray) -> np.ndarray:
    return array if array.dtype.kind == "f" else array.astype(np.float32)


def _to_dtype(array: np.ndarray, dtype) -> np.ndarray:
    """torch's ``.to(dtype)``: float to integer truncates toward zero."""
    return array if array.dtype == dtype else array.astype(dtype)


def blend(image: np.ndarray, other: np.ndarray, ratio: float) -> np.ndarray:
    a, b = _float(image), _float(other)
    mixed = a.dtype.type(ratio) * a + a.dtype.type(1.0 - ratio) * b
    return _to_dtype(np.clip(mixed, 0, max_value(image.dtype)), image.dtype)


def rgb_to_grayscale(image: np.ndarray, num_output_channels: int = 1) -> np.ndarray:
    if image.shape[-3] == 3:
        rgb = _float(image)
        t = rgb.dtype.type
        grey = t(0.2989) * rgb[..., 0, :, :] + t(0.587) * rgb[..., 1, :, :] \
            + t(0.114) * rgb[..., 2, :, :]
        grey = _to_dtype(grey, image.dtype)[..., None, :, :]
    else:
        grey = image.copy()
    if num_output_channels == 3:
        return np.ascontiguousarray(np.broadcast_to(grey, image.shape))
    return grey


def adjust_contrast(image: np.ndarray, factor: float) -> np.ndarray:
    grey = rgb_to_grayscale(image) if image.shape[-3] == 3 else image
    mean = _float(grey).mean(axis=(-3, -2, -1), keepdims=True)
    return blend(image, mean, factor)


def _rgb_to_hsv(image: np.ndarray) -> np.ndarray:
    r, g, b = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    top, bottom = image.max(axis=-3), image.min(axis=-3)
    flat = top == bottom
    spread = top - bottom
    one = np.ones_like(top)
    saturation = spread / np.where(flat, one, top)
    divisor = np.where(flat, one, spread)
    rc, gc, bc = (top - r) / divisor, (top - g) / divisor, (top - b) / divisor
    hue = ((top == r) * (bc - gc) + ((top == g) & (top != r)) * (2.0 + rc - bc)
           + ((top != g) & (top != r)) * (4.0 + gc - rc)).astype(image.dtype)
    hue = np.fmod(hue / 6.0 + 1.0, 1.0).astype(image.dtype)
    return np.stack([hue, saturation, top], axis=-3)


def _hsv_to_rgb(image: np.ndarray) -> np.ndarray:
    h, s, v = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    choices = [(v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q)]
    return np.stack([np.choose(sector, channel) for channel in choices], axis=-3)


def adjust_hue(image: np.ndarray, factor: float) -> np.ndarray:
    if image.dtype.kind == "f":
        unit = image.astype(np.float32)
    else:
        unit = image.astype(np.float32) / np.float32(max_value(image.dtype))
    hsv = _rgb_to_hsv(unit)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + np.float32(factor), np.float32(1.0))
    rgb = _hsv_to_rgb(hsv)
    if image.dtype.kind == "f":
        return rgb.astype(image.dtype)
    scale = np.float32(max_value(image.dtype) + 1.0 - 1e-3)
    return (rgb * scale).astype(image.dtype)
