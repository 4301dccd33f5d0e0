"""The collectives, as torch.distributed's: all_reduce, broadcast, all_gather,
all_gather_into_tensor, reduce_scatter, reduce_scatter_tensor and barrier.

Each writes into the given tensors in place. With ``async_op=True`` it returns a ``Work`` at
once (the communication thread carries it out; ``work.wait()`` before reading the result),
otherwise None when done. Every rank must call the same collectives in the same order, with
tensors of the same shapes and dtypes (as torch).

Reductions are folded in rank order on every rank (see ``_algorithms``): for a given number
of ranks the bits of a result depend only on the inputs. ``ReduceOp.AVG`` is the sum divided
by the world size (floating-point tensors only).
"""
import enum

import numpy as np

from minigrad.distributed import _algorithms
from minigrad.distributed.process_group import world
from minigrad.tensor import Tensor

__all__ = ["ReduceOp", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter", "reduce_scatter_tensor", "barrier"]


class RedOpType(enum.IntEnum):
    """The reductions, with torch's values."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4


class ReduceOp:
    """``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``: how all_reduce and
    reduce_scatter combine the ranks' tensors."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX


_FOLD_OF = {RedOpType.SUM: "sum", RedOpType.AVG: "sum", RedOpType.PRODUCT: "product",
            RedOpType.MIN: "min", RedOpType.MAX: "max"}


def _check_tensor(value, name: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"Tensor but got {type(value)} instead.")


def _check_tensor_list(values, name: str) -> None:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, Tensor) for v in values):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[Tensor] but got {type(values)} instead.")


def _fold(op, tensor: Tensor):
    """The ufunc of a ReduceOp, checked against the tensor's dtype."""
    try:
        op = RedOpType(op)
    except ValueError:
        raise ValueError(f"unsupported reduction {op!r}: use ReduceOp.SUM, AVG, PRODUCT, MIN "
                         f"or MAX") from None
    if op not in _FOLD_OF:
        raise ValueError(f"unsupported reduction {op!r}")
    if op == RedOpType.AVG and tensor.array.dtype.kind not in "fc":
        raise ValueError(f"ReduceOp.AVG needs a floating-point tensor, got "
                         f"{tensor.array.dtype}")
    return _algorithms.FOLDS[_FOLD_OF[op]], op == RedOpType.AVG


def _flat(tensor: Tensor):
    """(1-D contiguous array of the tensor's values in C order, function writing it back or
    None when it is a view of the tensor's own memory)."""
    array = tensor.array
    if array.flags.c_contiguous:
        return array.reshape(-1), None
    copy = np.ascontiguousarray(array)
    return copy.reshape(-1), lambda: np.copyto(array, copy)


def _write_back(write_back):
    if write_back is not None:
        write_back()


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """tensor = op over every rank's tensor (in place); SUM, AVG, PRODUCT, MIN or MAX."""
    _check_tensor(tensor, "tensor")
    ufunc, average = _fold(op, tensor)
    engine = world(group)._engine
    flat, write_back = _flat(tensor)

    def task(engine):
        _algorithms.all_reduce(engine, flat, ufunc)
        if average:
            np.divide(flat, engine.size, out=flat)
        _write_back(write_back)

    return engine.run("all_reduce", task, async_op, [tensor])


def broadcast(tensor: Tensor, src=None, group=None, async_op: bool = False, group_src=None):
    """Every rank's tensor becomes rank ``src``'s (in place)."""
    _check_tensor(tensor, "tensor")
    engine = world(group)._engine
    if src is None:
        src = group_src
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)):
        raise ValueError(f"broadcast needs the source rank src as an int, got {src!r}")
    if not 0 <= src < engine.size:
        raise ValueError(f"Invalid src rank {src}: the group has ranks 0 to {engine.size - 1}")
    flat, write_back = _flat(tensor)

    def task(engine):
        _algorithms.broadcast(engine, flat, int(src))
        _write_back(write_back)

    return engine.run("broadcast", task, async_op, [tensor])


