# distutils: extra_compile_args = -fno-math-errno -fno-semantic-interposition -ffp-contract=off
# (sqrt without errno lets the compiler vectorize the update loops; without interposition the
# per-ISA wrappers below can inline the loops and compile them for their ISA; no contraction:
# no FMA in any variant, so all give the same bits)
"""Fused optimizer updates: one call per step over all of a parameter group's tensors.

Every kernel takes Python lists of C-contiguous float32/float64 numpy arrays: the parameters, their
gradients and the state buffers, index i of every list belonging to tensor i (same dtype, same
number of elements; tensors of a group may mix float32 and float64). Each element is visited once:
read p, g and the state, write p and the state. The per-step counters (``state_steps``) are 0-d
float32/float64 arrays incremented in place, as torch keeps its ``step`` tensors.

Layout: every tensor is seen as a flat vector; the work is cut into chunks of at most CHUNK
elements (never crossing tensors) and the chunks are spread over threads when the group is large.

The math of each update, in torch's operation order (g is the gradient, negated when maximize):

  sgd      g += wd p;  b = g (first step) or mu b + (1 - dampening) g;
           g = g + mu b (nesterov) or b;  p -= lr g
  adam     p *= 1 - lr wd (decoupled) or g += wd p;  m = lerp(m, g, 1 - beta1);
           v = beta2 v + (1 - beta2) g g;  vmax = max(vmax, v) (amsgrad);
           p -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
  rmsprop  g += wd p;  v = alpha v + (1 - alpha) g g;  a = lerp(a, g, 1 - alpha) (centered);
           d = sqrt(v - a a (centered, the product exact: torch's addcmul) or v) + eps;
           b = mu b + g / d, p -= lr b (momentum > 0), or p -= lr g / d
  adagrad  g += wd p;  s += g g;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
  adadelta g += wd p;  v = rho v + (1 - rho) g g;  d = sqrt(u + eps) / sqrt(v + eps) * g;
           u = rho u + (1 - rho) d d;  p -= lr d
  adamax   g += wd p;  m = lerp(m, g, 1 - beta1);  u = max(beta2 u, |g| + eps);
           p += (-lr / (1 - beta1^t)) m / u
  nadam    p *= 1 - lr wd (decoupled) or g += wd p;  m = lerp(m, g, 1 - beta1);
           v = beta2 v + (1 - beta2) g g;  d = sqrt(v / (1 - beta2^t)) + eps;
           p += c_g g / d;  p += c_m m / d   (c_g, c_m from the momentum schedule mu_t, mu_t+1
           and the product mu_1...mu_t, computed per tensor: see nadam_step)
  radam    p *= 1 - lr wd (decoupled) or g += wd p;  m = lerp(m, g, 1 - beta1);
           v = beta2 v + (1 - beta2) g g;  b = m / (1 - beta1^t);
           p -= ((b lr) (1 / (sqrt(v) + eps)) sqrt(1 - beta2^t)) r_t  when rho_t > 5, else
           p -= b lr   (rho_t and the rectification r_t per tensor: see radam_step)

The four last ones follow torch's operation order term for term except where torch's CPU
kernels fuse a multiply and an add (lerp, addcmul, add with alpha): ``value * t1 / t2`` for
addcdiv, a true division by a scalar, ``(1 / x) * s`` for a scalar over a tensor.

Scalars are computed in double and cast to the tensor's type once, as torch does for CPU tensors.
When an option is off its term is still computed with a neutral constant (a factor of 1, a sign
of +1), which is exact and keeps the loops branch-free; but weight decay off is no term at all,
as in torch (0 * p would turn an infinite parameter into NaN; the compiler unswitches the loop).

Instruction sets: the loops are compiled three times, for the baseline ISA, AVX2 and AVX-512
(the widest the CPU has runs; ``get_isa()`` / ``set_isa()``). None uses FMA, so all give the same
bits.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport fma, sqrt, sqrtf, fabs, pow
from libc.stdlib cimport malloc, free

cimport numpy as cnp

from minigrad._kernels.cpu import ISA_NAMES, isa_code, supported_isas  # noqa: F401

cnp.import_array()

cdef enum:
    SGD = 0
    ADAM = 1
    RMSPROP = 2
    ADAGRAD = 3
    ADADELTA = 4
    ADAMAX = 5
    NADAM = 6
    RADAM = 7
    # At most CHUNK elements per chunk; groups smaller than PARALLEL_MIN run on one thread.
    CHUNK = 32768
    PARALLEL_MIN = 65536
    MAX_BUFFERS = 5


cdef public struct TensorRef:
    void* buf[MAX_BUFFERS]   # param, grad, state buffers (per algorithm)
    Py_ssize_t size
    bint is_double
    double scalar[4]         # per-tensor scalars (step sizes, first-step flag)


cdef struct Chunk:
    Py_ssize_t tensor
    Py_ssize_t start
    Py_ssize_t stop


cdef public struct Options:
    double lr
    double weight_decay
    double momentum
    double dampening
    double beta1
    double beta2
    double alpha
    double rho
    double eps
    bint nesterov
    bint maximize
    bint flag           # adam: amsgrad; rmsprop: centered
    bint decoupled      # adam: decoupled weight decay (AdamW)


# ------------------------------------------------------------------ inner math (one span)
# The loops are written branch-free where an option only changes a constant (maximize is a
# sign, no weight decay is a zero, no decoupled decay a factor of one: all exact), and take the
# options that change their shape as inline bint arguments, so that each call site below
# compiles to its own vectorized loop.

cdef inline floating lerp(floating start, floating end, floating weight, bint small,
                          floating one_minus_weight) noexcept nogil:
    """torch's lerp: start + w (end - start), or end - (end - start)(1 - w) when |w| >= 0.5."""
    cdef floating delta = end - start
    return start + weight * delta if small else end - delta * one_minus_weight


