"""In-place ops in the graph: ``tensor.op_(...)`` recorded as torch records it (DESIGN.md)."""
import numpy as np

from minigrad.autograd.grad_mode import _GradMode
from minigrad.tensor import Tensor

__all__ = ["inplace_is_recorded", "record_inplace"]

_VIEW_MESSAGE = (
    "minigrad does not record in-place operations on a view of another tensor, nor on a "
    "tensor that has views (torch rebases the views' history; minigrad does not): call "
    "clone() before the in-place op, or use the out-of-place op"
)


def inplace_is_recorded(tensor: Tensor, operands=()) -> bool:
    """Whether an in-place op on ``tensor`` must be recorded in the graph: grad mode is on and
    the tensor or an operand requires grad. A leaf that requires grad refuses (as torch)."""
    if not _GradMode.enabled:
        return False
    if tensor.requires_grad:
        if tensor.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return True
    if tensor.array.dtype.kind not in "fc":  # an integer result carries no gradient
        return False
    for operand in operands:
        if isinstance(operand, Tensor) and operand.requires_grad:
            return True
    return False


def record_inplace(tensor: Tensor, function, *args) -> Tensor:
    """``tensor.op_(args)`` recorded as torch records it: ``function`` is applied out of place
    to the tensor's current value, the result is written back into the tensor's array, and the
    tensor's history is rebased onto the new node (whose first input is the tensor's previous
    node). The version bump trips older nodes that saved the tensor, as any in-place write.

    What the new node saved of the tensor's old value is copied before the write. What it
    saved of its output is private too, unless the Function says torch saves the in-place
    result (``inplace_saves_output``, relu_): then it is the tensor itself, at the new
    version, and a later in-place change to the tensor makes backward raise, as in torch."""
    if tensor._version.has_views():
        raise RuntimeError(_VIEW_MESSAGE)
    before = Tensor(tensor.array, requires_grad=tensor.requires_grad)
    before.grad_fn = tensor.grad_fn
    before._output_nr = tensor._output_nr
    result = function.apply(before, *args)
    if result.array.shape != tensor.array.shape:
        raise RuntimeError(f"output with shape {list(tensor.array.shape)} doesn't match the "
                           f"broadcast shape {list(result.array.shape)}")
    node = result.grad_fn
    saves_output = False
    if node.saved:
        saved = []
        for array in node.saved:
            if array is result.array and function.inplace_saves_output:
                array, saves_output = tensor.array, True
            elif isinstance(array, np.ndarray) and np.may_share_memory(array, tensor.array):
                array = array.copy()
            saved.append(array)
        node.saved = tuple(saved)
        node.versions = [(counter, version) for counter, version in node.versions
                         if counter is not tensor._version and counter is not result._version]
    try:
        np.copyto(tensor.array, result.array, casting="same_kind")
    except (TypeError, ValueError) as error:
        raise RuntimeError(f"in-place {function.__name__.lower()} on a tensor of shape "
                           f"{tensor.array.shape} and dtype {tensor.array.dtype}: "
                           f"{error}") from None
    tensor._version.value += 1
    if saves_output:
        node.versions.append((tensor._version, tensor._version.value))
    tensor.grad_fn = node
    tensor._output_nr = None
    tensor.requires_grad = True
    return tensor
