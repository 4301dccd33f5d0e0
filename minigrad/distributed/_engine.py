"""Where minigrad.distributed's MPI calls run: one communication thread per process group.

Every collective is a task: a function making MPI calls on the group's communicator. Tasks run
one at a time, in the order they were submitted (the order MPI needs: every rank issues the
same collectives in the same order). An asynchronous call (``async_op=True``, and each of
DistributedDataParallel's buckets) queues its task for the communication thread and returns a
``Work`` at once, so the communication proceeds while the caller computes; a synchronous call
with nothing queued runs its task in the calling thread (no hand-over between threads).

Nothing ever blocks inside MPI: a task starts non-blocking operations and ``complete`` polls
them with ``MPI_Test``. Between polls it checks the task's deadline (the group's timeout) and
whether a peer has announced that it left the group, so a rank whose peer stopped fails with a
message instead of hanging: see ``Engine.complete``.
"""
import sys
import threading
import time
from collections import deque

import numpy as np

__all__ = ["Work", "Engine"]

# complete(): MPI_Test in a tight loop for this long, then with short sleeps in between, so a
# rank whose cores compute (the backward pass that DDP overlaps) is not slowed by a spinning
# communication thread, while a short operation costs no sleep.
_SPIN_SECONDS = 50e-6
_PAUSE_SECONDS = 20e-6
# How often a waiting task looks at its deadline and at the peers' notices.
_CHECK_SECONDS = 0.01
_NOTICE_TAG = 7


class Work:
    """The handle of an asynchronous collective, as ``torch.distributed.Work``: ``wait()``
    returns True once it is done (its tensors then hold the result) or raises the error it
    met."""

    def __init__(self, name: str, tensors=()):
        self._name = name
        self._tensors = list(tensors)
        self._done = threading.Event()
        self._error = None

    def wait(self, timeout=None) -> bool:
        """Block until the collective is done; True. ``timeout`` (seconds or a timedelta)
        bounds this wait only: RuntimeError if it passes first."""
        seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
        if not self._done.wait(seconds):
            raise RuntimeError(f"{self._name} did not complete within {seconds} s")
        if self._error is not None:
            raise RuntimeError(f"{self._name} failed: {self._error}") from self._error
        return True

    def is_completed(self) -> bool:
        """Whether the collective has finished (successfully or not)."""
        return self._done.is_set()

    def is_success(self) -> bool:
        """Whether it finished without an error."""
        return self._done.is_set() and self._error is None

    def exception(self):
        """The error it met, or None."""
        return self._error

    def result(self) -> list:
        """The tensors it wrote into (after ``wait``)."""
        self.wait()
        return self._tensors

    def _finish(self, error=None) -> None:
        self._error = error
        self._done.set()


