"""Pieces shared by the in-memory image datasets' batched fetch (``get_batch``)."""
import numpy as np

from minigrad.tensor import Tensor
from minigrad.utils.data import default_collate


def collate_targets(targets: np.ndarray, indices: np.ndarray, target_transform):
    """The batch's targets as ``default_collate`` would give them: one int64 indexing when
    there is no target transform, else the transform applied to each int."""
    if target_transform is None:
        return Tensor(targets[indices])
    return default_collate([target_transform(int(t)) for t in targets[indices]])
