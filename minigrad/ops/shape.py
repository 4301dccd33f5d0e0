"""Shape ops: reshape/view, squeeze/unsqueeze, transpose/permute, expand, indexing, cat/stack.

Each moves or selects elements without arithmetic, so each backward moves the gradient back:
reshape it, transpose it back, sum it over expanded axes, or scatter it into the positions the
index read (repeated positions summed).
"""
import math
import numbers

import numpy as np

from minigrad.autograd import Function
from minigrad.tensor import Tensor


def normalize_dim(dim, ndim: int) -> int:
    """A dim in [-ndim, ndim) as a non-negative axis (a 0-d tensor accepts -1 and 0)."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-bound}, {bound - 1}], but got {dim})")
    return dim % bound if ndim else 0


def size_args(args) -> tuple:
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size) alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    sizes = []
    for size in args:
        if isinstance(size, Tensor):
            size = size.item()
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"sizes must be ints, got {type(size).__name__}")
        sizes.append(int(size))
    return tuple(sizes)


class View(Function):
    """z = a with a new shape (a view when numpy can make one)."""

    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Squeeze(View):
    """squeeze() of every size-1 dim (torch's grad_fn names tell the three squeeze forms
    apart: no dim, one dim, a tuple of dims)."""

    node_name = "SqueezeBackward0"


class SqueezeDim(View):
    node_name = "SqueezeBackward1"


class SqueezeDims(View):
    node_name = "SqueezeBackward2"


class Unsqueeze(View):
    node_name = "UnsqueezeBackward0"


class Permute(Function):
    """z = a with its axes reordered;  da = g with the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.inverse = tuple(np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse), None


class Transpose(Permute):
    """transpose(dim0, dim1): a permute that swaps two axes."""

    node_name = "TransposeBackward0"


class MatrixTranspose(Permute):
    """t(): the transpose of a matrix (or a 1-D tensor unchanged)."""

    node_name = "TBackward0"


class Expand(Function):
    """z = a broadcast to a larger shape (no copy);  da = g summed by the engine."""

    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Index(Function):
    """z = a[index] for an index of ints and slices (a view);  da = zeros with g written
    where a was read. Used through the subclass that carries torch's name for the index
    (``basic_index_function``)."""

    is_view = True

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        out = a[index]
        if type(out) is not np.ndarray:  # every dim taken by an int: numpy gave a scalar
            items = index if isinstance(index, tuple) else (index,)
            out = np.asarray(out) if Ellipsis in items else a[items + (Ellipsis,)]  # 0-d view
        return out

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        out[ctx.index] = grad
        return out, None


class Select(Index):
    node_name = "SelectBackward0"


class Slice(Index):
    node_name = "SliceBackward0"


class IndexUnsqueeze(Index):
    node_name = "UnsqueezeBackward0"


class Alias(Index):
    node_name = "AliasBackward0"


def basic_index_function(index):
    """The Index subclass named as torch names ``a[index]``: torch applies the index item by
    item, so the last item that does something (not ``...`` nor a full ``:``) names the
    result; a bare slice is always applied."""
    kind = type(index)
    if kind is int:
        return Select
    if kind is slice:
        return Slice
    for item in reversed(index) if kind is tuple else (index,):
        kind = type(item)
        if kind is slice:
            if item != _FULL_SLICE:
                return Slice
        elif item is None:
            return IndexUnsqueeze
        elif item is not Ellipsis:
            return Select
    return Alias


_FULL_SLICE = slice(None)


