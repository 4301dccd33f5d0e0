"""NumPy twins of kernels/resample.pyx: same names and arguments (less num_threads).

x (outer, n, inner); index (T, n_out) int64; weight (T, n_out) or None (one tap of 1):
    resample_axis: out[a, o, b] = Σ_t weight[t, o] x[a, index[t, o], b]
    fold_axis:     dx[a, i, b] = Σ over index[t, o] = i of weight[t, o] g[a, o, b]
The fold sums each tap's contributions per input position as segment sums (np.add.reduceat
over the runs of equal positions; each tap's positions are sorted, as F.interpolate's are).
"""
import numpy as np

__all__ = ["resample_axis", "fold_axis"]


def _tap_weight(weight, t):
    return 1 if weight is None else weight[t][None, :, None]


def resample_axis(x, index, weight, out):
    total = 0
    for t in range(index.shape[0]):
        total = total + np.take(x, index[t], axis=1) * _tap_weight(weight, t)
    out[...] = total


def fold_axis(grad, index, weight, grad_x):
    grad_x[...] = 0
    for t in range(index.shape[0]):
        positions = index[t]
        starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
        sums = np.add.reduceat(grad * _tap_weight(weight, t), starts, axis=1)
        grad_x[:, positions[starts], :] += sums
