"""Fused cross-entropy (log-softmax + negative log-likelihood), forward and backward.

Layout: logits x of shape (N, C, S), C-contiguous, float32 or float64; S is the product of
the trailing dimensions (1 for an (N, C) input). An *item* is one (n, s); its C logits lie
S apart in memory. Items are independent and split over threads with ``prange``.

Per item, with m = max_c x_c and l = log(sum_c exp(x_c - m)) (max subtracted for stability),
lse = m + l, log p_c = (x_c - m) - l, p_c = exp((x_c - m) - l), eps = label_smoothing,
w = weight. The kernels keep m and l apart and never form lse: at |x| ~ 1e30 the sum m + l
would round l (at most log C) away, and every loss and softmax with it.

class-index target t (items with t == ignore_index get loss 0 and gradient 0):
    loss  = (1 - eps) * w_t * (lse - x_t) + (eps / C) * sum_c w_c * (lse - x_c)
    dloss/dx_c = p_c * ((1 - eps) * w_t + eps * sum_k w_k / C) - (1 - eps) * w_t * [c == t]
                 - eps * w_c / C
    The forward also returns sum(loss) and sum of w_t over non-ignored items, the divisor of
    torch's reduction='mean'.

probability target q (same shape as x), smoothed as q' = (1 - eps) * q + eps / C:
    loss  = sum_c w_c * q'_c * (lse - x_c)
    dloss/dx_c = p_c * sum_k w_k * q'_k - w_c * q'_c

In these formulas lse - x_c is computed as l - (x_c - m). With C = 0 classes an item
has m = -inf and l = -inf and no logit is read (its loss is an empty sum, 0).

Forward saves m and l per item (the only state backward needs besides x and the target).
Backward takes the upstream gradient per item as a (N, S) array of any strides, so a
broadcast scalar (stride 0) serves reduction='mean' and 'sum' without a copy.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport INFINITY, exp, log
from libc.stdint cimport int64_t

cimport openmp  # noqa: F401  (the one OpenMP shim; prange needs nothing more)

# Below this many logits the work does not pay for waking a second thread.
cdef Py_ssize_t PARALLEL_MIN_WORK = 32768


cdef inline int _threads(Py_ssize_t work, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK else 1


cdef inline double _max(const floating* x, Py_ssize_t C, Py_ssize_t stride) noexcept nogil:
    """m = max_c x[c*stride] (the first of C >= 1 values if they are NaN)."""
    cdef Py_ssize_t c
    cdef double m = x[0]
    for c in range(1, C):
        if x[c * stride] > m:
            m = x[c * stride]
    return m


cdef inline double _log_sum(const floating* x, Py_ssize_t C, Py_ssize_t stride,
                            double m) noexcept nogil:
    """l = log(sum_c exp(x[c*stride] - m))."""
    cdef Py_ssize_t c
    cdef double total = 0
    for c in range(C):
        total = total + exp(x[c * stride] - m)
    return log(total)


cdef void _empty_items(floating[:, ::1] maxima, floating[:, ::1] log_sums,
                       floating[:, ::1] loss) noexcept:
    """The outputs of items over C = 0 classes: m = l = -inf, loss 0 (an empty sum)."""
    maxima[:, :] = -INFINITY
    log_sums[:, :] = -INFINITY
    loss[:, :] = 0


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
                                    double m, double log_sum) noexcept nogil:
    cdef Py_ssize_t c
    cdef double smooth = 0
    cdef double loss = (1 - eps) * weight[t] * (log_sum - (x[t * stride] - m))
    if eps != 0:
        for c in range(C):
            smooth = smooth + weight[c] * (log_sum - (x[c * stride] - m))
        loss = loss + eps / C * smooth
    return loss


cdef inline void _index_item_grad(const floating* x, Py_ssize_t C, Py_ssize_t stride, int64_t t,
                                  const floating* weight, double weight_total, double eps,
                                  double m, double log_sum, double g,
                                  floating* gx) noexcept nogil:
    cdef Py_ssize_t c
    cdef double wt = (1 - eps) * weight[t]
    cdef double p_scale = wt + eps * weight_total / C
    for c in range(C):
        gx[c * stride] = <floating>(g * (exp((x[c * stride] - m) - log_sum) * p_scale
                                         - eps * weight[c] / C))
    gx[t * stride] = <floating>(gx[t * stride] - g * wt)


def cross_entropy_forward(const floating[:, :, ::1] x,   # IN  (N, C, S) logits
                          const int64_t[:, ::1] target,  # IN  (N, S) classes in [0, C) or ignored
                          const floating[::1] weight,    # IN  (C,) class weights
                          int64_t ignore_index, double label_smoothing,
                          floating[:, ::1] maxima,       # OUT (N, S) m per item
                          floating[:, ::1] log_sums,     # OUT (N, S) l per item
                          floating[:, ::1] loss,         # OUT (N, S) per-item loss
                          int num_threads):
    """Per-item loss, m and l; returns (sum of loss, sum of w_t over non-ignored items)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s
    cdef int64_t t
    cdef double m, log_sum, loss_total = 0, weight_total = 0
    if C == 0:  # no logit to read, nor an address to form (only ignored items get here)
        _empty_items(maxima, log_sums, loss)
        return 0.0, 0.0
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            t = target[n, s]
            m = _max(&x[n, 0, s], C, S)
            log_sum = _log_sum(&x[n, 0, s], C, S, m)
            maxima[n, s] = <floating>m
            log_sums[n, s] = <floating>log_sum
            if t == ignore_index:
                loss[n, s] = 0
            else:
                loss[n, s] = <floating>_index_item_loss(&x[n, 0, s], C, S, t, &weight[0],
                                                        label_smoothing, m, log_sum)
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
                           const floating[:, ::1] maxima,     # IN  (N, S) from the forward
                           const floating[:, ::1] log_sums,   # IN  (N, S) from the forward
                           const floating[:, :] grad_loss,   # IN  (N, S) dL/dloss, any strides
                           floating[:, :, ::1] grad_x,       # OUT (N, C, S)
                           int num_threads):
    """grad_x = dL/dx of the per-item losses scaled by grad_loss; ignored items get 0."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef int64_t t
    cdef double weight_total = 0
    if C == 0:  # grad_x is empty
        return
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
                                 label_smoothing, maxima[n, s], log_sums[n, s],
                                 grad_loss[n, s], &grad_x[n, 0, s])


# ---------------------------------------------------------------------------------------------
# probability targets

def cross_entropy_prob_forward(const floating[:, :, ::1] x,       # IN  (N, C, S) logits
                               const floating[:, :, ::1] target,  # IN  (N, C, S) probabilities
                               const floating[::1] weight,        # IN  (C,)
                               double label_smoothing,
                               floating[:, ::1] maxima,           # OUT (N, S) m per item
                               floating[:, ::1] log_sums,         # OUT (N, S) l per item
                               floating[:, ::1] loss,             # OUT (N, S)
                               int num_threads):
    """Per-item loss sum_c w_c q'_c (lse - x_c), m and l; returns the sum of the losses."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef double m, log_sum, item, q, eps = label_smoothing, loss_total = 0
    if C == 0:
        _empty_items(maxima, log_sums, loss)
        return 0.0
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            m = _max(&x[n, 0, s], C, S)
            log_sum = _log_sum(&x[n, 0, s], C, S, m)
            maxima[n, s] = <floating>m
            log_sums[n, s] = <floating>log_sum
            item = 0
            for c in range(C):
                q = (1 - eps) * target[n, c, s] + eps / C
                item = item + weight[c] * q * (log_sum - (x[n, c, s] - m))
            loss[n, s] = <floating>item
        for n in range(N):
            for s in range(S):
                loss_total = loss_total + loss[n, s]
    return loss_total


