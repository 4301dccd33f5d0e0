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
import warnings

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.autograd.inplace import inplace_is_recorded, record_inplace
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import (check_dim_list, check_fits, check_int64, dim_alias,
                                    normalize_dim, size_args, type_name)
from minigrad.tensor import Tensor

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "permute", "t", "expand", "getitem", "setitem", "cat", "concat", "concatenate",
           "stack", "gather", "scatter", "scatter_add", "index_select", "masked_fill", "repeat",
           "tile", "split", "chunk", "unbind", "flip", "fliplr", "flipud", "roll", "meshgrid"]


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
    if isinstance(item, float) or (isinstance(item, np.ndarray) and item.dtype.kind == "f"
                                   and item.ndim == 0):
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {type(item).__name__})")
    if type(item) is slice and item.step is not None and item.step <= 0:
        # torch has no negative steps (numpy's reversed views); flip() reverses
        raise ValueError("step must be greater than zero" if item.step else
                         "slice step cannot be zero")
    if type(item) is int and not -2 ** 63 <= item < 2 ** 63:
        raise ValueError(f"index {item} does not fit in a 64-bit integer (Overflow when "
                         f"unpacking long long)")
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
    has_array = any(isinstance(i, np.ndarray) for i in items)  # (a bool adds a dim: basic)
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
        elif isinstance(item, bool):  # a new dim, indexed by [0] (True) or [] (False)
            basic.append(None)
            advanced.append(np.zeros(int(item), dtype=np.int64))
        elif isinstance(item, numbers.Integral):
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
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                               f"{list(shape)}")
    total = math.prod(known)
    if (shape.count(-1) == 0 and total != size) or (
            shape.count(-1) == 1 and (total == 0 or size % total)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return View.apply(input, shape)


def view(input: Tensor, *shape) -> Tensor:
    """input with a new shape, or ``view(dtype)``: the same bytes read as another dtype (the
    last dimension scales by the ratio of the element sizes; no gradient, as torch)."""
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but "
                        "expected one of: (torch.dtype dtype), (tuple of ints size)")
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
    start, end = normalize_dim(start_dim, ndim), normalize_dim(end_dim, ndim)
    if ndim == 0:
        return reshape(input, (1,))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.array.shape
    shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return View.apply(input, shape)  # valid by construction: reshape's checks are not needed