cdef inline floating root(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline void sgd_span(floating* p, const floating* g, floating* buf, Py_ssize_t n,
                          const Options* o, bint use_momentum, bint first) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_lr = <floating>(-o.lr)
    cdef floating wd = <floating>o.weight_decay
    cdef bint decay = o.weight_decay != 0
    cdef floating mu = <floating>o.momentum
    cdef floating keep = <floating>(1 - o.dampening)
    cdef bint nesterov = o.nesterov
    cdef floating gi, bi
    cdef Py_ssize_t i
    for i in range(n):
        gi = sign * g[i] + wd * p[i] if decay else sign * g[i]
        if use_momentum:
            bi = gi if first else buf[i] * mu + keep * gi
            buf[i] = bi
            gi = gi + mu * bi if nesterov else bi
        p[i] = p[i] + neg_lr * gi


cdef inline void adam_span(floating* p, const floating* g, floating* m, floating* v,
                           floating* vmax, Py_ssize_t n, const Options* o, double step_size,
                           double bias_correction2_sqrt, bint amsgrad) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_step = <floating>(-step_size)
    cdef floating bc2_sqrt = <floating>bias_correction2_sqrt
    cdef floating w1 = <floating>(1 - o.beta1)
    cdef floating one = 1
    cdef floating one_minus_w1 = one - w1
    cdef bint small = fabs(w1) < 0.5
    cdef floating beta2 = <floating>o.beta2
    cdef floating w2 = <floating>(1 - o.beta2)
    cdef floating eps = <floating>o.eps
    cdef floating wd = 0 if o.decoupled else <floating>o.weight_decay
    cdef bint coupled = wd != 0
    cdef floating decay = <floating>(1 - o.lr * o.weight_decay) if o.decoupled else one
    cdef floating gi, pi, mi, vi
    cdef Py_ssize_t i
    for i in range(n):
        pi = p[i] * decay
        gi = sign * g[i] + wd * pi if coupled else sign * g[i]
        mi = lerp(m[i], gi, w1, small, one_minus_w1)
        vi = v[i] * beta2 + w2 * gi * gi
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = vmax[i] if vmax[i] > vi else vi
            vmax[i] = vi
        p[i] = pi + neg_step * (mi / (root(vi) / bc2_sqrt + eps))


cdef inline void rmsprop_span(floating* p, const floating* g, floating* sq, floating* buf,
                              floating* gavg, Py_ssize_t n, const Options* o, bint use_momentum,
                              bint centered) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_lr = <floating>(-o.lr)
    cdef floating wd = <floating>o.weight_decay
    cdef floating alpha = <floating>o.alpha
    cdef floating w = <floating>(1 - o.alpha)
    cdef floating one = 1
    cdef floating one_minus_w = one - w
    cdef bint small = fabs(w) < 0.5
    cdef floating eps = <floating>o.eps
    cdef floating mu = <floating>o.momentum
    cdef bint decay = o.weight_decay != 0
    cdef floating gi, si, ai, avg, bi
    cdef Py_ssize_t i
    for i in range(n):
        gi = sign * g[i] + wd * p[i] if decay else sign * g[i]
        si = sq[i] * alpha + w * gi * gi
        sq[i] = si
        if centered:
            ai = lerp(gavg[i], gi, w, small, one_minus_w)
            gavg[i] = ai
            # with the product exact, as torch's addcmul (a fused multiply-add): a float32
            # a*a near 1e26, or a float64 one near 1e160, would overflow to inf first
            if floating is float:
                si = <floating>(<double>si - <double>ai * <double>ai)
            else:
                si = fma(-ai, ai, si)
        avg = root(si) + eps
        if use_momentum:
            bi = buf[i] * mu + gi / avg
            buf[i] = bi
            p[i] = p[i] + neg_lr * bi
        else:
            p[i] = p[i] + neg_lr * (gi / avg)


cdef inline void adagrad_span(floating* p, const floating* g, floating* s, Py_ssize_t n,
                              const Options* o, double clr) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_clr = <floating>(-clr)
    cdef floating wd = <floating>o.weight_decay
    cdef floating eps = <floating>o.eps
    cdef bint decay = o.weight_decay != 0
    cdef floating gi, si
    cdef Py_ssize_t i
    for i in range(n):
        gi = sign * g[i] + wd * p[i] if decay else sign * g[i]
        si = s[i] + gi * gi
        s[i] = si
        p[i] = p[i] + neg_clr * (gi / (root(si) + eps))


cdef inline floating magnitude(floating x) noexcept nogil:
    return -x if x < 0 else x


cdef inline void adadelta_span(floating* p, const floating* g, floating* sq, floating* acc,
                               Py_ssize_t n, const Options* o) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_lr = <floating>(-o.lr)
    cdef floating wd = <floating>o.weight_decay
    cdef floating rho = <floating>o.rho
    cdef floating w = <floating>(1 - o.rho)
    cdef floating eps = <floating>o.eps
    cdef floating gi, si, di
    cdef Py_ssize_t i
    for i in range(n):
        gi = sign * g[i] + wd * p[i]
        si = sq[i] * rho + w * gi * gi
        sq[i] = si
        di = root(acc[i] + eps) / root(si + eps) * gi
        acc[i] = acc[i] * rho + w * di * di
        p[i] = p[i] + neg_lr * di


cdef inline void adamax_span(floating* p, const floating* g, floating* m, floating* u,
                             Py_ssize_t n, const Options* o, double clr) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating neg_clr = <floating>(-clr)
    cdef floating wd = <floating>o.weight_decay
    cdef floating w1 = <floating>(1 - o.beta1)
    cdef floating one = 1
    cdef floating one_minus_w1 = one - w1
    cdef bint small = fabs(w1) < 0.5
    cdef floating beta2 = <floating>o.beta2
    cdef floating eps = <floating>o.eps
    cdef floating gi, mi, ui, ni
    cdef Py_ssize_t i
    for i in range(n):
        gi = sign * g[i] + wd * p[i]
        mi = lerp(m[i], gi, w1, small, one_minus_w1)
        ui = u[i] * beta2
        ni = magnitude(gi) + eps
        ui = ui if ui > ni or ui != ui else ni    # torch.maximum: a NaN wins
        m[i] = mi
        u[i] = ui
        p[i] = p[i] + neg_clr * mi / ui


cdef inline void nadam_span(floating* p, const floating* g, floating* m, floating* v,
                            Py_ssize_t n, const Options* o, const double* scalar) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating bias_correction2 = <floating>scalar[0]
    cdef floating grad_coefficient = <floating>scalar[1]
    cdef floating avg_coefficient = <floating>scalar[2]
    cdef floating w1 = <floating>(1 - o.beta1)
    cdef floating one = 1
    cdef floating one_minus_w1 = one - w1
    cdef bint small = fabs(w1) < 0.5
    cdef floating beta2 = <floating>o.beta2
    cdef floating w2 = <floating>(1 - o.beta2)
    cdef floating eps = <floating>o.eps
    cdef floating wd = 0 if o.decoupled else <floating>o.weight_decay
    cdef floating decay = <floating>(1 - o.lr * o.weight_decay) if o.decoupled else one
    cdef floating gi, pi, mi, vi, di
    cdef Py_ssize_t i
    for i in range(n):
        pi = p[i] * decay
        gi = sign * g[i] + wd * pi
        mi = lerp(m[i], gi, w1, small, one_minus_w1)
        vi = v[i] * beta2 + w2 * gi * gi
        m[i] = mi
        v[i] = vi
        di = root(vi / bias_correction2) + eps
        pi = pi + grad_coefficient * gi / di
        p[i] = pi + avg_coefficient * mi / di


cdef inline void radam_span(floating* p, const floating* g, floating* m, floating* v,
                            Py_ssize_t n, const Options* o, const double* scalar,
                            bint rectified) noexcept nogil:
    cdef floating sign = -1 if o.maximize else 1
    cdef floating bias_correction1 = <floating>scalar[0]
    cdef floating bias_correction2_sqrt = <floating>scalar[1]
    cdef floating rectification = <floating>scalar[2]
    cdef floating lr = <floating>o.lr
    cdef floating w1 = <floating>(1 - o.beta1)
    cdef floating one = 1
    cdef floating one_minus_w1 = one - w1
    cdef bint small = fabs(w1) < 0.5
    cdef floating beta2 = <floating>o.beta2
    cdef floating w2 = <floating>(1 - o.beta2)
    cdef floating eps = <floating>o.eps
    cdef floating wd = 0 if o.decoupled else <floating>o.weight_decay
    cdef floating decay = <floating>(1 - o.lr * o.weight_decay) if o.decoupled else one
    cdef floating gi, pi, mi, vi, bi, ai
    cdef Py_ssize_t i
    for i in range(n):
        pi = p[i] * decay
        gi = sign * g[i] + wd * pi
        mi = lerp(m[i], gi, w1, small, one_minus_w1)
        vi = v[i] * beta2 + w2 * gi * gi
        m[i] = mi
        v[i] = vi
        bi = mi / bias_correction1
        if rectified:
            ai = one / (root(vi) + eps) * bias_correction2_sqrt
            p[i] = pi - bi * lr * ai * rectification
        else:
            p[i] = pi - bi * lr


# ------------------------------------------------------------------ one span of one tensor

cdef void update_span(int algorithm, floating* p, const floating* g, floating* s0,
                      floating* s1, floating* s2, Py_ssize_t n, const Options* o,
                      const double* scalar) noexcept nogil:
    """Call the algorithm's loop with its shape-changing options as constants."""
    cdef bint momentum = o.momentum != 0
    if algorithm == SGD:
        if not momentum:
            sgd_span(p, g, s0, n, o, False, False)
        elif scalar[0] != 0:
            sgd_span(p, g, s0, n, o, True, True)
        else:
            sgd_span(p, g, s0, n, o, True, False)
    elif algorithm == ADAM:
        if o.flag:
            adam_span(p, g, s0, s1, s2, n, o, scalar[0], scalar[1], True)
        else:
            adam_span(p, g, s0, s1, s2, n, o, scalar[0], scalar[1], False)
    elif algorithm == RMSPROP:
        momentum = o.momentum > 0
        if momentum and o.flag:
            rmsprop_span(p, g, s0, s1, s2, n, o, True, True)
        elif momentum:
            rmsprop_span(p, g, s0, s1, s2, n, o, True, False)
        elif o.flag:
            rmsprop_span(p, g, s0, s1, s2, n, o, False, True)
        else:
            rmsprop_span(p, g, s0, s1, s2, n, o, False, False)
    elif algorithm == ADAGRAD:
        adagrad_span(p, g, s0, n, o, scalar[0])
    elif algorithm == ADADELTA:
        adadelta_span(p, g, s0, s1, n, o)
    elif algorithm == ADAMAX:
        adamax_span(p, g, s0, s1, n, o, scalar[0])
    elif algorithm == NADAM:
        nadam_span(p, g, s0, s1, n, o, scalar)
    elif scalar[3] != 0:
        radam_span(p, g, s0, s1, n, o, scalar, True)
    else:
        radam_span(p, g, s0, s1, n, o, scalar, False)


cdef public void minigrad_optim_update(int algorithm, const TensorRef* t, Py_ssize_t a,
                                      Py_ssize_t b, const Options* o) noexcept nogil:
    """Elements [a, b) of tensor t, baseline ISA (compiled again for wider ones below)."""
    if t.is_double:
        update_span(algorithm, <double*>t.buf[0] + a, <double*>t.buf[1] + a,
                    <double*>t.buf[2] + a, <double*>t.buf[3] + a, <double*>t.buf[4] + a,
                    b - a, o, t.scalar)
    else:
        update_span(algorithm, <float*>t.buf[0] + a, <float*>t.buf[1] + a,
                    <float*>t.buf[2] + a, <float*>t.buf[3] + a, <float*>t.buf[4] + a,
                    b - a, o, t.scalar)


# The wider variants are the same code compiled for AVX2 and AVX-512: C wrappers with
# target(...) that inline (flatten) minigrad_optim_update and every loop under it. Without FMA
# the arithmetic is the same IEEE operations, so every variant gives bit-identical results.
cdef extern from *:
    """
    #include "isa.h"
    struct TensorRef;
    struct Options;
    void minigrad_optim_update(int algorithm, struct TensorRef const *t, Py_ssize_t a,
                               Py_ssize_t b, struct Options const *o);
    #if MG_X86
    #define MINIGRAD_OPTIM_VARIANT(name, isa)                                               \
        __attribute__((target(isa), flatten)) static void name(                            \
                int algorithm, struct TensorRef const *t, Py_ssize_t a, Py_ssize_t b,      \
                struct Options const *o) {                                                 \
            minigrad_optim_update(algorithm, t, a, b, o);                                  \
        }
    MINIGRAD_OPTIM_VARIANT(minigrad_optim_update_avx2, "avx2")
    MINIGRAD_OPTIM_VARIANT(minigrad_optim_update_avx512, "avx512f,avx512vl,avx512bw,avx512dq")
    #else
    #define minigrad_optim_update_avx2 minigrad_optim_update
    #define minigrad_optim_update_avx512 minigrad_optim_update
    #endif
    """
    int MG_ISA_AVX2, MG_ISA_AVX512
    int mg_isa_best() noexcept nogil
    void update_avx2 "minigrad_optim_update_avx2" (
        int algorithm, const TensorRef* t, Py_ssize_t a, Py_ssize_t b,
        const Options* o) noexcept nogil
    void update_avx512 "minigrad_optim_update_avx512" (
        int algorithm, const TensorRef* t, Py_ssize_t a, Py_ssize_t b,
        const Options* o) noexcept nogil


cdef int _isa = mg_isa_best()


def get_isa():
    """The instruction set the update loops run with: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[_isa]


def set_isa(name):
    """Run the update loops with this instruction set, or None for the widest (tests hold
    every variant to the NumPy reference)."""
    global _isa
    _isa = isa_code(name)


cdef inline void run_chunk(int algorithm, const TensorRef* t, Py_ssize_t a, Py_ssize_t b,
                           const Options* o) noexcept nogil:
    if _isa == MG_ISA_AVX512:
        update_avx512(algorithm, t, a, b, o)
    elif _isa == MG_ISA_AVX2:
        update_avx2(algorithm, t, a, b, o)
    else:
        minigrad_optim_update(algorithm, t, a, b, o)


cdef void run_all(int algorithm, const TensorRef* refs, Py_ssize_t num_tensors,
                  const Options* o, int num_threads) noexcept nogil:
    """Cut the tensors into chunks and run them, on num_threads threads when it pays."""
    cdef Py_ssize_t total = 0, num_chunks = 0, i, c, start
    cdef Chunk* chunks
    for i in range(num_tensors):
        total += refs[i].size
        num_chunks += (refs[i].size + CHUNK - 1) // CHUNK
    if num_threads <= 1 or total < PARALLEL_MIN:
        for i in range(num_tensors):
            run_chunk(algorithm, &refs[i], 0, refs[i].size, o)
        return
    chunks = <Chunk*>malloc(num_chunks * sizeof(Chunk))
    if chunks == NULL:  # no memory for the schedule: do the work on this thread
        for i in range(num_tensors):
            run_chunk(algorithm, &refs[i], 0, refs[i].size, o)
        return
    c = 0
    for i in range(num_tensors):
        start = 0
        while start < refs[i].size:
            chunks[c].tensor = i
            chunks[c].start = start
            chunks[c].stop = min(start + CHUNK, refs[i].size)
            start += CHUNK
            c += 1
    for c in prange(num_chunks, schedule="static", num_threads=num_threads):
        run_chunk(algorithm, &refs[chunks[c].tensor], chunks[c].start, chunks[c].stop, o)
    free(chunks)


# ------------------------------------------------------------------ Python-facing wrappers

cdef int gather(list arrays, int slot, TensorRef* refs, Py_ssize_t n, bint writable,
                str name) except -1:
    """Store each array's data pointer in refs[i].buf[slot], checking layout, dtype and size.

    Slot 0 (the parameters) sets each tensor's size and dtype; the other slots must agree.
    """
    cdef cnp.ndarray a
    cdef int typenum
    if len(arrays) != n:
        raise ValueError(f"{name}: expected {n} arrays, got {len(arrays)}")
    for i in range(n):
        obj = arrays[i]
        if not cnp.PyArray_Check(obj):
            raise TypeError(f"{name}[{i}] must be a numpy array, got {type(obj).__name__}")
        a = <cnp.ndarray>obj
        typenum = cnp.PyArray_TYPE(a)
        if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
            raise TypeError(f"{name}[{i}] must be float32 or float64, got {a.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise ValueError(f"{name}[{i}] must be C-contiguous")
        if writable and not cnp.PyArray_ISWRITEABLE(a):
            raise ValueError(f"{name}[{i}] must be writable")
        if slot == 0:
            for k in range(MAX_BUFFERS):   # unused slots stay valid pointers, never read
                refs[i].buf[k] = cnp.PyArray_DATA(a)
            refs[i].size = cnp.PyArray_SIZE(a)
            refs[i].is_double = typenum == cnp.NPY_FLOAT64
        elif (cnp.PyArray_SIZE(a) != refs[i].size
              or (typenum == cnp.NPY_FLOAT64) != refs[i].is_double):
            raise ValueError(
                f"{name}[{i}] has {cnp.PyArray_SIZE(a)} elements of {a.dtype}, its parameter "
                f"has {refs[i].size} of {'float64' if refs[i].is_double else 'float32'}")
        refs[i].buf[slot] = cnp.PyArray_DATA(a)
    return 0


cdef double increment_step(object step, Py_ssize_t i) except -1:
    """step += 1 on a writable 0-d (or 1-element) float32/float64 array; returns the new value."""
    cdef cnp.ndarray a
    if not cnp.PyArray_Check(step) or cnp.PyArray_SIZE(<cnp.ndarray>step) != 1:
        raise TypeError(f"state_steps[{i}] must be a one-element numpy array")
    a = <cnp.ndarray>step
    if not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"state_steps[{i}] must be writable")
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
        (<float*>cnp.PyArray_DATA(a))[0] += 1
        return (<float*>cnp.PyArray_DATA(a))[0]
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64:
        (<double*>cnp.PyArray_DATA(a))[0] += 1
        return (<double*>cnp.PyArray_DATA(a))[0]
    raise TypeError(f"state_steps[{i}] must be float32 or float64, got {a.dtype}")


cdef TensorRef* new_refs(Py_ssize_t n) except NULL:
    cdef TensorRef* refs = <TensorRef*>malloc(max(n, 1) * sizeof(TensorRef))
    if refs == NULL:
        raise MemoryError()
    return refs


def sgd_step(list params,              # IN/OUT
             list grads,               # IN
             list momentum_buffers,    # IN/OUT (ignored when momentum == 0)
             list first_step,          # IN: per tensor, True when its buffer is new (b = g)
             double lr, double weight_decay, double momentum, double dampening,
             bint nesterov, bint maximize, int num_threads):
    """One SGD step over all tensors (see the module docstring for the math)."""
    cdef Py_ssize_t n = len(params), i
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.weight_decay = weight_decay
    o.momentum = momentum
    o.dampening = dampening
    o.nesterov = nesterov
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        if momentum != 0:
            gather(momentum_buffers, 2, refs, n, True, "momentum_buffers")
            if len(first_step) != n:
                raise ValueError(f"first_step: expected {n} flags, got {len(first_step)}")
        for i in range(n):
            refs[i].scalar[0] = 1.0 if momentum != 0 and first_step[i] else 0.0
        with nogil:
            run_all(SGD, refs, n, &o, num_threads)
    finally:
        free(refs)


def adam_step(list params,             # IN/OUT
              list grads,              # IN
              list exp_avgs,           # IN/OUT
              list exp_avg_sqs,        # IN/OUT
              list max_exp_avg_sqs,    # IN/OUT (ignored unless amsgrad)
              list state_steps,        # IN/OUT: 0-d arrays, incremented
              bint amsgrad, double beta1, double beta2, double lr, double weight_decay,
              double eps, bint maximize, bint decoupled_weight_decay, int num_threads):
    """One Adam (AdamW when decoupled_weight_decay) step over all tensors."""
    cdef Py_ssize_t n = len(params), i
    cdef double step, bias_correction1, bias_correction2
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.weight_decay = weight_decay
    o.beta1 = beta1
    o.beta2 = beta2
    o.eps = eps
    o.maximize = maximize
    o.flag = amsgrad
    o.decoupled = decoupled_weight_decay
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(exp_avgs, 2, refs, n, True, "exp_avgs")
        gather(exp_avg_sqs, 3, refs, n, True, "exp_avg_sqs")
        if amsgrad:
            gather(max_exp_avg_sqs, 4, refs, n, True, "max_exp_avg_sqs")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        for i in range(n):
            step = increment_step(state_steps[i], i)
            bias_correction1 = 1 - pow(beta1, step)
            bias_correction2 = 1 - pow(beta2, step)
            refs[i].scalar[0] = lr / bias_correction1
            refs[i].scalar[1] = sqrt(bias_correction2)
        with nogil:
            run_all(ADAM, refs, n, &o, num_threads)
    finally:
        free(refs)


def rmsprop_step(list params,          # IN/OUT
                 list grads,           # IN
                 list square_avgs,     # IN/OUT
                 list grad_avgs,       # IN/OUT (ignored unless centered)
                 list momentum_buffers,  # IN/OUT (ignored unless momentum > 0)
                 list state_steps,     # IN/OUT: 0-d arrays, incremented
                 double lr, double alpha, double eps, double weight_decay, double momentum,
                 bint centered, bint maximize, int num_threads):
    """One RMSprop step over all tensors."""
    cdef Py_ssize_t n = len(params), i
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.alpha = alpha
    o.eps = eps
    o.weight_decay = weight_decay
    o.momentum = momentum
    o.flag = centered
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(square_avgs, 2, refs, n, True, "square_avgs")
        if momentum > 0:
            gather(momentum_buffers, 3, refs, n, True, "momentum_buffers")
        if centered:
            gather(grad_avgs, 4, refs, n, True, "grad_avgs")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        for i in range(n):
            increment_step(state_steps[i], i)
        with nogil:
            run_all(RMSPROP, refs, n, &o, num_threads)
    finally:
        free(refs)


def adagrad_step(list params,          # IN/OUT
                 list grads,           # IN
                 list state_sums,      # IN/OUT
                 list state_steps,     # IN/OUT: 0-d arrays, incremented
                 double lr, double weight_decay, double lr_decay, double eps, bint maximize,
                 int num_threads):
    """One Adagrad step over all tensors."""
    cdef Py_ssize_t n = len(params), i
    cdef double step
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.weight_decay = weight_decay
    o.eps = eps
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(state_sums, 2, refs, n, True, "state_sums")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        for i in range(n):
            step = increment_step(state_steps[i], i)
            refs[i].scalar[0] = lr / (1 + (step - 1) * lr_decay)
        with nogil:
            run_all(ADAGRAD, refs, n, &o, num_threads)
    finally:
        free(refs)


def adadelta_step(list params,         # IN/OUT
                  list grads,          # IN
                  list square_avgs,    # IN/OUT
                  list acc_deltas,     # IN/OUT
                  list state_steps,    # IN/OUT: 0-d arrays, incremented
                  double lr, double rho, double eps, double weight_decay, bint maximize,
                  int num_threads):
    """One Adadelta step over all tensors."""
    cdef Py_ssize_t n = len(params), i
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.rho = rho
    o.eps = eps
    o.weight_decay = weight_decay
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(square_avgs, 2, refs, n, True, "square_avgs")
        gather(acc_deltas, 3, refs, n, True, "acc_deltas")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        for i in range(n):
            increment_step(state_steps[i], i)
        with nogil:
            run_all(ADADELTA, refs, n, &o, num_threads)
    finally:
        free(refs)


def adamax_step(list params,           # IN/OUT
                list grads,            # IN
                list exp_avgs,         # IN/OUT
                list exp_infs,         # IN/OUT
                list state_steps,      # IN/OUT: 0-d arrays, incremented
                double beta1, double beta2, double lr, double weight_decay, double eps,
                bint maximize, int num_threads):
    """One Adamax step over all tensors."""
    cdef Py_ssize_t n = len(params), i
    cdef double step
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.beta1 = beta1
    o.beta2 = beta2
    o.eps = eps
    o.weight_decay = weight_decay
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(exp_avgs, 2, refs, n, True, "exp_avgs")
        gather(exp_infs, 3, refs, n, True, "exp_infs")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        for i in range(n):
            step = increment_step(state_steps[i], i)
            refs[i].scalar[0] = lr / (1 - pow(beta1, step))
        with nogil:
            run_all(ADAMAX, refs, n, &o, num_threads)
    finally:
        free(refs)


cdef double scale_product(object product, double factor, Py_ssize_t i) except? -1:
    """product *= factor in the product's own precision (a 0-d float32/float64 array, as
    torch keeps NAdam's mu_product); returns the new value."""
    cdef cnp.ndarray a
    if not cnp.PyArray_Check(product) or cnp.PyArray_SIZE(<cnp.ndarray>product) != 1:
        raise TypeError(f"mu_products[{i}] must be a one-element numpy array")
    a = <cnp.ndarray>product
    if not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"mu_products[{i}] must be writable")
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
        (<float*>cnp.PyArray_DATA(a))[0] *= <float>factor
        return (<float*>cnp.PyArray_DATA(a))[0]
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64:
        (<double*>cnp.PyArray_DATA(a))[0] *= factor
        return (<double*>cnp.PyArray_DATA(a))[0]
    raise TypeError(f"mu_products[{i}] must be float32 or float64, got {a.dtype}")


