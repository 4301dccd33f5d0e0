"""Matrix multiplication on minigrad's GEMM kernel, with torch.matmul's shape rules.

1-D operands are promoted to matrices (a row vector on the left, a column vector on the right)
and the added dimension is removed from the result, inside the one node; leading dimensions
broadcast as batches. For Z = A B:  dA = G Bᵀ and dB = Aᵀ G, summed over broadcast batch
dimensions by the engine. The node is named as torch names the product's last node: MmBackward0,
MvBackward0, DotBackward0, SqueezeBackward4 (vector @ matrix), BmmBackward0 (torch.bmm) and
UnsafeViewBackward0 (other batched products).
"""
import math

import numpy as np

from minigrad._kernels import gemm as _gemm
from minigrad.autograd.function import ArrayFunction
from minigrad.autograd.grad_mode import _GradMode
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import scalar_type_name, type_name
from minigrad.tensor import Tensor, wrap
from minigrad.threads import get_num_threads


def matrix_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for float arrays of ndim >= 2 with broadcast batch dimensions, on the kernel."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if a.ndim == 2 and b.ndim == 2:
        out = np.empty((m, n), dtype=a.dtype)
        _gemm.gemm(a, b, out, False, get_num_threads())
        return out
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = math.prod(batch)  # not -1 in the reshapes: ambiguous when a dimension is 0
    a3 = np.broadcast_to(a, batch + (m, k)).reshape(count, m, k)
    b3 = np.broadcast_to(b, batch + (k, n)).reshape(count, k, n)
    out = np.empty((count, m, n), dtype=a.dtype)
    _gemm.gemm_batched(a3, b3, out, False, get_num_threads())
    return out.reshape(batch + (m, n))


class MatMul(ArrayFunction):
    """Z = A B, a 1-D A read as a row (1, K) and a 1-D B as a column (K, 1), the added axis
    dropped from Z;  dA = G Bᵀ, dB = Aᵀ G (G with the dropped axes restored)."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # the arrays themselves, for the version check
        out = matrix_product(a[None, :] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b)
        if b.ndim == 1:
            out = out[..., 0]
        if a.ndim == 1:
            out = out[..., 0, :] if b.ndim > 1 else out[..., 0]
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:
            grad = grad[..., None]
        if a.ndim == 1:
            grad = grad[..., None, :]
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = G.matmul(grad, G.swap_last_axes(b2))
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]  # batch dimensions are summed by the engine
        if ctx.needs_input_grad[1]:
            grad_b = G.matmul(G.swap_last_axes(a2), grad)
            if b.ndim == 1:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


class Mm(MatMul):
    node_name = "MmBackward0"


class Mv(MatMul):
    node_name = "MvBackward0"


class Dot(MatMul):
    node_name = "DotBackward0"


class VectorMatrix(MatMul):
    """vector @ matrix: torch unsqueezes, multiplies and squeezes, so its last node is a
    squeeze; minigrad's one node keeps torch's name."""

    node_name = "SqueezeBackward4"


class Bmm(MatMul):
    node_name = "BmmBackward0"


# (a.ndim, b.ndim) of products without batch dimensions -> the node torch would name
_UNBATCHED = {(2, 2): Mm, (2, 1): Mv, (1, 1): Dot, (1, 2): VectorMatrix}


def _torch_kernel_name(a_ndim: int, b_ndim: int) -> str:
    """The name torch's CPU product of these ranks has in its dtype errors."""
    if a_ndim == 1 and b_ndim == 1:
        return "dot"
    if b_ndim == 1 and a_ndim == 2:
        return "addmv_impl_cpu"
    return "bmm" if a_ndim > 2 and b_ndim > 2 else "addmm_impl_cpu_"


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


