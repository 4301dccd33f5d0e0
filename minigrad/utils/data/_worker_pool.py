"""The main process's side of ``DataLoader(num_workers=N)``: N worker processes, the tasks
sent to them and the batches they send back, in order.

Channels: each worker reads its tasks from its own ``multiprocessing`` queue (a put never
blocks the main process) and writes its answers to its own pipe; the main process waits on
every pipe and every worker's process sentinel at once
(``multiprocessing.connection.wait``), so a worker that dies is noticed at once, never
waited for.

Tasks: task ``t`` carries the ``t``-th batch of indices from the batch sampler (for an
iterable dataset: "your next batch") and goes to the next worker in turn (for an iterable
dataset, the next one whose stream has not ended). ``prefetch_factor * N`` tasks are in
flight; each batch handed to the caller sends one more. Answers that arrive early wait in a
dict until their turn (or are handed out at once with ``in_order=False``). Task numbers grow
for the pool's whole life, so persistent workers starting a new epoch recognise, and drop,
the answers to the previous epoch's unfinished tasks.

Failures: an exception in a worker comes back as a ``WorkerError`` and is raised again here,
with the worker's traceback in its message; the batch is lost, the iteration can go on (as
torch). A worker process that exits or is killed, or no answer within ``timeout`` seconds,
raises RuntimeError and shuts the pool down.

Shutdown (the iteration ends, the iterator is collected, an error, or the interpreter exits):
STOP to every worker, the pipes closed (a worker blocked sending a batch gets EPIPE and
leaves), up to ``SHUTDOWN_GRACE`` seconds for them to exit, then terminate.
"""
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
import weakref

from minigrad.utils.data import worker as _worker

__all__ = ["WorkerPool"]

SHUTDOWN_GRACE = 2.0


def _death_description(process) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by signal {-code} ({name})"
    return f"exited with code {code}"


