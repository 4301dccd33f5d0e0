"""RandomErasing: with probability ``p``, a random rectangle of a Tensor image is overwritten
(Zhong et al., "Random Erasing Data Augmentation"), as torchvision draws it."""
import math
import numbers

import numpy as np

from minigrad.random import numpy_generator
from minigrad.tensor import Tensor
from minigrad.vision.transforms import functional as F
from minigrad.vision.transforms._geometry import check_scale_and_ratio, draw_area_and_aspect

__all__ = ["RandomErasing"]


class RandomErasing:
    """Erase a random rectangle of a Tensor image (..., C, H, W) with probability ``p``.

    The rectangle's area is a fraction of the image's, uniform in ``scale``, its aspect ratio
    log-uniform in ``ratio`` (up to 10 draws until it fits inside; otherwise nothing is
    erased). ``value``: a number, one per channel, or "random" (standard normal values).
    """

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                 inplace: bool = False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        check_scale_and_ratio(scale, ratio)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(image, scale, ratio, value=None) -> tuple:
        """(top, left, height, width, values) of the rectangle; the whole image and the image
        itself when no draw fits. ``value`` None draws standard normal values."""
        channels, height, width = image.shape[-3], image.shape[-2], image.shape[-1]
        rng = numpy_generator()
        for _ in range(10):
            erase_area, aspect = draw_area_and_aspect(rng, height * width, scale, ratio)
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            if value is None:
                values = rng.standard_normal((channels, h, w), dtype=np.float32)
            else:
                values = np.asarray(value, dtype=np.float32)[:, None, None]
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return top, left, h, w, values
        return 0, 0, height, width, image

    def __call__(self, image):
        if not isinstance(image, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(image)}")
        if numpy_generator().random() >= self.p:
            return image
        if isinstance(self.value, (int, float)):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, image.shape[-3]):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{image.shape[-3]} (number of input channels)")
        top, left, h, w, values = self.get_params(image, self.scale, self.ratio, value)
        return F.erase(image, top, left, h, w, values, self.inplace)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")
