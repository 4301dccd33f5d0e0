"""The base of the in-memory image datasets (CIFAR, MNIST, Digits): per-sample access, as
torchvision returns samples, and the batched fetch (``get_batch``) that DataLoader uses to
index a whole batch at once."""
import numpy as np

from minigrad.tensor import Tensor
from minigrad.utils.data import Dataset, default_collate
from minigrad.vision import transforms as _transforms


def as_pil_image(array: np.ndarray):
    """A uint8 image array (H, W) or (H, W, C) as torchvision's datasets hand it to the
    transform: a PIL image, or the array itself when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return array
    return Image.fromarray(array)


def collate_targets(targets: np.ndarray, indices: np.ndarray, target_transform):
    """The batch's targets as ``default_collate`` would give them: one int64 indexing when
    there is no target transform, else the transform applied to each int."""
    if target_transform is None:
        return Tensor(targets[indices])
    return default_collate([target_transform(int(t)) for t in targets[indices]])


class ImageArrayDataset(Dataset):
    """Images in one array (N, ...) and int64 labels (N,), given by ``_arrays()``, with
    ``transform`` / ``target_transform``. ``dataset[i]`` is (``_sample_image(image)``
    transformed, int label transformed); ``_sample_image`` gives what torchvision's dataset
    gives (a PIL image for the uint8 image datasets). ``get_batch`` transforms a batch of
    raw rows in one step when the transform works on batches."""

    def _arrays(self):
        """(images (N, ...), labels int64 (N,)): numpy arrays."""
        raise NotImplementedError

    def _sample_image(self, row):
        return as_pil_image(row)

    def _batch_images(self, rows):
        """What a batched transform receives: the rows as stored (HWC arrays) by default."""
        return rows

    def __len__(self) -> int:
        return len(self._arrays()[0])

    def __getitem__(self, index):
        images, labels = self._arrays()
        image, target = self._sample_image(images[index]), int(labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """``default_collate([self[i] for i in indices])``, with one indexing per batch when
        the transform works on batches (None, or built from batchable transforms)."""
        indices = np.asarray(indices, dtype=np.int64)
        images, labels = self._arrays()
        if self.transform is None:
            batch = Tensor(images[indices])
        elif _transforms.supports_batch(self.transform):
            batch = self.transform.apply_batch(self._batch_images(images[indices]))
            if isinstance(batch, np.ndarray):
                batch = Tensor(batch)
        else:
            batch = default_collate([self[int(i)][0] for i in indices])
        return [batch, collate_targets(labels, indices, self.target_transform)]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def _repr_lines(self) -> list:
        root = getattr(self, "root", None)
        return ([] if root is None else [f"Root location: {root}"]) + [self.extra_repr()]

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"] + self._repr_lines()
        if getattr(self, "transform", None) is not None:
            lines.append(f"Transform: {self.transform!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + s for s in lines)
