"""NumPy twins of kernels/pool.pyx: same names and arguments (less ``num_threads``), slow and
obvious. Layout (N, H, W, C) as the kernels'; the twins move the channels next to the batch
and pool plane by plane. Outputs are given by the caller and filled in place.

max_pool2d:  out[..., oh, ow] = max of x over rows oh*sh - ph + i*dh, cols ow*sw - pw + j*dw
             inside the plane; a NaN wins (the last one); codes = i*kw + j of the winner;
             a window with every tap in the padding gives -inf and code -1 - torch's index
             for it (its first tap at or past row 0 and column 0), which backward follows
             where it lies inside the plane, as torch does.
avg_pool2d:  window [oh*sh - ph, min(oh*sh - ph + kh, H + ph)) clipped to the plane; divisor
             is divisor_override (!= 0), the unclipped area (count_include_pad) or the clipped one.
adaptive_avg_pool2d: window [floor(o*in/out), ceil((o+1)*in/out)), mean.
adaptive_max_pool2d: the same windows, max (a NaN wins, the last one); index = h*W + w of the
             first maximum in its plane; backward adds dy at the index.
"""
import numpy as np


def _planes(a):
    """(N, H, W, C) -> the (N, C, H, W) view the plane-by-plane twins below work on."""
    return a.transpose(0, 3, 1, 2)


def max_pool2d_forward(x, out, codes, kh, kw, sh, sw, ph, pw, dh, dw):
    N, H, W, C = x.shape
    OH, OW = out.shape[1:3]
    for oh in range(OH):
        for ow in range(OW):
            taps = [(i * kw + j, oh * sh - ph + i * dh, ow * sw - pw + j * dw)
                    for i in range(kh) for j in range(kw)]
            taps = [(k, r, q) for k, r, q in taps if 0 <= r < H and 0 <= q < W]
            if not taps:      # every tap in the padding: -1 - torch's index for the window
                top, left = oh * sh - ph, ow * sw - pw
                first_row = top + max(0, -(top // dh)) * dh
                first_col = left + max(0, -(left // dw)) * dw
                out[:, oh, ow, :] = -np.inf
                codes[:, oh, ow, :] = -1 - (first_row * W + first_col)
                continue
            window = np.stack([x[:, r, q, :] for _, r, q in taps], axis=-1)   # (N, C, taps)
            # the first maximum, or the last NaN
            best = np.argmax(window, axis=-1)
            nan = np.isnan(window)
            last_nan = len(taps) - 1 - np.argmax(nan[..., ::-1], axis=-1)
            best = np.where(nan.any(axis=-1), last_nan, best)
            out[:, oh, ow, :] = np.take_along_axis(window, best[..., None], axis=-1)[..., 0]
            codes[:, oh, ow, :] = np.array([k for k, _, _ in taps])[best]


def max_pool2d_backward(grad_out, codes, grad_x, kh, kw, sh, sw, ph, pw, dh, dw):
    grad_x[...] = 0
    N, OH, OW, C = grad_out.shape
    H, W = grad_x.shape[1:3]
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                for c in range(C):
                    k = codes[n, oh, ow, c]
                    if k >= 0:
                        r, q = oh * sh - ph + k // kw * dh, ow * sw - pw + k % kw * dw
                    elif -1 - k < H * W:    # torch's index of an all-padding window
                        r, q = divmod(-1 - k, W)
                    else:
                        continue
                    grad_x[n, r, q, c] += grad_out[n, oh, ow, c]


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
    x, out = _planes(x), _planes(out)
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
    grad_out, grad_x = _planes(grad_out), _planes(grad_x)
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
    x, out = _planes(x), _planes(out)
    H, W = x.shape[2:]
    OH, OW = out.shape[2:]
    for oh in range(OH):
        h0, h1 = _adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = _adaptive_window(ow, OW, W)
            out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].astype(np.float64).mean(axis=(2, 3))


def adaptive_avg_pool2d_backward(grad_out, grad_x):
    grad_out, grad_x = _planes(grad_out), _planes(grad_x)
    H, W = grad_x.shape[2:]
    OH, OW = grad_out.shape[2:]
    grad_x[...] = 0
    for oh in range(OH):
        h0, h1 = _adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = _adaptive_window(ow, OW, W)
            area = (h1 - h0) * (w1 - w0)
            grad_x[:, :, h0:h1, w0:w1] += (grad_out[:, :, oh, ow] / area)[:, :, None, None]


def adaptive_max_pool2d_forward(x, out, index):
    x, out, index = _planes(x), _planes(out), _planes(index)
    H, W = x.shape[2:]
    OH, OW = out.shape[2:]
    for oh in range(OH):
        h0, h1 = _adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = _adaptive_window(ow, OW, W)
            window = x[:, :, h0:h1, w0:w1].reshape(x.shape[:2] + (-1,))
            best = np.argmax(window, axis=-1)                 # the first maximum
            nan = np.isnan(window)
            last_nan = window.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
            best = np.where(nan.any(axis=-1), last_nan, best)
            out[:, :, oh, ow] = np.take_along_axis(window, best[..., None], axis=-1)[..., 0]
            index[:, :, oh, ow] = (h0 + best // (w1 - w0)) * W + w0 + best % (w1 - w0)


def adaptive_max_pool2d_backward(grad_out, index, grad_x):
    grad_out, index, grad_x = _planes(grad_out), _planes(index), _planes(grad_x)
    N, C, H, W = grad_x.shape
    grad_x[...] = 0
    for oh in range(grad_out.shape[2]):
        for ow in range(grad_out.shape[3]):
            for n in range(N):
                for c in range(C):
                    h, w = divmod(int(index[n, c, oh, ow]), W)
                    grad_x[n, c, h, w] += grad_out[n, c, oh, ow]