def unflatten(input: Tensor, dim, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    shape = input.array.shape
    normalize_dim(dim, len(shape))  # an out-of-range dim first, as torch
    sizes = size_args(tuple(sizes))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be "
                           "inferred")
    if not shape:  # torch wraps the IndexError of its dim check
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    dim = normalize_dim(dim, len(shape))
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
    axes = set()
    for d in dims:  # each wrapped, then checked against those before it, as torch
        axis = normalize_dim(d, len(shape))
        if axis in axes:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
        axes.add(axis)
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
    a, b = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    if ndim == 0:  # dims 0 and -1 name the 0-d tensor's one "dimension"
        return input
    axes = list(range(ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(input, tuple(axes))


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
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
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
        if size < -1:
            raise RuntimeError(f"The expanded size of the tensor ({size}) isn't allowed in a "
                               f"leading, non-existing dimension {i}" if current is None else
                               f"expand: invalid size {size}")
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
    if math.prod(shape) >= 2 ** 63:
        raise RuntimeError("numel: integer multiplication overflow")
    return Expand.apply(input, tuple(shape))


def _check_masks(index, shape) -> None:
    """torch's IndexError for a bool mask whose shape is not that of the dims it covers
    (numpy lets an empty mask through)."""
    items = index if isinstance(index, tuple) else (index,)
    masks = [i.array if isinstance(i, Tensor) else i for i in items]
    if not any(isinstance(m, np.ndarray) and m.dtype == np.bool_ for m in masks):
        return
    used = sum(0 if m is None or m is Ellipsis or isinstance(m, bool) else
               (m.ndim if isinstance(m, np.ndarray) and m.dtype == np.bool_ else 1)
               for m in masks)
    position = 0
    for m in masks:
        if m is Ellipsis:
            position += max(len(shape) - used, 0)
        elif isinstance(m, np.ndarray) and m.dtype == np.bool_:
            for k, n in enumerate(m.shape):
                if position + k < len(shape) and n != shape[position + k]:
                    raise IndexError(f"The shape of the mask {list(m.shape)} at index {k} does "
                                     f"not match the shape of the indexed tensor "
                                     f"{list(shape)} at index {position + k}")
            position += m.ndim
        elif m is not None and not isinstance(m, bool):
            position += 1


def getitem(input: Tensor, index) -> Tensor:
    """input[index]: basic indexing gives a view, index arrays a copy (torch's order when
    both are mixed)."""
    _check_masks(index, input.array.shape)
    index = _convert_index(index, input.array.ndim)
    if input.array.ndim == 0 and not isinstance(index, (SplitIndex, np.ndarray)) and not all(
            item is None or item is Ellipsis or isinstance(item, bool) or (
                isinstance(item, np.ndarray) and item.dtype == np.bool_ and item.ndim == 0)
            for item in (index if isinstance(index, tuple) else (index,))):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                         "0-dim tensor to a number")
    if type(index) is not SplitIndex and _is_basic_index(index):
        return basic_index_function(index).apply(input, index)
    return Gather.apply(input, index)


def setitem(input: Tensor, index, value) -> None:
    """input[index] = value, recorded as torch records it when grad is involved."""
    if not isinstance(value, Tensor):  # the value first, as torch's parser
        if isinstance(value, numbers.Integral) and not -2 ** 63 <= value < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        value = check_fits(value, input.array.dtype)
    index = _convert_index(index, input.array.ndim)
    basic = type(index) is not SplitIndex and _is_basic_index(index)
    if isinstance(value, Tensor) and basic:
        target = np.shape(input.array[index])
        if value.array.ndim > len(target):  # torch expands the value to the indexed shape
            raise RuntimeError(f"expand({list(value.array.shape)}, size={list(target)}): the "
                               f"number of sizes provided ({len(target)}) must be greater or "
                               f"equal to the number of dimensions in the tensor "
                               f"({value.array.ndim})")
        try:
            fits = np.broadcast_shapes(value.array.shape, target) == target
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"The expanded size of the tensor does not match: value of "
                               f"size {list(value.array.shape)}, target size {list(target)}")
    if not basic and isinstance(value, Tensor) and value.array.dtype != input.array.dtype \
            and not isinstance(index, bool):  # a lone True/False copies, as a basic index
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{type_name(input.array.dtype)} for the destination and "
                           f"{type_name(value.array.dtype)} for the source.")
    if inplace_is_recorded(input, (value,)):
        record_inplace(input, CopySlices if basic else IndexPut, value, index)
        return
    try:
        write_index(input.array, index, value.array if isinstance(value, Tensor) else value)
    except ValueError as error:  # a value that does not broadcast to the indexed shape
        raise RuntimeError(f"shape mismatch: value tensor cannot be broadcast to the indexing "
                           f"result ({error})") from None
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
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    indices = indices.astype(np.int64, copy=False)
    if max(indices.ndim, 1) != max(ndim, 1):  # a 0-d index or input counts as 1-d (torch)
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    if indices.ndim == 0 and ndim == 1:
        return gather(input, dim, Tensor(indices.reshape(1))).reshape(())
    if indices.size and indices.min() < 0:  # torch's gather takes no negative index
        raise RuntimeError(f"index {int(indices.min())} is out of bounds for dimension "
                           f"{axis_} with size {input.array.shape[axis_] if ndim else 1}")
    for d in range(indices.ndim if ndim else 0):
        if d != axis_ and indices.shape[d] > input.array.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(indices.shape)} to be no larger than self "
                               f"{list(input.array.shape)} apart from dimension {axis_}")
    size = input.array.shape[axis_] if ndim else 1
    if indices.size and (indices.min() < -size or indices.max() >= size):
        bad = indices.max() if indices.max() >= size else indices.min()
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {axis_} with "
                           f"size {size}")
    if ndim == 0:  # a 0-d input: its one element, as often as the index asks
        return GatherAlong.apply(input.reshape(1), 0, (indices % 1).reshape(-1)).reshape(
            indices.shape)
    return GatherAlong.apply(input, axis_, indices % max(size, 1))


