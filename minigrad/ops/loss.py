"""Losses, as torch.nn.functional: cross_entropy (one fused Cython kernel per direction),
nll_loss, mse_loss, l1_loss, binary_cross_entropy_with_logits, binary_cross_entropy,
smooth_l1_loss, huber_loss and kl_div (NumPy), cosine_embedding_loss and margin_ranking_loss
(composed of ops, as torch composes them). The math of the last six is in their docstrings.

Reductions: 'none' keeps the per-item losses, 'sum' adds them, 'mean' divides the sum by
the number of items, except for class-index cross_entropy and nll_loss with reduction='mean',
which divide by the sum of the target classes' weights over the items not ignored (torch's
rule; with no weight that is the count of items not ignored).

cross_entropy, eps = label_smoothing, lse = logsumexp over the classes, C classes:
    class index t:   loss = (1 - eps) w_t (lse - x_t) + eps/C * sum_c w_c (lse - x_c)
    probabilities q: loss = sum_c w_c q'_c (lse - x_c),  q' = (1 - eps) q + eps/C
nll_loss:       loss = -w_t x_t
mse_loss:       loss = (x - y)^2            l1_loss: loss = |x - y|
binary_cross_entropy_with_logits, L = 1 + (pos_weight - 1) y:
    loss = w ((1 - y) x + L softplus(-x)),  softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)

Inputs are validated here, before any kernel, with torch's exception types.
"""
import math
import numbers
import warnings

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad._kernels import loss as _kernels
from minigrad.autograd.function import ArrayFunction
from minigrad.autograd.grad_mode import is_grad_enabled
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import FLOATS as _FLOATS
from minigrad.ops.arguments import check_tensor as _check_tensor
from minigrad.ops.arguments import int_argument
from minigrad.ops.arguments import type_name as _torch_name
from minigrad.ops.elementwise import Clamp as _Clamp
from minigrad.ops.elementwise import broadcast_error as _broadcast_error
from minigrad.ops.elementwise import log_softmax as _log_softmax
from minigrad.ops.elementwise import where as _where
from minigrad.ops.promotion import result_type as _result_type
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "binary_cross_entropy_with_logits", "binary_cross_entropy", "smooth_l1_loss",
           "huber_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_ones_cache = {}


def _ones(n, dtype):
    """A read-only vector of ones, cached: the weight of an unweighted loss."""
    key = (n, np.dtype(dtype))
    if key not in _ones_cache:
        ones = np.ones(n, dtype=dtype)
        ones.flags.writeable = False
        _ones_cache[key] = ones
    return _ones_cache[key]


def _check_reduction(reduction):
    """The reduction torch's _Reduction.get_enum accepts: 'none', 'mean', 'sum', and the
    deprecated 'elementwise_mean' (as 'mean', with torch's warning)."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=4)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction, divisor):
    """Reduce an array of per-item losses; 0-d float arrays for 'sum' and 'mean'."""
    if reduction == "none":
        return loss
    total = float(loss.sum(dtype=np.float64))
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype)
    return np.asarray(_divide(total, float(divisor)), dtype=loss.dtype)


def _divide(total, divisor):
    """total / divisor in Python floats, with IEEE's answers for a zero divisor."""
    if divisor:
        return total / divisor
    return math.nan if total == 0 or math.isnan(total) else math.copysign(math.inf, total)


def _grad_per_item(grad, reduction, shape, divisor, dtype):
    """The upstream gradient of each item's loss, as an array (or tensor) of ``shape``."""
    if type(grad) is not np.ndarray and G.is_tensor(grad):
        if reduction == "none":
            return grad.reshape(shape)
        if reduction == "mean":
            if not G.is_tensor(divisor):
                divisor = np.asarray(divisor, dtype=dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad = grad / divisor
        return G.broadcast_to(grad, shape)
    if reduction == "none":
        return np.asarray(grad, dtype=dtype).reshape(shape)
    g = float(grad)
    return np.full(shape, _divide(g, divisor) if reduction == "mean" else g, dtype=dtype)


def _reduce_tensor(loss, reduction, divisor, shape):
    """The per-item losses of a decomposition (a tensor) reduced as the op reduces them."""
    if reduction == "none":
        return loss.reshape(shape)
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / np.asarray(divisor, dtype=loss.dtype)


# ----------------------------------------------------------------------------- class targets

def _class_layout(input, target, op):
    """Validate input (N, C, d...) or (C,) against a class-index target, in torch's order
    (batch size first); return (N, C, S), S the product of the d's."""
    shape = input.array.shape
    if input.array.ndim == 0:
        raise RuntimeError(f"{op}: input tensor should be 1D or more, got a 0-D tensor")
    if input.array.ndim >= 2 and target.array.ndim == 0 and shape[0] == 0:  # torch's words
        if input.array.ndim == 2:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, got []")
    if input.array.ndim > 1 and (target.array.ndim == 0 or target.array.shape[0] != shape[0]):
        got = target.array.shape[0] if target.array.ndim else 0
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({got}).")
    if target.array.dtype not in (np.dtype(np.int64), np.dtype(np.uint8)):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_torch_name(target.array.dtype)}")
    if input.array.ndim > 2 and target.array.dtype != np.int64:
        # torch's nll_loss2d and its N-d form take int64 targets only
        raise RuntimeError(f"expected scalar type Long but found "
                           f"{_torch_name(target.array.dtype)}")
    if input.array.ndim == 1:
        if target.array.ndim == 1 and target.array.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.array.shape[0]}")
        if target.array.ndim > 1 or target.numel() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return 1, shape[0], 1
    if input.array.ndim == 2 and target.array.ndim != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.array.shape != shape[:1] + shape[2:]:
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, got "
                           f"{list(target.array.shape)}")
    return shape[0], shape[1], math.prod(shape[2:])


