"""Direct conv2d for stride 1 and dilation 1: forward, gradient to the input, to the weight.

The math and the memory layouts are in conv_direct.h; this file pads the input, packs the
weights and splits the work between OpenMP threads. kernels/conv.pyx calls it for every
stride-1, dilation-1 convolution with a kernel larger than 1x1 that is not depthwise, and
keeps im2col + GEMM for the rest.

Work items (every one writes its own part of the output, so results do not depend on the
thread count or schedule):
  forward, input gradient   (sample, group, block of FB output channels, block of rows)
  weight gradient           (group, block of FBW output channels, input channel), all samples
"""
import threading

import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

cdef extern from "conv_direct.h" nogil:
    int CD_ISA_BASE, CD_ISA_AVX2, CD_ISA_AVX512
    int cd_isa()
    int cd_set_isa(int isa)
    int cd_lanes(int element_bytes)
    int cd_forward_f32(int fb, int nr, int nc, const float *xp, Py_ssize_t Hp, Py_ssize_t Wp,
                       Py_ssize_t Cg, Py_ssize_t chunk, const float *wp, int KH, int KW,
                       Py_ssize_t valid_top, Py_ssize_t valid_bottom, const float *bias, int nf,
                       float *out, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t i0, Py_ssize_t i1,
                       float *acc)
    int cd_forward_f64(int fb, int nr, int nc, const double *xp, Py_ssize_t Hp, Py_ssize_t Wp,
                       Py_ssize_t Cg, Py_ssize_t chunk, const double *wp, int KH, int KW,
                       Py_ssize_t valid_top, Py_ssize_t valid_bottom, const double *bias,
                       int nf, double *out, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t i0,
                       Py_ssize_t i1, double *acc)
    int cd_wgrad_f32(int fbw, const float *xp, Py_ssize_t x_nstride, Py_ssize_t H, Py_ssize_t Wp,
                     const float *dy, Py_ssize_t dy_nstride, Py_ssize_t dy_fstride,
                     Py_ssize_t OH, Py_ssize_t OWp, Py_ssize_t N, int KH, int KW, int pt,
                     int nf, float *dw, Py_ssize_t dw_fstride)
    int cd_wgrad_f64(int fbw, const double *xp, Py_ssize_t x_nstride, Py_ssize_t H,
                     Py_ssize_t Wp, const double *dy, Py_ssize_t dy_nstride,
                     Py_ssize_t dy_fstride, Py_ssize_t OH, Py_ssize_t OWp, Py_ssize_t N, int KH,
                     int KW, int pt, int nf, double *dw, Py_ssize_t dw_fstride)

cdef enum:
    PARALLEL_MIN_ELEMENTS = 32768    # copies of fewer numbers than this run on one thread
    PARALLEL_MIN_MACS = 110592       # convolutions of fewer multiply-adds (48^3) likewise
    ITEMS_PER_THREAD = 4             # rows are split until each thread has this many items

# A chunk of input channels (its padded planes and their packed weights) fits in this many
# bytes, so that it stays in the L1 data cache (32 KB and up) next to the accumulation buffer.
L1_BYTES = 16384

ISA_NAMES = {CD_ISA_BASE: "base", CD_ISA_AVX2: "avx2", CD_ISA_AVX512: "avx512"}

_local = threading.local()


def get_isa():
    """The instruction set the direct kernels run: 'avx512' (AVX-512VL on 256-bit vectors),
    'avx2' or 'base'."""
    return ISA_NAMES[cd_isa()]


def set_isa(name):
    """Force the kernels of one instruction set (for tests and benchmarks)."""
    codes = {v: k for k, v in ISA_NAMES.items()}
    if name not in codes:
        raise ValueError(f"unknown instruction set {name!r}; expected one of {sorted(codes)}")
    if cd_set_isa(codes[name]) != 0:
        raise RuntimeError(f"this CPU does not support {name}")


