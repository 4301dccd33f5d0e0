"""DistributedDataParallel: one replica of the model per rank, gradients averaged over the
ranks during backward, as ``torch.nn.parallel.DistributedDataParallel``.

At construction every rank checks that all ranks hold the same parameter shapes, and rank
0's parameters and buffers are broadcast to the others. Each forward first broadcasts rank
0's buffers (BatchNorm's running statistics follow rank 0), runs the module, and prepares
the reducer (``_reducer.py``) for the backward that follows.

After ``loss.backward()`` every rank's ``.grad`` holds the average of the ranks' gradients:
with each rank's loss the mean over its B / N samples, the same gradient as one process's
at the global batch B, up to float32 rounding (see DESIGN.md, "Distributed").
"""
import contextlib
import warnings
import zlib

import numpy as np

from minigrad import distributed as dist
from minigrad.autograd.grad_mode import is_grad_enabled
from minigrad.distributed.process_group import world
from minigrad.nn.module import Module
from minigrad.nn.parallel._reducer import Reducer
from minigrad.tensor import Tensor

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1 * _MB   # torch's dist._DEFAULT_FIRST_BUCKET_BYTES


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of the default process group (torch's arguments).

    ``bucket_cap_mb`` (default 25 MiB, with a first bucket of 1 MiB) bounds the gradient
    buckets whose all-reduce overlaps the rest of backward; ``find_unused_parameters``
    searches forward's outputs for parameters that will get no gradient; ``no_sync()``
    accumulates gradients locally; ``forward_sync_buffers`` (or the deprecated
    ``broadcast_buffers``) broadcasts rank 0's buffers before each forward;
    ``gradient_as_bucket_view`` makes ``.grad`` a view of the bucket; ``static_graph`` says
    the used parameters never change. CPU modules only: ``device_ids`` and
    ``output_device`` must be None. Not implemented: ``register_comm_hook``, ``join``,
    mixed precision, ``bucket_cap_mb_list``, ``delay_all_reduce_named_params``.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=None, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, *,
                 forward_sync_buffers=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a Module, got "
                            f"{type(module).__name__}")
        group = world(process_group)
        if device_ids is not None or output_device is not None:
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments "
                             f"only work with single-device/multiple-device GPU modules or CPU "
                             f"modules, but got device_ids {device_ids}, output_device "
                             f"{output_device}, and module parameters {{device(type='cpu')}}.")
        self.module = module
        self.process_group = group
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync_flags(broadcast_buffers,
                                                                          forward_sync_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module "
                          "is deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        self.bucket_bytes_cap, first_cap = _bucket_caps(bucket_cap_mb)

        named = []
        seen = set()
        for name, param in module.named_parameters():
            if param.requires_grad and id(param) not in seen:
                seen.add(id(param))
                named.append((name, param))
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        params = [param for _, param in named]
        if init_sync:
            _verify_same_parameters(params)
            states = [p.array for p in module.parameters()]
            if init_sync_buffers:
                states += [b.array for b in module.buffers()]
            _broadcast_arrays(states)
        self.reducer = Reducer(params, [name for name, _ in named], self.bucket_bytes_cap,
                               first_cap, self.find_unused_parameters,
                               self.gradient_as_bucket_view, self.static_graph)
        self._buffer_pack = None

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def forward(self, *inputs, **kwargs):
        grad_enabled = is_grad_enabled()
        if grad_enabled:
            self.reducer.before_forward()
        if self.require_forward_param_sync and self.forward_sync_buffers:
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if grad_enabled and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context gradients accumulate locally; the first backward after it
        (of a forward run outside it) averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _sync_buffers(self) -> None:
        buffers = [b.array for b in self.module.buffers()]
        if buffers:
            self._buffer_pack = _broadcast_arrays(buffers, self._buffer_pack)


def _buffer_sync_flags(broadcast_buffers, forward_sync_buffers):
    """(sync buffers before each forward, broadcast them at construction), as torch 2.13."""
    if broadcast_buffers is not None:
        if forward_sync_buffers is not None:
            warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. "
                          "`broadcast_buffers` is deprecated and its value is ignored when "
                          "`forward_sync_buffers` is provided.", FutureWarning, stacklevel=3)
        else:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` "
                          "instead. IMPORTANT: unlike `broadcast_buffers=False`, "
                          "`forward_sync_buffers=False` still syncs buffers at init.",
                          FutureWarning, stacklevel=3)
    if forward_sync_buffers is not None:
        return bool(forward_sync_buffers), True
    effective = True if broadcast_buffers is None else bool(broadcast_buffers)
    return effective, effective


def _bucket_caps(bucket_cap_mb):
    """(cap, first bucket's cap) in bytes: 25 MiB and 1 MiB by default, else both the given
    size, as torch."""
    if bucket_cap_mb is None:
        return _DEFAULT_BUCKET_CAP_MB * _MB, _DEFAULT_FIRST_BUCKET_BYTES
    if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not (
            bucket_cap_mb > 0):
        raise ValueError(f"bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
    cap = max(1, int(bucket_cap_mb * _MB))
    return cap, cap


def _verify_same_parameters(params) -> None:
    """RuntimeError on every rank if the ranks' parameters differ in number, shapes or
    dtypes (as torch's _verify_param_shape_across_processes)."""
    layout = ";".join(f"{p.array.shape}{p.array.dtype}" for p in params)
    mine = np.array([len(params), sum(p.array.size for p in params),
                     zlib.crc32(layout.encode())], dtype=np.int64)
    everyone = Tensor(np.zeros((dist.get_world_size(), 3), dtype=np.int64))
    dist.all_gather_into_tensor(everyone, Tensor(mine))
    first = everyone.array[0]
    for rank, theirs in enumerate(everyone.array):
        if not np.array_equal(theirs, first):
            detail = "" if theirs[0] != first[0] else ", of other shapes or dtypes"
            raise RuntimeError(f"DDP expects same model across all ranks, but rank {rank} has "
                               f"{theirs[0]} params ({theirs[1]} elements), while rank 0 has "
                               f"{first[0]} params ({first[1]} elements){detail}.")


def _broadcast_arrays(arrays, pack=None):
    """Every rank's arrays become rank 0's, in one broadcast of their bytes (``pack``, reused
    when large enough; returned)."""
    total = sum(a.nbytes for a in arrays)
    if pack is None or pack.size != total:
        pack = np.empty(total, dtype=np.uint8)
    offset = 0
    places = []
    for array in arrays:
        place = pack[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)
        places.append(place)
        if dist.get_rank() == 0:
            np.copyto(place, array)
        offset += array.nbytes
    dist.broadcast(Tensor(pack), src=0)
    if dist.get_rank() != 0:
        for array, place in zip(arrays, places):
            np.copyto(array, place)
    return pack
