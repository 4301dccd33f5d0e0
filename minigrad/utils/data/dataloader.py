"""DataLoader: iterate over a dataset in (shuffled) batches, as ``torch.utils.data.DataLoader``.

With ``num_workers=0`` batches are loaded in the calling process; with ``num_workers=N`` by N
worker processes (``_worker_pool``), which fetch the same batches for the same indices (see
``_fetch`` for how a batch is fetched, ``worker`` for the workers' seeds). As torch, every
``iter(loader)`` draws a base seed from the loader's generator (``generator=``, or the
default one), with or without workers, so that a run's random draws, and so its shuffled
order, do not depend on ``num_workers``.
"""
import multiprocessing
import os
import warnings

from minigrad.utils.data._fetch import StreamFetcher, fetch_indices
from minigrad.utils.data.collate import default_collate, default_convert
from minigrad.utils.data.dataset import IterableDataset
from minigrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from minigrad.utils.data.worker import draw_base_seed

__all__ = ["DataLoader"]


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class DataLoader:
    """Combines a dataset and a sampler into an iterable over batches.

    Arguments and their conflicts are torch's: ``sampler`` excludes ``shuffle``;
    ``batch_sampler`` excludes ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``;
    ``batch_size=None`` turns batching off (each sample goes through ``default_convert``).
    ``generator`` drives the shuffling and the workers' base seed (``minigrad.manual_seed``
    seeds the default one).

    Workers (``num_workers > 0``): ``worker_init_fn(worker_id)`` runs in each worker after
    it is seeded; ``prefetch_factor`` (default 2) batches per worker are requested ahead;
    ``persistent_workers`` keeps the workers from one ``iter(loader)`` to the next;
    ``timeout`` (seconds, 0 = none) bounds the wait for one batch; ``multiprocessing_context``
    (a context or a start method name) chooses how workers start (the platform's default
    otherwise); ``in_order=False`` hands batches out as they arrive. ``pin_memory`` is
    accepted and changes nothing (there is no accelerator to pin memory for), with torch's
    warning.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._iterable = isinstance(dataset, IterableDataset)
        self._iterator = None  # the worker pool kept by persistent_workers

        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        if num_workers > _usable_cpus():
            warnings.warn(f"This DataLoader will create {num_workers} worker processes in "
                          f"total. Our suggested max number of worker in current system is "
                          f"{_usable_cpus()}, which is smaller than what this DataLoader is "
                          f"going to create. Please be aware that excessive worker creation "
                          f"might get DataLoader running slow or even freeze, lower the worker "
                          f"number to avoid potential slowness/freeze if necessary.",
                          stacklevel=2)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else -(-length // self.batch_size))
            return length
        return len(self._index_sampler)

    def __iter__(self):
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        from minigrad.utils.data._worker_pool import WorkerPool
        if not self.persistent_workers:
            return WorkerPool(self)
        if self._iterator is None or self._iterator.closed:  # first epoch, or after a crash
            self._iterator = WorkerPool(self)
            return self._iterator
        return self._iterator.reset()


def _check_context(context, num_workers: int):
    """torch's checks of ``multiprocessing_context``; a start method name becomes its
    context."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or "
                        f"a string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


class _SingleProcessIterator:
    """Batches fetched in the calling process (``num_workers=0``)."""

    def __init__(self, loader: DataLoader):
        self._dataset = loader.dataset
        self._collate_fn = loader.collate_fn
        self._auto_collation = loader._auto_collation
        self._sampler_iter = None if loader._iterable else iter(loader._index_sampler)
        self._base_seed = draw_base_seed(loader.generator)
        if loader._iterable:  # iter(dataset) after the seed, as torch makes its fetcher
            self._stream = StreamFetcher(loader.dataset, loader.batch_size, loader.drop_last,
                                         loader.collate_fn)

    def __iter__(self):
        return self

    def __next__(self):
        if self._sampler_iter is None:
            return self._stream.fetch()
        return fetch_indices(self._dataset, next(self._sampler_iter), self._collate_fn,
                             self._auto_collation)