def _check_classes(target, n_classes, ignore_index):
    """IndexError naming the first target outside [0, C) that is not ignore_index; returns
    the targets as a C-contiguous int64 array."""
    target = np.asarray(target, dtype=np.int64, order="C")  # keeps a 0-d target 0-d
    bad = _kernels.first_bad_target(target.reshape(-1), n_classes, ignore_index)
    if bad >= 0:
        raise IndexError(f"Target {int(target.flat[bad])} is out of bounds.")
    return target


def _check_label_smoothing(label_smoothing):
    """A float in [0, 1]; torch applies no smoothing for a negative or NaN value."""
    if not isinstance(label_smoothing, numbers.Real) or label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    return float(label_smoothing) if label_smoothing > 0.0 else 0.0


def _check_weight(weight, n_classes, dtype, op):
    if weight is None:
        return None
    _check_tensor(weight, "weight", op)
    if weight.array.ndim != 1 or weight.array.shape[0] != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.array.shape)}")
    if weight.array.dtype != dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(dtype)} but found "
                           f"{_torch_name(weight.array.dtype)}")
    return weight


def _check_weight_needs_no_grad(weight):
    """torch's class-index losses have no derivative for the class weights."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'nll_loss_forward' is not differentiable with respect "
                           "to argument 'weight'. This input cannot have requires_grad True.")


class CrossEntropy(ArrayFunction):
    """Fused log-softmax + NLL with class-index targets; see kernels/loss.pyx for the math."""

    node_name = "NllLossBackward0"  # torch's name; cross_entropy is one fused node here

    @staticmethod
    def forward(ctx, x, target, weight, layout, ignore_index, reduction, label_smoothing):
        N, C, S = layout
        x3 = np.ascontiguousarray(x).reshape(N, C, S)
        t2 = target.reshape(N, S)  # int64, C-contiguous: cross_entropy made it so
        w = _ones(C, x.dtype) if weight is None else np.ascontiguousarray(weight)
        maxima, log_sums, loss = np.empty((3, N, S), dtype=x.dtype)
        loss_total, weight_total = _kernels.cross_entropy_forward(
            x3, t2, w, ignore_index, label_smoothing, maxima, log_sums, loss, get_num_threads())
        if C == 0 and label_smoothing:  # torch's smoothing term: 0 * (eps / 0), NaN
            loss[...] = np.nan
            loss_total = math.nan
        # x itself, so in-place changes are caught
        ctx.save_for_backward(x, t2, w, maxima, log_sums)
        ctx.args = (ignore_index, reduction, label_smoothing, weight_total, layout)
        ctx.target_shape = target.shape
        if reduction == "none":
            return loss.reshape(target.shape)
        if reduction == "sum":
            return np.asarray(loss_total, dtype=x.dtype)
        return np.asarray(_divide(loss_total, weight_total), dtype=x.dtype)

    @staticmethod
    def decomposition(ctx, x, t2, w, maxima, log_sums):
        """log_softmax + a weighted pick of the target class (and the smoothing term), in
        recorded ops (for create_graph=True); ignored items are masked out, not multiplied
        by 0 (a -inf log-probability there would make NaN)."""
        ignore_index, reduction, label_smoothing, weight_total, (N, C, S) = ctx.args
        w = w.array if G.is_tensor(w) else w
        log_p = _log_softmax(x.reshape(N, C, S), 1)
        keep = t2 != ignore_index
        safe = np.where(keep, t2, 0)
        w_t = np.where(keep, w[safe], 0).astype(x.dtype)
        picked = G.gather_along(log_p, safe[:, None, :], 1).reshape(N, S)
        loss = picked * (-(1 - label_smoothing) * w_t)
        if label_smoothing:
            smooth = (log_p * w.reshape(1, C, 1).astype(x.dtype)).sum(axis=1)
            loss = loss - smooth * (label_smoothing / C)
        loss = G.where(keep, loss, np.zeros((), x.dtype))
        return _reduce_tensor(loss, reduction, weight_total, ctx.target_shape)

    @staticmethod
    def backward(ctx, grad):
        x, t2, w, maxima, log_sums = ctx.saved_tensors
        ignore_index, reduction, label_smoothing, weight_total, layout = ctx.args
        grad_x = None
        if ctx.needs_input_grad[0]:
            x3 = np.ascontiguousarray(x).reshape(layout)
            g = _grad_per_item(grad, reduction, t2.shape, weight_total, x.dtype)
            grad_x = np.empty(layout, dtype=x.dtype)
            _kernels.cross_entropy_backward(x3, t2, w, ignore_index, label_smoothing, maxima,
                                            log_sums, g, grad_x, get_num_threads())
            grad_x = grad_x.reshape(x.shape)
        return grad_x, None, None, None, None, None, None


# ----------------------------------------------------------------------------- prob targets

def _prob_items(numel, n_classes):
    """The divisor of reduction='mean' with probability targets: the items, numel / C, and
    0 for an empty input (whose mean is NaN, as torch's)."""
    return numel // n_classes if numel else 0


class CrossEntropyProbs(ArrayFunction):
    """Fused log-softmax + cross-entropy against class probabilities (same shape as x).
    dx_c = g (p_c sum_k w_k q'_k - w_c q'_c);  dq_c = -g (1 - eps) w_c log p_c;
    dw_c = -sum over items of g q'_c log p_c."""

    @staticmethod
    def forward(ctx, x, target, weight, layout, reduction, label_smoothing):
        N, C, S = layout
        x3 = np.ascontiguousarray(x).reshape(N, C, S)
        q3 = np.ascontiguousarray(target, dtype=x.dtype).reshape(N, C, S)
        w = _ones(C, x.dtype) if weight is None else np.ascontiguousarray(weight)
        maxima, log_sums, loss = np.empty((3, N, S), dtype=x.dtype)
        loss_total = _kernels.cross_entropy_prob_forward(x3, q3, w, label_smoothing, maxima,
                                                         log_sums, loss, get_num_threads())
        # the inputs themselves: versions checked
        ctx.save_for_backward(x, target, w, maxima, log_sums)
        ctx.args = (reduction, label_smoothing, layout)
        if reduction == "none":
            return loss.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        if reduction == "sum":
            return np.asarray(loss_total, dtype=x.dtype)
        return np.asarray(_divide(loss_total, _prob_items(x.size, C)), dtype=x.dtype)

    @staticmethod
    def decomposition(ctx, x, target, w, maxima, log_sums):
        """-Σ_c w_c q'_c log_softmax(x)_c per item, in recorded ops."""
        reduction, label_smoothing, (N, C, S) = ctx.args
        log_p = _log_softmax(x.reshape(N, C, S), 1)
        q = target.reshape(N, C, S) * (1 - label_smoothing) + label_smoothing / max(C, 1)
        loss = -(log_p * q * w.reshape(1, C, 1)).sum(axis=1)
        shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
        return _reduce_tensor(loss, reduction, _prob_items(N * C * S, C), shape)

    @staticmethod
    def backward(ctx, grad):
        x, target, w, maxima, log_sums = ctx.saved_tensors
        reduction, label_smoothing, (N, C, S) = ctx.args
        shape = x.shape
        x3 = np.ascontiguousarray(x).reshape(N, C, S)
        q3 = np.ascontiguousarray(target, dtype=x.dtype).reshape(N, C, S)
        g = _grad_per_item(grad, reduction, (N, S), _prob_items(x.size, C), x.dtype)
        grad_x = grad_q = None
        if ctx.needs_input_grad[0]:
            grad_x = np.empty_like(x3)
            _kernels.cross_entropy_prob_backward(x3, q3, w, label_smoothing, maxima, log_sums,
                                                 g, grad_x, get_num_threads())
            grad_x = grad_x.reshape(shape)
        grad_w = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            log_p = (x3 - maxima[:, None, :]) - log_sums[:, None, :]
            log_p_g = log_p * g[:, None, :]
            if ctx.needs_input_grad[1]:
                grad_q = (-(1 - label_smoothing) * w[None, :, None] * log_p_g).reshape(shape)
            if ctx.needs_input_grad[2]:
                smoothed = (1 - label_smoothing) * q3 + label_smoothing / max(C, 1)
                grad_w = -(smoothed * log_p_g).sum(axis=(0, 2))
        return grad_x, grad_q, grad_w, None, None, None


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C, d...) or (C,) and class indices (int64,
    shape (N, d...) or ()) or class probabilities (float, the shape of input)."""
    op = "cross_entropy"
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    ignore_index = int_argument(ignore_index, "ignore_index", op)
    label_smoothing = _check_label_smoothing(label_smoothing)
    if input.array.shape == target.array.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing)
    _check_logits(input)  # torch's log_softmax runs first
    layout = _class_layout(input, target, op)
    weight = _check_weight(weight, layout[1], input.array.dtype, op)
    _check_weight_needs_no_grad(weight)
    classes = _check_classes(target.array, layout[1], ignore_index)
    if label_smoothing > 0 and weight is not None and target.array.dtype == np.uint8:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")  # torch's term
    if input.array.ndim == 1 and target.array.ndim == 1 and label_smoothing > 0:
        # torch adds the smoothing term (shape ()) into the nll term (shape (1,)) in place
        raise RuntimeError("output with shape [] doesn't match the broadcast shape [1]")
    return CrossEntropy.apply(input, classes, weight, layout, ignore_index, reduction,
                              label_smoothing)


def _check_logits(input):
    if input.array.dtype not in _FLOATS:
        raise NotImplementedError(f'"log_softmax" not implemented for '
                                  f"'{_torch_name(input.array.dtype)}'")


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy against class probabilities, in torch's result dtype: the promotion of
    the logits', the target's and the weight's (float32 logits, float64 target: float64)."""
    op = "cross_entropy"
    if target.array.dtype not in _FLOATS:
        raise RuntimeError(f"Expected floating point type for target with class "
                           f"probabilities, got {_torch_name(target.array.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    _check_logits(input)  # after the target's checks, as torch
    if input.array.ndim == 0:
        raise RuntimeError(f"{op}: input tensor should be 1D or more, got a 0-D tensor")
    shape = input.array.shape if input.array.ndim > 1 else (1,) + input.array.shape
    layout = shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64))
    dtype = target.array.dtype
    if weight is not None:
        _check_tensor(weight, "weight", op)
        _check_weight(weight, layout[1], weight.array.dtype, op)
        if weight.array.dtype in _FLOATS:  # an integer or bool weight takes the float dtype
            dtype = np.promote_types(dtype, weight.array.dtype)
    dtype = np.promote_types(dtype, input.array.dtype)
    # The kernels take one dtype: a narrower operand is widened by a recorded cast, whose
    # gradient comes back in the operand's own dtype.
    input, target, weight = (t if t is None or t.array.dtype == dtype else t.to(dtype)
                             for t in (input, target, weight))
    return CrossEntropyProbs.apply(input, target, weight, layout, reduction, label_smoothing)