def all_gather(tensor_list, tensor: Tensor, group=None, async_op: bool = False):
    """tensor_list[r] = rank r's tensor, for every rank r."""
    _check_tensor_list(tensor_list, "tensor_list")
    _check_tensor(tensor, "tensor")
    engine = world(group)._engine
    if len(tensor_list) != engine.size:
        raise ValueError(f"all_gather needs a tensor_list of world size ({engine.size}) "
                         f"tensors, got {len(tensor_list)}")
    for index, out in enumerate(tensor_list):
        if out.array.shape != tensor.array.shape or out.array.dtype != tensor.array.dtype:
            raise ValueError(f"all_gather: tensor_list[{index}] is {out.array.dtype} of shape "
                             f"{tuple(out.array.shape)}, tensor is {tensor.array.dtype} of "
                             f"shape {tuple(tensor.array.shape)}: they must match")
    flat, _ = _flat(tensor)

    def task(engine):
        gathered = engine.scratch(engine.size * flat.size, flat.dtype)
        _algorithms.all_gather(engine, flat, gathered)
        for rank, out in enumerate(tensor_list):
            piece = gathered[rank * flat.size:(rank + 1) * flat.size]
            np.copyto(out.array, piece.reshape(out.array.shape))

    return engine.run("all_gather", task, async_op, list(tensor_list))


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """output_tensor = every rank's input_tensor, rank 0's first, in C order (its shape is
    the input's with the first size multiplied by the world size, or (world size, *shape))."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    engine = world(group)._engine
    _check_sizes("all_gather_into_tensor", output_tensor, input_tensor, engine.size)
    flat, _ = _flat(input_tensor)
    out, write_back = _flat(output_tensor)

    def task(engine):
        _algorithms.all_gather(engine, flat, out)
        _write_back(write_back)

    return engine.run("all_gather_into_tensor", task, async_op, [output_tensor])


def reduce_scatter(output: Tensor, input_list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """output = op over every rank's input_list[rank] (rank = this rank)."""
    _check_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    engine = world(group)._engine
    if len(input_list) != engine.size:
        raise ValueError(f"reduce_scatter needs an input_list of world size ({engine.size}) "
                         f"tensors, got {len(input_list)}")
    for index, piece in enumerate(input_list):
        if piece.array.shape != output.array.shape or piece.array.dtype != output.array.dtype:
            raise ValueError(f"reduce_scatter: input_list[{index}] is {piece.array.dtype} of "
                             f"shape {tuple(piece.array.shape)}, output is "
                             f"{output.array.dtype} of shape {tuple(output.array.shape)}: "
                             f"they must match")
    ufunc, average = _fold(op, output)
    send = np.concatenate([piece.array.reshape(-1) for piece in input_list])
    return _reduce_scatter(engine, "reduce_scatter", output, send, ufunc, average, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """output = op over every rank's slice ``rank`` of input (input holds world size
    output-sized slices, in C order)."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    engine = world(group)._engine
    _check_sizes("reduce_scatter_tensor", input, output, engine.size)
    ufunc, average = _fold(op, output)
    send, _ = _flat(input)
    return _reduce_scatter(engine, "reduce_scatter_tensor", output, send, ufunc, average,
                           async_op)


def _reduce_scatter(engine, name, output, send, ufunc, average, async_op):
    out, write_back = _flat(output)

    def task(engine):
        _algorithms.reduce_scatter(engine, send, out, ufunc)
        if average:
            np.divide(out, engine.size, out=out)
        _write_back(write_back)

    return engine.run(name, task, async_op, [output])


def _check_sizes(name: str, whole: Tensor, part: Tensor, size: int) -> None:
    if whole.array.dtype != part.array.dtype:
        raise ValueError(f"{name}: the tensors' dtypes differ ({whole.array.dtype} and "
                         f"{part.array.dtype})")
    if whole.array.size != size * part.array.size:
        raise ValueError(f"{name}: the larger tensor must hold world size ({size}) x "
                         f"{part.array.size} elements, got {whole.array.size}")


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Returns once every rank has called it. ``timeout`` (a timedelta) replaces the group's
    for this call."""
    engine = world(group)._engine
    seconds = None if timeout is None else timeout.total_seconds()
    return engine.run("barrier", _algorithms.barrier, async_op, timeout=seconds)
