"""Fused cross-entropy (log-softmax + negative log-likelihood), forward and backward.

Layout: logits x of shape (N, C, S), C-contiguous, float32 or float64; S is the product of
the trailing dimensions (1 for an (N, C) input). An *item* is one (n, s); its C logits lie
S apart in memory. Items are independent and split over threads with ``prange``.

Per item, with m = max_c x_c and lse = m + log(sum_c exp(x_c - m)) (max subtracted for
stability), log p_c = x_c - lse, p_c = exp(x_c - lse), eps = label_smoothing, w = weight:

class-index target t (items with t == ignore_index get loss 0 and gradient 0):
    loss  = (1 - eps) * w_t * (lse - x_t) + (eps / C) * sum_c w_c * (lse - x_c)
    dloss/dx_c = p_c * ((1 - eps) * w_t + eps * sum_k w_k / C) - (1 - eps) * w_t * [c == t]
                 - eps * w_c / C
    The forward also returns sum(loss) and sum of w_t over non-ignored items, the divisor of
    torch's reduction='mean'.

probability target q (same shape as x), smoothed as q' = (1 - eps) * q + eps / C:
    loss  = sum_c w_c * q'_c * (lse - x_c)
    dloss/dx_c = p_c * sum_k w_k * q'_k - w_c * q'_c

Forward saves lse per item (the only state backward needs besides x and the target).
Backward takes the upstream gradient per item as a (N, S) array of any strides, so a
broadcast scalar (stride 0) serves reduction='mean' and 'sum' without a copy.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, log
from libc.stdint cimport int64_t

cimport openmp  # noqa: F401  (the one OpenMP shim; prange needs nothing more)

# Below this many logits the work does not pay for waking a second thread.
cdef Py_ssize_t PARALLEL_MIN_WORK = 32768


cdef inline int _threads(Py_ssize_t work, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK else 1


cdef inline double _logsumexp(const floating* x, Py_ssize_t C, Py_ssize_t stride) noexcept nogil:
    """log(sum_c exp(x[c*stride])), with the max subtracted first."""
    cdef Py_ssize_t c
    cdef double m = x[0], total = 0
    for c in range(1, C):
        if x[c * stride] > m:
            m = x[c * stride]
    for c in range(C):
        total = total + exp(x[c * stride] - m)
    return m + log(total)


# ---------------------------------------------------------------------------------------------
# class-index targets

def first_bad_target(const int64_t[::1] target,  # IN  every class index, flattened
                     int64_t n_classes, int64_t ignore_index):
    """Position of the first target outside [0, n_classes) that is not ignore_index, or -1.

    Validation for the Python layer (the compute kernels index weights and logits by the
    target unchecked); a loop here costs far less than numpy's masks on small batches."""
    cdef Py_ssize_t i, bad = -1
    cdef int64_t t
    with nogil:
        for i in range(target.shape[0]):
            t = target[i]
            if (t < 0 or t >= n_classes) and t != ignore_index:
                bad = i
                break
    return bad


cdef inline double _index_item_loss(const floating* x, Py_ssize_t C, Py_ssize_t stride,
                                    int64_t t, const floating* weight, double eps,
                                    double lse) noexcept nogil:
    cdef Py_ssize_t c
    cdef double smooth = 0
    cdef double loss = (1 - eps) * weight[t] * (lse - x[t * stride])
    if eps != 0:
        for c in range(C):
            smooth = smooth + weight[c] * (lse - x[c * stride])
        loss = loss + eps / C * smooth
    return loss


cdef inline void _index_item_grad(const floating* x, Py_ssize_t C, Py_ssize_t stride, int64_t t,
                                  const floating* weight, double weight_total, double eps,
                                  double lse, double g, floating* gx) noexcept nogil:
    cdef Py_ssize_t c
    cdef double wt = (1 - eps) * weight[t]
    cdef double p_scale = wt + eps * weight_total / C
    for c in range(C):
        gx[c * stride] = <floating>(g * (exp(x[c * stride] - lse) * p_scale
                                         - eps * weight[c] / C))
    gx[t * stride] = <floating>(gx[t * stride] - g * wt)


