"""NumPy twins of kernels/pool.pyx: same names and arguments (less ``num_threads``), slow and
obvious. Layout NCHW; outputs are given by the caller and filled in place.

max_pool2d:  out[..., oh, ow] = max of x over rows oh*sh - ph + i*dh, cols ow*sw - pw + j*dw
             inside the plane; a NaN wins (the last one); indices = ih*W + iw of the winner.
avg_pool2d:  window [oh*sh - ph, min(oh*sh - ph + kh, H + ph)) clipped to the plane; divisor
             is divisor_override (!= 0), the unclipped area (count_include_pad) or the clipped one.
adaptive_avg_pool2d: window [floor(o*in/out), ceil((o+1)*in/out)), mean.
"""
import numpy as np


def _taps(start, kernel, dilation, size):
    """The in-bounds positions start + i*dilation, i < kernel."""
    return [start + i * dilation for i in range(kernel) if 0 <= start + i * dilation < size]


def max_pool2d_forward(x, out, indices, kh, kw, sh, sw, ph, pw, dh, dw):
    N, C, H, W = x.shape
    OH, OW = out.shape[2:]
    for oh in range(OH):
        rows = _taps(oh * sh - ph, kh, dh, H)
        for ow in range(OW):
            cols = _taps(ow * sw - pw, kw, dw, W)
            flat = np.array([r * W + c for r in rows for c in cols], dtype=np.int64)
            if flat.size == 0:  # every tap in the padding: -inf at torch's index
                hs, ws = oh * sh - ph, ow * sw - pw
                first_h = hs + max(0, -(hs // dh)) * dh
                first_w = ws + max(0, -(ws // dw)) * dw
                out[:, :, oh, ow] = -np.inf
                indices[:, :, oh, ow] = first_h * W + first_w
                continue
            window = x.reshape(N, C, H * W)[:, :, flat]
            # the first maximum, or the last NaN
            best = np.argmax(window, axis=2)
            nan = np.isnan(window)
            last_nan = flat.size - 1 - np.argmax(nan[:, :, ::-1], axis=2)
            best = np.where(nan.any(axis=2), last_nan, best)
            out[:, :, oh, ow] = np.take_along_axis(window, best[:, :, None], axis=2)[:, :, 0]
            indices[:, :, oh, ow] = flat[best]


def max_pool2d_backward(grad_out, indices, grad_x):
    N, C, H, W = grad_x.shape
    flat = grad_x.reshape(N * C, H * W)
    flat[...] = 0
    gy = grad_out.reshape(N * C, -1)
    ix = indices.reshape(N * C, -1)
    for p in range(N * C):
        inside = (ix[p] >= 0) & (ix[p] < H * W)
        np.add.at(flat[p], ix[p][inside], gy[p][inside])


def _avg_window(o, stride, pad, kernel, size):
    start = o * stride - pad
    end = min(start + kernel, size + pad)
    return max(start, 0), min(end, size), end - start


def _divisor(h, w, count_include_pad, divisor_override):
    (h0, h1, h_pad), (w0, w1, w_pad) = h, w
    if divisor_override != 0:
        return divisor_override
    return h_pad * w_pad if count_include_pad else (h1 - h0) * (w1 - w0)


def avg_pool2d_forward(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    H, W = x.shape[2:]
    OH, OW = out.shape[2:]
    for oh in range(OH):
        h = _avg_window(oh, sh, ph, kh, H)
        for ow in range(OW):
            w = _avg_window(ow, sw, pw, kw, W)
            if h[0] >= h[1] or w[0] >= w[1]:
                out[:, :, oh, ow] = 0
                continue
            window = x[:, :, h[0]:h[1], w[0]:w[1]].astype(np.float64)
            divisor = _divisor(h, w, count_include_pad, divisor_override)
            out[:, :, oh, ow] = window.sum(axis=(2, 3)) / divisor


def avg_pool2d_backward(grad_out, grad_x, kh, kw, sh, sw, ph, pw, count_include_pad,
                        divisor_override):
    H, W = grad_x.shape[2:]
    OH, OW = grad_out.shape[2:]
    grad_x[...] = 0
    for oh in range(OH):
        h = _avg_window(oh, sh, ph, kh, H)
        for ow in range(OW):
            w = _avg_window(ow, sw, pw, kw, W)
            if h[0] >= h[1] or w[0] >= w[1]:
                continue
            divisor = _divisor(h, w, count_include_pad, divisor_override)
            share = grad_out[:, :, oh, ow] / divisor
            grad_x[:, :, h[0]:h[1], w[0]:w[1]] += share[:, :, None, None]


def _adaptive_window(o, out_size, in_size):
    return (o * in_size) // out_size, -(-((o + 1) * in_size) // out_size)


def adaptive_avg_pool2d_forward(x, out):
    H, W = x.shape[2:]
    OH, OW = out.shape[2:]
    for oh in range(OH):
        h0, h1 = _adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = _adaptive_window(ow, OW, W)
            out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].astype(np.float64).mean(axis=(2, 3))


def adaptive_avg_pool2d_backward(grad_out, grad_x):
    H, W = grad_x.shape[2:]
    OH, OW = grad_out.shape[2:]
    grad_x[...] = 0
    for oh in range(OH):
        h0, h1 = _adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = _adaptive_window(ow, OW, W)
            area = (h1 - h0) * (w1 - w0)
            grad_x[:, :, h0:h1, w0:w1] += (grad_out[:, :, oh, ow] / area)[:, :, None, None]
