"""DistributedSampler: each rank's share of a dataset's indices, as
``torch.utils.data.distributed.DistributedSampler``, index for index.

Each epoch the indices 0..n-1 are shuffled (or not) the same way on every rank, padded by
repeating the first ones up to a multiple of the number of replicas (or cut down to one,
with ``drop_last``), and rank r takes every num_replicas-th of them starting at r. With
shuffle, the order is torch's: ``torch.randperm(n)`` on a generator seeded with
``seed + epoch``, which is Fisher-Yates over torch's mt19937 stream (for i < n - 1: swap r[i]
and r[i + u_i % (n - i)]), reproduced here with numpy's MT19937 seeded as torch seeds it. So
minigrad and torch give every rank the same samples, and N ranks at a per-rank batch of B / N
see together, step for step, the samples one process sees at batch B in that order.
"""
import math

import numpy as np

from minigrad.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

# torch.randperm draws 32-bit numbers below this n (larger n take another algorithm).
_RANDPERM_32BIT_LIMIT = (2**32 - 1) // 20


def torch_randperm(n: int, seed: int) -> list:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()``."""
    if n >= _RANDPERM_32BIT_LIMIT:
        raise ValueError(f"DistributedSampler shuffles at most {_RANDPERM_32BIT_LIMIT - 1} "
                         f"indices as torch does, got {n}")
    generator = np.random.MT19937(0)
    generator._legacy_seeding(seed & 0xFFFFFFFF)  # torch's mt19937(seed): its low 32 bits
    draws = generator.random_raw(max(n - 1, 0)).tolist()
    order = list(range(n))
    for i in range(n - 1):
        j = i + draws[i] % (n - i)
        order[i], order[j] = order[j], order[i]
    return order


class DistributedSampler(Sampler):
    """The indices of ``dataset`` for rank ``rank`` of ``num_replicas`` (by default the
    process group's rank and world size), shuffled per epoch by ``seed + epoch`` unless
    ``shuffle=False``: call ``set_epoch(epoch)`` before each epoch's iteration."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from minigrad import distributed as dist
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas)
                                         / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            indices = torch_randperm(len(self.dataset), self.seed + self.epoch)
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose shuffle the next iteration gives (the same on every rank)."""
        self.epoch = epoch