def cat(tensors, dim=0, *, axis=None, out=None) -> Tensor:
    """Join tensors along an existing dim (dtypes promoted as torch)."""
    dim = dim_alias(dim, axis, 0)
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    axis = normalize_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
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
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"stack(): argument 'dim' (position 2) must be int, not "
                        f"{type(dim).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    normalize_dim(dim, tensors[0].ndim + 1)  # the dim before the sizes, as torch
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    axis = normalize_dim(dim, tensors[0].ndim + 1)
    return _join(Stack, axis, [unsqueeze(t, axis) for t in tensors])


# ----------------------------------------------------------------------------- scatter, select

class Scatter(ArrayFunction):
    """z = a with src written along a dim at ``index`` (torch.scatter: for dim 1,
    z[i][index[i][j]] = src[i][j]); da = g with zeros where written, dsrc = g read back at the
    same positions (zero where src was not used). A number src: ScatterValue."""

    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, a, axis, indices, src):
        out = a.copy()
        position = _along_axis_index(indices, axis)
        out[position] = _leading(src, indices.shape)
        ctx.axis, ctx.indices, ctx.position = axis, indices, position
        ctx.shape, ctx.src_shape = a.shape, np.shape(src)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad_src = None
        if ctx.needs_input_grad[0]:
            written = np.zeros(ctx.shape, dtype=bool)
            written[ctx.position] = True
            grad_a = G.where(written, 0.0, grad)
        if ctx.needs_input_grad[3]:
            grad_src = _padded(G.gather_along(grad, ctx.indices, ctx.axis), ctx.src_shape)
        return grad_a, None, None, grad_src


class ScatterValue(Scatter):
    node_name = "ScatterBackward1"


class ScatterAdd(ArrayFunction):
    """z = a with src added along a dim at ``index`` (repeats sum);  da = g,
    dsrc = g read back at the positions (torch.scatter_add)."""

    @staticmethod
    def forward(ctx, a, axis, indices, src):
        out = a.copy()
        np.add.at(out, _along_axis_index(indices, axis), _leading(src, indices.shape))
        ctx.axis, ctx.indices, ctx.src_shape = axis, indices, np.shape(src)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_src = None
        if ctx.needs_input_grad[3]:
            grad_src = _padded(G.gather_along(grad, ctx.indices, ctx.axis), ctx.src_shape)
        return grad, None, None, grad_src


class ScatterReduce(ArrayFunction):
    """z = a with src added to (or multiplied into) it along a dim at ``index``: torch's
    deprecated scatter(reduce=...), which has no derivative in torch either."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, a, axis, indices, src, reduce):
        out = a.copy()
        ufunc = np.add if reduce == "add" else np.multiply
        ufunc.at(out, _along_axis_index(indices, axis), _leading(src, indices.shape))
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::scatter is not implemented")


def _leading(src, shape):
    """The block of src that an index of ``shape`` uses (its leading corner)."""
    if np.ndim(src) == 0:
        return src
    return src[tuple(slice(0, n) for n in shape)]


def _padded(values, shape):
    """values placed in the leading corner of zeros(shape) (a src larger than its index)."""
    if tuple(values.shape) == tuple(shape):
        return values
    return G.index_into_zeros(shape, tuple(slice(0, n) for n in values.shape), values)


def _check_scatter(input, axis, index, src, name):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    indices = index.array
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    indices = indices.astype(np.int64, copy=False)
    if max(indices.ndim, 1) != max(input.array.ndim, 1):  # 0-d counts as 1-d (torch)
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    size = input.array.shape[axis] if input.array.ndim else 1
    for d in range(indices.ndim):
        if d != axis and indices.shape[d] > (input.array.shape[d] if input.array.ndim else 1):
            raise RuntimeError(f"Expected index {list(indices.shape)} to be smaller than self "
                               f"{list(input.array.shape)} apart from dimension {axis}")
        if isinstance(src, Tensor) and indices.shape[d] > src.array.shape[d]:
            raise RuntimeError(f"Expected index {list(indices.shape)} to be smaller than src "
                               f"{list(src.array.shape)}")
    if indices.size and (indices.min() < 0 or indices.max() >= size):  # no negative index
        bad = int(indices.max() if indices.max() >= size else indices.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size "
                           f"{size}")
    return indices


def scatter(input, dim, index, src=None, *, value=None, reduce=None, axis=None) -> Tensor:
    """input with ``src`` (a tensor, or ``value``) written along ``dim`` at ``index``."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing argument 'src' or 'value'")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    axis = normalize_dim(dim_alias(dim, axis), input.array.ndim)
    indices = _check_scatter(input, axis, index, src, "scatter")
    if input.array.ndim == 0 or indices.ndim == 0:  # as 1-element vectors
        one = src.reshape(1) if isinstance(src, Tensor) and src.array.ndim == 0 else src
        return scatter(input.reshape(-1), 0, index.reshape(1), one, reduce=reduce).reshape(
            input.array.shape)
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    if not isinstance(src, Tensor):
        src = check_fits(src, input.array.dtype)
    if reduce is not None:
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        return ScatterReduce.apply(input, axis, indices, src, reduce)
    if isinstance(src, Tensor):
        return Scatter.apply(input, axis, indices, src)
    return ScatterValue.apply(input, axis, indices, src)


