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
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from openmp cimport omp_barrier

cdef extern from "conv_direct.h" nogil:
    int CD_ISA_BASE, CD_ISA_AVX2, CD_ISA_AVX512
    int cd_isa()
    int cd_set_isa(int isa)
    int cd_lanes(int element_bytes)
    int cd_forward_shape_count()
    const int *cd_forward_shape(int k)
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


cdef void pad_plane(const floating *src, Py_ssize_t H, Py_ssize_t W, floating *dst,
                    Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t pt, Py_ssize_t pl) noexcept nogil:
    """dst[r, q] = src[r - pt, q - pl] inside the image, else 0; dst is (Hp, Wp). Negative pt
    or pl crop the image instead of padding it."""
    cdef Py_ssize_t r, q0 = max(0, pl), q1 = min(Wp, pl + W)
    cdef floating *row
    for r in range(Hp):
        row = dst + r * Wp
        if q1 <= q0 or r - pt < 0 or r - pt >= H:
            memset(row, 0, Wp * sizeof(floating))
            continue
        memset(row, 0, q0 * sizeof(floating))
        memcpy(row + q0, src + (r - pt) * W + (q0 - pl), (q1 - q0) * sizeof(floating))
        memset(row + q1, 0, (Wp - q1) * sizeof(floating))


cdef void pack_block(const floating[:, :, :, ::1] w, Py_ssize_t groups, int fb, bint flip,
                     Py_ssize_t block, floating *wp) noexcept nogil:
    """Block `block` of fb output channels (blocks numbered group by group) as
    wp[block, i, a, b, k], zero past the group's last channel.

    Not flipped (forward): output channel o = blk*fb + k of group g is weight row g*Fg + o,
    input channel i is weight column i. Flipped (gradient to the input): the output channels
    are the weight's input channels and the taps are mirrored,
    wp[block, f, a, b, k] = w[g*Fg + f, blk*fb + k, KH-1-a, KW-1-b].
    Each weight plane is read contiguously and written with a stride of fb."""
    cdef Py_ssize_t F = w.shape[0], Cg = w.shape[1], taps = w.shape[2] * w.shape[3]
    cdef Py_ssize_t Fg = F // groups
    cdef Py_ssize_t outs = Cg if flip else Fg, ins = Fg if flip else Cg
    cdef Py_ssize_t blocks = ceil_div(outs, fb), block_size = ins * taps * fb
    cdef Py_ssize_t g = block // blocks, blk = block % blocks, o, i, t
    cdef const floating *src
    cdef floating *dst
    wp = wp + block * block_size
    memset(wp, 0, block_size * sizeof(floating))   # the channels past the last
    for o in range(blk * fb, min(outs, blk * fb + fb)):
        for i in range(ins):
            dst = wp + i * taps * fb + o % fb
            if flip:
                src = &w[g * Fg + i, o, 0, 0]
                for t in range(taps):
                    dst[t * fb] = src[taps - 1 - t]
            else:
                src = &w[g * Fg + o, i, 0, 0]
                for t in range(taps):
                    dst[t * fb] = src[t]


# The forward tiles (output channels FB, rows NR, vectors of columns NC) that the kernels
# compile (CD_FORWARD_SHAPES in conv_direct.h), by output channels.
COMPILED_TILE_SHAPES = tuple(
    (cd_forward_shape(k)[0], cd_forward_shape(k)[1], cd_forward_shape(k)[2])
    for k in range(cd_forward_shape_count()))

cdef int tile_override[3]      # FB, NR, NC forced by set_tile_shape; FB == 0: none
tile_override[0] = 0


def set_tile_shape(shape):
    """Force the forward tile (FB, NR, NC), one of COMPILED_TILE_SHAPES, or None for the
    automatic choice (for tests and tuning)."""
    if shape is not None and tuple(shape) not in COMPILED_TILE_SHAPES:
        raise ValueError(f"no compiled tile {shape!r}; expected one of {COMPILED_TILE_SHAPES}")
    fb, nr, nc = (0, 0, 0) if shape is None else shape
    tile_override[0], tile_override[1], tile_override[2] = fb, nr, nc


