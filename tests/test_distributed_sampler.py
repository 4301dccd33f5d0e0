"""DistributedSampler against torch's, index for index (no MPI needed: num_replicas and rank
are given)."""
import itertools

import numpy as np
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import minigrad
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset
from minigrad.utils.data.distributed import torch_randperm


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 64, 1797])
@pytest.mark.parametrize("seed", [0, 3, 2**32 + 5])
def test_randperm_is_torchs(n, seed):
    generator = torch.Generator()
    generator.manual_seed(seed)
    assert torch_randperm(n, seed) == torch.randperm(n, generator=generator).tolist()


CASES = list(itertools.product([1, 5, 10, 11, 100], [1, 2, 3, 4, 7], [True, False],
                               [True, False]))


@pytest.mark.parametrize("n, replicas, shuffle, drop_last", CASES)
def test_every_rank_and_epoch_match_torch(n, replicas, shuffle, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=11,
                                  drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=shuffle, seed=11,
                              drop_last=drop_last)
        assert (len(ours), ours.total_size) == (len(theirs), theirs.total_size)
        for epoch in (0, 1, 5):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (rank, epoch)


def test_ranks_partition_the_shuffled_indices():
    n, replicas = 103, 4
    shares = []
    for rank in range(replicas):
        sampler = DistributedSampler(range(n), replicas, rank, seed=1)
        sampler.set_epoch(2)
        shares.append(list(sampler))
    together = [index for step in zip(*shares) for index in step]
    assert sorted(set(together)) == list(range(n))    # every index, one padded repeat
    assert len(together) == 104
    again = DistributedSampler(range(n), replicas, 0, seed=1)
    again.set_epoch(3)
    assert list(again) != shares[0]                    # another epoch, another order


def test_per_rank_batches_are_one_process_batches():
    """N ranks at batch B / N see together what one process sees at batch B, step by step."""
    n, replicas, batch = 40, 2, 8
    data = TensorDataset(minigrad.arange(n))
    single = DistributedSampler(data, 1, 0, seed=4)
    single_batches = [b[0].numpy() for b in DataLoader(data, batch_size=batch, sampler=single)]
    loaders = [DataLoader(data, batch_size=batch // replicas,
                          sampler=DistributedSampler(data, replicas, rank, seed=4))
               for rank in range(replicas)]
    for step, parts in enumerate(zip(*loaders)):
        together = np.sort(np.concatenate([part[0].numpy() for part in parts]))
        assert np.array_equal(together, np.sort(single_batches[step]))


def test_errors_are_torchs():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
