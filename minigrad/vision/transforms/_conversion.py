"""Composition and conversion transforms: Compose, ToTensor, ToPILImage, Normalize, Lambda.

Transforms that can work on a whole batch also have ``apply_batch(images)`` (numpy input
(N, H, W[, C]), Tensor input (N, C, H, W)); datasets use it (``supports_batch``) to transform
a batch in one vectorised step.
"""
import numpy as np

from minigrad.tensor import Tensor
from minigrad.vision.transforms import functional as F

__all__ = ["Compose", "ToTensor", "ToPILImage", "Normalize", "Lambda", "supports_batch"]


def supports_batch(transform) -> bool:
    """Whether ``transform.apply_batch`` exists and can be used."""
    batchable = getattr(transform, "batchable", None)
    if batchable is not None:
        return bool(batchable)
    return callable(getattr(transform, "apply_batch", None))


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
        return F.to_tensor(picture)

    def apply_batch(self, pictures: np.ndarray) -> Tensor:
        if not isinstance(pictures, np.ndarray):
            raise TypeError(f"a batch for ToTensor should be an ndarray. Got {type(pictures)}")
        if pictures.ndim not in (3, 4):
            raise ValueError(f"a batch should be (N, H, W) or (N, H, W, C). "
                             f"Got {pictures.ndim} dimensions.")
        if pictures.ndim == 3:
            pictures = pictures[..., None]
        return Tensor(F.hwc_to_chw(pictures, 1))

    def __repr__(self) -> str:
        return "ToTensor()"


class ToPILImage:
    """A Tensor (C, H, W) or an array (H, W, C) to a PIL image (``functional.to_pil_image``:
    float values are scaled by 255; the mode follows the channels and dtype unless given).
    Needs Pillow."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, picture):
        return F.to_pil_image(picture, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({'' if self.mode is None else f'mode={self.mode}'})"


class Normalize:
    """out[c] = (x[c] - mean[c]) / std[c] over a float Tensor (..., C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    apply_batch = __call__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


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
