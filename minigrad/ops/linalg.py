"""Matrix multiplication on minigrad's GEMM kernel, with torch.matmul's shape rules.

1-D operands are promoted to matrices (a row vector on the left, a column vector on the right)
and the added dimension is removed from the result, inside the one node; leading dimensions
broadcast as batches. For Z = A B:  dA = G Bᵀ and dB = Aᵀ G, summed over broadcast batch
dimensions by the engine. The node is named as torch names the product's last node: MmBackward0,
MvBackward0, DotBackward0, SqueezeBackward4 (vector @ matrix), BmmBackward0 (torch.bmm) and
UnsafeViewBackward0 (other batched products).
"""
import numpy as np

from minigrad._kernels import gemm as _gemm
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import scalar_type_name
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads


def matrix_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for float arrays of ndim >= 2 with broadcast batch dimensions, on the kernel."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if a.ndim == 2 and b.ndim == 2:
        out = np.empty((m, n), dtype=a.dtype)
        _gemm.gemm(a, b, out, False, get_num_threads())
        return out
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3 = np.broadcast_to(a, batch + (m, k)).reshape(-1, m, k)
    b3 = np.broadcast_to(b, batch + (k, n)).reshape(-1, k, n)
    out = np.empty((a3.shape[0], m, n), dtype=a.dtype)
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


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


def matmul(input: Tensor, other: Tensor, *, out=None, function=None) -> Tensor:
    """torch.matmul: dot, matrix-vector, matrix-matrix and batched products. ``function``,
    when given, is the MatMul subclass to apply (bmm passes Bmm, for its node's name)."""
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
    if a.dtype.kind != "f":
        # Integer products are exact in numpy and carry no gradient.
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
