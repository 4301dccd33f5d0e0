"""Vision, as torchvision: ``datasets``, ``transforms``, ``models`` and ``utils``
(make_grid, save_image). Pillow (the ``vision`` extra) is needed for PIL images, image
folders and saving images; everything else works without it."""
from minigrad.vision import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
