"""NumPy twins of kernels/loss.pyx: same names and arguments (less ``num_threads``).

Logits x: (N, C, S); lse = logsumexp over C; log p = x - lse; eps = label_smoothing.
class-index target t: loss = (1 - eps) w_t (lse - x_t) + eps/C * sum_c w_c (lse - x_c),
    0 where t == ignore_index; the forward returns (sum of loss, sum of w_t over kept items).
probability target q: q' = (1 - eps) q + eps/C; loss = sum_c w_c q'_c (lse - x_c).
Backward: softmax p times the total target weight, minus the (smoothed, weighted) target,
scaled by the upstream gradient per item.
"""
import numpy as np


def _logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


def first_bad_target(target, n_classes, ignore_index):
    bad = np.flatnonzero((target != ignore_index) & ((target < 0) | (target >= n_classes)))
    return int(bad[0]) if bad.size else -1


def _index_target(x, target, weight, ignore_index, label_smoothing):
    """The weighted, smoothed target distribution per item (N, C, S) and the keep mask."""
    N, C, S = x.shape
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    one_hot = np.zeros((N, C, S))
    np.put_along_axis(one_hot, safe[:, None, :], 1.0, axis=1)
    w = weight.astype(np.float64)[None, :, None]
    q = (1 - label_smoothing) * one_hot * w + label_smoothing / C * w
    return q * keep[:, None, :], keep


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, logsumexp, loss):
    x64 = x.astype(np.float64)
    lse = _logsumexp(x64)
    q, keep = _index_target(x64, target, weight, ignore_index, label_smoothing)
    item = (q * (lse[:, None, :] - x64)).sum(axis=1)
    logsumexp[...] = lse
    loss[...] = item
    kept_weight = weight.astype(np.float64)[np.where(keep, target, 0)] * keep
    return float(loss.astype(np.float64).sum()), float(kept_weight.sum())


def cross_entropy_backward(x, target, weight, ignore_index, label_smoothing, logsumexp,
                           grad_loss, grad_x):
    x64 = x.astype(np.float64)
    q, _ = _index_target(x64, target, weight, ignore_index, label_smoothing)
    p = np.exp(x64 - logsumexp.astype(np.float64)[:, None, :])
    grad_x[...] = (p * q.sum(axis=1, keepdims=True) - q) * grad_loss[:, None, :]


def _smoothed(target, weight, label_smoothing):
    C = target.shape[1]
    q = (1 - label_smoothing) * target.astype(np.float64) + label_smoothing / C
    return q * weight.astype(np.float64)[None, :, None]


def cross_entropy_prob_forward(x, target, weight, label_smoothing, logsumexp, loss):
    x64 = x.astype(np.float64)
    lse = _logsumexp(x64)
    q = _smoothed(target, weight, label_smoothing)
    logsumexp[...] = lse
    loss[...] = (q * (lse[:, None, :] - x64)).sum(axis=1)
    return float(loss.astype(np.float64).sum())


def cross_entropy_prob_backward(x, target, weight, label_smoothing, logsumexp, grad_loss,
                                grad_x):
    q = _smoothed(target, weight, label_smoothing)
    p = np.exp(x.astype(np.float64) - logsumexp.astype(np.float64)[:, None, :])
    grad_x[...] = (p * q.sum(axis=1, keepdims=True) - q) * grad_loss[:, None, :]