def nadam_step(list params,            # IN/OUT
               list grads,             # IN
               list exp_avgs,          # IN/OUT
               list exp_avg_sqs,       # IN/OUT
               list mu_products,       # IN/OUT: 0-d arrays, multiplied by mu_t
               list state_steps,       # IN/OUT: 0-d arrays, incremented
               double beta1, double beta2, double lr, double weight_decay,
               double momentum_decay, double eps, bint decoupled_weight_decay, bint maximize,
               int num_threads):
    """One NAdam step over all tensors. Per tensor, in double as torch computes them:
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), mu_t+1 likewise, mu_product *= mu_t,
    c_g = -lr (1 - mu_t) / (1 - mu_product), c_m = -lr mu_t+1 / (1 - mu_product mu_t+1)."""
    cdef Py_ssize_t n = len(params), i
    cdef double step, mu, mu_next, product
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.beta1 = beta1
    o.beta2 = beta2
    o.eps = eps
    o.weight_decay = weight_decay
    o.decoupled = decoupled_weight_decay
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(exp_avgs, 2, refs, n, True, "exp_avgs")
        gather(exp_avg_sqs, 3, refs, n, True, "exp_avg_sqs")
        if len(state_steps) != n or len(mu_products) != n:
            raise ValueError(f"state_steps, mu_products: expected {n} arrays each, got "
                             f"{len(state_steps)} and {len(mu_products)}")
        for i in range(n):
            step = increment_step(state_steps[i], i)
            mu = beta1 * (1.0 - 0.5 * pow(0.96, step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * pow(0.96, (step + 1) * momentum_decay))
            product = scale_product(mu_products[i], mu, i)
            refs[i].scalar[0] = 1 - pow(beta2, step)
            refs[i].scalar[1] = -lr * (1.0 - mu) / (1.0 - product)
            refs[i].scalar[2] = -lr * mu_next / (1.0 - product * mu_next)
        with nogil:
            run_all(NADAM, refs, n, &o, num_threads)
    finally:
        free(refs)


def radam_step(list params,            # IN/OUT
               list grads,             # IN
               list exp_avgs,          # IN/OUT
               list exp_avg_sqs,       # IN/OUT
               list state_steps,       # IN/OUT: 0-d arrays, incremented
               double beta1, double beta2, double lr, double weight_decay, double eps,
               bint decoupled_weight_decay, bint maximize, int num_threads):
    """One RAdam step over all tensors. Per tensor, in double as torch computes them:
    rho_inf = 2 / (1 - beta2) - 1, rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t) and, when
    rho_t > 5, r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))."""
    cdef Py_ssize_t n = len(params), i
    cdef double step, bias_correction2, rho_inf, rho_t
    cdef Options o
    cdef TensorRef* refs = new_refs(n)
    o.lr = lr
    o.beta1 = beta1
    o.beta2 = beta2
    o.eps = eps
    o.weight_decay = weight_decay
    o.decoupled = decoupled_weight_decay
    o.maximize = maximize
    try:
        gather(params, 0, refs, n, True, "params")
        gather(grads, 1, refs, n, False, "grads")
        gather(exp_avgs, 2, refs, n, True, "exp_avgs")
        gather(exp_avg_sqs, 3, refs, n, True, "exp_avg_sqs")
        if len(state_steps) != n:
            raise ValueError(f"state_steps: expected {n} arrays, got {len(state_steps)}")
        rho_inf = 2 / (1 - beta2) - 1
        for i in range(n):
            step = increment_step(state_steps[i], i)
            bias_correction2 = 1 - pow(beta2, step)
            rho_t = rho_inf - 2 * step * pow(beta2, step) / bias_correction2
            refs[i].scalar[0] = 1 - pow(beta1, step)
            refs[i].scalar[1] = pow(bias_correction2, 0.5)
            refs[i].scalar[2] = 0.0
            refs[i].scalar[3] = rho_t > 5.0
            if rho_t > 5.0:
                refs[i].scalar[2] = pow((rho_t - 4) * (rho_t - 2) * rho_inf
                                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5)
        with nogil:
            run_all(RADAM, refs, n, &o, num_threads)
    finally:
        free(refs)