cdef void tile_shape(Py_ssize_t OW, Py_ssize_t COg, int lanes, int *fb, int *nr,
                     int *nc) noexcept nogil:
    """The (FB, NR, NC) tile for rows of OW outputs and COg output channels per group.

    About 12 sums in registers where there are 16 vector registers, 24 where there are 32
    (AVX-512VL), and several rows per tile so that each broadcast weight feeds several FMAs;
    one vector of columns per tile even for wide rows (measured best of 13 shapes on the seed
    model's layers, Zen 4, one core). With fewer channels than that, the smallest tile that
    holds them all."""
    cdef bint narrow = OW <= lanes
    cdef const int *shape
    cdef int k
    if tile_override[0] != 0:
        fb[0], nr[0], nc[0] = tile_override[0], tile_override[1], tile_override[2]
    elif cd_isa() == CD_ISA_AVX512:
        fb[0], nr[0], nc[0] = (12, 2, 1) if narrow else (8, 3, 1)
    else:
        fb[0], nr[0], nc[0] = (6, 2, 1) if narrow else (4, 3, 1)
    if tile_override[0] == 0 and COg < fb[0]:
        for k in range(cd_forward_shape_count()):     # by FB: the first that holds them all
            shape = cd_forward_shape(k)
            if shape[0] >= COg:
                fb[0], nr[0], nc[0] = shape[0], shape[1], shape[2]
                break


cdef struct ForwardPlan:
    # shapes: input (N, CI, H, W), output (N, CO, OH, OW), G groups, kernel KH x KW
    Py_ssize_t N, CI, H, CO, OH, OW, G, CIg, COg
    int KH, KW, pad_top
    # tiles and buffers: FB x NR x NC tiles, padded input (Hp, Wp) per plane, OHr x OWr sums
    int fb, nr, nc
    Py_ssize_t Hp, Wp, OHr, OWr, chunk, blocks
    # work items: (sample, group, block of channels, block of `rows` rows)
    Py_ssize_t row_blocks, rows


