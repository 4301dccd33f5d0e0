"""Separable resampling along one axis, forward and backward: the loops of F.interpolate
(minigrad/ops/interpolate.py computes the taps of each mode).

Layout: an array seen as (outer, n, inner), C-contiguous, the resampled axis in the middle
(outer = the product of the dimensions before it, inner = after it); float32 or float64.
The taps: index (T, n_out) int64 in [0, n_in), weight (T, n_out) of the data's type, or None
for a single tap of weight 1 (nearest).

    forward:   out[a, o, b] = Σ_t weight[t, o] x[a, index[t, o], b]
    backward:  dx[a, i, b] = Σ over (t, o) with index[t, o] = i of weight[t, o] g[a, o, b]

The backward zeroes dx and adds the contributions tap by tap, output position by position:
a fixed order. Threads split `outer` (each slab a[...] is one thread's), so no result
depends on the thread count; the loop over `inner` is contiguous and vectorises.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memset

cimport openmp  # noqa: F401  (the one OpenMP shim; prange needs nothing more)

# Below this many numbers written a call does not pay for waking more threads.
cdef Py_ssize_t PARALLEL_MIN_WORK = 262144


cdef inline int _threads(Py_ssize_t work, Py_ssize_t items, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK and items > 1 else 1


cdef inline void _gather_row(const floating *x, Py_ssize_t inner, floating w, bint first,
                             floating *out) noexcept nogil:
    """out[b] (= or +=) w x[b] over one row of `inner` numbers."""
    cdef Py_ssize_t b
    if first:
        for b in range(inner):
            out[b] = w * x[b]
    else:
        for b in range(inner):
            out[b] = out[b] + w * x[b]


cdef inline void _scatter_row(const floating *g, Py_ssize_t inner, floating w,
                              floating *dx) noexcept nogil:
    """dx[b] += w g[b] over one row of `inner` numbers."""
    cdef Py_ssize_t b
    for b in range(inner):
        dx[b] = dx[b] + w * g[b]


def resample_axis(const floating[:, :, ::1] x,       # IN  (outer, n_in, inner)
                  const int64_t[:, ::1] index,       # IN  (T, n_out) taps' positions
                  const floating[:, ::1] weight,     # IN  (T, n_out) or None (one tap of 1)
                  floating[:, :, ::1] out,           # OUT (outer, n_out, inner)
                  int num_threads):
    """out = the resampling of x along its middle axis (see the module docstring)."""
    cdef Py_ssize_t outer = x.shape[0], inner = x.shape[2], n_out = out.shape[1]
    cdef Py_ssize_t taps = index.shape[0], a, o, t
    cdef bint weighted = weight is not None
    if outer * n_out * inner == 0:
        return
    with nogil:
        for a in prange(outer, schedule="static",
                        num_threads=_threads(outer * n_out * inner * taps, outer, num_threads)):
            for o in range(n_out):
                for t in range(taps):
                    _gather_row(&x[a, index[t, o], 0], inner,
                                weight[t, o] if weighted else 1, t == 0, &out[a, o, 0])


def fold_axis(const floating[:, :, ::1] grad,        # IN  (outer, n_out, inner)
              const int64_t[:, ::1] index,           # IN  (T, n_out)
              const floating[:, ::1] weight,         # IN  (T, n_out) or None
              floating[:, :, ::1] grad_x,            # OUT (outer, n_in, inner), overwritten
              int num_threads):
    """grad_x = the adjoint of resample_axis applied to grad."""
    cdef Py_ssize_t outer = grad_x.shape[0], n_in = grad_x.shape[1], inner = grad_x.shape[2]
    cdef Py_ssize_t n_out = grad.shape[1], taps = index.shape[0], a, o, t
    cdef bint weighted = weight is not None
    if outer * n_in * inner == 0:
        return
    with nogil:
        for a in prange(outer, schedule="static",
                        num_threads=_threads(outer * n_out * inner * taps, outer, num_threads)):
            memset(&grad_x[a, 0, 0], 0, n_in * inner * sizeof(floating))
            for t in range(taps):
                for o in range(n_out):
                    _scatter_row(&grad[a, o, 0], inner, weight[t, o] if weighted else 1,
                                 &grad_x[a, index[t, o], 0])