def scatter_add(input, dim, index, src, *, axis=None) -> Tensor:
    """input with ``src`` added along ``dim`` at ``index`` (repeated indices sum)."""
    axis = normalize_dim(dim_alias(dim, axis), input.array.ndim)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    indices = _check_scatter(input, axis, index, src, "scatter_add")
    if src.dtype != input.dtype:
        raise RuntimeError("scatter_add(): Expected self.dtype to be equal to src.dtype")
    if input.array.ndim == 0 or indices.ndim == 0:  # as 1-element vectors
        one = src.reshape(1) if src.array.ndim == 0 else src
        return scatter_add(input.reshape(-1), 0, index.reshape(1), one).reshape(
            input.array.shape)
    return ScatterAdd.apply(input, axis, indices, src)


class IndexSelect(Gather):
    node_name = "IndexSelectBackward0"


def index_select(input, dim, index, *, axis=None) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in ``index`` (1-D, int)."""
    axis = normalize_dim(dim_alias(dim, axis), input.array.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    indices = index.array
    if indices.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32 or int64 for index")
    size = input.array.shape[axis] if input.array.ndim else 1
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = int(indices.max() if indices.max() >= size else indices.min())
        raise IndexError(f"index out of range in self (index {bad} for dimension {axis} of "
                         f"size {size})")
    if input.array.ndim == 0:
        if indices.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{indices.size} value(s)")
        return IndexSelect.apply(input.reshape(1), (indices.reshape(-1),)).reshape(())
    return IndexSelect.apply(input, (_FULL_SLICE,) * axis + (indices.reshape(-1),))


def masked_fill(input, mask, value) -> Tensor:
    """input with ``value`` where ``mask`` (bool) is True, the two broadcast together (as
    torch's out-of-place form; ``masked_fill_`` needs a mask that broadcasts to input)."""
    from minigrad.ops import elementwise
    if not isinstance(mask, Tensor) or mask.array.dtype != np.bool_:
        got = mask.array.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {type_name(got) if isinstance(got, np.dtype) else got}")
    try:
        shape = np.broadcast_shapes(mask.array.shape, input.array.shape)
        condition = np.broadcast_to(mask.array, shape)
    except ValueError:
        raise RuntimeError(f"The size of the mask {list(mask.array.shape)} must be "
                           f"broadcastable to the size of the input "
                           f"{list(input.array.shape)}") from None
    if isinstance(value, Tensor):
        if value.array.ndim == 0 and value.array.dtype.kind == "f":
            check_fits(float(value.array), input.array.dtype)
        if value.requires_grad and input.array.dtype.kind not in "fc":
            raise RuntimeError(f"Autograd not support dtype: {type_name(input.array.dtype)}")
        if value.array.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.array.ndim} dimension(s).")
        fill = value if value.dtype == input.dtype else value.type(input.dtype)
        return elementwise.MaskedFillTensor.apply(Tensor(condition), fill, input)
    value = check_fits(value, input.array.dtype)
    return elementwise.MaskedFill.apply(Tensor(condition), input.array.dtype.type(value), input)


# ----------------------------------------------------------------------------- repeat, split

class Repeat(ArrayFunction):
    """z = a tiled ``repeats`` times along each dim (torch.repeat);  da = g summed over the
    copies."""

    @staticmethod
    def forward(ctx, a, repeats):
        padded = (1,) * (len(repeats) - a.ndim) + a.shape
        ctx.padded, ctx.repeats = padded, repeats
        return np.tile(a.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, grad):
        interleaved = [n for pair in zip(ctx.repeats, ctx.padded) for n in pair]
        summed = grad.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return summed.reshape(ctx.padded), None


