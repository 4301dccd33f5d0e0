"""What runs inside a DataLoader worker process, and what a dataset sees of it there.

``get_worker_info()`` is None in the main process; in a worker it is a ``WorkerInfo`` with the
worker's ``id``, ``num_workers``, ``seed`` and its copy of the ``dataset`` (an iterable
dataset uses them to hand each worker its own share of the stream).

Seeds, as torch derives them: the main process draws one ``base_seed`` per iterator from the
loader's generator (the default one unless ``generator=`` is given); worker ``i`` then seeds
minigrad's default generator and Python's ``random`` with ``base_seed + i``, and numpy's
global ``np.random`` with torch's hash of (base_seed, i) (``numpy_seed_state``), before
``worker_init_fn(i)`` runs. The worker's kernels use one thread (as torch's workers).

The loop answers every task message with exactly one result message ``(task, answer)``: the
batch, a ``WorkerError`` carrying the exception's type and formatted traceback (re-raised in
the main process), or ``EXHAUSTED`` once an iterable dataset's stream has ended.
"""
import os
import queue
import random
import sys
import traceback

import numpy as np

from minigrad.random import numpy_generator

__all__ = ["WorkerInfo", "get_worker_info"]

# Messages from the main process: (FETCH, task number, indices or None), (RESUME, None, None)
# (persistent workers start a new epoch: an iterable dataset is iterated afresh), or STOP.
FETCH = "fetch"
RESUME = "resume"
STOP = None
# How often a worker waiting for a task checks that the main process is still there.
PARENT_CHECK_SECONDS = 1.0


class _Exhausted:
    """The answer of a worker whose iterable dataset has no more batches."""

    def __repr__(self) -> str:
        return "EXHAUSTED"

    def __reduce__(self):
        return "EXHAUSTED"


EXHAUSTED = _Exhausted()


class WorkerInfo:
    """A worker's ``id`` (0 to ``num_workers - 1``), ``num_workers``, ``seed`` and
    ``dataset`` (its own copy); read-only, as torch's."""

    __initialized = False

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            setattr(self, key, value)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, value):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={getattr(self, key)}" for key in self.__keys)
        return f"{type(self).__name__}({fields})"


_worker_info = None


def get_worker_info():
    """This worker's ``WorkerInfo``, or None in the main process."""
    return _worker_info


def draw_base_seed(generator) -> int:
    """A seed in [0, 2**63), as torch's ``empty((), int64).random_(generator)``; every
    DataLoader iterator draws one after making its sampler's iterator, with or without
    workers, so the random stream a run consumes does not depend on ``num_workers``."""
    return int(numpy_generator(generator).integers(0, 2**63, dtype=np.int64))


def numpy_seed_state(base_seed: int, worker_id: int) -> list:
    """Four 32-bit words seeding numpy's global generator in a worker: torch's
    ``_generate_state``, a SeedSequence-style hash of (worker_id, base_seed), so that numpy's
    and Python's generators in a worker do not start from the same seed."""
    mask = 0xFFFFFFFF
    shift = 16
    mult_a, mult_b = 0x931E8875, 0x58F38DED
    mix_left, mix_right = 0xCA01F9DD, 0x4973F715
    hash_a = [0x43B0D7E5]

    def hashed(value):
        value = (value ^ hash_a[0]) & mask
        hash_a[0] = (hash_a[0] * mult_a) & mask
        value = (value * hash_a[0]) & mask
        return (value ^ (value >> shift)) & mask

    def mixed(x, y):
        result = (((mix_left * x) & mask) - ((mix_right * y) & mask)) & mask
        return (result ^ (result >> shift)) & mask

    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    pool = [hashed(value) for value in entropy]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mixed(pool[target], hashed(pool[source]))
    hash_b, state = 0x8B51F9DD, []
    for value in pool:
        value = (value ^ hash_b) & mask
        hash_b = (hash_b * mult_b) & mask
        value = (value * hash_b) & mask
        state.append((value ^ (value >> shift)) & mask)
    return state


class KeyErrorMessage(str):
    """A message that KeyError shows as written (KeyError prints its argument's repr)."""

    def __repr__(self) -> str:
        return self


class WorkerError:
    """An exception caught in a worker, sent to the main process and raised there again.

    Keeps the exception's type by name (module and qualified name, so a type the main
    process cannot import does not break the transfer) and the formatted traceback. The
    main process raises the same type, as torch's ExceptionWrapper, with the message
    "Caught <type> in DataLoader worker process <id>.\\nOriginal Traceback ...".
    """

    def __init__(self, where: str):
        exc_type, exc, tb = sys.exc_info()
        self.type_module = exc_type.__module__
        self.type_name = exc_type.__qualname__
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def exception_type(self):
        module = sys.modules.get(self.type_module)
        found = module
        for part in self.type_name.split("."):
            found = getattr(found, part, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
        return RuntimeError

    def reraise(self):
        exc_type = self.exception_type()
        message = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if exc_type is KeyError:
            message = KeyErrorMessage(message)
        try:
            exception = exc_type(message)
        except Exception:  # a type whose constructor wants other arguments
            raise RuntimeError(message) from None
        raise exception


def _seed(base_seed: int, worker_id: int) -> int:
    import minigrad
    seed = base_seed + worker_id
    random.seed(seed)
    minigrad.manual_seed(seed)
    np.random.seed(numpy_seed_state(base_seed, worker_id))
    return seed


def _next_message(tasks, parent_pid: int):
    """The next message, or STOP once the main process has gone."""
    while True:
        try:
            return tasks.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return STOP


def worker_loop(setup: dict, tasks, results) -> None:
    """The body of worker ``setup['worker_id']``: seed, run ``worker_init_fn``, then answer
    tasks from the ``tasks`` queue on the ``results`` connection until STOP."""
    global _worker_info
    from minigrad import threads
    from minigrad.utils.data._fetch import StreamFetcher, fetch_indices

    worker_id = setup["worker_id"]
    where = f"in DataLoader worker process {worker_id}"
    dataset = setup["dataset"]
    try:
        threads.set_num_threads(1)
        seed = _seed(setup["base_seed"], worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=setup["num_workers"], seed=seed,
                                  dataset=dataset)

        def new_stream():
            return StreamFetcher(dataset, setup["batch_size"], setup["drop_last"],
                                 setup["collate_fn"])

        init_error, stream = None, None
        try:
            if setup["worker_init_fn"] is not None:
                setup["worker_init_fn"](worker_id)
            if setup["iterable"]:
                stream = new_stream()
        except Exception:
            init_error = WorkerError(where)

        while (message := _next_message(tasks, setup["parent_pid"])) is not STOP:
            kind, task, indices = message
            if kind == RESUME:
                if init_error is None and setup["iterable"]:
                    try:
                        stream = new_stream()
                    except Exception:
                        init_error = WorkerError(where)
                continue
            if init_error is not None:
                answer = init_error
            else:
                try:
                    if setup["iterable"]:
                        answer = stream.fetch()
                    else:
                        answer = fetch_indices(dataset, indices, setup["collate_fn"],
                                               setup["auto_collation"])
                except StopIteration:
                    answer = EXHAUSTED if setup["iterable"] else WorkerError(where)
                except Exception:
                    answer = WorkerError(where)
            try:
                results.send((task, answer))
            except OSError:  # the main process closed its end: it is shutting down
                break
            except Exception:  # the batch cannot be pickled: say so instead
                results.send((task, WorkerError(where)))
            del answer, message, indices
    except KeyboardInterrupt:  # Ctrl-C reaches every process; the main one reports it
        pass
    except OSError:
        pass
