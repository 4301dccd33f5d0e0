"""Shape ops: reshape/view, squeeze/unsqueeze, transpose/permute, expand, indexing, gather,
cat/stack.

Each moves or selects elements without arithmetic, so each backward moves the gradient back:
reshape it, transpose it back, sum it over expanded axes, or scatter it into the positions the
index read (repeated positions summed). The scatters are ops of their own (IndexIntoZeros,
AddAtZeros, ScatterAddIntoZeros) whose backward is the matching read, so a gradient written
with them can be differentiated again.

Indexing follows torch, which differs from numpy in one case: integers (and None) in an index
that also holds index arrays are applied first, as basic indexing, and the arrays then index
what remains (``x[0, :, [0, 1]]`` has shape (3, 2, 5) for x of shape (2, 3, 4, 5); numpy gives
(2, 3, 5)).
"""
import math
import numbers

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.autograd.inplace import inplace_is_recorded, record_inplace
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import dim_alias, normalize_dim, size_args, type_name
from minigrad.tensor import Tensor

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "permute", "t", "expand", "getitem", "setitem", "cat", "concat", "concatenate",
           "stack", "gather"]


class View(ArrayFunction):
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


class Permute(ArrayFunction):
    """z = a with its axes reordered;  da = g with the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return G.permute(grad, ctx.inverse), None


class Transpose(Permute):
    """transpose(dim0, dim1): a permute that swaps two axes."""

    node_name = "TransposeBackward0"


class MatrixTranspose(Permute):
    """t(): the transpose of a matrix (or a 1-D tensor unchanged)."""

    node_name = "TBackward0"


class Expand(ArrayFunction):
    """z = a broadcast to a larger shape (no copy);  da = g summed by the engine."""

    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Index(ArrayFunction):
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
        return G.index_into_zeros(ctx.shape, ctx.index, grad), None


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


class IndexIntoZeros(ArrayFunction):
    """z = zeros(shape) with v written at a basic index;  dv = g[index]."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        out[index] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None


class Gather(ArrayFunction):
    """z = a[index] for an index with integer or boolean arrays (a copy);  da = zeros with g
    added at the positions read, repeated positions summed."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        return read_index(a, index)

    @staticmethod
    def backward(ctx, grad):
        return G.add_at_zeros(ctx.shape, ctx.index, grad), None


class AddAtZeros(ArrayFunction):
    """z = zeros(shape) with v added at an advanced index (repeats summed);  dv = g[index]."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        add_at_index(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        if G.is_tensor(grad):
            return Gather.apply(grad, ctx.index), None, None
        return read_index(grad, ctx.index), None, None


class SplitIndex:
    """An index mixing ints or None with index arrays, read as torch reads it: ``basic``
    (ints, None, slices, arrays' dims kept whole) applies first, then ``advanced``."""

    __slots__ = ("basic", "advanced")

    def __init__(self, basic: tuple, advanced: tuple):
        self.basic, self.advanced = basic, advanced


def read_index(a, index):
    if type(index) is SplitIndex:
        return a[index.basic][index.advanced]
    return a[index]


def write_index(a, index, value) -> None:
    if type(index) is SplitIndex:
        a[index.basic][index.advanced] = value  # a[basic] is a view of a
    else:
        a[index] = value


def add_at_index(a, index, values) -> None:
    if type(index) is SplitIndex:
        np.add.at(a[index.basic], index.advanced, values)
    else:
        np.add.at(a, index, values)


def _along_axis_index(indices: np.ndarray, axis: int) -> tuple:
    """The advanced index that reads a[..., indices[...], ...] along ``axis``, elsewhere the
    position itself (torch.gather's addressing)."""
    grids = list(np.ogrid[tuple(slice(0, n) for n in indices.shape)])
    grids[axis] = indices
    return tuple(grids)