def repeat(input, *sizes) -> Tensor:
    """input tiled sizes[i] times along dim i (new leading dims for extra sizes)."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = size_args(sizes)
    if len(sizes) < input.array.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    shape = (1,) * (len(sizes) - input.array.ndim) + input.array.shape
    if math.prod(n * s for n, s in zip(shape, sizes)) >= 2 ** 60 or max(
            (n * s for n, s in zip(shape, sizes)), default=0) >= 2 ** 63:
        # numpy's tile overflows its shape arithmetic (a segfault) past these
        raise RuntimeError(f"Storage size calculation overflowed with sizes="
                           f"{[n * s for n, s in zip(shape, sizes)]}")
    return Repeat.apply(input, sizes)


def tile(input, dims) -> Tensor:
    """torch.tile: repeat, with ``dims`` padded with leading 1s to the input's rank."""
    dims = size_args((dims,) if isinstance(dims, int) else tuple(dims))
    dims = (1,) * (input.array.ndim - len(dims)) + dims
    return repeat(input, dims)


class Split(ArrayFunction):
    """(a[..., b_0:b_1, ...], a[..., b_1:b_2, ...], ...) along a dim (views);  da = the
    gradients joined back (zeros for a piece that got none)."""

    is_view = True
    node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, a, axis, bounds):
        edges = [0, *bounds, a.shape[axis]]
        prefix = (_FULL_SLICE,) * axis
        ctx.axis, ctx.edges, ctx.shape = axis, edges, a.shape
        return tuple(a[prefix + (slice(lo, hi),)] for lo, hi in zip(edges[:-1], edges[1:]))

    @staticmethod
    def backward(ctx, *grads):
        pieces = []
        like = next(g for g in grads if g is not None)
        for g, lo, hi in zip(grads, ctx.edges[:-1], ctx.edges[1:]):
            if g is None:
                shape = list(ctx.shape)
                shape[ctx.axis] = hi - lo
                g = _zeros(like, shape)
            pieces.append(g)
        if G.is_tensor(like):
            return cat(pieces, ctx.axis), None, None
        return np.concatenate(pieces, axis=ctx.axis), None, None


def _zeros(like, shape):
    zeros = np.zeros(shape, dtype=like.dtype)
    return Tensor(zeros) if G.is_tensor(like) else zeros


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