def cross_entropy_forward(const floating[:, :, ::1] x,   # IN  (N, C, S) logits
                          const int64_t[:, ::1] target,  # IN  (N, S) classes in [0, C) or ignored
                          const floating[::1] weight,    # IN  (C,) class weights
                          int64_t ignore_index, double label_smoothing,
                          floating[:, ::1] logsumexp,    # OUT (N, S)
                          floating[:, ::1] loss,         # OUT (N, S) per-item loss
                          int num_threads):
    """Per-item loss and lse; returns (sum of loss, sum of w_t over non-ignored items)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s
    cdef int64_t t
    cdef double lse, loss_total = 0, weight_total = 0
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            t = target[n, s]
            lse = _logsumexp(&x[n, 0, s], C, S)
            logsumexp[n, s] = <floating>lse
            if t == ignore_index:
                loss[n, s] = 0
            else:
                loss[n, s] = <floating>_index_item_loss(&x[n, 0, s], C, S, t, &weight[0],
                                                        label_smoothing, lse)
        # serial sums: the same result for every thread count
        for n in range(N):
            for s in range(S):
                t = target[n, s]
                if t != ignore_index:
                    loss_total = loss_total + loss[n, s]
                    weight_total = weight_total + weight[t]
    return loss_total, weight_total


def cross_entropy_backward(const floating[:, :, ::1] x,      # IN  (N, C, S)
                           const int64_t[:, ::1] target,     # IN  (N, S)
                           const floating[::1] weight,       # IN  (C,)
                           int64_t ignore_index, double label_smoothing,
                           const floating[:, ::1] logsumexp,  # IN  (N, S) from the forward
                           const floating[:, :] grad_loss,   # IN  (N, S) dL/dloss, any strides
                           floating[:, :, ::1] grad_x,       # OUT (N, C, S)
                           int num_threads):
    """grad_x = dL/dx of the per-item losses scaled by grad_loss; ignored items get 0."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef int64_t t
    cdef double weight_total = 0
    for c in range(C):
        weight_total += weight[c]
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            t = target[n, s]
            if t == ignore_index:
                for c in range(C):
                    grad_x[n, c, s] = 0
            else:
                _index_item_grad(&x[n, 0, s], C, S, t, &weight[0], weight_total,
                                 label_smoothing, logsumexp[n, s], grad_loss[n, s],
                                 &grad_x[n, 0, s])


# ---------------------------------------------------------------------------------------------
# probability targets

def cross_entropy_prob_forward(const floating[:, :, ::1] x,       # IN  (N, C, S) logits
                               const floating[:, :, ::1] target,  # IN  (N, C, S) probabilities
                               const floating[::1] weight,        # IN  (C,)
                               double label_smoothing,
                               floating[:, ::1] logsumexp,        # OUT (N, S)
                               floating[:, ::1] loss,             # OUT (N, S)
                               int num_threads):
    """Per-item loss sum_c w_c q'_c (lse - x_c) and lse; returns the sum of the losses."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef double lse, item, q, eps = label_smoothing, loss_total = 0
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            lse = _logsumexp(&x[n, 0, s], C, S)
            logsumexp[n, s] = <floating>lse
            item = 0
            for c in range(C):
                q = (1 - eps) * target[n, c, s] + eps / C
                item = item + weight[c] * q * (lse - x[n, c, s])
            loss[n, s] = <floating>item
        for n in range(N):
            for s in range(S):
                loss_total = loss_total + loss[n, s]
    return loss_total


def cross_entropy_prob_backward(const floating[:, :, ::1] x,        # IN  (N, C, S)
                                const floating[:, :, ::1] target,   # IN  (N, C, S)
                                const floating[::1] weight,         # IN  (C,)
                                double label_smoothing,
                                const floating[:, ::1] logsumexp,   # IN  (N, S)
                                const floating[:, :] grad_loss,     # IN  (N, S), any strides
                                floating[:, :, ::1] grad_x,         # OUT (N, C, S)
                                int num_threads):
    """grad_x_c = grad_loss * (p_c * sum_k w_k q'_k - w_c q'_c)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef double q, wq_total, g, lse, eps = label_smoothing
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            g = grad_loss[n, s]
            lse = logsumexp[n, s]
            wq_total = 0
            for c in range(C):
                wq_total = wq_total + weight[c] * ((1 - eps) * target[n, c, s] + eps / C)
            for c in range(C):
                q = (1 - eps) * target[n, c, s] + eps / C
                grad_x[n, c, s] = <floating>(g * (exp(x[n, c, s] - lse) * wq_total
                                                  - weight[c] * q))
