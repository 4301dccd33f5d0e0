"""Lookups by index: torch.nn.functional.embedding and one_hot.

Embedding, weight W (V, D), integer indices i of any shape:
    y[..., :] = W[i[...], :];   dW[v] = Σ over the positions where i = v of g (rows at
    padding_idx get no gradient; with scale_grad_by_freq each position's g is divided by how
    often its index occurs in i)
With max_norm, the rows the indices read whose norm_type-norm exceeds max_norm are first
scaled in place to max_norm / (norm + 1e-7) of themselves (as torch, without recording it).

The backward sums the gradient rows of each index in sorted order (segment sums), so it is
deterministic; as an op (AddAtZeros) it is differentiable again.
"""
import numbers

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.autograd.grad_mode import no_grad
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_tensor
from minigrad.tensor import Tensor

__all__ = ["embedding", "one_hot"]


def _row_sums(rows, index, values):
    """zeros(rows, D) with values[k] added to row index[k] (the segment sums of the sorted
    indices; repeated indices summed in their order)."""
    out = np.zeros((rows, values.shape[1]), dtype=values.dtype)
    if index.size == 0:
        return out
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


class Embedding(ArrayFunction):
    """y = W[indices] (see the module docstring)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.rows = weight.shape[0]
        flat = indices.reshape(-1)
        keep = flat != padding_idx if padding_idx is not None else None
        scale = None
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=weight.shape[0])
            scale = (1.0 / counts[flat]).astype(weight.dtype)[:, None]
        ctx.flat, ctx.keep, ctx.scale = flat, keep, scale
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        rows = grad.reshape(len(ctx.flat), grad.shape[-1])  # (not -1: rows of width 0)
        if ctx.scale is not None:
            rows = rows * ctx.scale
        flat = ctx.flat
        if ctx.keep is not None:
            rows, flat = rows[ctx.keep], flat[ctx.keep]
        if G.is_tensor(rows):
            return G.add_at_zeros((ctx.rows, rows.shape[1]), (flat,), rows), None, None, None
        return _row_sums(ctx.rows, flat, rows), None, None, None


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Scale, in place, the rows read whose norm exceeds max_norm (torch's
    embedding_renorm_); not recorded, a new version of the weight."""
    rows = np.unique(indices)
    values = weight.array[rows].astype(np.float64)
    if norm_type == float("inf"):
        norms = np.abs(values).max(axis=1)
    else:
        norms = (np.abs(values) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        weight.array[rows[over]] = (values[over] * scale[:, None]).astype(weight.array.dtype)
        weight._version.value += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """torch.nn.functional.embedding: the rows of weight (V, D) at the int64/int32 indices of
    input, shape input.shape + (D,); see the module docstring for the options."""
    check_tensor(input, "input", "embedding", 1)
    check_tensor(weight, "weight", "embedding", 2)
    rows = weight.array.shape[0] if weight.array.ndim else 0
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < rows, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -rows, "Padding_idx must be within num_embeddings"
            padding_idx = rows + padding_idx
        padding_idx = int(padding_idx)
    indices = input.array
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{_torch_type(indices.dtype)} instead (while checking arguments for "
                           f"embedding)")
    if weight.array.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if indices.size and rows == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError("index out of range in self")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): minigrad has no sparse tensors; "
                                  "use sparse=False (a dense gradient)")
    if max_norm is not None:
        if not isinstance(max_norm, numbers.Real):
            raise TypeError(f"embedding(): argument 'max_norm' must be a number, not "
                            f"{type(max_norm).__name__}")
        if weight.array.dtype.kind != "f":  # torch's renorm takes the rows' norms
            raise RuntimeError(f"norm(): input dtype should be either floating point or "
                               f"complex. Got {weight.array.dtype} instead.")
        with no_grad():
            _renorm_rows(weight, indices, float(max_norm), float(norm_type))
    return Embedding.apply(weight, indices.astype(np.int64, copy=False), padding_idx,
                           bool(scale_grad_by_freq))


def _torch_type(dtype) -> str:
    names = {"float32": "Float", "float64": "Double", "bool": "Bool", "uint8": "Byte",
             "int8": "Char", "int16": "Short", "float16": "Half"}
    return f"torch.{names.get(str(dtype), str(dtype))}Tensor"


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """torch.nn.functional.one_hot: int64 class indices -> an int64 tensor with one more
    dimension of num_classes (max + 1 when -1), 1 at each index and 0 elsewhere."""
    check_tensor(tensor, "input", "one_hot", 1)
    values = tensor.array
    if values.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if values.size == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(values.max()) + 1
    if values.size:
        if values.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if values.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(values.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, values[..., None], 1, axis=-1)
    return Tensor(out)
