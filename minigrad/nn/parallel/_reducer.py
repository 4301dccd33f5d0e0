"""DistributedDataParallel's reducer: gradients averaged over the ranks in buckets, each
bucket's all-reduce started as soon as its last gradient is ready, during backward.

How torch's reducer works, and so this one:

- Buckets. The parameters are grouped into buckets of one dtype, each a flat array with a
  view per parameter (laid out as the parameter is in memory, so a gradient is copied in
  order). A bucket is closed once it holds ``limit`` bytes or more. Until the first backward
  shows the order in which gradients become ready, there is one bucket per dtype (with
  ``find_unused_parameters``: buckets of [1 MiB, cap, cap, ...] over the parameters in
  definition order, reversed, as the last-defined get their gradients first); after it, the
  buckets are rebuilt from rank 0's observed order with the limits [first cap, cap, ...]
  (1 MiB and 25 MiB by default), once.
- Backward. A hook on every parameter (``register_post_accumulate_grad_hook``) copies its
  accumulated ``.grad`` divided by the world size into its bucket view. When a bucket's last
  view is written, its all-reduce (sum, folded in rank order) is queued on the communication
  thread, buckets strictly in index order (every rank must issue them alike), and the rest
  of backward runs meanwhile. When every parameter is ready the reducer waits for the buckets
  and copies the averages back into ``.grad``.
- Unused parameters. Without ``find_unused_parameters`` every parameter must get a gradient
  in every synchronised backward; if one did not, the next forward raises (torch's error).
  With it, forward's outputs are searched through the graph: parameters not reached are
  marked ready (contributing zeros) at the first hook, and a MAX all-reduce of the "used"
  flags tells which parameters no rank used: their ``.grad`` is left as it was.
- ``no_sync``: no forward of the context prepares a backward, so hooks return at once and
  gradients accumulate locally; the next synchronised backward reduces the accumulated sums.

Buckets change which elements travel together, never how one element is summed (always
grad_0 / N + ... + grad_{N-1} / N in rank order): rebuilding them changes no bit.
"""
import functools
import sys
import weakref

import numpy as np

from minigrad import distributed as dist
from minigrad.tensor import Tensor

__all__ = ["Reducer", "assign_buckets"]


def assign_buckets(arrays, order, limits, sort: bool) -> list:
    """torch's ``_compute_bucket_assignment_by_size``: the indices of ``arrays``, taken in
    ``order``, grouped per dtype into buckets closed once they hold limits[k] bytes or more
    (k-th bucket of that dtype; the last limit repeats). Sorted by smallest index if ``sort``."""
    open_buckets = {}   # dtype -> [indices, bytes, limit number]
    result = []
    for index in order:
        array = arrays[index]
        bucket = open_buckets.setdefault(array.dtype, [[], 0, 0])
        bucket[0].append(index)
        bucket[1] += array.nbytes
        if bucket[1] >= limits[bucket[2]]:
            result.append(bucket[0])
            open_buckets[array.dtype] = [[], 0, min(bucket[2] + 1, len(limits) - 1)]
    result.extend(bucket[0] for bucket in open_buckets.values() if bucket[0])
    if sort:
        result.sort(key=min)
    return result


