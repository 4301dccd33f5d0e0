"""The base of the in-memory image datasets (CIFAR, Digits): per-sample access and the batched
fetch (``get_batch``) that DataLoader uses to index a whole batch at once."""
import numpy as np

from minigrad.tensor import Tensor
from minigrad.utils.data import Dataset, default_collate
from minigrad.vision import transforms as _transforms


def collate_targets(targets: np.ndarray, indices: np.ndarray, target_transform):
    """The batch's targets as ``default_collate`` would give them: one int64 indexing when
    there is no target transform, else the transform applied to each int."""
    if target_transform is None:
        return Tensor(targets[indices])
    return default_collate([target_transform(int(t)) for t in targets[indices]])


class ImageArrayDataset(Dataset):
    """Images in one array ``data`` (N, ...), labels in ``_target_array`` (int64, N) and as the
    list ``targets``, with ``transform`` / ``target_transform``. Subclasses fill those in and
    may override ``_as_image``, which turns rows of ``data`` into what the transform receives
    (the rows themselves by default)."""

    def _as_image(self, rows):
        return rows

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        image, target = self._as_image(self.data[index]), self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """``default_collate([self[i] for i in indices])``, with one indexing per batch when
        the transform works on batches (None, or built from batchable transforms)."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.transform is None:
            images = Tensor(self.data[indices])
        elif _transforms.supports_batch(self.transform):
            images = self.transform.apply_batch(self._as_image(self.data[indices]))
            if isinstance(images, np.ndarray):
                images = Tensor(images)
        else:
            images = default_collate([self[int(i)][0] for i in indices])
        return [images, collate_targets(self._target_array, indices, self.target_transform)]