# ----------------------------------------------------------------------------- nll_loss

class NLLLoss(ArrayFunction):
    """loss = -w_t x[t] per item; dx[t] = -w_t g. An item with t == ignore_index has loss 0
    and gradient 0 whatever x and g hold (a -inf there, or the NaN upstream gradient of the
    mean over a batch with every item ignored, stays out), as torch's."""

    node_name = "NllLossBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, target, weight, layout, ignore_index, reduction):
        N, C, S = layout
        x3 = x.reshape(N, C, S)
        t2 = target.astype(np.int64, copy=False).reshape(N, S)
        keep = t2 != ignore_index
        safe = np.where(keep, t2, 0)
        w = _ones(C, x.dtype) if weight is None else weight
        w_t = np.where(keep, w[safe] if C else 0, 0).astype(x.dtype)
        if C:
            picked = np.take_along_axis(x3, safe[:, None, :], axis=1)[:, 0, :]
        else:  # only ignored items (the front door checked): nothing to pick
            picked = np.zeros((N, S), x.dtype)
        with np.errstate(invalid="ignore"):
            loss = np.where(keep, -w_t * picked, x.dtype.type(0))
        weight_total = w_t.sum(dtype=np.float64)
        ctx.save_for_backward(keep, safe, w_t)
        ctx.args = (reduction, weight_total, x.shape, layout)
        return _reduce(loss.reshape(target.shape), reduction, weight_total)

    @staticmethod
    def backward(ctx, grad):
        keep, safe, w_t = ctx.saved_tensors
        reduction, weight_total, shape, (N, C, S) = ctx.args
        if C == 0:  # an empty input: an empty gradient (a tensor when recorded)
            empty = np.zeros(shape, w_t.dtype)
            grad_x = Tensor(empty) if G.is_tensor(grad) else empty
            return grad_x, None, None, None, None, None
        g = _grad_per_item(grad, reduction, (N, S), weight_total, w_t.dtype)
        with np.errstate(invalid="ignore"):
            item = G.where(keep, g * -w_t, np.zeros((), w_t.dtype))
        grad_x = G.scatter_into_zeros((N, C, S), safe[:, None, :], item[:, None, :], 1)
        return grad_x.reshape(shape), None, None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, d...) or (C,) at class
    indices ``target``."""
    op = "nll_loss"
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    ignore_index = int_argument(ignore_index, "ignore_index", op)
    layout = _class_layout(input, target, op)
    if weight is not None:
        _check_weight(weight, layout[1], weight.array.dtype, op)
    if input.array.dtype not in _FLOATS:  # after the shapes, as torch
        raise NotImplementedError(f'"nll_loss_out_frame" not implemented for '
                                  f"'{_torch_name(input.array.dtype)}'")
    weight = _check_weight(weight, layout[1], input.array.dtype, op)
    _check_weight_needs_no_grad(weight)
    classes = _check_classes(target.array, layout[1], ignore_index)
    return NLLLoss.apply(input, classes, weight, layout, ignore_index, reduction)


# ----------------------------------------------------------------------------- regression

def _legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated size_average/reduce flags, mapped onto ``reduction``."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    return _check_reduction(reduction)


def _regression_inputs(input, target, weight, op, promote=True):
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if target.array.shape != input.array.shape:
        warnings.warn(f"Using a target size ({list(target.array.shape)}) that is different to the "
                      f"input size ({list(input.array.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
    if weight is not None:
        _check_tensor(weight, "weight", op)
    try:  # torch broadcasts input and target first
        np.broadcast_shapes(input.array.shape, target.array.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shapes of input {list(input.array.shape)} and target "
                           f"{list(target.array.shape)} cannot be broadcast together") from None
    if weight is not None and weight.array.shape != input.array.shape:
        raise ValueError("Weights and input must have the same size.")
    return _promoted(input, target, weight, op) if promote else (input, target, weight)


def _promoted(input, target, weight, op):
    """input, target and weight in torch's result dtype (float32 logits with a float64 target
    give float64; an integer operand takes the float one's dtype): a narrower operand is
    widened by a recorded cast."""
    # torch broadcasts the operands first: a 0-d one promotes as any other
    dtype = _dtypes.promote(input.array.dtype, target.array.dtype)
    if weight is not None:
        dtype = _dtypes.promote(dtype, weight.array.dtype)
    if dtype.kind != "f":
        if op == "mse_loss":
            raise NotImplementedError(f'"mse_cpu" not implemented for \'{_torch_name(dtype)}\'')
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {_torch_name(dtype)}")
    if op == "l1_loss" and np.dtype(np.bool_) in (input.array.dtype, target.array.dtype):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return tuple(t if t is None or t.array.dtype == dtype else t.to(dtype)
                 for t in (input, target, weight))


def _sum_to(x, shape):
    """x summed over the dims a broadcast to ``shape`` added or widened (arrays or tensors)."""
    extra = len(x.shape) - len(shape)
    if extra:
        x = x.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, (a, b) in enumerate(zip(x.shape, shape)) if a != b)
    return x.sum(axis=axes, keepdims=True) if axes else x


class _PointwiseLoss(ArrayFunction):
    """loss = w f(x - y), reduced;  dx = w f'(x - y) g,  dy = -dx,  dw = f(x - y) g, or
    (f(x - y) - mean) g for a weighted mean, which divides by Σw. Subclasses give f and f'."""

    @staticmethod
    def pointwise(diff):
        raise NotImplementedError

    @staticmethod
    def slope(diff):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, y, w, reduction):
        diff = np.subtract(x, y, dtype=x.dtype)
        loss = cls.pointwise(diff) if w is None else w * cls.pointwise(diff)
        ctx.reduction = reduction
        ctx.divisor = loss.size if w is None else w.sum(dtype=np.float64)
        out = _reduce(np.asarray(loss, dtype=x.dtype), reduction, ctx.divisor)
        ctx.weighted_mean = w is not None and reduction == "mean"
        ctx.save_for_backward(x, y, w, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, y, w, out = ctx.saved_tensors
        diff = x - y
        divisor = ctx.divisor
        if ctx.weighted_mean and G.is_tensor(grad):
            divisor = w.sum()  # recorded: the mean's divisor depends on the weights
        g = _grad_per_item(grad, ctx.reduction, tuple(diff.shape), divisor, x.dtype)
        # w g first: a huge weight times a huge slope would overflow before the mean's 1/Σw
        grad_x = cls.slope(diff) * g if w is None else cls.slope(diff) * (w * g)
        grad_y = -grad_x if ctx.needs_input_grad[1] else None
        grad_w = None
        if ctx.needs_input_grad[2]:
            item = cls.pointwise(diff)
            grad_w = item * g
            if ctx.weighted_mean:  # the mean's -out/Σw, once per weight (not per item of a
                # target that broadcasts the loss past the weight's shape)
                grad_w = _sum_to(grad_w, tuple(w.shape)) - out * _grad_per_item(
                    grad, "mean", tuple(w.shape), divisor, x.dtype)
        return grad_x, grad_y, grad_w, None


class MSELoss(_PointwiseLoss):
    """Squared error: f(d) = d², f'(d) = 2d."""

    node_name = "MseLossBackward0"  # torch's grad_fn name

    @staticmethod
    def pointwise(diff):
        return diff * diff

    @staticmethod
    def slope(diff):
        return 2 * diff


class L1Loss(_PointwiseLoss):
    """Absolute error: f(d) = |d|, f'(d) = sign(d) (0 at 0, as torch)."""

    @staticmethod
    def pointwise(diff):
        return abs(diff)

    @staticmethod
    def slope(diff):
        return G.sign(diff)


def _weighted_reduction(reduction, weight):
    """torch's weighted mse/l1 forms accept only the three current reductions."""
    if weight is not None and reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         f"'mean', 'sum'.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (target broadcast against input, dtypes promoted, as torch)."""
    _weighted_reduction(reduction, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target, weight = _regression_inputs(input, target, weight, "mse_loss")
    return MSELoss.apply(input, target, weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (target broadcast against input, dtypes promoted, as torch;
    integers too when nothing is averaged)."""
    _weighted_reduction(reduction, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if (weight is None and reduction != "mean" and isinstance(input, Tensor)
            and isinstance(target, Tensor) and input.array.dtype.kind in "iu"
            and target.array.dtype.kind in "iu"):
        # torch's |x - y| of integers, summed in int64 (no gradient)
        _regression_inputs(input, target, None, "l1_loss", promote=False)
        loss = np.abs(np.subtract(input.array, target.array))
        return Tensor(loss if reduction == "none" else np.asarray(loss.sum(dtype=np.int64)))
    input, target, weight = _regression_inputs(input, target, weight, "l1_loss")
    return L1Loss.apply(input, target, weight, reduction)


# ----------------------------------------------------------------------------- BCE with logits

class BCEWithLogits(ArrayFunction):
    """loss = w ((1 - y) x + L softplus(-x)), L = 1 + (pw - 1) y;
    dx = w ((1 - y) + L (sigmoid(x) - 1)) g,  dy = w (-x + (pw - 1) softplus(-x)) g.
    As torch, no gradient for w or pw (binary_cross_entropy_with_logits refuses them)."""

    node_name = "BinaryCrossEntropyWithLogitsBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, y, w, pos_weight, reduction):
        y = y.astype(x.dtype, copy=False)
        softplus_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + scale * softplus_neg
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w, pos_weight)
        ctx.reduction = reduction
        return _reduce(np.asarray(loss, dtype=x.dtype), reduction, loss.size)

    @staticmethod
    def decomposition(ctx, x, y, w, pos_weight):
        """The forward in recorded ops: softplus(-x) = log(1 + e^-|x|) + relu(-x)."""
        y = G.astype(y, x.dtype)
        softplus_neg = G.log(G.exp(-abs(x)) + 1) + (-x).relu()
        scale = 1 if pos_weight is None else (pos_weight - 1) * y + 1
        loss = (1 - y) * x + softplus_neg * scale
        if w is not None:
            loss = loss * w
        return _reduce_tensor(loss, ctx.reduction, loss.numel(), tuple(loss.shape))

    @staticmethod
    def backward(ctx, grad):
        x, y, w, pos_weight = ctx.saved_tensors
        shape = np.broadcast_shapes(x.shape, y.shape)
        g = _grad_per_item(grad, ctx.reduction, shape, int(np.prod(shape)), x.dtype)
        if w is not None:
            g = g * w
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            sigmoid = 0.5 * (1 + np.tanh(0.5 * x))  # stable for large |x|
            scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
            grad_x = ((1 - y) + scale * (sigmoid - 1)) * g
        if ctx.needs_input_grad[1]:
            softplus_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
            grad_y = -x * g if pos_weight is None else (-x + (pos_weight - 1) * softplus_neg) * g
        return grad_x, grad_y, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input) against target in [0, 1], computed stably from
    the logits; pos_weight (broadcast along the last dimension) weighs the positive term."""
    op = "binary_cross_entropy_with_logits"
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Target size ({list(target.array.shape)}) must be the same as input size "
                         f"({list(input.array.shape)})")
    if input.array.dtype not in _FLOATS:
        raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for '
                                  f"'{_torch_name(input.array.dtype)}'")
    if target.array.dtype not in _FLOATS:
        raise RuntimeError(f"result type {_torch_name(input.array.dtype)} can't be cast to the "
                           f"desired output type {_torch_name(target.array.dtype)}")
    # torch's result has the target's dtype (its in-place steps write into (1 - target)),
    # whatever the logits' and the weights' dtypes; the steps and the gradients are computed
    # in the widest of the float dtypes
    result_dtype = target.array.dtype
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is None:
            continue
        _check_tensor(extra, name, op)
        if name == "pos_weight" and extra.array.dtype == np.bool_:  # torch's pos_weight - 1
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        if extra.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function '{op}' is not differentiable with respect to "
                               f"argument '{name}'. This input cannot have requires_grad True.")
        try:
            shape = np.broadcast_shapes(extra.array.shape, input.array.shape)
        except ValueError:
            raise RuntimeError(f"{op}: {name} of shape {list(extra.array.shape)} cannot be "
                               f"broadcast to the input's shape {list(input.array.shape)}") \
                from None
        if shape != input.array.shape:  # torch applies it in place on the loss
            raise RuntimeError(f"output with shape {list(input.array.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
    if pos_weight is not None and pos_weight.array.dtype.kind in "iu":
        # torch computes pos_weight - 1 in its integer dtype (an unsigned 0 wraps to 255)
        array = pos_weight.array
        pos_weight = Tensor((array - np.ones((), array.dtype)).astype(result_dtype) + 1)
    dtype = result_dtype
    for t in (input, weight, pos_weight):
        if t is not None and t.array.dtype in _FLOATS:
            dtype = np.promote_types(dtype, t.array.dtype)
    input, target, weight, pos_weight = (
        t if t is None or t.array.dtype == dtype else t.to(dtype)
        for t in (input, target, weight, pos_weight))
    loss = BCEWithLogits.apply(input, target, weight, pos_weight, reduction)
    return loss if dtype == result_dtype else loss.to(result_dtype)


# ----------------------------------------------------------------------------- more losses:
# binary_cross_entropy, smooth_l1_loss, huber_loss, kl_div (own Functions, backward written
# with grad_math so that create_graph records it), cosine_embedding_loss and
# margin_ranking_loss (composed of ops, as torch composes them: the same nodes, gradients and
# double backward).

_BCE_EPSILON = 1e-12        # torch's floor under x (1 - x) in the gradient
_BCE_LOG_FLOOR = -100.0     # torch's floor under both logs: x = 0 or 1 gives a finite loss
_COSINE_EPSILON = 1e-12     # torch's term added to each squared norm


class ClampMin(_Clamp):
    """max(x, m) as torch's clamp_min records it (its node name), for the composed losses."""

    node_name = "ClampMinBackward0"


def _reduce_composed(loss, reduction):
    """torch's apply_loss_reduction on a tensor of per-item losses (recorded ops)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_pair(input, target, op, warn_on_broadcast=True):
    """torch's checks of an (input, target) pair that broadcast: a warning when the shapes
    differ, RuntimeError when they do not broadcast."""
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if warn_on_broadcast and target.array.shape != input.array.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
    try:
        np.broadcast_shapes(input.array.shape, target.array.shape)
    except ValueError:
        raise _broadcast_error(input.array, target.array) from None


def _as_dtype(t, dtype):
    return t if t.array.dtype == dtype else t.type(dtype)


class BinaryCrossEntropy(ArrayFunction):
    """loss = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)), x in [0, 1];
    dx = w g (x - y) / max(x (1 - x), 1e-12),  dy = w g (log(1 - x) - log x) (torch's
    -logit(x)). As torch, the weight w gets no gradient."""

    node_name = "BinaryCrossEntropyBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), _BCE_LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-x), _BCE_LOG_FLOOR)
        loss = (y - 1) * log_1mx - y * log_x
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w)
        ctx.reduction = reduction
        return _reduce(np.asarray(loss, dtype=x.dtype), reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, y, w = ctx.saved_tensors
        g = _grad_per_item(grad, ctx.reduction, tuple(x.shape), math.prod(x.shape), x.dtype)
        if w is not None:
            g = g * w
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            spread = (1 - x) * x
            grad_x = g * (x - y) / G.where(spread > _BCE_EPSILON, spread, _BCE_EPSILON)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_y = g * -G.log(x / (1 - x))
        return grad_x, grad_y, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` in
    [0, 1] (same shape); ``weight`` broadcasts to it. Both logs are floored at -100."""
    op = "binary_cross_entropy"
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the "
                         "same size.")
    x, y = input.array, target.array
    if x.dtype not in _FLOATS:
        raise NotImplementedError(f'"{op}" not implemented for \'{_torch_name(x.dtype)}\'')
    if y.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_torch_name(y.dtype)} but expected "
                           f"{_torch_name(x.dtype)}")
    if weight is not None:
        _check_tensor(weight, "weight", op)
        try:
            shape = np.broadcast_shapes(y.shape, weight.array.shape)
        except ValueError:
            raise RuntimeError(f"{op}: the weight of shape {list(weight.array.shape)} does not "
                               f"broadcast to the target's shape {list(y.shape)}") from None
        if shape != x.shape:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                               f"shape {list(shape)}")
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function '{op}' is not differentiable with respect to "
                               "argument 'weight'. This input cannot have requires_grad True.")
        if weight.array.dtype != x.dtype:
            weight = weight.type(x.dtype)
    if not bool(((x >= 0) & (x <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not bool(((y >= 0) & (y <= 1)).all()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class _QuadraticThenLinear(ArrayFunction):
    """d = x - y, a loss quadratic in d for |d| < t and linear beyond (t: beta or delta);
    subclasses give the two pieces and the slopes. dx = g slope(d), dy = -dx, where the slope
    is the quadratic's inside and ±edge outside (so the second derivative is 0 from |d| = t
    on, as torch's)."""

    @staticmethod
    def quadratic(size, t):
        raise NotImplementedError

    @staticmethod
    def linear(size, t):
        raise NotImplementedError

    @staticmethod
    def inner_slope(diff, t):
        raise NotImplementedError

    @staticmethod
    def edge_slope(t):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, y, reduction, t):
        diff = x - y
        size = np.abs(diff)
        loss = np.where(size < t, cls.quadratic(size, t), cls.linear(size, t))
        ctx.save_for_backward(x, y)
        ctx.args = reduction, t, diff.shape
        return _reduce(np.asarray(loss, dtype=diff.dtype), reduction, diff.size)

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        reduction, t, shape = ctx.args
        diff = x - y
        g = _grad_per_item(grad, reduction, shape, math.prod(shape), x.dtype)
        edge = cls.edge_slope(t)
        slope = G.where(diff <= -t, -edge, G.where(diff >= t, edge, cls.inner_slope(diff, t)))
        grad_x = slope * g
        return grad_x, -grad_x if ctx.needs_input_grad[1] else None, None, None


class SmoothL1Loss(_QuadraticThenLinear):
    """loss = 0.5 d² / β where |d| < β, else |d| - 0.5 β;  slope d / β inside, ±1 outside."""

    @staticmethod
    def quadratic(size, beta):
        return 0.5 * size * size / beta

    @staticmethod
    def linear(size, beta):
        return size - 0.5 * beta

    @staticmethod
    def inner_slope(diff, beta):
        return diff / beta

    @staticmethod
    def edge_slope(beta):
        return 1.0


class HuberLoss(_QuadraticThenLinear):
    """loss = 0.5 d² where |d| < δ, else δ (|d| - 0.5 δ);  slope d inside, ±δ outside."""

    @staticmethod
    def quadratic(size, delta):
        return 0.5 * size * size

    @staticmethod
    def linear(size, delta):
        return delta * (size - 0.5 * delta)

    @staticmethod
    def inner_slope(diff, delta):
        return diff

    @staticmethod
    def edge_slope(delta):
        return delta


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: squared below ``beta``, absolute above (target broadcast against input, as
    torch); beta = 0 is l1_loss."""
    _check_pair(input, target, "smooth_l1_loss")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta == 0.0:
        shape = np.broadcast_shapes(input.array.shape, target.array.shape)
        return l1_loss(input.expand(shape), target.expand(shape), reduction=reduction)
    if beta < 0:  # torch's kernel checks beta before the dtypes
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    # torch broadcasts the pair first: a 0-d operand then promotes like any other
    dtype = _dtypes.promote(input.array.dtype, target.array.dtype)
    if dtype.kind != "f":
        raise NotImplementedError(f'"smooth_l1_cpu" not implemented for '
                                  f"'{_torch_name(dtype)}'")
    input, target = _as_dtype(input, dtype), _as_dtype(target, dtype)
    return SmoothL1Loss.apply(input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber: squared below ``delta``, delta-scaled absolute above (target broadcast against
    input, cast to the input's dtype as torch's kernel does). ``weight`` (input's shape)
    multiplies the per-item losses before the reduction, and gets a gradient, as in torch."""
    _check_pair(input, target, "huber_loss")
    if weight is None:  # torch: the reduction's name, then delta, then the dtypes
        reduction = _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    dtype = _dtypes.promote(input.array.dtype, target.array.dtype)
    if dtype.kind != "f":
        raise NotImplementedError(f'"huber_cpu" not implemented for \'{_torch_name(dtype)}\'')
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"result type {_torch_name(dtype)} can't be cast to the desired "
                           f"output type {_torch_name(input.array.dtype)}")
    target = _as_dtype(target, input.array.dtype)
    if weight is None:
        return HuberLoss.apply(input, target, reduction, float(delta))
    _check_tensor(weight, "weight", "huber_loss")
    if weight.array.shape != input.array.shape:
        raise ValueError("Weights and input must have the same size.")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         "'mean', 'sum'.")
    return _reduce_composed(HuberLoss.apply(input, target, "none", float(delta)) * weight,
                            reduction)


class KLDivergence(ArrayFunction):
    """Pointwise KL divergence of log-probabilities x from probabilities t, as torch composes
    it: xlogy(t, t) - t x (0 where t = 0);  dx = -g t,
    dt = g (log t [0 where t = 0] + t / t - x) (NaN where t = 0, as in torch)."""

    node_name = "SubBackward0"  # torch's last node of xlogy(t, t) - t * x

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_log_t = np.where(t == 0, 0, t * np.log(t))
        return t_log_t - t * x

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = -grad * t
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_t = grad * G.where(t != 0, G.log(t), 0.0) + grad * t / t - grad * x
        return grad_x, grad_t


class KLDivergenceLogTarget(ArrayFunction):
    """Pointwise KL divergence with log-probabilities t: e^t (t - x);
    dx = -g e^t,  dt = g e^t + g (t - x) e^t."""

    node_name = "MulBackward0"  # torch's last node of exp(t) * (t - x)

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return np.exp(t) * (t - x)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        scaled = grad * G.exp(t)
        grad_x = -scaled if ctx.needs_input_grad[0] else None
        grad_t = scaled + scaled * (t - x) if ctx.needs_input_grad[1] else None
        return grad_x, grad_t


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of ``input`` (log-probabilities) from ``target`` (probabilities, or
    log-probabilities with log_target), broadcast. Reductions: 'none', 'sum', 'mean' (over
    every element, with torch's warning), 'batchmean' (the sum over input.size(0))."""
    op = "kl_div"
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if size_average is not None or reduce is not None:
        reduced_as = _legacy_reduction(size_average, reduce, "mean")
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        reduced_as = "sum" if reduction == "batchmean" else reduction
        _check_reduction(reduced_as)
    if input.array.dtype.kind not in "fc" or target.array.dtype.kind not in "fc":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    _check_pair(input, target, op, warn_on_broadcast=False)
    dtype = _result_type(input, target)   # torch composes it of ops: their promotion
    input, target = _as_dtype(input, dtype), _as_dtype(target, dtype)
    pointwise = (KLDivergenceLogTarget if log_target else KLDivergence).apply(input, target)
    loss = _reduce_composed(pointwise, reduced_as)
    if reduction == "batchmean" and input.array.ndim != 0:
        loss = loss / input.array.shape[0]
    return loss


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """Per pair (rows of input1, input2; target ±1): 1 - cos where target = 1,
    max(0, cos - margin) where target = -1 (0 for other targets), with
    cos = Σ a b / sqrt((Σ a² + 1e-12)(Σ b² + 1e-12)) — composed as torch composes it."""
    op = "cosine_embedding_loss"
    for name, value in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(value, name, op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    dim = target.array.ndim
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.array.ndim != dim + 1 or input2.array.ndim != dim + 1:
        expects = "1D target tensor expects 2D" if dim else "0D target tensor expects 1D"
        raise RuntimeError(f"{expects} input tensors, but found inputs with sizes "
                           f"{list(input1.array.shape)} and {list(input2.array.shape)}.")
    prod_sum = (input1 * input2).sum(dim)
    mag_square1 = (input1 * input1).sum(dim) + _COSINE_EPSILON
    mag_square2 = (input2 * input2).sum(dim) + _COSINE_EPSILON
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = G.zeros_like(cos)
    positive = _where(target == 1, 1 - cos, zeros)
    negative = _where(target == -1, ClampMin.apply(cos - margin, 0, None), zeros)
    return _reduce_composed(positive + negative, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin) per item (broadcast), target ±1 saying
    which input should rank higher — composed as torch composes it."""
    op = "margin_ranking_loss"
    for name, value in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(value, name, op)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not input1.array.ndim == input2.array.ndim == target.array.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {input1.size()}, input2: "
                           f"{input2.size()}, target: {target.size()} ")
    return _reduce_composed(ClampMin.apply(-target * (input1 - input2) + margin, 0, None),
                            reduction)