class GatherAlong(ArrayFunction):
    """z[i][j][k] = a[i][index[i][j][k]][k] along dim 1 (torch.gather);  da = zeros with g
    added at the positions read."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, a, axis, indices):
        ctx.shape, ctx.axis, ctx.indices = a.shape, axis, indices
        return a[_along_axis_index(indices, axis)]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAddIntoZeros.forward_or_apply(grad, ctx.shape, ctx.indices, ctx.axis), \
            None, None


class ScatterAddIntoZeros(ArrayFunction):
    """z = zeros(shape) with v[i][j][k] added at [i][index[i][j][k]][k] along the axis;
    dv = gather(g, axis, index)."""

    @staticmethod
    def forward(ctx, values, shape, indices, axis):
        ctx.axis, ctx.indices = axis, indices
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, _along_axis_index(indices, axis), values)
        return out

    @staticmethod
    def backward(ctx, grad):
        if G.is_tensor(grad):
            return GatherAlong.apply(grad, ctx.axis, ctx.indices), None, None, None
        return grad[_along_axis_index(ctx.indices, ctx.axis)], None, None, None

    @classmethod
    def forward_or_apply(cls, values, shape, indices, axis):
        if G.is_tensor(values):
            return cls.apply(values, tuple(shape), indices, axis)
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, _along_axis_index(indices, axis), values)
        return out


ScatterIntoZeros = ScatterAddIntoZeros  # with unique indices, as max(dim)'s, put == add


class Concatenate(ArrayFunction):
    """z = [a_1, a_2, ...] joined along axis;  da_i = the slice of g that a_i filled."""

    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = [int(b) for b in np.cumsum([x.shape[axis] for x in arrays])[:-1]]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(G.split(grad, ctx.bounds, ctx.axis))


class Stack(Concatenate):
    """stack(): cat of the inputs each unsqueezed at the new axis."""

    node_name = "StackBackward0"


class CopySlices(ArrayFunction):
    """z = a with value written at a basic index (``a[index] = value``, recorded when a or
    value requires grad);  da = g with zeros where value was written, dvalue = g[index]."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, a, value, index):
        out = a.copy()
        write_index(out, index, value)
        ctx.index, ctx.value_ndim = index, np.ndim(value)
        ctx.shape = a.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad_value = None
        if ctx.needs_input_grad[0]:
            written = np.zeros(ctx.shape, dtype=bool)
            write_index(written, ctx.index, True)
            grad_a = G.where(written, 0.0, grad)
        if ctx.needs_input_grad[1]:
            grad_value = (Gather.apply(grad, ctx.index) if G.is_tensor(grad)
                          else np.array(read_index(grad, ctx.index)))
            if grad_value.ndim < ctx.value_ndim:  # numpy drops a value's leading 1s
                grad_value = grad_value.reshape((1,) * (ctx.value_ndim - grad_value.ndim)
                                                + tuple(grad_value.shape))
        return grad_a, grad_value, None


class IndexPut(CopySlices):
    """``a[index] = value`` with integer or boolean arrays in the index; where an index
    repeats, the last write wins, and every read of g[index] goes to value."""

    node_name = "IndexPutBackward0"


# ----------------------------------------------------------------------------- indices

def _is_basic_index(index) -> bool:
    """True when the index holds only ints, slices, None and Ellipsis (no arrays), so each
    element is read at most once and a plain assignment scatters the gradient."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (numbers.Integral, slice, type(None), type(Ellipsis)))
               and not isinstance(i, bool) for i in items)


def _convert_item(item):
    if isinstance(item, Tensor):
        item = item.array
    if isinstance(item, list):
        item = np.asarray(item) if item else np.zeros(0, dtype=np.int64)
    if isinstance(item, np.ndarray):
        if item.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item)  # a 0-d index tensor selects, as an int
    return item


def _convert_index(index, ndim: int):
    """Tensors and lists in an index become arrays; an index mixing ints or None with arrays
    becomes a SplitIndex (torch's order of application)."""
    if type(index) is SplitIndex:
        return index
    if not isinstance(index, tuple):
        return _convert_item(index)
    items = tuple(_convert_item(i) for i in index)
    has_array = any(isinstance(i, np.ndarray) or isinstance(i, bool) for i in items)
    mixes = any(i is None or (isinstance(i, numbers.Integral) and not isinstance(i, bool))
                for i in items)
    if not (has_array and mixes):
        return items
    used = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else
               (0 if i is None or i is Ellipsis or isinstance(i, bool) else 1) for i in items)
    basic, advanced = [], []
    for item in items:
        if item is Ellipsis:
            basic.extend([_FULL_SLICE] * (ndim - used))
            advanced.extend([_FULL_SLICE] * (ndim - used))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            basic.append(item)
        elif item is None or isinstance(item, slice):
            basic.append(item)
            advanced.append(_FULL_SLICE)
        elif isinstance(item, np.ndarray) and item.dtype == np.bool_:
            basic.extend([_FULL_SLICE] * item.ndim)
            advanced.append(item)
        else:
            basic.append(_FULL_SLICE)
            advanced.append(item)
    return SplitIndex(tuple(basic), tuple(advanced))