def scratch(name, dtype, Py_ssize_t size):
    """A cached 1-D buffer of at least `size` numbers for this thread and dtype: the buffers a
    training step needs are allocated once, not once per step."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (name, dtype)
    buf = buffers.get(key)
    if buf is None or buf.shape[0] < size:
        buf = np.empty(max(size, 1), dtype=dtype)
        buffers[key] = buf
    return buf[:size]


# ---------------------------------------------------------------------------------------------
# Layout moves: padded copies of the input, packed weights.

cdef inline Py_ssize_t ceil_div(Py_ssize_t m, Py_ssize_t d) noexcept nogil:
    return (m + d - 1) // d


cdef void pad_planes(const floating *src, Py_ssize_t planes, Py_ssize_t H, Py_ssize_t W,
                     floating *dst, Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t pt, Py_ssize_t pl,
                     int threads) noexcept nogil:
    """dst[p, r, q] = src[p, r - pt, q - pl] inside the image, else 0; dst is (planes, Hp, Wp).
    Negative pt or pl crop the image instead of padding it."""
    cdef Py_ssize_t p, r, q0 = max(0, pl), q1 = min(Wp, pl + W)
    cdef floating *row
    if planes * Hp * Wp < PARALLEL_MIN_ELEMENTS:
        threads = 1
    for p in prange(planes, num_threads=threads, schedule="static"):
        for r in range(Hp):
            row = dst + (p * Hp + r) * Wp
            if q1 <= q0 or r - pt < 0 or r - pt >= H:
                memset(row, 0, Wp * sizeof(floating))
                continue
            memset(row, 0, q0 * sizeof(floating))
            memcpy(row + q0, src + (p * H + r - pt) * W + (q0 - pl),
                   (q1 - q0) * sizeof(floating))
            memset(row + q1, 0, (Wp - q1) * sizeof(floating))


cdef void pack_weights(const floating[:, :, :, ::1] w, Py_ssize_t groups, int fb, bint flip,
                       floating *wp) noexcept nogil:
    """Blocks of fb output channels as wp[g, block, i, a, b, k] (zero past the last channel).

    Not flipped (forward): output channel o = block*fb + k of group g is weight row g*Fg + o,
    input channel i is weight column i. Flipped (gradient to the input): the output channels
    are the weight's input channels and the taps are mirrored,
    wp[g, block, f, a, b, k] = w[g*Fg + f, block*fb + k, KH-1-a, KW-1-b].
    Each weight plane is read contiguously and written with a stride of fb."""
    cdef Py_ssize_t F = w.shape[0], Cg = w.shape[1], taps = w.shape[2] * w.shape[3]
    cdef Py_ssize_t Fg = F // groups
    cdef Py_ssize_t outs = Cg if flip else Fg, ins = Fg if flip else Cg
    cdef Py_ssize_t blocks = ceil_div(outs, fb), block_size = ins * taps * fb
    cdef Py_ssize_t g, o, i, t
    cdef const floating *src
    cdef floating *dst
    memset(wp, 0, groups * blocks * block_size * sizeof(floating))   # the missing channels
    for g in range(groups):
        for o in range(outs):
            for i in range(ins):
                dst = wp + (g * blocks + o // fb) * block_size + i * taps * fb + o % fb
                if flip:
                    src = &w[g * Fg + i, o, 0, 0]
                    for t in range(taps):
                        dst[t * fb] = src[taps - 1 - t]
                else:
                    src = &w[g * Fg + o, i, 0, 0]
                    for t in range(taps):
                        dst[t * fb] = src[t]


# (output channels FB, rows NR, vectors of columns NC) of a tile, by whether an output row
# fits in one vector: about 12 sums in registers where there are 16 vector registers, 24 where
# there are 32 (AVX-512VL), and several rows per tile so that each broadcast weight feeds
# several FMAs. Measured best of 13 shapes on the seed model's layers (Zen 4, one core).
# Every shape here is in conv_direct_kernel.h's CD_FORWARD_SHAPES.
TILE_SHAPES = {
    CD_ISA_AVX512: {True: (12, 2, 1), False: (8, 3, 1)},
    CD_ISA_AVX2: {True: (6, 2, 1), False: (4, 3, 1)},
    CD_ISA_BASE: {True: (6, 2, 1), False: (4, 3, 1)},
}
# the shapes conv_direct_kernel.h compiles (CD_FORWARD_SHAPES), by output channels
COMPILED_TILE_SHAPES = ((4, 3, 1), (6, 2, 1), (8, 3, 1), (12, 2, 1))
_tile_override = None


def set_tile_shape(shape):
    """Force the forward tile (FB, NR, NC), one of COMPILED_TILE_SHAPES, or None for the
    automatic choice (for tests and tuning)."""
    global _tile_override
    if shape is not None and tuple(shape) not in COMPILED_TILE_SHAPES:
        raise ValueError(f"no compiled tile {shape!r}; expected one of {COMPILED_TILE_SHAPES}")
    _tile_override = None if shape is None else tuple(shape)


def _tile_shape(Py_ssize_t OW, Py_ssize_t COg, int lanes):
    """The (FB, NR, NC) tile for rows of OW outputs and COg output channels per group: the
    table's, or the smallest compiled one that holds every channel when there are fewer."""
    if _tile_override is not None:
        return _tile_override
    shape = TILE_SHAPES[cd_isa()][OW <= lanes]
    if COg < shape[0]:
        shape = min((s for s in COMPILED_TILE_SHAPES if s[0] >= COg), default=shape)
    return shape


