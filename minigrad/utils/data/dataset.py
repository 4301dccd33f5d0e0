"""Datasets: map-style (``len`` and ``dataset[i]``) and iterable, as ``torch.utils.data``.

A map-style dataset may also define ``get_batch(indices)``, returning exactly what
``default_collate([dataset[i] for i in indices])`` would, in one vectorised step. The
DataLoader uses it when its collate function is the default one: an in-memory dataset then
costs one numpy indexing per batch instead of one ``__getitem__`` per sample.
"""
import bisect
import itertools
import math
import warnings

import numpy as np

from minigrad.random import numpy_generator
from minigrad.tensor import Tensor
from minigrad.utils.data.collate import default_collate

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` and usually ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__``."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support concatenation with +")


class TensorDataset(Dataset):
    """Samples are ``tuple(t[i] for t in tensors)``; all tensors share their first size."""

    def __init__(self, *tensors: Tensor):
        if not all(isinstance(t, Tensor) for t in tensors):
            raise TypeError("TensorDataset expects Tensors, got "
                            + ", ".join(type(t).__name__ for t in tensors))
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            # AssertionError, as torch's TensorDataset
            raise AssertionError("Size mismatch between tensors: first dimensions "
                                 f"{[t.shape[0] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices) -> list:
        indices = np.asarray(indices, dtype=np.int64)
        return [Tensor(t.array[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._cached = (None, None)  # (indices object, its index array)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _index_array(self) -> np.ndarray:
        if self._cached[0] is not self.indices:
            source = self.indices.array if isinstance(self.indices, Tensor) else self.indices
            self._cached = (self.indices, np.asarray(source, dtype=np.int64))
        return self._cached[1]

    def get_batch(self, indices):
        indices = np.asarray(indices, dtype=np.int64)
        if callable(getattr(self.dataset, "get_batch", None)):
            return self.dataset.get_batch(self._index_array()[indices])
        return default_collate(self.__getitems__(indices.tolist()))


class ConcatDataset(Dataset):
    """The concatenation of several map-style datasets."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return which, index - start

    def __getitem__(self, index):
        which, inner = self._locate(index)
        return self.datasets[which][inner]

    def get_batch(self, indices):
        located = [self._locate(int(i)) for i in indices]
        which = {w for w, _ in located}
        if len(which) == 1:
            dataset = self.datasets[which.pop()]
            if callable(getattr(dataset, "get_batch", None)):
                return dataset.get_batch([i for _, i in located])
        return default_collate([self.datasets[w][i] for w, i in located])


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` may be fractions summing to 1: each split gets ``floor(n * fraction)`` and
    the remainder is dealt one by one, round-robin, from the first split on (as torch).
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * fraction)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.")
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = numpy_generator(generator).permutation(n).tolist()
    return [Subset(dataset, order[end - size:end])
            for end, size in zip(itertools.accumulate(lengths), lengths)]
