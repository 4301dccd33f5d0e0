"""Colour transforms: ColorJitter and Grayscale (torchvision's arguments, checks and draws).

ColorJitter draws, as torchvision does, a random order of its four adjustments (a
permutation of brightness, contrast, saturation, hue) and a factor for each one that is set,
uniformly from its range; draws come from ``minigrad.random.numpy_generator()``.
"""
import numbers

from minigrad.random import numpy_generator
from minigrad.vision.transforms import functional as F

__all__ = ["ColorJitter", "Grayscale"]


def _jitter_range(value, name: str, center: float = 1.0, bound=(0, float("inf")),
                  clip_first_on_zero: bool = True):
    """torchvision's ``ColorJitter._check_input``: a number v gives [center - v, center + v]
    (clipped at 0 for brightness, contrast and saturation), a pair is taken as it is; None
    when the range is only the centre (nothing to do)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    if value[0] == value[1] == center:
        return None
    return tuple(value)


class ColorJitter:
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    ``brightness``, ``contrast``, ``saturation``: a number v for factors in
    [max(0, 1 - v), 1 + v], or (min, max); ``hue``: h for shifts in [-h, h] (h <= 0.5), or
    (min, max) within [-0.5, 0.5].
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order of the four adjustments, brightness, contrast, saturation and hue factors;
        None for those not set)."""
        rng = numpy_generator()
        order = rng.permutation(4).tolist()
        factors = [None if bounds is None else float(rng.uniform(bounds[0], bounds[1]))
                   for bounds in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, image):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for which in order:
            if factors[which] is not None:
                image = adjust[which](image, factors[which])
        return image

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast="
                f"{self.contrast}, saturation={self.saturation}, hue={self.hue})")


class Grayscale:
    """The grey image (0.2989 R + 0.587 G + 0.114 B), in 1 or 3 channels."""

    def __init__(self, num_output_channels: int = 1):
        self.num_output_channels = num_output_channels

    def __call__(self, image):
        return F.rgb_to_grayscale(image, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"
