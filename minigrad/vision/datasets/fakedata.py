"""FakeData: random images with random labels, as ``torchvision.datasets.FakeData``, for
trying a pipeline without any download."""
import numpy as np

from minigrad.creation import randint, randn
from minigrad.random import Generator
from minigrad.utils.data import Dataset
from minigrad.vision.datasets.batching import as_pil_image
from minigrad.vision.transforms.functional import float_image_to_bytes

__all__ = ["FakeData"]


class FakeData(Dataset):
    """``size`` samples of (image, label): sample i draws a standard normal Tensor of
    ``image_size`` (C, H, W) and a label in [0, ``num_classes``) from a generator seeded
    with ``i + random_offset`` (the same sample every time, the global generator untouched),
    and turns the Tensor into a PIL image as ``ToPILImage`` does (x * 255 truncated to a byte,
    wrapping), as torchvision; the (H, W[, C]) uint8 array when Pillow is not installed.
    The values are minigrad's draws, not torch's."""

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform=None, target_transform=None, random_offset: int = 0):
        self.size = size
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        self.random_offset = random_offset
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        generator = Generator(index + self.random_offset)
        image = randn(*self.image_size, generator=generator)
        target = int(randint(0, self.num_classes, (1,), generator=generator).array[0])
        pixels = np.transpose(float_image_to_bytes(image.array), (1, 2, 0))
        image = as_pil_image(np.ascontiguousarray(pixels[:, :, 0] if pixels.shape[2] == 1
                                                  else pixels))
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Image size: {self.image_size}")