def _laid_out_like(segment: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A view of the 1-D ``segment`` with ``like``'s shape and its memory order (outermost
    axis = largest stride), so that copying ``like``-shaped gradients into it streams."""
    if like.ndim < 2 or like.flags.c_contiguous:
        return segment.reshape(like.shape)
    order = sorted(range(like.ndim), key=lambda axis: -abs(like.strides[axis]))
    view = segment.reshape([like.shape[axis] for axis in order])
    return view.transpose(np.argsort(order))


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


class _Bucket:
    __slots__ = ("indices", "flat", "views", "pending", "work")

    def __init__(self, indices, arrays):
        self.indices = indices
        total = sum(arrays[i].size for i in indices)
        self.flat = np.zeros(total, dtype=arrays[indices[0]].dtype)
        self.views = []
        offset = 0
        for i in indices:
            self.views.append(_laid_out_like(self.flat[offset:offset + arrays[i].size],
                                             arrays[i]))
            offset += arrays[i].size
        self.pending = len(indices)
        self.work = None


class Reducer:
    """The buckets and hooks of one DistributedDataParallel (see the module docstring)."""

    def __init__(self, params, names, bucket_bytes_cap: int, first_bucket_bytes_cap: int,
                 find_unused_parameters: bool, gradient_as_bucket_view: bool,
                 static_graph: bool):
        self.params = params
        self.names = names
        self.world_size = dist.get_world_size()
        self.rank = dist.get_rank()
        self.limits = [first_bucket_bytes_cap, bucket_bytes_cap]
        self.find_unused = find_unused_parameters and not static_graph
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        # Whether each bucket is all-reduced as soon as it is ready (False: all of them
        # after backward; only the benchmark turns this off, to measure what overlap gains).
        self.overlap = True
        arrays = [p.array for p in params]
        if static_graph or not find_unused_parameters:
            initial = assign_buckets(arrays, range(len(params)), [sys.maxsize], sort=True)
        else:
            limits = self.limits if self.limits[0] < self.limits[1] else self.limits[1:]
            initial = assign_buckets(arrays, range(len(params)), limits, sort=True)
        self._set_buckets(list(reversed(initial)))
        self.expect_hooks = False       # a synchronised backward is expected
        self.require_finalize = False   # a hook fired: the reduction must finish
        self.ready = set()
        self.next_bucket = 0
        self.unused = []                # parameters the forward did not reach
        self.marked_unused = False
        self.first_iteration = True
        self.globally_unused = set()    # static graph: no rank used them in iteration 1
        self.track_used = False
        self.used = np.zeros(len(params), dtype=np.int32)
        self.ready_order = []
        self.rebuild_due = static_graph or not find_unused_parameters
        this = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(
            functools.partial(_autograd_hook, this, index)) for index, p in enumerate(params)]
        weakref.finalize(self, _remove_hooks, self.handles)

    def _set_buckets(self, bucket_indices) -> None:
        arrays = [p.array for p in self.params]
        self.buckets = [_Bucket(indices, arrays) for indices in bucket_indices]
        self.locate = [None] * len(self.params)
        for bucket in self.buckets:
            for position, index in enumerate(bucket.indices):
                self.locate[index] = (bucket, position)

    # ------------------------------------------------------------------ forward's side
    def before_forward(self) -> None:
        """Raise if the last synchronised backward did not finish (torch's error); rebuild
        the buckets after the first one."""
        if self.require_finalize:
            raise RuntimeError(self._unfinished_message())
        if self.rebuild_due and self.ready_order:
            self._rebuild_buckets()

    def prepare_for_backward(self, outputs) -> None:
        """Expect a synchronised backward of ``outputs``."""
        self.expect_hooks = True
        self.ready.clear()
        self.next_bucket = 0
        self.marked_unused = False
        for bucket in self.buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        self.track_used = self.find_unused or (self.static_graph and self.first_iteration)
        if self.track_used:
            self.unused = self._search_unused(outputs)

    def _search_unused(self, outputs) -> list:
        """The parameters not reached from ``outputs`` through the graph."""
        reached, stack, seen = set(), [], set()
        for tensor in _tensors_in(outputs):
            if tensor.grad_fn is not None:
                stack.append(tensor.grad_fn)
            elif tensor.requires_grad:
                reached.add(id(tensor))
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for parent in node.parents:
                if type(parent) is tuple:
                    parent = parent[0]
                if isinstance(parent, Tensor):
                    reached.add(id(parent))
                elif parent is not None:
                    stack.append(parent)
        return [index for index, p in enumerate(self.params) if id(p) not in reached]

    # ------------------------------------------------------------------ backward's side
    def autograd_hook(self, index: int) -> None:
        if self.track_used and self.params[index].grad is not None:
            self.used[index] = 1
        if not self.expect_hooks:
            return
        if not self.marked_unused:
            self.marked_unused = True
            for unused in self.unused:
                self._mark_ready(unused)
        self._mark_ready(index)

    def _mark_ready(self, index: int) -> None:
        if index in self.ready:
            raise RuntimeError(f"Expected to mark a variable ready only once: parameter "
                               f"{self.names[index]} got its gradient twice in one backward "
                               f"(used in the loss outside the module's forward outputs, or "
                               f"a second backward through the same forward)")
        self.ready.add(index)
        self.require_finalize = True
        if self.rebuild_due:
            self.ready_order.append(index)
        bucket, position = self.locate[index]
        view = bucket.views[position]
        grad = self.params[index].grad
        if grad is None:
            view.fill(0)
        elif grad.array is view:
            np.divide(view, self.world_size, out=view)
        else:
            np.divide(grad.array, self.world_size, out=view)
        bucket.pending -= 1
        if bucket.pending == 0 and self.overlap:
            self._launch_ready_buckets()
        if len(self.ready) == len(self.params):
            self._finalize()

    def _launch_ready_buckets(self) -> None:
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.pending:
                return
            bucket.work = dist.all_reduce(Tensor(bucket.flat), async_op=True)
            self.next_bucket += 1

    def _finalize(self) -> None:
        """Wait for every bucket and write the averages into ``.grad``."""
        self._launch_ready_buckets()
        skip = self.globally_unused
        if self.track_used:
            used = Tensor(self.used.copy())
            dist.all_reduce(used, op=dist.ReduceOp.MAX)
            skip = {index for index in range(len(self.params)) if not used.array[index]}
            if self.static_graph:
                self.globally_unused = skip
            self.used.fill(0)
        for bucket in self.buckets:
            bucket.work.wait()
        for bucket in self.buckets:
            for index, view in zip(bucket.indices, bucket.views):
                if index not in skip:
                    self._write_grad(self.params[index], view)
        self.expect_hooks = False
        self.require_finalize = False
        self.first_iteration = False

    def _write_grad(self, param, view: np.ndarray) -> None:
        grad = param.grad
        if self.gradient_as_bucket_view:
            if grad is None or grad.array is not view:
                param.grad = Tensor(view)
        elif grad is None:
            param.grad = Tensor(np.array(view, order="K", copy=True))
        else:
            np.copyto(grad.array, view)

    # ------------------------------------------------------------------ rebuilding
    def _rebuild_buckets(self) -> None:
        """Buckets in the order gradients became ready on rank 0 (the same order everywhere),
        limits [first cap, cap, ...]: the first bucket reduced is the small one."""
        self.rebuild_due = False
        order = np.array(self.ready_order + [-1] * (len(self.params) - len(self.ready_order)),
                         dtype=np.int64)
        self.ready_order = []
        dist.broadcast(Tensor(order), src=0)
        order = [int(i) for i in order if i >= 0]
        order += [i for i in range(len(self.params)) if i not in set(order)]
        arrays = [p.array for p in self.params]
        old_views = [bucket.views[position] for bucket, position in self.locate]
        self._set_buckets(assign_buckets(arrays, order, self.limits, sort=False))
        if self.gradient_as_bucket_view:
            for index, param in enumerate(self.params):
                if param.grad is not None and param.grad.array is old_views[index]:
                    view = self.view_of(index)
                    np.copyto(view, old_views[index])
                    param.grad = Tensor(view)

    def view_of(self, index: int) -> np.ndarray:
        """Parameter ``index``'s view in its bucket."""
        bucket, position = self.locate[index]
        return bucket.views[position]

    def bucket_indices(self) -> list:
        """Each bucket's parameter indices, in the order the buckets are reduced."""
        return [list(bucket.indices) for bucket in self.buckets]

    def _unfinished_message(self) -> str:
        missing = [self.names[i] for i in range(len(self.params)) if i not in self.ready]
        text = ("Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. ")
        if self.find_unused:
            text += ("Since `find_unused_parameters=True` is enabled, this likely means that "
                     "not all `forward` outputs participate in computing loss. You can fix "
                     "this by making sure all `forward` function outputs participate in "
                     "calculating loss. ")
        else:
            text += ("You can enable unused parameter detection by passing the keyword "
                     "argument `find_unused_parameters=True` to "
                     "`minigrad.nn.parallel.DistributedDataParallel`, and by making sure all "
                     "`forward` function outputs participate in calculating loss. ")
        return text + (f"\nParameters which did not receive grad for rank {self.rank}: "
                       f"{', '.join(missing)}")


def _autograd_hook(reducer_ref, index, param) -> None:
    reducer = reducer_ref()
    if reducer is not None:
        reducer.autograd_hook(index)


def _remove_hooks(handles) -> None:
    for handle in handles:
        handle.remove()