# ----------------------------------------------------------------------------- front doors

def _shape_of(t: Tensor, args) -> tuple:
    return size_args(args)


def reshape(input: Tensor, *shape) -> Tensor:
    """input with a new shape (one dim may be -1); a view when the layout allows."""
    shape = size_args(shape)
    size = input.array.size
    known = [s for s in shape if s != -1]
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    total = math.prod(known)
    if (shape.count(-1) == 0 and total != size) or (
            shape.count(-1) == 1 and (total == 0 or size % total)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return View.apply(input, shape)


def view(input: Tensor, *shape) -> Tensor:
    """input with a new shape, or ``view(dtype)``: the same bytes read as another dtype (the
    last dimension scales by the ratio of the element sizes; no gradient, as torch)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
        return _view_as_dtype(input, shape[0])
    return reshape(input, *shape)


def _view_as_dtype(input: Tensor, dtype) -> Tensor:
    from minigrad import dtypes
    dtype = dtypes.to_dtype(dtype)
    array = input.array
    if dtype == array.dtype:
        return input
    if dtype.itemsize != array.itemsize:
        if array.ndim == 0:
            raise RuntimeError("self.dim() cannot be 0 to view "
                               f"{type_name(array.dtype)} as {type_name(dtype)} (different "
                               "element sizes)")
        if not array.flags.c_contiguous or (array.shape[-1] * array.itemsize) % dtype.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{dtype.itemsize // array.itemsize or 1} to view "
                               f"{type_name(array.dtype)} as {type_name(dtype)} (different "
                               "element sizes), but got "
                               f"{array.shape[-1]}")
    result = Tensor(array.view(dtype), _version=input._version)
    input._version.shared = True
    return result


def flatten(input: Tensor, start_dim=0, end_dim=-1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    ndim = input.array.ndim
    if ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dim(start_dim, ndim), normalize_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.array.shape
    shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return View.apply(input, shape)  # valid by construction: reshape's checks are not needed


def unflatten(input: Tensor, dim, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    shape = input.array.shape
    dim = normalize_dim(dim, len(shape))
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(shape[dim] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[dim]}) in the input tensor")
    return reshape(input, shape[:dim] + sizes + shape[dim + 1:])


def squeeze(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """Drop size-1 dims: all of them, or those of ``dim`` (an int or a tuple)."""
    dim = dim_alias(dim, axis)
    shape = input.array.shape
    if dim is None:
        return Squeeze.apply(input, tuple(s for s in shape if s != 1))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = {normalize_dim(d, len(shape)) for d in dims}
    kept = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return (SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim).apply(input, kept)


def unsqueeze(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    dim = dim_alias(dim, axis)
    if dim is None:
        raise TypeError("unsqueeze() missing required argument 'dim'")
    shape = input.array.shape
    position = normalize_dim(dim, len(shape) + 1)
    return Unsqueeze.apply(input, shape[:position] + (1,) + shape[position:])


def transpose(input: Tensor, dim0, dim1) -> Tensor:
    """Swap two dims (a view)."""
    ndim = input.array.ndim
    axes = list(range(ndim))
    a, b = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(input, tuple(axes)) if ndim else input


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; a vector or a 0-d tensor stays as it is (a view)."""
    ndim = input.array.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return MatrixTranspose.apply(input, tuple(reversed(range(ndim))))


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dims (a view)."""
    dims = size_args(dims)
    ndim = input.array.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    axes = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, axes)


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes`` (-1 keeps a dim) without copying."""
    sizes = size_args(sizes)
    current_shape = input.array.shape
    ndim = len(current_shape)
    if len(sizes) < ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({ndim})")
    offset = len(sizes) - ndim
    shape = []
    for i, size in enumerate(sizes):
        current = current_shape[i - offset] if i >= offset else None
        if size == -1:
            if current is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing "
                                   "dimension")
            size = current
        elif current is not None and current != 1 and current != size:
            raise RuntimeError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({current}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(current_shape)}")
        shape.append(size)
    return Expand.apply(input, tuple(shape))