class Engine:
    """The tasks of one process group over an mpi4py communicator ``comm``; ``control`` is a
    second communicator over the same ranks that carries only the notices of ranks leaving
    (so they never match a collective)."""

    def __init__(self, mpi, comm, control, timeout: float):
        self.mpi = mpi
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout
        self.completed = 0          # tasks finished here, in order: every rank counts alike
        self._control = control
        self._left = {}             # peer rank -> how many tasks it had completed
        self._notice = np.zeros(1, dtype=np.int64)
        self._notice_request = self._post_notice_receive()
        self._datatypes = {}
        self._scratch = np.empty(0, dtype=np.uint8)
        self._deadline = None
        self._task_name = None
        self._task_timeout = None
        self._lock = threading.Lock()      # held while a task runs, in either thread
        self._pending = 0                  # submitted tasks not finished
        self._pending_lock = threading.Lock()
        self._queue = deque()
        self._wakeup = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="minigrad-distributed",
                                        daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- running tasks
    def run(self, name: str, task, async_op: bool, tensors=(), timeout=None):
        """Run ``task(self)``: queued, returning a Work, when ``async_op``; else now, returning
        None (in this thread when nothing is queued)."""
        if not async_op:
            with self._lock:
                with self._pending_lock:
                    idle = self._pending == 0
                if idle:
                    self._execute(name, task, timeout)
                    return None
        work = Work(name, tensors)
        with self._pending_lock:
            self._pending += 1
        with self._wakeup:
            self._queue.append((work, task, timeout))
            self._wakeup.notify()
        if async_op:
            return work
        work.wait()
        return None

    def _serve(self) -> None:
        while True:
            with self._wakeup:
                while not self._queue:
                    self._wakeup.wait()
                item = self._queue.popleft()
            if item is None:
                return
            work, task, timeout = item
            error = None
            with self._lock:
                try:
                    self._execute(work._name, task, timeout)
                except BaseException as caught:  # handed to the waiting caller
                    error = caught
            with self._pending_lock:
                self._pending -= 1
            work._finish(error)

    def _execute(self, name: str, task, timeout) -> None:
        self._task_name = name
        self._task_timeout = self.timeout if timeout is None else timeout
        self._deadline = time.monotonic() + self._task_timeout
        try:
            task(self)
        finally:
            self.completed += 1
            self._task_name = None

    # ---------------------------------------------------------------- waiting
    def complete(self, request) -> None:
        """Wait until the MPI request is done, polling: abort the job if the task's deadline
        passes, or if a peer that left the group had not completed this task (it never will)."""
        if request.Test():
            return
        start = time.monotonic()
        spin_until = start + _SPIN_SECONDS
        next_check = start + _CHECK_SECONDS
        while not request.Test():
            now = time.monotonic()
            if now >= next_check:
                next_check = now + _CHECK_SECONDS
                self._check_peers()
                if now > self._deadline:
                    self.abort(f"{self._task_name} (collective #{self.completed + 1}) timed "
                               f"out after {self._task_timeout:g} s: a rank stopped calling "
                               f"collectives, or calls them in another order")
            if now > spin_until:
                time.sleep(_PAUSE_SECONDS)

    def _post_notice_receive(self):
        return self._control.Irecv([self._notice, self.mpi.INT64_T],
                                   source=self.mpi.ANY_SOURCE, tag=_NOTICE_TAG)

    def _check_peers(self) -> None:
        status = self.mpi.Status()
        while self._notice_request.Test(status):
            self._left[status.Get_source()] = int(self._notice[0])
            self._notice_request = self._post_notice_receive()
        current = self.completed + 1
        for peer, completed in sorted(self._left.items()):
            if completed < current:
                self.abort(f"{self._task_name} (collective #{current}) cannot finish: rank "
                           f"{peer} left the process group after {completed} collective(s) "
                           f"(its program ended, or it called destroy_process_group)")

    def abort(self, message: str) -> None:
        """Say why on stderr, then end every rank of the job (MPI_Abort)."""
        sys.stderr.write(f"minigrad.distributed: rank {self.rank} of {self.size}: {message}. "
                         f"Aborting all ranks.\n")
        sys.stderr.flush()
        self.comm.Abort(1)

    # ---------------------------------------------------------------- leaving
    def leave(self, grace: float = 1.0) -> None:
        """Stop the communication thread (after its queued tasks, waiting ``grace`` seconds
        at most) and tell every peer how many tasks this rank completed."""
        with self._wakeup:
            self._queue.append(None)
            self._wakeup.notify()
        self._thread.join(grace)
        if self._thread.is_alive() and self.mpi.Query_thread() < self.mpi.THREAD_MULTIPLE:
            return  # MPI may not be called while that thread is inside it
        count = np.array([self.completed], dtype=np.int64)
        sends = [self._control.Isend([count, self.mpi.INT64_T], dest=peer, tag=_NOTICE_TAG)
                 for peer in range(self.size) if peer != self.rank]
        deadline = time.monotonic() + grace
        while not self.mpi.Request.Testall(sends) and time.monotonic() < deadline:
            time.sleep(1e-3)
        if not self._thread.is_alive():
            self._notice_request.Cancel()

    # ---------------------------------------------------------------- buffers
    def datatype(self, itemsize: int):
        """An MPI datatype of ``itemsize`` contiguous bytes (counts are in elements, so a
        chunk may hold 2**31 - 1 of them)."""
        datatype = self._datatypes.get(itemsize)
        if datatype is None:
            datatype = self.mpi.BYTE.Create_contiguous(itemsize).Commit()
            self._datatypes[itemsize] = datatype
        return datatype

    def scratch(self, count: int, dtype) -> np.ndarray:
        """A 1-D array of ``count`` elements of ``dtype``: the engine's one receive buffer,
        grown when needed and reused (one task runs at a time)."""
        dtype = np.dtype(dtype)
        nbytes = count * dtype.itemsize
        if self._scratch.nbytes < nbytes:
            self._scratch = np.empty(nbytes, dtype=np.uint8)
        return self._scratch[:nbytes].view(dtype)