class Gather(Function):
    """z = a[index] for an index with integer or boolean arrays (a copy);  da = zeros with g
    added at the positions read, repeated positions summed (np.add.at)."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.add.at(out, ctx.index, grad)
        return out, None


class Concatenate(Function):
    """z = [a_1, a_2, ...] joined along axis;  da_i = the slice of g that a_i filled."""

    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Concatenate):
    """stack(): cat of the inputs each unsqueezed at the new axis."""

    node_name = "StackBackward0"


class CopySlices(Function):
    """z = a with value written at a basic index (``a[index] = value``, recorded when a or
    value requires grad);  da = g with zeros where value was written, dvalue = g[index]."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, a, value, index):
        out = a.copy()
        out[index] = value
        ctx.index, ctx.value_ndim = index, np.ndim(value)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_a = grad.copy()
            grad_a[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            grad_value = np.array(grad[ctx.index])
            if grad_value.ndim < ctx.value_ndim:  # numpy drops a value's leading 1s
                grad_value = grad_value.reshape((1,) * (ctx.value_ndim - grad_value.ndim)
                                                + grad_value.shape)
        return grad_a, grad_value, None


class IndexPut(CopySlices):
    """``a[index] = value`` with integer or boolean arrays in the index; where an index
    repeats, the last write wins, and every read of g[index] goes to value."""

    node_name = "IndexPutBackward0"


def _is_basic_index(index) -> bool:
    """True when the index holds only ints, slices, None and Ellipsis (no arrays), so each
    element is read at most once and a plain assignment scatters the gradient."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (numbers.Integral, slice, type(None), type(Ellipsis)))
               and not isinstance(i, bool) for i in items)


def _convert_index(index):
    """Tensors in an index become arrays; lists become arrays; the rest stays."""
    if isinstance(index, tuple):
        return tuple(_convert_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list):
        index = np.asarray(index) if index else np.zeros(0, dtype=np.int64)
    if isinstance(index, np.ndarray) and index.dtype.kind not in "iub":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return index


def reshape(t: Tensor, shape: tuple) -> Tensor:
    known = [s for s in shape if s != -1]
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    total = math.prod(known)
    if (shape.count(-1) == 0 and total != t.data.size) or (
            shape.count(-1) == 1 and (total == 0 or t.data.size % total)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {t.data.size}")
    return View.apply(t, shape)


view = reshape


def flatten(t: Tensor, start_dim=0, end_dim=-1) -> Tensor:
    if t.ndim == 0:
        return reshape(t, (1,))
    start, end = normalize_dim(start_dim, t.ndim), normalize_dim(end_dim, t.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = t.shape[:start] + (math.prod(t.shape[start:end + 1]),) + t.shape[end + 1:]
    return View.apply(t, shape)  # valid by construction: reshape's checks are not needed


def unflatten(t: Tensor, dim, sizes) -> Tensor:
    dim = normalize_dim(dim, t.ndim)
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(t.shape[dim] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != t.shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({t.shape[dim]}) in the input tensor")
    return reshape(t, t.shape[:dim] + sizes + t.shape[dim + 1:])


def squeeze(t: Tensor, dim=None) -> Tensor:
    if dim is None:
        return Squeeze.apply(t, tuple(s for s in t.shape if s != 1))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = {normalize_dim(d, t.ndim) for d in dims}
    shape = tuple(s for i, s in enumerate(t.shape) if not (i in axes and s == 1))
    return (SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim).apply(t, shape)


def unsqueeze(t: Tensor, dim) -> Tensor:
    axis = normalize_dim(dim, t.ndim + 1)
    return Unsqueeze.apply(t, t.shape[:axis] + (1,) + t.shape[axis:])


def transpose(t: Tensor, dim0, dim1, function=Transpose) -> Tensor:
    axes = list(range(t.ndim))
    a, b = normalize_dim(dim0, t.ndim), normalize_dim(dim1, t.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return function.apply(t, tuple(axes)) if t.ndim else t


def matrix_transpose(tensor: Tensor) -> Tensor:
    """Tensor.t(): transpose a matrix; a vector or a 0-d tensor stays as it is (a view)."""
    if tensor.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{tensor.ndim}D")
    return MatrixTranspose.apply(tensor, tuple(reversed(range(tensor.ndim))))


def permute(t: Tensor, dims: tuple) -> Tensor:
    if len(dims) != t.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {t.ndim} is not equal to len(dims) = {len(dims)}")
    axes = tuple(normalize_dim(d, t.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(t, axes)


def expand(t: Tensor, sizes: tuple) -> Tensor:
    if len(sizes) < t.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({t.ndim})")
    offset = len(sizes) - t.ndim
    shape = []
    for i, size in enumerate(sizes):
        current = t.shape[i - offset] if i >= offset else None
        if size == -1:
            if current is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing "
                                   "dimension")
            size = current
        elif current is not None and current != 1 and current != size:
            raise RuntimeError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({current}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(t.shape)}")
        shape.append(size)
    return Expand.apply(t, tuple(shape))


def getitem(t: Tensor, index) -> Tensor:
    index = _convert_index(index)
    if t.ndim == 0 and index not in ((), Ellipsis, None):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                         "0-dim tensor to a number")
    if _is_basic_index(index):
        return basic_index_function(index).apply(t, index)
    return Gather.apply(t, index)


def setitem_function(index):
    """The Function that records ``a[index] = value``, and the index as it takes it."""
    index = _convert_index(index)
    return (CopySlices if _is_basic_index(index) else IndexPut), index


def cat(tensors, dim=0, function=Concatenate) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    first = tensors[0]
    axis = normalize_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{first.ndim} and {t.ndim}")
        for d in range(first.ndim):
            if d != axis and t.shape[d] != first.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {first.shape[d]} but got size {t.shape[d]} "
                                   f"for tensor number {i} in the list.")
    dtype = first.dtype
    for t in tensors[1:]:
        dtype = np.promote_types(dtype, t.dtype) if t.dtype != dtype else dtype
    tensors = [t if t.dtype == dtype else t.type(dtype) for t in tensors]
    return function.apply(axis, *tensors)


def stack(tensors, dim=0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    axis = normalize_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, axis) for t in tensors], axis, function=Stack)