def cross_entropy_prob_backward(const floating[:, :, ::1] x,        # IN  (N, C, S)
                                const floating[:, :, ::1] target,   # IN  (N, C, S)
                                const floating[::1] weight,         # IN  (C,)
                                double label_smoothing,
                                const floating[:, ::1] maxima,      # IN  (N, S)
                                const floating[:, ::1] log_sums,    # IN  (N, S)
                                const floating[:, :] grad_loss,     # IN  (N, S), any strides
                                floating[:, :, ::1] grad_x,         # OUT (N, C, S)
                                int num_threads):
    """grad_x_c = grad_loss * (p_c * sum_k w_k q'_k - w_c q'_c)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], r, n, s, c
    cdef double q, wq_total, g, m, log_sum, eps = label_smoothing
    if C == 0:  # grad_x is empty
        return
    with nogil:
        for r in prange(N * S, schedule="static", num_threads=_threads(N * S * C, num_threads)):
            n = r // S
            s = r % S
            g = grad_loss[n, s]
            m = maxima[n, s]
            log_sum = log_sums[n, s]
            wq_total = 0
            for c in range(C):
                wq_total = wq_total + weight[c] * ((1 - eps) * target[n, c, s] + eps / C)
            for c in range(C):
                q = (1 - eps) * target[n, c, s] + eps / C
                grad_x[n, c, s] = <floating>(g * (exp((x[n, c, s] - m) - log_sum) * wq_total
                                                  - weight[c] * q))
