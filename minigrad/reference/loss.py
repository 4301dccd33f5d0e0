"""NumPy twins of kernels/loss.pyx: same names and arguments (less ``num_threads``).

Logits x: (N, C, S); per item m = max over C and l = log(sum_c exp(x_c - m)) (kept apart,
as the kernels keep them: lse = m + l would round l away at |x| ~ 1e30); log p = (x - m) - l,
lse - x = l - (x - m); eps = label_smoothing.
class-index target t: loss = (1 - eps) w_t (lse - x_t) + eps/C * sum_c w_c (lse - x_c),
    0 where t == ignore_index; the forward returns (sum of loss, sum of w_t over kept items).
probability target q: q' = (1 - eps) q + eps/C; loss = sum_c w_c q'_c (lse - x_c).
Backward: softmax p times the total target weight, minus the (smoothed, weighted) target,
scaled by the upstream gradient per item.
"""
import numpy as np


def _max_and_log_sum(x):
    """(m, l) per item, (N, S) each; C = 0 gives -inf for both."""
    if x.shape[1] == 0:
        empty = np.full((x.shape[0], x.shape[2]), -np.inf)
        return empty, empty.copy()
    m = x.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_sum = np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    return m[:, 0], log_sum[:, 0]


def _shifted(x, maxima, log_sums):
    """-log p = l - (x - m), (N, C, S)."""
    with np.errstate(invalid="ignore"):
        return log_sums[:, None, :] - (x - maxima[:, None, :])


def first_bad_target(target, n_classes, ignore_index):
    bad = np.flatnonzero((target != ignore_index) & ((target < 0) | (target >= n_classes)))
    return int(bad[0]) if bad.size else -1


def _index_target(x, target, weight, ignore_index, label_smoothing):
    """The weighted, smoothed target distribution per item (N, C, S) and the keep mask."""
    N, C, S = x.shape
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    one_hot = np.zeros((N, C, S))
    if C:
        np.put_along_axis(one_hot, safe[:, None, :], 1.0, axis=1)
    w = weight.astype(np.float64)[None, :, None]
    q = (1 - label_smoothing) * one_hot * w + label_smoothing / max(C, 1) * w
    return q * keep[:, None, :], keep


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, maxima, log_sums,
                          loss):
    x64 = x.astype(np.float64)
    N, C, S = x.shape
    m, log_sum = _max_and_log_sum(x64)
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    w = weight.astype(np.float64)
    item = np.zeros((N, S))
    if C:  # the kernel's terms: the target's, and every class's only when smoothing
        shifted = _shifted(x64, m, log_sum)
        picked = np.take_along_axis(shifted, safe[:, None, :], axis=1)[:, 0, :]
        item = (1 - label_smoothing) * w[safe] * picked
        if label_smoothing != 0:
            item = item + label_smoothing / C * (w[None, :, None] * shifted).sum(axis=1)
    maxima[...] = m
    log_sums[...] = log_sum
    loss[...] = np.where(keep, item, 0)
    kept_weight = w[safe] * keep if C else np.zeros((N, S))
    return float(loss.astype(np.float64).sum()), float(kept_weight.sum())


def cross_entropy_backward(x, target, weight, ignore_index, label_smoothing, maxima, log_sums,
                           grad_loss, grad_x):
    x64 = x.astype(np.float64)
    q, keep = _index_target(x64, target, weight, ignore_index, label_smoothing)
    p = np.exp(-_shifted(x64, maxima.astype(np.float64), log_sums.astype(np.float64)))
    grad = (p * q.sum(axis=1, keepdims=True) - q) * grad_loss[:, None, :]
    grad_x[...] = np.where(keep[:, None, :], grad, 0)


def _smoothed(target, weight, label_smoothing):
    C = target.shape[1]
    q = (1 - label_smoothing) * target.astype(np.float64) + label_smoothing / max(C, 1)
    return q * weight.astype(np.float64)[None, :, None]


def cross_entropy_prob_forward(x, target, weight, label_smoothing, maxima, log_sums, loss):
    x64 = x.astype(np.float64)
    m, log_sum = _max_and_log_sum(x64)
    q = _smoothed(target, weight, label_smoothing)
    maxima[...] = m
    log_sums[...] = log_sum
    loss[...] = (q * _shifted(x64, m, log_sum)).sum(axis=1)
    return float(loss.astype(np.float64).sum())


def cross_entropy_prob_backward(x, target, weight, label_smoothing, maxima, log_sums, grad_loss,
                                grad_x):
    q = _smoothed(target, weight, label_smoothing)
    p = np.exp(-_shifted(x.astype(np.float64), maxima.astype(np.float64),
                         log_sums.astype(np.float64)))
    grad_x[...] = (p * q.sum(axis=1, keepdims=True) - q) * grad_loss[:, None, :]
