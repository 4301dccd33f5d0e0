"""The handwritten digits that scikit-learn ships in its package: a real dataset, no network.

1797 grey images of 8x8 pixels with values 0..16, ten classes. ``Digits`` exposes them as
float32 tensors (1, 8, 8) scaled to [0, 1] (value / 16), with a fixed, stratified split:
within each class, every fifth image in file order (its rank in the class % 5 == 4) is in the
test set (355 images), the others in the train set (1442).
"""
import functools

import numpy as np

from minigrad.tensor import Tensor
from minigrad.vision.datasets.batching import ImageArrayDataset

__all__ = ["Digits"]


@functools.lru_cache(maxsize=1)
def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("minigrad.vision.datasets.Digits needs scikit-learn, which comes "
                          "with the 'examples' extra: pip install 'minigrad[examples]'") from None
    bunch = load_digits()
    return bunch.images, bunch.target


class Digits(ImageArrayDataset):
    """scikit-learn's 8x8 digits as (image (1, 8, 8) float32 in [0, 1], label int).

    ``root`` and ``download`` are accepted for a torchvision-like signature and unused (the
    data is inside scikit-learn). ``data`` is the (N, 1, 8, 8) float32 array, ``targets``
    a list of ints; ``get_batch(indices)`` returns a collated batch in one indexing.
    """

    classes = [str(digit) for digit in range(10)]
    test_every = 5

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        images, labels = _load_digits()
        rank_in_class = np.empty(len(labels), dtype=np.int64)
        for digit in range(10):
            members = np.flatnonzero(labels == digit)
            rank_in_class[members] = np.arange(len(members))
        in_test = rank_in_class % self.test_every == self.test_every - 1
        keep = ~in_test if train else in_test
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data = (images[keep] / 16.0).astype(np.float32)[:, None, :, :]
        self._target_array = labels[keep].astype(np.int64)
        self.targets = self._target_array.tolist()
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _arrays(self):
        return self.data, self._target_array

    def _sample_image(self, row):
        return Tensor(row)

    def _batch_images(self, rows):
        return Tensor(rows)