cdef int forward_item(const ForwardPlan *p, const floating *xp, const floating *wp,
                      const floating *bias, floating *out, Py_ssize_t item) noexcept nogil:
    """One work item of `forward`; -1 when out of memory."""
    cdef Py_ssize_t i0 = item % p.row_blocks * p.rows
    cdef Py_ssize_t blk = item // p.row_blocks % p.blocks
    cdef Py_ssize_t g = item // (p.row_blocks * p.blocks) % p.G
    cdef Py_ssize_t n = item // (p.row_blocks * p.blocks * p.G)
    cdef Py_ssize_t o0 = g * p.COg + blk * p.fb
    cdef int nf = <int>min(p.fb, p.COg - blk * p.fb)
    cdef floating *acc = <floating *>malloc(p.fb * p.OHr * p.OWr * sizeof(floating))
    if acc == NULL:
        return -1
    xp = xp + (n * p.CI + g * p.CIg) * p.Hp * p.Wp
    wp = wp + (g * p.blocks + blk) * p.CIg * p.KH * p.KW * p.fb
    bias = bias + o0 if bias != NULL else NULL
    out = out + (n * p.CO + o0) * p.OH * p.OW
    if floating is float:
        cd_forward_f32(p.fb, p.nr, p.nc, xp, p.Hp, p.Wp, p.CIg, p.chunk, wp, p.KH, p.KW,
                       p.pad_top, p.pad_top + p.H, bias, nf, out, p.OH, p.OW, i0,
                       min(p.OH, i0 + p.rows), acc)
    else:
        cd_forward_f64(p.fb, p.nr, p.nc, xp, p.Hp, p.Wp, p.CIg, p.chunk, wp, p.KH, p.KW,
                       p.pad_top, p.pad_top + p.H, bias, nf, out, p.OH, p.OW, i0,
                       min(p.OH, i0 + p.rows), acc)
    free(acc)
    return 0


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
    cdef ForwardPlan p
    cdef Py_ssize_t W = x.shape[3], planes, plane, block, items, item, failures = 0
    cdef int lanes = cd_lanes(sizeof(floating))
    cdef const floating *bias_ptr = NULL
    cdef floating[::1] xp, wp
    p.N, p.CI, p.H = x.shape[0], x.shape[1], x.shape[2]
    p.CO, p.OH, p.OW = out.shape[1], out.shape[2], out.shape[3]
    p.KH, p.KW, p.pad_top = weight.shape[2], weight.shape[3], pad_top
    p.G = groups
    p.CIg, p.COg = p.CI // groups, p.CO // groups
    if p.N == 0 or p.CO == 0 or p.OH * p.OW == 0:
        return
    if p.CI * p.H * W == 0:     # no input numbers: every output is its bias
        np.asarray(out)[...] = 0 if bias is None else np.asarray(bias)[:, None, None]
        return
    tile_shape(p.OW, p.COg, lanes, &p.fb, &p.nr, &p.nc)
    p.OHr = ceil_div(p.OH, p.nr) * p.nr
    p.OWr = ceil_div(p.OW, p.nc * lanes) * p.nc * lanes
    p.Hp = p.OHr + p.KH - 1
    p.Wp = max(pad_left + W, p.OWr + p.KW - 1)
    p.chunk = max(1, L1_BYTES // ((p.Hp * p.Wp + p.KH * p.KW * p.fb) * sizeof(floating)))
    p.chunk = ceil_div(p.CIg, ceil_div(p.CIg, p.chunk))     # equal chunks
    p.blocks = ceil_div(p.COg, p.fb)
    dtype = np.float32 if floating is float else np.float64
    xp = scratch("padded", dtype, p.N * p.CI * p.Hp * p.Wp)
    wp = scratch("packed", dtype, p.G * p.blocks * p.CIg * p.KH * p.KW * p.fb)
    if bias is not None:
        bias_ptr = &bias[0]
    items = p.N * p.G * p.blocks
    p.row_blocks = 1
    if items < ITEMS_PER_THREAD * num_threads:
        p.row_blocks = min(p.OHr // p.nr, ceil_div(ITEMS_PER_THREAD * num_threads, items))
    p.rows = ceil_div(p.OHr // p.nr, p.row_blocks) * p.nr
    p.row_blocks = ceil_div(p.OH, p.rows)
    items *= p.row_blocks
    if p.N * p.CO * p.OH * p.OW * p.CIg * p.KH * p.KW < PARALLEL_MIN_MACS:
        num_threads = 1
    planes = p.N * p.CI
    with nogil:
        if num_threads == 1:        # no OpenMP team to start: about 3 us a call (measured)
            for plane in range(planes):
                pad_plane(&x[0, 0, 0, 0] + plane * p.H * W, p.H, W, &xp[0] + plane * p.Hp * p.Wp,
                          p.Hp, p.Wp, pad_top, pad_left)
            for block in range(p.G * p.blocks):
                pack_block(weight, p.G, p.fb, flip, block, &wp[0])
            for item in range(items):
                failures -= forward_item(&p, &xp[0], &wp[0], bias_ptr, &out[0, 0, 0, 0], item)
        else:
            # one team for the three steps: at batch 1 the copies are a fair share of the work
            with parallel(num_threads=num_threads):
                for plane in prange(planes, schedule="static"):
                    pad_plane(&x[0, 0, 0, 0] + plane * p.H * W, p.H, W,
                              &xp[0] + plane * p.Hp * p.Wp, p.Hp, p.Wp, pad_top, pad_left)
                for block in prange(p.G * p.blocks, schedule="static"):
                    pack_block(weight, p.G, p.fb, flip, block, &wp[0])
                omp_barrier()
                for item in prange(items, schedule="dynamic"):
                    failures -= forward_item(&p, &xp[0], &wp[0], bias_ptr, &out[0, 0, 0, 0],
                                             item)
    if failures:
        raise MemoryError("conv2d: out of memory for the accumulation buffers")


cdef struct WeightPlan:
    # shapes: input (N, C, H, W) padded to (Hp, Wp) per plane, dy (N, F, OH, OWp) (OWp the
    # row stride, whole vectors), G groups, kernel KH x KW, blocks of fbw output channels
    Py_ssize_t N, C, H, Hp, Wp, F, OH, OWp, Cg, Fg, blocks
    int KH, KW, pad_top, fbw


cdef void weight_item(const WeightPlan *p, const floating *xp, const floating *dy,
                      floating *dw, Py_ssize_t item) noexcept nogil:
    """One work item of `backward_weight`: input channel c of group g and a block of output
    channels, all samples."""
    cdef Py_ssize_t c = item % p.Cg
    cdef Py_ssize_t blk = item // p.Cg % p.blocks
    cdef Py_ssize_t g = item // (p.Cg * p.blocks)
    cdef Py_ssize_t f0 = g * p.Fg + blk * p.fbw
    cdef int nf = <int>min(p.fbw, p.Fg - blk * p.fbw)
    xp = xp + (g * p.Cg + c) * p.Hp * p.Wp
    dy = dy + f0 * p.OH * p.OWp
    dw = dw + (f0 * p.Cg + c) * p.KH * p.KW
    if floating is float:
        cd_wgrad_f32(p.fbw, xp, p.C * p.Hp * p.Wp, p.H, p.Wp, dy, p.F * p.OH * p.OWp,
                     p.OH * p.OWp, p.OH, p.OWp, p.N, p.KH, p.KW, p.pad_top, nf, dw,
                     p.Cg * p.KH * p.KW)
    else:
        cd_wgrad_f64(p.fbw, xp, p.C * p.Hp * p.Wp, p.H, p.Wp, dy, p.F * p.OH * p.OWp,
                     p.OH * p.OWp, p.OH, p.OWp, p.N, p.KH, p.KW, p.pad_top, nf, dw,
                     p.Cg * p.KH * p.KW)


def backward_weight(const floating[:, :, :, ::1] x,          # IN  (N, C, H, W)
                    const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                    floating[:, :, :, ::1] grad_weight,      # OUT (F, C/G, KH, KW)
                    int pad_top, int pad_left, int groups, int num_threads):
    """grad_weight[f, c, a, b] = sum over n, i, j of grad_out[n, f, i, j] *
    x[n, g*C/G + c, i - pad_top + a, j - pad_left + b] (stride 1, dilation 1)."""
    cdef WeightPlan p
    cdef Py_ssize_t W = x.shape[3], OW = grad_out.shape[3], items, item, plane, dy_planes = 0
    cdef int lanes = cd_lanes(sizeof(floating))
    cdef const floating *dy
    cdef floating[::1] xp, dyp
    p.N, p.C, p.H = x.shape[0], x.shape[1], x.shape[2]
    p.F, p.OH = grad_out.shape[1], grad_out.shape[2]
    p.KH, p.KW, p.pad_top = grad_weight.shape[2], grad_weight.shape[3], pad_top
    p.Cg, p.Fg = p.C // groups, p.F // groups
    if p.F == 0 or p.Cg == 0:
        return
    if p.N * p.H * W * p.OH * OW == 0:      # no products to sum
        np.asarray(grad_weight)[...] = 0
        return
    dy = &grad_out[0, 0, 0, 0]
    # 20 sums in registers with 32 of them, 10 (or 12 for 3-wide kernels) with 16
    p.fbw = 4 if p.KW <= 3 or cd_isa() == CD_ISA_AVX512 else 2
    p.OWp = ceil_div(OW, lanes) * lanes
    p.Wp = max(pad_left + W, p.OWp + p.KW - 1)
    p.Hp = pad_top + p.H      # rows above the image are never read; below it, none
    p.blocks = ceil_div(p.Fg, p.fbw)
    items = groups * p.blocks * p.Cg
    dtype = np.float32 if floating is float else np.float64
    xp = scratch("padded", dtype, p.N * p.C * p.Hp * p.Wp)
    if p.OWp != OW:
        # rows of whole vectors: the columns past OW are zero and add nothing
        dyp = scratch("grad_out_padded", dtype, p.N * p.F * p.OH * p.OWp)
        dy = &dyp[0]
        dy_planes = p.N * p.F
    if p.N * p.F * p.OH * OW * p.Cg * p.KH * p.KW < PARALLEL_MIN_MACS:
        num_threads = 1
    with nogil:
        if num_threads == 1:
            for plane in range(p.N * p.C):
                pad_plane(&x[0, 0, 0, 0] + plane * p.H * W, p.H, W, &xp[0] + plane * p.Hp * p.Wp,
                          p.Hp, p.Wp, pad_top, pad_left)
            for plane in range(dy_planes):
                pad_plane(&grad_out[0, 0, 0, 0] + plane * p.OH * OW, p.OH, OW,
                          <floating *>dy + plane * p.OH * p.OWp, p.OH, p.OWp, 0, 0)
            for item in range(items):
                weight_item(&p, &xp[0], dy, &grad_weight[0, 0, 0, 0], item)
        else:
            with parallel(num_threads=num_threads):
                for plane in prange(p.N * p.C, schedule="static"):
                    pad_plane(&x[0, 0, 0, 0] + plane * p.H * W, p.H, W,
                              &xp[0] + plane * p.Hp * p.Wp, p.Hp, p.Wp, pad_top, pad_left)
                for plane in prange(dy_planes, schedule="static"):
                    pad_plane(&grad_out[0, 0, 0, 0] + plane * p.OH * OW, p.OH, OW,
                              <floating *>dy + plane * p.OH * p.OWp, p.OH, p.OWp, 0, 0)
                omp_barrier()
                for item in prange(items, schedule="dynamic"):
                    weight_item(&p, &xp[0], dy, &grad_weight[0, 0, 0, 0], item)