def getitem(input: Tensor, index) -> Tensor:
    """input[index]: basic indexing gives a view, index arrays a copy (torch's order when
    both are mixed)."""
    index = _convert_index(index, input.array.ndim)
    if input.array.ndim == 0 and not isinstance(index, (SplitIndex, np.ndarray)) and not all(
            item is None or item is Ellipsis for item in (
                index if isinstance(index, tuple) else (index,))):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                         "0-dim tensor to a number")
    if type(index) is not SplitIndex and _is_basic_index(index):
        return basic_index_function(index).apply(input, index)
    return Gather.apply(input, index)


def setitem(input: Tensor, index, value) -> None:
    """input[index] = value, recorded as torch records it when grad is involved."""
    index = _convert_index(index, input.array.ndim)
    if inplace_is_recorded(input, (value,)):
        basic = type(index) is not SplitIndex and _is_basic_index(index)
        record_inplace(input, CopySlices if basic else IndexPut, value, index)
        return
    write_index(input.array, index, value.array if isinstance(value, Tensor) else value)
    input._version.value += 1


def gather(input: Tensor, dim, index: Tensor, *, sparse_grad=False, axis=None) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim 1 (index int64, as many dims as
    input, no larger than it outside ``dim``)."""
    dim = dim_alias(dim, axis)
    if not isinstance(index, Tensor):
        raise TypeError(f"gather(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    ndim = input.array.ndim
    axis_ = normalize_dim(dim, ndim)
    indices = index.array
    if indices.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if indices.ndim != max(ndim, 1) and not (ndim == 0 and indices.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    for d in range(indices.ndim):
        if d != axis_ and indices.shape[d] > input.array.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(indices.shape)} to be no larger than self "
                               f"{list(input.array.shape)} apart from dimension {axis_}")
    if indices.size and (indices.min() < -input.array.shape[axis_]
                         or indices.max() >= input.array.shape[axis_]):
        bad = indices.max() if indices.max() >= input.array.shape[axis_] else indices.min()
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {axis_} with "
                           f"size {input.array.shape[axis_]}")
    return GatherAlong.apply(input, axis_, indices % max(input.array.shape[axis_], 1))


def cat(tensors, dim=0, *, axis=None, out=None) -> Tensor:
    """Join tensors along an existing dim (dtypes promoted as torch)."""
    dim = dim_alias(dim, axis, 0)
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    first = tensors[0]
    axis = normalize_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{first.ndim} and {t.ndim}")
        for d in range(first.ndim):
            if d != axis and t.array.shape[d] != first.array.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {first.array.shape[d]} but got size "
                                   f"{t.array.shape[d]} for tensor number {i} in the list.")
    return _join(Concatenate, axis, tensors)


concat = concatenate = cat


def _join(function, axis, tensors):
    from minigrad import dtypes
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote(dtype, t.dtype) if t.dtype != dtype else dtype
    tensors = [t if t.dtype == dtype else t.type(dtype) for t in tensors]
    return function.apply(axis, *tensors)


def stack(tensors, dim=0, *, axis=None, out=None) -> Tensor:
    """Join equally shaped tensors along a new dim."""
    dim = dim_alias(dim, axis, 0)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    axis = normalize_dim(dim, tensors[0].ndim + 1)
    return _join(Stack, axis, [unsqueeze(t, axis) for t in tensors])
