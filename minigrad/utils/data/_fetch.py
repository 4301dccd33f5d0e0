"""Fetching one batch: the same code runs in the main process (``num_workers=0``) and in each
worker process, so both give the same batches for the same indices.

For a map-style dataset a batch of indices (from the batch sampler) is fetched as

- ``dataset.get_batch(indices)`` when the dataset has it and ``collate_fn`` is the default:
  one vectorised indexing per batch (TensorDataset, Subset of one, CIFAR, MNIST, Digits);
- ``collate_fn(dataset.__getitems__(indices))`` when the dataset has ``__getitems__``;
- ``collate_fn([dataset[i] for i in indices])`` otherwise;

and without automatic batching (``batch_size=None``) one index gives
``collate_fn(dataset[index])``. An iterable dataset is read through ``StreamFetcher``.
"""
from minigrad.utils.data.collate import default_collate

__all__ = ["fetch_indices", "StreamFetcher"]


def fetch_indices(dataset, indices, collate_fn, auto_collation: bool):
    """The batch for ``indices`` (one index when ``auto_collation`` is off)."""
    if not auto_collation:
        return collate_fn(dataset[indices])
    if collate_fn is default_collate and callable(getattr(dataset, "get_batch", None)):
        return dataset.get_batch(indices)
    getitems = getattr(dataset, "__getitems__", None)
    if callable(getitems):
        return collate_fn(getitems(list(indices)))
    return collate_fn([dataset[i] for i in indices])


class StreamFetcher:
    """Batches from one pass over an iterable dataset, as torch's iterable fetcher: each
    ``fetch()`` takes up to ``batch_size`` samples (one sample, uncollated, when
    ``batch_size`` is None) and raises StopIteration once the stream is exhausted. A short
    last batch is returned unless ``drop_last``; after it the stream is not read again."""

    def __init__(self, dataset, batch_size, drop_last: bool, collate_fn):
        self.stream = iter(dataset)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.ended = False

    def fetch(self):
        if self.ended:
            raise StopIteration
        if self.batch_size is None:
            return self.collate_fn(next(self.stream))
        batch = []
        for _ in range(self.batch_size):
            try:
                batch.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)
