"""minigrad.utils.data against torch.utils.data: collate, loader batches and lengths, argument
conflicts, samplers, splits, and the batched fetch path."""
import collections
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minigrad
import minigrad.utils.data as mdata
from minigrad.tensor import Tensor


class _Array:
    """A tensor's (or a bare numpy array's) values, tagged with what held them."""

    def __init__(self, kind, array):
        self.kind, self.array = kind, array


def _to_numpy_tree(value):
    """Replace minigrad and torch tensors by numpy arrays so structures compare directly."""
    if isinstance(value, Tensor):
        return _Array("tensor", value.array)
    if isinstance(value, torch.Tensor):
        return _Array("tensor", value.numpy())
    if isinstance(value, np.ndarray):
        return _Array("ndarray", value)
    if isinstance(value, dict):
        return {k: _to_numpy_tree(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__,) + tuple(_to_numpy_tree(v) for v in value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy_tree(v) for v in value)
    return value


def _assert_tree_equal(mine, theirs):
    mine, theirs = _to_numpy_tree(mine), _to_numpy_tree(theirs)
    _compare(mine, theirs)


def _compare(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, _Array):
        assert a.kind == b.kind
        assert a.array.dtype == b.array.dtype and a.array.shape == b.array.shape, \
            (a.array, b.array)
        np.testing.assert_array_equal(a.array, b.array)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _compare(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _compare(x, y)
    else:
        assert a == b


Point = collections.namedtuple("Point", "x y")


def _samples(make_tensor):
    rng = np.random.default_rng(0)
    arrays = [rng.random((2, 3), dtype=np.float32) for _ in range(3)]
    return [
        [make_tensor(a) for a in arrays],
        [a for a in arrays],
        [1, 2, 3],
        [1.5, 2.5, 3.0],
        [True, False, True],
        [np.float32(1), np.float32(2), np.float32(3)],
        [np.int32(4), np.int32(5), np.int32(6)],
        ["a", "b", "c"],
        [(make_tensor(a), i) for i, a in enumerate(arrays)],
        [[i, float(i)] for i in range(3)],
        [{"image": make_tensor(a), "label": i, "meta": {"name": str(i), "w": [i, i + 1]}}
         for i, a in enumerate(arrays)],
        [Point(i, float(i)) for i in range(3)],
        [np.array(float(i)) for i in range(3)],
    ]


@pytest.mark.parametrize("case", range(13))
def test_default_collate_matches_torch(case):
    mine = mdata.default_collate(_samples(Tensor)[case])
    theirs = tdata.default_collate(_samples(torch.from_numpy)[case])
    _assert_tree_equal(mine, theirs)


def test_default_collate_errors_match_torch():
    for batch, error in [([object(), object()], TypeError),
                         ([np.array(["a"]), np.array(["b"])], TypeError),
                         ([[1, 2], [1]], RuntimeError)]:
        with pytest.raises(error) as theirs:
            tdata.default_collate(batch)
        with pytest.raises(error) as mine:
            mdata.default_collate(batch)
        assert str(mine.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        mdata.default_collate([Tensor(np.zeros(2)), Tensor(np.zeros(3))])


def test_default_convert_matches_torch():
    sample = (np.arange(3.0), 1, [np.int64(3), "s"], {"a": np.ones(2, np.float32)})
    _assert_tree_equal(mdata.default_convert(sample), tdata.default_convert(sample))


def _datasets(n=10):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    y = np.arange(n) % 3
    return (mdata.TensorDataset(Tensor(x), Tensor(y)),
            tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True),
                                                   (10, False), (12, True), (None, False)])
def test_loader_batches_match_torch(batch_size, drop_last):
    mine, theirs = _datasets()
    ours = mdata.DataLoader(mine, batch_size=batch_size, drop_last=drop_last)
    reference = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(reference)
    batches = list(ours)
    assert len(batches) == len(list(reference))
    for a, b in zip(batches, reference):
        _assert_tree_equal(a, b)


class _Counting(mdata.Dataset):
    """A list of (array, label) samples that counts its __getitem__ calls."""

    def __init__(self, n=7):
        self.items = [(np.full((2,), i, np.float64), i) for i in range(n)]
        self.calls = 0

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        self.calls += 1
        return self.items[i]


class _TorchList(tdata.Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_per_sample_loader_and_custom_collate_match_torch():
    mine = _Counting()
    theirs = _TorchList(mine.items)
    for kwargs in [dict(batch_size=3), dict(batch_size=2, collate_fn=lambda b: b),
                   dict(batch_size=None),
                   dict(batch_sampler=[[0, 3], [6, 5, 4]]),
                   dict(sampler=[6, 0, 2], batch_size=2)]:
        ours = list(mdata.DataLoader(mine, **kwargs))
        reference = list(tdata.DataLoader(theirs, **kwargs))
        assert len(ours) == len(reference)
        for a, b in zip(ours, reference):
            _assert_tree_equal(a, b)


@pytest.mark.parametrize("kwargs", [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(batch_size=0),
    dict(batch_size=-2),
    dict(num_workers=-1),
])
def test_argument_conflicts_raise_like_torch(kwargs):
    mine, theirs = _datasets()
    with pytest.raises(ValueError) as reference:
        tdata.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError) as ours:
        mdata.DataLoader(mine, **kwargs)
    assert str(ours.value) == str(reference.value)


def test_batched_path_fetches_once_per_batch():
    class Batched(_Counting):
        def __init__(self):
            super().__init__()
            self.batches = []

        def get_batch(self, indices):
            self.batches.append(list(indices))
            return mdata.default_collate([self.items[i] for i in indices])

    dataset = Batched()
    loaded = list(mdata.DataLoader(dataset, batch_size=3))
    assert dataset.calls == 0 and dataset.batches == [[0, 1, 2], [3, 4, 5], [6]]
    _assert_tree_equal(loaded, list(tdata.DataLoader(_TorchList(dataset.items), batch_size=3)))
    # A custom collate_fn switches the batched path off.
    list(mdata.DataLoader(dataset, batch_size=3, collate_fn=mdata.default_collate))
    assert dataset.calls == 0
    list(mdata.DataLoader(dataset, batch_size=3, collate_fn=lambda b: b))
    assert dataset.calls == 7


def test_getitems_is_used_as_torch():
    class WithGetItems(_Counting):
        def __getitems__(self, indices):
            return [self.items[i] for i in indices]

    dataset = WithGetItems()
    batches = list(mdata.DataLoader(dataset, batch_size=4))
    assert dataset.calls == 0 and batches[1][1].array.tolist() == [4, 5, 6]


def test_shuffle_is_reproducible_and_covers_everything():
    dataset, _ = _datasets(50)

    def epoch(loader):
        return np.concatenate([labels.array for _, labels in loader]), \
            np.concatenate([x.array[:, 0, 0] for x, _ in loader])

    minigrad.manual_seed(123)
    loader = mdata.DataLoader(dataset, batch_size=8, shuffle=True)
    first = [batch[0].array[:, 0, 0] // 6 for batch in loader]
    second = [batch[0].array[:, 0, 0] // 6 for batch in loader]
    order1, order2 = np.concatenate(first), np.concatenate(second)
    assert sorted(order1.tolist()) == list(range(50)) and not np.array_equal(order1, order2)
    minigrad.manual_seed(123)
    again = np.concatenate([batch[0].array[:, 0, 0] // 6 for batch in loader])
    np.testing.assert_array_equal(order1, again)
    generator = minigrad.Generator(7)
    own = mdata.DataLoader(dataset, batch_size=8, shuffle=True, generator=generator)
    a = np.concatenate([b[1].array for b in own])
    generator.manual_seed(7)
    np.testing.assert_array_equal(a, np.concatenate([b[1].array for b in own]))


def test_samplers():
    data = list(range(10))
    assert list(mdata.SequentialSampler(data)) == data
    minigrad.manual_seed(0)
    drawn = list(mdata.RandomSampler(data, replacement=True, num_samples=25))
    assert len(drawn) == 25 and set(drawn) <= set(data)
    chained = list(mdata.RandomSampler(data, num_samples=25))
    assert sorted(chained[:10]) == data and sorted(chained[10:20]) == data
    assert sorted(mdata.SubsetRandomSampler([3, 5, 9])) == [3, 5, 9]
    batches = mdata.BatchSampler(mdata.SequentialSampler(data), 4, drop_last=False)
    assert list(batches) == list(tdata.BatchSampler(tdata.SequentialSampler(data), 4, False))
    assert len(batches) == 3 and len(mdata.BatchSampler(data, 4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="num_samples"):
        mdata.RandomSampler(data, num_samples=0)
    with pytest.raises(ValueError, match="drop_last"):
        mdata.BatchSampler(data, 2, drop_last=1)


def test_subset_concat_and_random_split():
    dataset, reference = _datasets(10)
    subset = mdata.Subset(dataset, [9, 2, 4])
    assert len(subset) == 3
    np.testing.assert_array_equal(subset[0][0].array, dataset[9][0].array)
    _assert_tree_equal(subset.get_batch([2, 0]),
                       tdata.default_collate([reference[4], reference[9]]))
    both = dataset + subset
    assert isinstance(both, mdata.ConcatDataset) and len(both) == 13
    np.testing.assert_array_equal(both[-1][0].array, dataset[4][0].array)
    np.testing.assert_array_equal(both[11][0].array, dataset[2][0].array)
    _assert_tree_equal(both.get_batch([12, 3]), tdata.default_collate([reference[4], reference[3]]))
    _assert_tree_equal(list(mdata.DataLoader(both, batch_size=13))[0],
                       tdata.default_collate([reference[i] for i in list(range(10)) + [9, 2, 4]]))

    minigrad.manual_seed(5)
    parts = mdata.random_split(dataset, [0.5, 0.3, 0.2])
    expected = tdata.random_split(reference, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [len(p) for p in expected]
    assert sorted(sum((p.indices for p in parts), [])) == list(range(10))
    minigrad.manual_seed(5)
    assert [p.indices for p in mdata.random_split(dataset, [0.5, 0.3, 0.2])] == \
        [p.indices for p in parts]
    odd = mdata.random_split(list(range(7)), [0.4, 0.4, 0.2])
    assert [len(p) for p in odd] == [len(p) for p in tdata.random_split(range(7), [0.4, 0.4, 0.2])]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        mdata.random_split(dataset, [3, 3])


def test_subset_of_a_per_sample_dataset_matches_torch():
    dataset = _Counting(9)
    indices = [8, 1, 5, 0, 3]
    ours = list(mdata.DataLoader(mdata.Subset(dataset, indices), batch_size=2))
    reference = list(tdata.DataLoader(tdata.Subset(_TorchList(dataset.items), indices),
                                      batch_size=2))
    _assert_tree_equal(ours, reference)


def test_tensor_dataset_checks_sizes():
    with pytest.raises(AssertionError, match="Size mismatch"):
        mdata.TensorDataset(Tensor(np.zeros(3)), Tensor(np.zeros(4)))


def test_iterable_dataset():
    class Stream(mdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    class TorchStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for kwargs in [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                   dict(batch_size=None)]:
        ours = mdata.DataLoader(Stream(), **kwargs)
        reference = tdata.DataLoader(TorchStream(), **kwargs)
        assert len(ours) == len(reference)
        _assert_tree_equal(list(ours), list(reference))
    with pytest.raises(ValueError, match="shuffle"):
        mdata.DataLoader(Stream(), shuffle=True)


def test_batched_loading_is_fast():
    """A CIFAR-sized in-memory epoch at batch 64 loads in well under a second."""
    x = Tensor(np.zeros((10000, 3, 32, 32), np.float32))
    y = Tensor(np.zeros(10000, np.int64))
    loader = mdata.DataLoader(mdata.TensorDataset(x, y), batch_size=64, shuffle=True)
    start = time.perf_counter()
    count = sum(1 for _ in loader)
    elapsed = time.perf_counter() - start
    assert count == 157 and elapsed < 2.0, elapsed
