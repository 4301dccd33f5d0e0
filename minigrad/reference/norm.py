"""NumPy twins of kernels/norm.pyx: same names and arguments (less num_threads), same math.

layer_norm: x (R, K), rows normalised over their K numbers, weight and bias (K,) or None.
group_norm: x (N, C, S), each of the G groups of C/G channels of a sample normalised over its
C/G * S numbers, weight and bias (C,) or None. Per row (group): mean, biased variance,
rstd = 1 / sqrt(var + eps), y = (x - mean) rstd w + b; backward with x̂ = (x - mean) rstd,
h = g w: dx = rstd (h - mean(h) - x̂ mean(h x̂)), dw = Σ g x̂, db = Σ g. Statistics and sums
in float64, results in x's dtype.
batch_norm: x (A, C, B), statistics per channel over axes 0 and 2 (the kernels' docstring).
"""
import numpy as np

__all__ = ["layer_norm_forward", "layer_norm_backward", "group_norm_forward",
           "group_norm_backward", "batch_norm_statistics", "batch_norm_affine",
           "batch_norm_gradient_sums", "batch_norm_input_gradient"]


def _normalise(rows, eps):
    """(x̂, mean, rstd) of every row of a 2-D float64 array."""
    mean = rows.mean(axis=1)
    centered = rows - mean[:, None]
    rstd = 1.0 / np.sqrt((centered * centered).mean(axis=1) + eps)
    return centered * rstd[:, None], mean, rstd


def _input_gradient(h, xhat, rstd):
    """dx of rows from h = g w and x̂ (2-D float64)."""
    return rstd[:, None] * (h - h.mean(axis=1, keepdims=True)
                            - xhat * (h * xhat).mean(axis=1, keepdims=True))


def layer_norm_forward(x, weight, bias, eps, out, mean, rstd):
    if x.size == 0:
        return
    xhat, mean[...], rstd[...] = _normalise(x.astype(np.float64), eps)
    y = xhat if weight is None else xhat * weight
    out[...] = y if bias is None else y + bias


def layer_norm_backward(grad, x, mean, rstd, weight, grad_x, grad_weight, grad_bias):
    g = grad.astype(np.float64)
    xhat = (x - mean[:, None].astype(np.float64)) * rstd[:, None].astype(np.float64)
    if grad_x is not None and x.size:
        h = g if weight is None else g * weight
        grad_x[...] = _input_gradient(h, xhat, rstd.astype(np.float64))
    if grad_weight is not None:
        grad_weight[...] = (g * xhat).sum(axis=0)
    if grad_bias is not None:
        grad_bias[...] = g.sum(axis=0)


def _per_channel(values, shape):
    """A (C,) array broadcast over (N, C, S), or 1 for None."""
    return 1.0 if values is None else values.astype(np.float64)[None, :, None]


def group_norm_forward(x, weight, bias, groups, eps, out, mean, rstd):
    if x.size == 0:
        return
    n, c, s = x.shape
    xhat, m, r = _normalise(x.reshape(n * groups, -1).astype(np.float64), eps)
    mean[...], rstd[...] = m.reshape(n, groups), r.reshape(n, groups)
    y = xhat.reshape(n, c, s) * _per_channel(weight, x.shape)
    out[...] = y if bias is None else y + bias[None, :, None]


def group_norm_backward(grad, x, mean, rstd, weight, groups, grad_x, grad_weight, grad_bias):
    n, c, s = x.shape
    rows = (n * groups, c // groups * s)
    g = grad.astype(np.float64)
    xhat = ((x.reshape(rows) - mean.reshape(-1, 1)) * rstd.reshape(-1, 1)).reshape(n, c, s)
    if grad_x is not None and x.size:
        h = (g * _per_channel(weight, x.shape)).reshape(rows)
        grad_x[...] = _input_gradient(h, xhat.reshape(rows),
                                      rstd.reshape(-1).astype(np.float64)).reshape(n, c, s)
    if grad_weight is not None:
        grad_weight[...] = (g * xhat).sum(axis=(0, 2))
    if grad_bias is not None:
        grad_bias[...] = g.sum(axis=(0, 2))


def _channels(values):
    """A (C,) array broadcast over (A, C, B)."""
    return np.asarray(values)[None, :, None]


def batch_norm_statistics(x, mean, m2):
    values = x.astype(np.float64)
    mean[...] = values.mean(axis=(0, 2))
    centred = values - _channels(mean)
    m2[...] = (centred * centred).sum(axis=(0, 2))


def batch_norm_affine(x, scale, shift, out):
    out[...] = x * _channels(scale) + _channels(shift)


def batch_norm_gradient_sums(grad, x, mean, sum_grad, sum_grad_centred):
    g = grad.astype(np.float64)
    sum_grad[...] = g.sum(axis=(0, 2))
    sum_grad_centred[...] = (g * (x - _channels(mean))).sum(axis=(0, 2))


def batch_norm_input_gradient(grad, x, mean, scale, grad_mean, coef, grad_x):
    grad_x[...] = _channels(scale) * (grad - _channels(grad_mean)
                                      - (x - _channels(mean)) * _channels(coef))