# ---------------------------------------------------------------------------------------------
# Kernels.

def forward(const floating[:, :, :, ::1] x,        # IN  (N, CI, H, W)
            const floating[:, :, :, ::1] weight,   # IN  (F, C/G, KH, KW)
            const floating[::1] bias,              # IN  (CO,), or None
            floating[:, :, :, ::1] out,            # OUT (N, CO, OH, OW)
            int pad_top, int pad_left, int groups, bint flip, int num_threads):
    """out = conv2d(x, weight) + bias at stride 1 and dilation 1, or, with flip, the gradient to
    the input: out = conv2d(x, flipped weight) with x the output gradient (see conv_direct.h).
    CI and CO are the weight's input and output channels, swapped when flipped."""
    cdef Py_ssize_t N = x.shape[0], CI = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t CO = out.shape[1], OH = out.shape[2], OW = out.shape[3]
    cdef int KH = weight.shape[2], KW = weight.shape[3], fb, nr, nc
    cdef Py_ssize_t G = groups, CIg = CI // G, COg = CO // G
    cdef int lanes = cd_lanes(sizeof(floating))
    cdef Py_ssize_t Hp, Wp, OHr, OWr, chunk, blocks, row_blocks, rows, items, item
    cdef Py_ssize_t n, g, blk, i0, nf, failures = 0
    cdef const floating *bias_ptr = NULL
    cdef floating[::1] xp, wp
    cdef floating *acc
    if N == 0 or CO == 0 or OH * OW == 0:
        return
    fb, nr, nc = _tile_shape(OW, COg, lanes)
    OHr = ceil_div(OH, nr) * nr
    OWr = ceil_div(OW, nc * lanes) * nc * lanes
    Hp = OHr + KH - 1
    Wp = max(pad_left + W, OWr + KW - 1)
    chunk = max(1, L1_BYTES // ((Hp * Wp + KH * KW * fb) * sizeof(floating)))
    chunk = ceil_div(CIg, ceil_div(CIg, chunk))     # equal chunks
    dtype = np.asarray(out).dtype
    xp = scratch("padded", dtype, N * CI * Hp * Wp)
    blocks = ceil_div(COg, fb)
    wp = scratch("packed", dtype, G * blocks * CIg * KH * KW * fb)
    if bias is not None:
        bias_ptr = &bias[0]
    items = N * G * blocks
    row_blocks = 1
    if items < ITEMS_PER_THREAD * num_threads:
        row_blocks = min(OHr // nr, ceil_div(ITEMS_PER_THREAD * num_threads, items))
    rows = ceil_div(OHr // nr, row_blocks) * nr
    row_blocks = ceil_div(OH, rows)
    items *= row_blocks
    if N * CO * OH * OW * CIg * KH * KW < PARALLEL_MIN_MACS:
        num_threads = 1
    with nogil:
        pad_planes(&x[0, 0, 0, 0], N * CI, H, W, &xp[0], Hp, Wp, pad_top, pad_left,
                   num_threads)
        pack_weights(weight, G, fb, flip, &wp[0])
        for item in prange(items, num_threads=num_threads, schedule="dynamic"):
            acc = <floating *>malloc(fb * OHr * OWr * sizeof(floating))
            if acc == NULL:
                failures += 1
                continue
            i0 = item % row_blocks * rows
            blk = item // row_blocks % blocks
            g = item // (row_blocks * blocks) % G
            n = item // (row_blocks * blocks * G)
            nf = min(fb, COg - blk * fb)
            if floating is float:
                cd_forward_f32(fb, nr, nc, &xp[(n * CI + g * CIg) * Hp * Wp], Hp, Wp, CIg,
                               chunk, &wp[(g * blocks + blk) * CIg * KH * KW * fb], KH, KW,
                               pad_top, pad_top + H,
                               bias_ptr + g * COg + blk * fb if bias_ptr != NULL else NULL,
                               <int>nf, &out[n, g * COg + blk * fb, 0, 0], OH, OW,
                               i0, min(OH, i0 + rows), acc)
            else:
                cd_forward_f64(fb, nr, nc, &xp[(n * CI + g * CIg) * Hp * Wp], Hp, Wp, CIg,
                               chunk, &wp[(g * blocks + blk) * CIg * KH * KW * fb], KH, KW,
                               pad_top, pad_top + H,
                               bias_ptr + g * COg + blk * fb if bias_ptr != NULL else NULL,
                               <int>nf, &out[n, g * COg + blk * fb, 0, 0], OH, OW,
                               i0, min(OH, i0 + rows), acc)
            free(acc)
    if failures:
        raise MemoryError("conv2d: out of memory for the accumulation buffers")


def backward_weight(const floating[:, :, :, ::1] x,          # IN  (N, C, H, W)
                    const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                    floating[:, :, :, ::1] grad_weight,      # OUT (F, C/G, KH, KW)
                    int pad_top, int pad_left, int groups, int num_threads):
    """grad_weight[f, c, a, b] = sum over n, i, j of grad_out[n, f, i, j] *
    x[n, g*C/G + c, i - pad_top + a, j - pad_left + b] (stride 1, dilation 1)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = grad_out.shape[1], OH = grad_out.shape[2], OW = grad_out.shape[3]
    cdef int KH = grad_weight.shape[2], KW = grad_weight.shape[3]
    cdef Py_ssize_t G = groups, Cg = C // G, Fg = F // G
    cdef int lanes = cd_lanes(sizeof(floating))
    # 20 sums in registers with 32 of them, 10 (or 12 for 3-wide kernels) with 16
    cdef int fbw = 4 if KW <= 3 or cd_isa() == CD_ISA_AVX512 else 2
    cdef Py_ssize_t OWp = ceil_div(OW, lanes) * lanes
    cdef Py_ssize_t Wp = max(pad_left + W, OWp + KW - 1)
    cdef Py_ssize_t Hp = pad_top + H      # rows above the image are never read; below, none
    cdef Py_ssize_t blocks = ceil_div(Fg, fbw), items = G * blocks * Cg, item, g, blk, c, f0
    cdef const floating *dy
    cdef floating[::1] xp, dyp
    if F == 0 or Cg == 0:
        return
    dtype = np.asarray(grad_weight).dtype
    xp = scratch("padded", dtype, N * C * Hp * Wp)
    if N * F * OH * OW * Cg * KH * KW < PARALLEL_MIN_MACS:
        num_threads = 1
    with nogil:
        pad_planes(&x[0, 0, 0, 0], N * C, H, W, &xp[0], Hp, Wp, pad_top, pad_left, num_threads)
    if OWp == OW:
        dy = &grad_out[0, 0, 0, 0]
    else:
        # rows of whole vectors: the columns past OW are zero and add nothing
        dyp = scratch("grad_out_padded", dtype, N * F * OH * OWp)
        with nogil:
            pad_planes(&grad_out[0, 0, 0, 0], N * F, OH, OW, &dyp[0], OH, OWp, 0, 0,
                       num_threads)
        dy = &dyp[0]
    with nogil:
        for item in prange(items, num_threads=num_threads, schedule="dynamic"):
            c = item % Cg
            blk = item // Cg % blocks
            g = item // (Cg * blocks)
            f0 = g * Fg + blk * fbw
            if floating is float:
                cd_wgrad_f32(fbw, &xp[(g * Cg + c) * Hp * Wp], C * Hp * Wp, H, Wp,
                             <const float *>dy + f0 * OH * OWp, F * OH * OWp, OH * OWp, OH, OWp,
                             N, KH, KW, pad_top, <int>min(fbw, Fg - blk * fbw),
                             &grad_weight[f0, c, 0, 0], Cg * KH * KW)
            else:
                cd_wgrad_f64(fbw, &xp[(g * Cg + c) * Hp * Wp], C * Hp * Wp, H, Wp,
                             <const double *>dy + f0 * OH * OWp, F * OH * OWp, OH * OWp, OH,
                             OWp, N, KH, KW, pad_top, <int>min(fbw, Fg - blk * fbw),
                             &grad_weight[f0, c, 0, 0], Cg * KH * KW)