# the dtypes of the GEMM kernel (native byte order), for matmul's shortcut
_GEMM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def matmul(input: Tensor, other: Tensor, *, out=None, function=None) -> Tensor:
    """torch.matmul: dot, matrix-vector, matrix-matrix and batched products. ``function``,
    when given, is the MatMul subclass to apply (bmm passes Bmm, for its node's name)."""
    if function is None and type(input) is Tensor and type(other) is Tensor:
        # The commonest call, two float matrices and no graph to record, goes straight to the
        # kernel: the general checks and MatMul.apply cost ~2 us, as much as a 64^3 product.
        a, b = input.array, other.array
        if (a.ndim == 2 and b.ndim == 2 and a.dtype in _GEMM_DTYPES and b.dtype is a.dtype
                and a.shape[1] == b.shape[0]
                and not (_GradMode.enabled and (input.requires_grad or other.requires_grad))):
            product = np.empty((a.shape[0], b.shape[1]), a.dtype)
            _gemm.gemm(a, b, product, False, get_num_threads())
            return wrap(product)
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                        f"{type(other if isinstance(input, Tensor) else input).__name__}")
    a, b = input.array, other.array
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{scalar_type_name(a.dtype)} != {scalar_type_name(b.dtype)}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_shape_text(a.shape)} and {_shape_text(b.shape)})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and "
                               f"{tuple(b.shape)} do not broadcast") from None
    if a.dtype.kind == "b":  # torch has no bool product
        raise NotImplementedError(f'"{_torch_kernel_name(a.ndim, b.ndim)}" not implemented for '
                                  f"'{type_name(a.dtype)}'")
    if a.dtype == np.float16:  # nor has minigrad's GEMM a half-precision one
        raise NotImplementedError("matmul: minigrad's GEMM has no float16 ('Half') kernel; "
                                  "use float32")
    if a.dtype.kind != "f":
        # Integer products are exact in numpy (wrapping as torch's) and carry no gradient.
        return Tensor(np.asarray(np.matmul(a, b)))
    if function is None:
        function = _UNBATCHED.get((a.ndim, b.ndim), MatMul)
    return function.apply(input, other)


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """The product of two matrices."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"self must be a matrix" if input.ndim != 2 else
                           "mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Products of two batches of matrices, (B, N, M) @ (B, M, P)."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2, function=Bmm)


# ----------------------------------------------------------------------------- einsum

class Einsum(ArrayFunction):
    """z = einsum(equation, a_1, ..., a_n): products of the operands summed over the letters
    missing from the output. The gradient of operand k is the einsum of g with the other
    operands onto k's letters; letters only k has are broadcast back, and a letter k repeats
    (a diagonal) gets the gradient on that diagonal only."""

    @staticmethod
    def forward(ctx, subscripts, output, *arrays):
        ctx.save_for_backward(*arrays)
        ctx.subscripts, ctx.output = subscripts, output
        return np.asarray(np.einsum(f"{','.join(subscripts)}->{output}", *arrays,
                                    optimize=len(arrays) > 2))

    @staticmethod
    def backward(ctx, grad):
        arrays = ctx.saved_tensors
        grads = [None, None]
        for k, (subscript, array) in enumerate(zip(ctx.subscripts, arrays)):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(ctx.subscripts, arrays)) if j != k]
            grads.append(_einsum_operand_grad(grad, ctx.output, others, subscript,
                                              tuple(array.shape)))
        return tuple(grads)


def _einsum_operand_grad(grad, output, others, subscript, shape):
    """d einsum / d operand (see Einsum): the operand's dims are labelled by its letters and,
    for "...", one label per ellipsis dim."""
    letters = subscript.replace("...", "")
    available = set(output.replace("...", "")) | {
        c for s, _ in others for c in s.replace("...", "")}
    ellipsis_ndim = len(shape) - len(letters)
    keep_dots = "..." in subscript and "..." in output
    unique = "".join(dict.fromkeys(c for c in letters if c in available))
    equation = (",".join([output] + [s for s, _ in others]) + "->"
                + ("..." if keep_dots else "") + unique)
    operands = [grad] + [a for _, a in others]
    if any(G.is_tensor(o) for o in operands):
        result = einsum(equation, *[o if G.is_tensor(o) else Tensor(np.asarray(o))
                                    for o in operands])
    else:
        result = np.einsum(equation, *operands)
    before = subscript.index("...") if "..." in subscript else len(letters)
    dots = [f".{i}" for i in range(ellipsis_ndim)]
    operand_labels = list(letters[:before]) + dots + list(letters[before:])
    dots_shape = shape[before:before + ellipsis_ndim]
    if keep_dots:
        extra = len(result.shape) - len(unique) - ellipsis_ndim
        if extra > 0:  # other operands broadcast the ellipsis to more dims
            result = result.sum(axis=tuple(range(extra)))
        broadcast = tuple(i for i, n in enumerate(dots_shape)
                          if n == 1 and result.shape[i] != 1)
        if broadcast:
            result = result.sum(axis=broadcast, keepdims=True)
    elif ellipsis_ndim:
        result = G.expand_dims(result, tuple(range(ellipsis_ndim)))
    labels = dots + list(unique)
    for c in dict.fromkeys(c for c in letters if c not in available):
        result = G.expand_dims(result, (len(labels),))  # summed in forward by this operand
        labels.append(c)
    distinct = list(dict.fromkeys(operand_labels))
    permutation = [labels.index(label) for label in distinct]
    if permutation != list(range(len(permutation))):
        result = G.permute(result, permutation)
    distinct_shape = tuple(shape[operand_labels.index(label)] for label in distinct)
    broadcast = tuple(i for i, (r, n) in enumerate(zip(result.shape, distinct_shape))
                      if n == 1 and r != 1)
    if broadcast:  # a size-1 dim the other operands broadcast
        result = result.sum(axis=broadcast, keepdims=True)
    if tuple(result.shape) != distinct_shape:
        result = G.broadcast_to(result, distinct_shape)
    if len(distinct) == len(operand_labels):
        return result
    grids = np.indices(distinct_shape, sparse=True)
    index = tuple(grids[distinct.index(label)] for label in operand_labels)
    return G.add_at_zeros(shape, index, result)  # a repeated letter: its diagonal


def _split_equation(equation: str, count: int):
    equation = equation.replace(" ", "")
    if "->" in equation:
        inputs, output = equation.split("->")
    else:
        inputs, output = equation, None
    subscripts = inputs.split(",")
    if len(subscripts) != count:
        raise RuntimeError(f"einsum(): more operands were provided than specified in the "
                           f"equation" if count > len(subscripts) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    for s in subscripts + ([output] if output is not None else []):
        body = s.replace("...", "")
        if "." in body or any(not c.isalpha() for c in body):
            raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index(s)} "
                               f"in the equation string, subscripts must be in [a-zA-Z]")
    if output is None:
        counts = {}
        for s in subscripts:
            for c in s.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        output = ("..." if any("..." in s for s in subscripts) else "") + "".join(
            sorted(c for c, n in counts.items() if n == 1))
    return subscripts, output


def einsum(equation, *operands) -> Tensor:
    """torch.einsum: sums of products of the operands' elements, named by letters
    ("ij,jk->ik", "bij,bjk->bik", "ii->i", "...ij->...ji"); without "->", the letters that
    appear once, in alphabetical order."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
    subscripts, output = _split_equation(equation, len(operands))
    for i, (s, t) in enumerate(zip(subscripts, operands)):
        letters = len(s.replace("...", ""))
        if ("..." not in s and letters != t.array.ndim) or letters > t.array.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({letters}) does not match the number of dimensions "
                               f"({t.array.ndim}) for operand {i}"
                               + (" and no ellipsis was given" if "..." not in s else ""))
    seen = {}
    for i, (s, t) in enumerate(zip(subscripts, operands)):
        head, _, tail = s.partition("...")
        sizes = list(zip(head, t.array.shape)) + list(
            zip(tail, t.array.shape[t.array.ndim - len(tail):] if tail else ()))
        for letter, size in sizes:
            known = seen.setdefault(letter, size)
            if size != known and 1 not in (size, known):
                raise RuntimeError(f"einsum(): subscript {letter} has size {size} for operand "
                                   f"{i} which does not broadcast with previously seen size "
                                   f"{known}")
            if known == 1:
                seen[letter] = size
    dtype = operands[0].dtype
    for t in operands[1:]:
        if t.dtype != dtype:
            raise RuntimeError(f"expected scalar type {scalar_type_name(dtype)} but found "
                               f"{scalar_type_name(t.dtype)}")
    if dtype == np.bool_ and len(operands) > 1 and any(
            n > 1 for letter, n in seen.items() if letter not in output):
        # torch contracts a summed letter with bmm, which has no bool kernel
        raise NotImplementedError('"bmm" not implemented for \'Bool\'')
    try:
        return Einsum.apply(tuple(subscripts), output, *operands)
    except ValueError as error:
        raise RuntimeError(f"einsum(): {error}") from None
