"""NumPy twins of kernels/conv.pyx: same names and arguments (less num_threads), same results.

Shapes: x (N, C, H, W), weight (F, C/G, KH, KW), out (N, F, OH, OW), G groups.

    out[n, f, i, j] = bias[f] + sum over c, a, b of
                      weight[f, c, a, b] * x[n, g*C/G + c, i*SH - PT + a*DH, j*SW - PL + b*DW]

with g = f // (F/G) and x read as 0 outside the image. The twins zero-pad x explicitly and
loop over the kernel taps (a, b): tap (a, b) sees the strided window
xp[:, :, a*DH : a*DH + (OH-1)*SH + 1 : SH, b*DW : b*DW + (OW-1)*SW + 1 : SW].
"""
import numpy as np

__all__ = [
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv2d_backward_bias",
    "weight_gradient_groups",
]


def _padded_size(size, out_size, k, stride, pad, dilation):
    """Length of the zero-padded input axis that every output position reads inside."""
    return max(size + pad, (out_size - 1) * stride + (k - 1) * dilation + 1)


def _tap(xp, a, b, oh, ow, stride_h, stride_w, dilation_h, dilation_w):
    """The window of the padded input that kernel tap (a, b) multiplies: (N, C, OH, OW)."""
    top, left = a * dilation_h, b * dilation_w
    return xp[:, :, top:top + (oh - 1) * stride_h + 1:stride_h,
              left:left + (ow - 1) * stride_w + 1:stride_w]


def _pad(x, oh, ow, kh, kw, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w):
    n, c, h, w = x.shape
    hp = _padded_size(h, oh, kh, stride_h, pad_top, dilation_h)
    wp = _padded_size(w, ow, kw, stride_w, pad_left, dilation_w)
    xp = np.zeros((n, c, hp, wp), dtype=x.dtype)
    xp[:, :, pad_top:pad_top + h, pad_left:pad_left + w] = x
    return xp


def conv2d_forward(x, weight, bias, out, stride_h, stride_w, pad_top, pad_left,
                   dilation_h, dilation_w, groups):
    """out[...] = conv2d(x, weight) + bias (bias may be None)."""
    n, c, _, _ = x.shape
    f, cg, kh, kw = weight.shape
    oh, ow = out.shape[2:]
    xp = _pad(x, oh, ow, kh, kw, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w)
    w = weight.reshape(groups, f // groups, cg, kh, kw)
    acc = np.zeros((n, groups, f // groups, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            window = _tap(xp, a, b, oh, ow, stride_h, stride_w, dilation_h, dilation_w)
            window = window.reshape(n, groups, cg, oh, ow)
            acc += np.einsum("ngcij,gfc->ngfij", window, w[:, :, :, a, b])
    acc = acc.reshape(n, f, oh, ow)
    if bias is not None:
        acc += bias.reshape(1, f, 1, 1)
    out[...] = acc


def conv2d_backward_input(grad_out, weight, grad_input, stride_h, stride_w, pad_top, pad_left,
                          dilation_h, dilation_w, groups):
    """grad_input[...] = sum over taps of weight[:, :, a, b]^T applied to grad_out, un-windowed."""
    n, c, h, w_in = grad_input.shape
    f, cg, kh, kw = weight.shape
    oh, ow = grad_out.shape[2:]
    hp = _padded_size(h, oh, kh, stride_h, pad_top, dilation_h)
    wp = _padded_size(w_in, ow, kw, stride_w, pad_left, dilation_w)
    dxp = np.zeros((n, c, hp, wp), dtype=grad_out.dtype)
    dy = grad_out.reshape(n, groups, f // groups, oh, ow)
    w = weight.reshape(groups, f // groups, cg, kh, kw)
    for a in range(kh):
        for b in range(kw):
            window = _tap(dxp, a, b, oh, ow, stride_h, stride_w, dilation_h, dilation_w)
            window += np.einsum("ngfij,gfc->ngcij", dy, w[:, :, :, a, b]).reshape(n, c, oh, ow)
    grad_input[...] = dxp[:, :, pad_top:pad_top + h, pad_left:pad_left + w_in]


# The kernels' weight gradient sums its pixels in groups of consecutive output rows, each
# group's partial sum apart, then the partials in group order: at most WEIGHT_GROUPS groups of
# at least WEIGHT_GROUP_PIXELS pixels (kernels/conv.pyx has the same numbers).
WEIGHT_GROUPS = 16
WEIGHT_GROUP_PIXELS = 4096


def weight_gradient_groups(n, oh, ow):
    """How many groups of consecutive output rows (n * OH + i) the weight gradient sums apart:
    group g holds rows [n*OH*g // G, n*OH*(g+1) // G)."""
    return max(1, min(WEIGHT_GROUPS, n * oh, n * oh * ow // WEIGHT_GROUP_PIXELS))


def conv2d_backward_weight(x, grad_out, grad_weight, stride_h, stride_w, pad_top, pad_left,
                           dilation_h, dilation_w, groups):
    """grad_weight[f, c, a, b] = sum over n, i, j of grad_out[n, f, i, j] * window_ab[n, c, i, j]
    (c within the group of f), summed as the kernels do: a partial sum per group of output
    rows (weight_gradient_groups), the partials added in group order."""
    n = x.shape[0]
    f, cg, kh, kw = grad_weight.shape
    oh, ow = grad_out.shape[2:]
    xp = _pad(x, oh, ow, kh, kw, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w)
    # output rows (n, i) as one axis, so that a group of rows is a slice of it
    dy = grad_out.reshape(n, groups, f // groups, oh, ow).transpose(1, 2, 0, 3, 4)
    dy = dy.reshape(groups, f // groups, n * oh, ow)
    row_groups = weight_gradient_groups(n, oh, ow)
    bounds = [n * oh * g // row_groups for g in range(row_groups + 1)]
    gw = np.zeros((groups, f // groups, cg, kh, kw), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            window = _tap(xp, a, b, oh, ow, stride_h, stride_w, dilation_h, dilation_w)
            window = window.reshape(n, groups, cg, oh, ow).transpose(1, 2, 0, 3, 4)
            window = window.reshape(groups, cg, n * oh, ow)
            for r0, r1 in zip(bounds, bounds[1:]):
                gw[:, :, :, a, b] += np.einsum("gcrj,gfrj->gfc", window[:, :, r0:r1],
                                               dy[:, :, r0:r1])
    grad_weight[...] = gw.reshape(f, cg, kh, kw)


def conv2d_backward(x, grad_out, weight, grad_input, grad_weight, grad_bias, stride_h,
                    stride_w, pad_top, pad_left, dilation_h, dilation_w, groups):
    """The input, weight and (if grad_bias is not None) bias gradients of one convolution."""
    args = (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups)
    conv2d_backward_input(grad_out, weight, grad_input, *args)
    conv2d_backward_weight(x, grad_out, grad_weight, *args)
    if grad_bias is not None:
        conv2d_backward_bias(grad_out, grad_bias)
    return grad_input, grad_weight


def conv2d_backward_bias(grad_out, grad_bias):
    """grad_bias[f] = sum over n, i, j of grad_out[n, f, i, j]."""
    grad_bias[...] = grad_out.sum(axis=(0, 2, 3), dtype=np.float64)
