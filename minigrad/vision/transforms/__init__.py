"""Image transforms with torchvision's names, arguments and results.

Conversion: Compose, ToTensor, ToPILImage, Normalize, Lambda. Geometry: Resize, CenterCrop,
Pad, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomRotation. Colour:
ColorJitter, Grayscale. Augmentation: RandomErasing. ``functional`` holds the functions they
call (``resize``, ``rotate``, ``adjust_hue``, ...), with torchvision's names.

Images are PIL images (Pillow: the ``vision`` extra), Tensors (..., C, H, W) as torchvision's,
or numpy arrays stored as images are, (H, W[, C]) (what datasets give without Pillow); a
transform returns the kind it was given. A PIL image is processed by the Pillow call
torchvision makes; a Tensor or array by torchvision's tensor arithmetic.

Transforms that can work on a whole batch also have ``apply_batch(images)`` (numpy input
(N, H, W[, C]), Tensor input (N, C, H, W); random transforms draw independently per image):
ToTensor, Normalize, CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, and a Compose of
them. Datasets use it (``supports_batch``) to transform a batch in one vectorised step.
Random draws come from ``minigrad.random.numpy_generator()``, so ``minigrad.manual_seed``
makes them reproducible.
"""
from minigrad.vision.transforms import functional
from minigrad.vision.transforms._augment import RandomErasing
from minigrad.vision.transforms._conversion import (Compose, Lambda, Normalize, ToPILImage,
                                                    ToTensor, supports_batch)
from minigrad.vision.transforms._geometry import (CenterCrop, Pad, RandomCrop,
                                                  RandomHorizontalFlip, RandomResizedCrop,
                                                  RandomRotation, Resize)
from minigrad.vision.transforms._photometric import ColorJitter, Grayscale
from minigrad.vision.transforms.functional import InterpolationMode

__all__ = ["CenterCrop", "ColorJitter", "Compose", "Grayscale", "InterpolationMode", "Lambda",
           "Normalize", "Pad", "RandomCrop", "RandomErasing", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomRotation", "Resize", "ToPILImage", "ToTensor",
           "functional", "supports_batch"]
