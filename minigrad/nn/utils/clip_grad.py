"""Gradient clipping, as torch.nn.utils.clip_grad.

clip_grad_norm_ scales every gradient by min(max_norm / (‖g‖ + 1e-6), 1), where ‖g‖ is the
norm_type-norm of all gradients seen as one vector (computed as the norm of the per-tensor
norms, as torch does); clip_grad_value_ clamps each gradient element into [-clip_value,
clip_value]. Both work in place on ``p.grad.array`` and bump the gradients' version counters.
Norms are accumulated in float64 and returned in the gradients' dtype (float32 and float64 mixed
give float64, as torch's type promotion does).
"""
import math

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """torch.linalg.vector_norm of a flat array, in float64."""
    values = np.abs(values.ravel().astype(np.float64, copy=False))
    if values.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(values.max())
    if norm_type == -math.inf:
        return float(values.min())
    if norm_type == 0:
        return float(np.count_nonzero(values))
    if norm_type == 1:
        return float(values.sum())
    if norm_type == 2:
        return math.sqrt(float(np.square(values).sum()))  # not np.dot: no BLAS threads
    return float(np.sum(values ** norm_type) ** (1.0 / norm_type))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The norm_type-norm of the given tensors (Tensors or arrays) seen as one vector."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, dtype=np.float32))
    arrays = [t.array if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
    dtype = np.result_type(*[a.dtype for a in arrays])
    # Each per-tensor norm is rounded to its tensor's dtype first, as torch stacks them.
    norms = np.array([a.dtype.type(_vector_norm(a, norm_type)) for a in arrays], dtype=dtype)
    total = dtype.type(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale the gradients by min(max_norm / (total_norm + 1e-6), 1), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    # In the norm's dtype, as torch computes it with a 0-d tensor.
    coefficient = np.minimum(float(max_norm) / (total + total.dtype.type(1e-6)), 1.0)
    for grad in grads:
        with np.errstate(invalid="ignore"):   # a non-finite norm scales to nan, as in torch
            np.multiply(grad.array, coefficient, out=grad.array, casting="unsafe")
        grad._version.value += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None) -> Tensor:
    """Clip the gradients of ``parameters`` to a total norm of at most ``max_norm``.

    Returns the total norm of the gradients before clipping, as a 0-d Tensor.
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            grad = p.grad.array
            np.clip(grad, -clip_value, clip_value, out=grad)
            p.grad._version.value += 1