class WorkerPool:
    """The iterator a DataLoader with workers returns (see the module docstring)."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._closed = True  # until every worker has started
        sampler_iter = None if self._iterable else iter(self._index_sampler)
        base_seed = _worker.draw_base_seed(loader.generator)
        context = loader.multiprocessing_context or multiprocessing.get_context()
        setup = {"dataset": loader.dataset, "iterable": loader._iterable,
                 "auto_collation": loader._auto_collation, "collate_fn": loader.collate_fn,
                 "batch_size": loader.batch_size, "drop_last": loader.drop_last,
                 "base_seed": base_seed, "worker_init_fn": loader.worker_init_fn,
                 "num_workers": loader.num_workers, "parent_pid": os.getpid()}
        self._workers, self._tasks, self._results = [], [], []
        self._finalizer = weakref.finalize(self, _stop_workers, self._workers, self._tasks,
                                           self._results)
        try:
            for worker_id in range(self._num_workers):
                tasks = context.Queue()
                tasks.cancel_join_thread()  # never wait at exit to flush tasks to a worker
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_worker.worker_loop,
                                          args=({**setup, "worker_id": worker_id}, tasks, send),
                                          daemon=True, name=f"DataLoader worker {worker_id}")
                self._workers.append(process)
                self._tasks.append(tasks)
                self._results.append(receive)
                process.start()
                send.close()  # the worker's end
        except BaseException:
            self._shutdown()
            raise
        self._closed = False
        self._owner = {conn: i for i, conn in enumerate(self._results)}
        self._next_task = 0
        self._start_epoch(sampler_iter)

    # ---- epochs ---------------------------------------------------------------------------

    def _start_epoch(self, sampler_iter, resume: bool = False) -> None:
        self._sampler_iter = sampler_iter
        self._epoch_start = self._next_task
        self._next_out = self._next_task  # the next task whose answer the caller gets
        self._assigned = {}               # task -> worker, until its answer is handed out
        self._answers = {}                # task -> answer that arrived before its turn
        self._active = [True] * self._num_workers
        self._turns = itertools.cycle(range(self._num_workers))
        if resume:
            for tasks in self._tasks:
                tasks.put((_worker.RESUME, None, None))
        for _ in range(self._prefetch * self._num_workers):
            self._send_task()

    @property
    def closed(self) -> bool:
        """Whether the workers have been stopped (the pool cannot start another epoch)."""
        return self._closed

    def reset(self) -> "WorkerPool":
        """A new epoch on the same workers (persistent_workers)."""
        self._start_epoch(None if self._iterable else iter(self._index_sampler), resume=True)
        return self

    def _send_task(self) -> None:
        if not any(self._active):
            return
        indices = None
        if not self._iterable:
            indices = next(self._sampler_iter, self)
            if indices is self:  # the sampler is exhausted
                return
        worker = next(w for w in self._turns if self._active[w])
        task = self._next_task
        self._next_task += 1
        self._assigned[task] = worker
        self._tasks[worker].put((_worker.FETCH, task, indices))

    # ---- iteration ------------------------------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            if self._closed or not self._assigned:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            task = self._ready_task()
            answer = self._answers.pop(task)
            worker = self._assigned.pop(task)
            if task == self._next_out:
                self._next_out = min(self._assigned, default=self._next_task)
            self._send_task()
            if answer is _worker.EXHAUSTED:
                self._active[worker] = False
                continue
            if isinstance(answer, _worker.WorkerError):
                answer.reraise()
            return answer

    def _ready_task(self) -> int:
        """The task whose answer is handed out next, once it has arrived."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            if self._in_order:
                if self._next_out in self._answers:
                    return self._next_out
            elif self._answers:
                return min(self._answers)
            self._receive(deadline)

    def _receive(self, deadline) -> None:
        """Wait for answers (or a worker's death) and store them."""
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        sentinels = [process.sentinel for process in self._workers]
        ready = multiprocessing.connection.wait(self._results + sentinels, remaining)
        if not ready:
            self._shutdown()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        for conn in ready:
            if conn in self._owner:
                self._read(conn)
        dead = [i for i, process in enumerate(self._workers) if process.sentinel in ready]
        if dead:
            self._report_death(dead)

    def _read(self, conn) -> None:
        try:
            task, answer = conn.recv()
        except EOFError:  # the worker is gone (its sentinel may not be ready yet)
            self._report_death([self._owner[conn]])
        except Exception as error:
            worker = self._owner[conn]
            self._shutdown()
            raise RuntimeError(f"DataLoader worker {worker} sent a batch that cannot be "
                               f"unpickled in the main process: {error!r}") from error
        if task >= self._epoch_start:  # else: an answer to a previous epoch's task
            self._answers[task] = answer

    def _report_death(self, dead: list) -> None:
        for i in dead:
            self._workers[i].join(SHUTDOWN_GRACE)  # reaped: its exit code is known
        details = "; ".join(f"worker {i} (pid {self._workers[i].pid}) "
                            f"{_death_description(self._workers[i])}" for i in dead)
        pids = ", ".join(str(self._workers[i].pid) for i in dead)
        self._shutdown()
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly: {details}")

    # ---- shutdown -------------------------------------------------------------------------

    def _shutdown(self) -> None:
        self._closed = True
        self._finalizer()


def _stop_workers(workers: list, tasks: list, results: list) -> None:
    """STOP to every worker, the pipes closed, ``SHUTDOWN_GRACE`` seconds to exit, then
    terminate. Run once per pool, by ``weakref.finalize``: when the pool is shut down, when
    it is collected (in a reference cycle too: the finalizer holds the queues, so they are
    still open then) or at interpreter exit."""
    for queue in tasks:
        try:
            queue.put(_worker.STOP)
        except (OSError, ValueError):
            pass
    for conn in results:
        conn.close()
    deadline = time.monotonic() + SHUTDOWN_GRACE
    for process in workers:
        if process.pid is not None:
            process.join(max(0.0, deadline - time.monotonic()))
    for process in workers:
        if process.pid is not None and process.is_alive():
            process.terminate()
            process.join()
    for queue in tasks:
        queue.close()