def split(input, split_size_or_sections, dim=0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the sizes
    listed."""
    if input.array.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, input.array.ndim)
    size = input.array.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = size_args(split_size_or_sections)
        if not sections and size == 0:  # torch: no sections, no pieces
            return ()
        if sum(sections) != size or any(s < 0 for s in sections):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={list(sections)}")
        bounds = [int(b) for b in np.cumsum(sections)[:-1]]
        return SplitWithSizes.apply(input, axis, bounds)
    step = split_size_or_sections
    if isinstance(step, Tensor):
        step = step.item()
    if isinstance(step, bool):
        raise TypeError("split(): argument 'split_size' must be int, not bool")
    if isinstance(step, numbers.Integral):
        check_int64((step,), "split_size", "split")
    if not isinstance(step, numbers.Integral) or step < 0 or (step == 0 and size):
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                           f"dimension size of {size}" if step == 0 else
                           f"split expects split_size be non-negative, but got "
                           f"split_size={step}")
    bounds = list(range(step, size, step)) if step else []
    return Split.apply(input, axis, bounds)


def chunk(input, chunks, dim=0) -> tuple:
    """At most ``chunks`` pieces of equal size (ceil(n / chunks)) along ``dim``."""
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"chunk(): argument 'dim' (position 3) must be int, not "
                        f"{type(dim).__name__}")
    if isinstance(chunks, bool):
        raise TypeError("chunk(): argument 'chunks' (position 2) must be int, not bool")
    if not isinstance(chunks, numbers.Integral) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.array.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, input.array.ndim)
    size = input.array.shape[axis]
    if size == 0:  # torch gives ``chunks`` empty pieces
        return Split.apply(input, axis, [0] * (chunks - 1))
    step = max(-(-size // chunks), 1)
    return split(input, step, axis)


class Unbind(ArrayFunction):
    """(a[0], a[1], ...) along a dim (views);  da = the gradients stacked (zeros for a slice
    that got none)."""

    is_view = True

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis, ctx.shape = axis, a.shape
        prefix = (_FULL_SLICE,) * axis
        return tuple(a[prefix + (i,)] for i in range(a.shape[axis]))

    @staticmethod
    def backward(ctx, *grads):
        like = next(g for g in grads if g is not None)
        shape = ctx.shape[:ctx.axis] + ctx.shape[ctx.axis + 1:]
        pieces = [_zeros(like, shape) if g is None else g for g in grads]
        if G.is_tensor(like):
            return stack(pieces, ctx.axis), None
        return np.stack(pieces, axis=ctx.axis), None


def unbind(input, dim=0) -> tuple:
    """The slices of ``input`` along ``dim``, each without that dim."""
    axis = normalize_dim(dim, input.array.ndim)
    if input.array.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, axis)


class Flip(ArrayFunction):
    """z = a reversed along ``axes`` (a copy, as torch);  da = g reversed back."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return flip(grad, ctx.axes) if G.is_tensor(grad) else np.flip(grad, ctx.axes), None


def _dims(input, dims, name):
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    check_dim_list(dims, "dims")
    axes = tuple(normalize_dim(d, input.array.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return axes


def flip(input, dims) -> Tensor:
    """input reversed along each dim of ``dims``."""
    dims = _dims(input, dims, "flip")
    return Flip.apply(input, dims if input.array.ndim else ())  # a 0-d tensor's dim 0: itself


def fliplr(input) -> Tensor:
    if input.array.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input) -> Tensor:
    if input.array.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(ArrayFunction):
    """z = a shifted cyclically by ``shifts`` along ``axes`` (flattened when none);
    da = g shifted back."""

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes, ctx.shape = shifts, axes, a.shape
        if axes is None:
            return np.roll(a.reshape(-1), shifts).reshape(a.shape)
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if ctx.axes is not None else -ctx.shifts
        if G.is_tensor(grad):
            return Roll.apply(grad, back, ctx.axes), None, None
        if ctx.axes is None:
            return np.roll(grad.reshape(-1), back).reshape(ctx.shape), None, None
        return np.roll(grad, back, ctx.axes), None, None


def roll(input, shifts, dims=None) -> Tensor:
    """input shifted cyclically by ``shifts`` along ``dims`` (flattened when dims is None)."""
    check_dim_list(shifts if isinstance(shifts, (tuple, list)) else (shifts,), "shifts")
    if isinstance(shifts, (tuple, list)) and not shifts:
        raise RuntimeError("`shifts` required")
    if isinstance(dims, (tuple, list)) and not dims:
        dims = None  # torch: no dims, the flattened roll
    if dims is not None and input.array.ndim == 0:
        count = len(shifts) if isinstance(shifts, (tuple, list)) else 1
        if count != (len(dims) if isinstance(dims, (tuple, list)) else 1):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {count}, dims:"
                               f"{len(dims) if isinstance(dims, (tuple, list)) else 1}")
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if dims is None:
        if not isinstance(shifts, numbers.Integral):
            if len(shifts) != 1:
                raise RuntimeError("roll: shifts must be an int when dims is not given")
            shifts = shifts[0]
        return Roll.apply(input, int(shifts), None)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    axes = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(axes):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(axes)}")
    axes = tuple(normalize_dim(d, input.array.ndim) for d in axes)
    return Roll.apply(input, tuple(int(s) for s in shifts), axes)


def meshgrid(*tensors, indexing=None) -> tuple:
    """Coordinate grids of 1-D tensors: 'ij' (matrix, the default, with torch's warning when
    not given) or 'xy' (Cartesian: grids shaped (len(y), len(x), ...))."""
    import warnings
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.array.dtype != tensors[0].array.dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in tensors:
        if t.array.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    order = list(tensors)
    if indexing == "xy" and len(order) >= 2:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.array.size for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = [1] * len(order)
        view_shape[i] = t.array.size
        grids.append(expand(reshape(t, tuple(view_shape)), shape))
    if indexing == "xy" and len(grids) >= 2:  # the grids of (y, x, ...), given back as (x, y)
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
