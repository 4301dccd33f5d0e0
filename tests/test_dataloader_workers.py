"""DataLoader(num_workers=N): the same batches as num_workers=0 (and as torch's loader for an
iterable dataset sharded by get_worker_info), torch's seeds in each worker, worker_init_fn,
persistent workers, exceptions re-raised with the worker's traceback, crashes and timeouts
reported promptly, and no worker process left behind."""
import gc
import multiprocessing
import os
import random
import signal
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minigrad
import minigrad.nn.functional as F
from minigrad.utils import data as mdata
from minigrad.utils.data import DataLoader, get_worker_info
from minigrad.utils.data import worker as worker_module


def _arrays(batch):
    """A collated batch as nested lists of numpy arrays (tensors unwrapped)."""
    if isinstance(batch, (list, tuple)):
        return [_arrays(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _arrays(v) for k, v in batch.items()}
    return batch.array if isinstance(batch, minigrad.Tensor) else np.asarray(batch)


def _assert_same_batches(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        a, b = _arrays(a), _arrays(b)
        np.testing.assert_equal(a, b)


def _no_children_left(timeout=5.0):
    gc.collect()  # an iterator kept by a caught exception's traceback is collected here
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    return multiprocessing.active_children() == []


class Squares(mdata.Dataset):
    """Per-sample dataset: (i, i^2 as float32 array, the pid that loaded it)."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i, np.array([i, i * i], np.float32), os.getpid()


# ------------------------------------------------------------------- same batches as 0 workers

@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4, shuffle=True),
    dict(batch_size=5, shuffle=True, drop_last=True),
    dict(batch_size=3, shuffle=False),
    dict(batch_size=None, shuffle=True),
])
def test_two_workers_give_the_batches_of_zero_workers(kwargs):
    runs = {}
    for workers in (0, 2):
        minigrad.manual_seed(7)
        loader = DataLoader(Squares(), num_workers=workers, **kwargs)
        runs[workers] = [[b[:2] for b in loader] for _epoch in range(2)]
    for epoch in range(2):
        _assert_same_batches(runs[0][epoch], runs[2][epoch])
    if kwargs.get("shuffle"):  # the epochs differ: the order is not fixed by the seed alone
        assert str(_arrays(runs[0][0])) != str(_arrays(runs[0][1]))


def test_workers_use_the_batched_path_and_the_loader_generator():
    x = minigrad.randn(50, 3)
    y = minigrad.arange(50)
    batches = {}
    for workers in (0, 2):
        generator = minigrad.Generator(123)
        loader = DataLoader(mdata.TensorDataset(x, y), batch_size=8, shuffle=True,
                            num_workers=workers, generator=generator)
        batches[workers] = list(loader)
    _assert_same_batches(batches[0], batches[2])
    seen = np.concatenate([b[1].array for b in batches[2]])
    assert sorted(seen.tolist()) == list(range(50))


def test_batches_come_from_worker_processes():
    loader = DataLoader(Squares(12), batch_size=2, num_workers=2)
    pids = {int(p) for batch in loader for p in batch[2].array}
    assert len(pids) == 2 and os.getpid() not in pids
    assert _no_children_left()


def test_in_order_false_yields_every_batch():
    loader = DataLoader(Squares(20), batch_size=3, num_workers=2, in_order=False)
    indices = sorted(int(i) for batch in loader for i in batch[0].array)
    assert indices == list(range(20))


def test_spawned_workers():
    x = minigrad.arange(10).float()
    loader = DataLoader(mdata.TensorDataset(x), batch_size=4, num_workers=2,
                        multiprocessing_context="spawn")
    _assert_same_batches(list(loader), list(DataLoader(mdata.TensorDataset(x), batch_size=4)))
    assert _no_children_left()


def _conv_in_worker(i):
    """A minigrad kernel run inside a worker forked from a process whose OpenMP threads ran."""
    image = minigrad.ones(1, 2, 6, 6)
    return F.conv2d(image, minigrad.ones(3, 2, 3, 3), padding=1).sum().item() + i


def test_kernels_run_in_forked_workers_after_the_parent_used_threads():
    minigrad.set_num_threads(2)
    try:
        parent = _conv_in_worker(0)  # the parent's OpenMP team exists now
        dataset = _Mapped(4, _conv_in_worker)
        values = [float(v) for batch in DataLoader(dataset, batch_size=2, num_workers=2,
                                                   timeout=30) for v in batch.array]
    finally:
        minigrad.set_num_threads(minigrad.threads._default_num_threads())
    assert values == [parent + i for i in range(4)]


class _Mapped(mdata.Dataset):
    def __init__(self, n, function):
        self.n, self.function = n, function

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.function(i)


# ------------------------------------------------------------------- iterable datasets vs torch

def _shard(start, stop):
    info = get_worker_info() if _framework[0] == "minigrad" else tdata.get_worker_info()
    if info is None:
        return range(start, stop)
    # uneven shares: worker 0 gets 2/3 of the stream, so it ends later than worker 1
    cut = start + (stop - start) * 2 // 3
    return range(start, cut) if info.id == 0 else range(cut, stop)


_framework = ["minigrad"]


class MgStream(mdata.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter([np.int64(i) for i in _shard(self.start, self.stop)])


class TorchStream(tdata.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter([np.int64(i) for i in _shard(self.start, self.stop)])


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    _framework[0] = "torch"
    theirs = [np.asarray(b).tolist() for b in tdata.DataLoader(
        TorchStream(0, 25), batch_size=batch_size, drop_last=drop_last, num_workers=2)]
    _framework[0] = "minigrad"
    mine = [b.array.tolist() for b in DataLoader(
        MgStream(0, 25), batch_size=batch_size, drop_last=drop_last, num_workers=2)]
    assert mine == theirs
    assert _no_children_left()


def test_persistent_workers_restart_an_iterable_dataset():
    loader = DataLoader(MgStream(0, 12), batch_size=4, num_workers=2, persistent_workers=True)
    first = [b.array.tolist() for b in loader]
    workers = [p.pid for p in loader._iterator._workers]
    second = [b.array.tolist() for b in loader]
    assert first == second == [[0, 1, 2, 3], [8, 9, 10, 11], [4, 5, 6, 7]]
    assert [p.pid for p in loader._iterator._workers] == workers
    assert all(p.is_alive() for p in loader._iterator._workers)
    del loader
    assert _no_children_left()


def test_persistent_workers_start_again_after_a_crash():
    loader = DataLoader(_Mapped(6, _exit_in_worker), batch_size=2, num_workers=2,
                        persistent_workers=True)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(loader)
    loader.dataset.function = int  # the data is fixed: a new epoch gets new workers
    assert [b.array.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    del loader
    assert _no_children_left()


def test_persistent_workers_after_an_epoch_cut_short():
    loader = DataLoader(Squares(30), batch_size=2, num_workers=2, persistent_workers=True,
                        prefetch_factor=3)
    for i, _ in enumerate(loader):
        if i == 1:
            break  # answers to the unfinished epoch's tasks must not leak into the next one
    indices = [int(i) for batch in loader for i in batch[0].array]
    assert indices == list(range(30))
    del loader
    assert _no_children_left()


# ------------------------------------------------------------------- seeds and worker_init_fn

class SeedReport(mdata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {"id": info.id, "seed": info.seed, "num_workers": info.num_workers,
                "minigrad": minigrad.initial_seed(), "random": random.random(),
                "numpy": np.random.random(), "draw": minigrad.rand(1).item(),
                "threads": minigrad.get_num_threads(), "init": _init_calls[:]}


_init_calls = []


def _record_init(worker_id):
    _init_calls.append((worker_id, minigrad.initial_seed()))


def test_worker_seeds_are_derived_as_torch_derives_them():
    generator = minigrad.Generator(2024)
    expected_base = int(minigrad.Generator(2024).np.integers(0, 2**63, dtype=np.int64))
    loader = DataLoader(SeedReport(), batch_size=None, num_workers=2, generator=generator,
                        worker_init_fn=_record_init)
    reports = {}
    for sample in loader:
        reports.setdefault(int(sample["id"]), sample)
    assert set(reports) == {0, 1}
    for worker_id, report in reports.items():
        seed = expected_base + worker_id
        assert int(report["seed"]) == seed and int(report["minigrad"]) == seed
        assert int(report["num_workers"]) == 2 and int(report["threads"]) == 1
        assert report["init"] == [[worker_id, seed]]  # after seeding, once per worker
        random.seed(seed)
        assert float(report["random"]) == random.random()
        np.random.seed(worker_module.numpy_seed_state(expected_base, worker_id))
        assert float(report["numpy"]) == np.random.random()
        minigrad.manual_seed(seed)
        assert float(report["draw"]) == minigrad.rand(1).item()
    assert get_worker_info() is None  # in the main process


@pytest.mark.parametrize("base_seed", [0, 1, 2**32 - 1, 2**32, 123456789012345, 2**63 - 1])
@pytest.mark.parametrize("worker_id", [0, 1, 7])
def test_numpy_seed_state_is_torch_generate_state(base_seed, worker_id):
    from torch.utils.data._utils.worker import _generate_state
    assert worker_module.numpy_seed_state(base_seed, worker_id) == \
        _generate_state(base_seed, worker_id)


def test_iterating_draws_one_base_seed_with_or_without_workers():
    for workers in (0, 2):
        minigrad.manual_seed(5)
        iter(DataLoader(Squares(4), num_workers=workers))
        after = minigrad.rand(1).item()
        minigrad.manual_seed(5)
        minigrad.random.numpy_generator().integers(0, 2**63, dtype=np.int64)
        assert after == minigrad.rand(1).item()


def test_worker_info_is_read_only():
    info = worker_module.WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo"):
        info.id = 2
    assert repr(info) == "WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)"


# ------------------------------------------------------------------- errors in workers

class Faulty(mdata.Dataset):
    def __init__(self, bad, error=ValueError):
        self.bad, self.error = bad, error

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            raise_sample_error(self.error, i)
        return np.float32(i)


def raise_sample_error(error, i):
    raise error(f"sample {i} is broken")


def test_an_exception_in_a_worker_is_raised_with_its_traceback():
    iterator = iter(DataLoader(Faulty(bad=5), batch_size=2, num_workers=2))
    assert next(iterator).array.tolist() == [0, 1]
    assert next(iterator).array.tolist() == [2, 3]
    with pytest.raises(ValueError) as caught:
        next(iterator)
    message = str(caught.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 0.\n"
                              "Original Traceback (most recent call last):")
    assert "in raise_sample_error" in message and "sample 5 is broken" in message
    assert next(iterator).array.tolist() == [6, 7]  # the iteration goes on, as torch's
    with pytest.raises(StopIteration):
        next(iterator)
    assert _no_children_left()


class NeedsTwoArguments(Exception):
    def __init__(self, first, second):
        super().__init__(first, second)


def _needs_two(message):
    raise NeedsTwoArguments(message, 2)


@pytest.mark.parametrize("error, expected", [(KeyError, KeyError), (OSError, OSError),
                                             (_needs_two, RuntimeError)])
def test_exception_types_as_torch(error, expected):
    loader = DataLoader(Faulty(bad=0, error=error), batch_size=None, num_workers=1)
    with pytest.raises(expected) as caught:
        next(iter(loader))
    text = str(caught.value)
    assert "in DataLoader worker process 0" in text and "sample 0 is broken" in text
    if expected is KeyError:  # shown as written, not as a repr with escaped newlines
        assert "\\n" not in text


def _failing_init(worker_id):
    raise ArithmeticError(f"init of worker {worker_id} failed")


def test_worker_init_fn_error_is_raised():
    with pytest.raises(ArithmeticError, match="init of worker 0 failed"):
        list(DataLoader(Squares(4), num_workers=1, worker_init_fn=_failing_init))
    assert _no_children_left()


def test_unpicklable_batch_is_reported():
    dataset = _Mapped(2, lambda i: (lambda: i))
    with pytest.raises(Exception, match="in DataLoader worker process 0"):
        next(iter(DataLoader(dataset, batch_size=None, num_workers=1,
                             collate_fn=lambda x: x)))


# ------------------------------------------------------------------- crashes, hangs, shutdown

def _exit_in_worker(i):
    if i == 3:
        os._exit(7)
    return i


def _kill_in_worker(i):
    if i == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return i


@pytest.mark.parametrize("function, how", [(_exit_in_worker, "exited with code 7"),
                                           (_kill_in_worker, "killed by signal 9 (SIGKILL)")])
def test_a_worker_crash_is_reported_not_waited_for(function, how):
    loader = DataLoader(_Mapped(8, function), batch_size=2, num_workers=2)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited unexpectedly") as caught:
        list(loader)
    assert how in str(caught.value)
    assert time.monotonic() - started < 10
    assert _no_children_left()


def _sleep_in_worker(i):
    if i == 1:
        time.sleep(60)
    return i


def test_timeout_raises_and_stops_the_hung_worker():
    loader = DataLoader(_Mapped(4, _sleep_in_worker), batch_size=None, num_workers=1,
                        timeout=0.5)
    iterator = iter(loader)
    assert int(next(iterator)) == 0
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
        next(iterator)
    assert time.monotonic() - started < 10
    assert _no_children_left()


def test_workers_exit_when_the_iterator_is_dropped_mid_epoch():
    iterator = iter(DataLoader(Squares(40), batch_size=2, num_workers=2))
    next(iterator)
    processes = list(iterator._workers)
    assert all(p.is_alive() for p in processes)
    del iterator
    assert _no_children_left()
    assert all(p.exitcode is not None for p in processes)


def test_workers_exit_when_the_main_process_dies(tmp_path):
    """A worker whose parent was killed notices (it checks its parent pid while it waits)."""
    pids = tmp_path / "pids"
    script = f"""
import os, sys, time
sys.path.insert(0, {os.path.dirname(os.path.dirname(minigrad.__file__))!r})
import numpy as np
from minigrad.utils.data import DataLoader, TensorDataset
import minigrad
it = iter(DataLoader(TensorDataset(minigrad.arange(4)), num_workers=2, batch_size=1))
next(it)
open({str(pids)!r}, "w").write(" ".join(str(p.pid) for p in it._workers))
os.kill(os.getpid(), 9)
"""
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", script], timeout=60)
    worker_pids = [int(p) for p in pids.read_text().split()]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in worker_pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in worker_pids)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# ------------------------------------------------------------------- arguments, as torch

@pytest.mark.parametrize("kwargs", [
    dict(num_workers=0, prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1),
    dict(num_workers=0, persistent_workers=True),
    dict(num_workers=0, multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"),
    dict(num_workers=1, multiprocessing_context=3),
])
def test_argument_errors_match_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        tdata.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(type(theirs.value)) as mine:
        DataLoader(list(range(4)), **kwargs)
    assert str(mine.value) == str(theirs.value)


def test_pin_memory_is_accepted_with_torch_warning():
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        list(tdata.DataLoader(list(range(4)), batch_size=2, pin_memory=True))
    with warnings.catch_warnings(record=True) as mine:
        warnings.simplefilter("always")
        batches = list(DataLoader(list(range(4)), batch_size=2, pin_memory=True))
    assert [b.array.tolist() for b in batches] == [[0, 1], [2, 3]]
    assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
