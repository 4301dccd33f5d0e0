"""conv2d: forward, gradient to the input, to the weights and to the bias.

Shapes (as torch): x (N, C, H, W), weight (F, C/G, KH, KW), out (N, F, OH, OW), G groups.

    out[n, f, i, j] = bias[f] + sum over c < C/G, a < KH, b < KW of
                      weight[f, c, a, b] * x[n, g*C/G + c, i*SH - PT + a*DH, j*SW - PL + b*DW]

with g = f // (F/G) and x read as 0 outside the image. Only the top and left padding are
arguments: the bottom and right padding are implied by the output's shape.

Layouts. Arrays are numpy arrays of these shapes with any strides. The direct kernels work
channels-last: their activations are NHWC in memory (presented as (N, C, H, W) arrays whose
strides put the channels innermost, as torch's channels_last tensors) and their weights HWIO
(KH, KW, C, F) in memory, the layout minigrad's Conv2d keeps. Inputs in other layouts are
read through a zero-padded channels-last copy of the rows each work item needs; outputs in
other layouts are written through a copy.

Algorithms (conv_nhwc.h has the math of the direct ones):
- groups == 1: direct, channels-last, vectorised over output channels, for the forward pass
  and the weight gradient at any stride and dilation, and for the input gradient at stride 1.
- the input gradient at stride > 1, and every grouped convolution (depthwise included):
  im2col + GEMM or the depthwise loops of conv_gemm.pyx, on NCHW copies.

Which ISA, tile and work split the direct kernels use for a shape is decided at its first call
by timing the candidates on the call's own data (`plans()` lists the decisions). Every
candidate sums in the same order, so the decision never changes a result; nor does the thread
count: each forward output is computed by one thread, and the weight gradient sums groups of
pixels fixed by the shapes (`weight_gradient_groups`) apart and adds them in group order,
whether its threads share the tiles of dw or the groups.
"""
import os
import sys
import time

import numpy as np

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from openmp cimport omp_get_num_threads, omp_get_thread_num

cimport numpy as cnp

cnp.import_array()

from minigrad._kernels import conv_depthwise, conv_gemm
from minigrad._kernels.gemm import get_isa as gemm_get_isa
from minigrad._kernels.cpu import ISA_NAMES, isa_code, supported_isas  # noqa: F401
from minigrad._kernels.buffers import channels_last_empty, scratch

cdef extern from "conv_pack.h" nogil:
    void cn_pack_weights_f32(const float *src, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                             Py_ssize_t s3, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t C,
                             Py_ssize_t F, Py_ssize_t w_step, float *w)
    void cn_pack_weights_f64(const double *src, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                             Py_ssize_t s3, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t C,
                             Py_ssize_t F, Py_ssize_t w_step, double *w)

cdef extern from "conv_nhwc.h" nogil:
    int MG_ISA_AVX2, MG_ISA_AVX512
    int mg_isa_best()
    int cn_lanes(int isa, int element_bytes)
    int cn_max_cw(int isa, int nv)
    int CN_MAX_NV
    ctypedef struct cn_plan:
        Py_ssize_t C, H, W, F, OH, OW
        int KH, KW, sh, sw, ph, pw, dh, dw
        Py_ssize_t w_step, y_step, dy_step, Wp
        int isa, nv, cw
    void cn_copy_slab_f32(const float *x, Py_ssize_t sc, Py_ssize_t sy, Py_ssize_t sx,
                          Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0,
                          Py_ssize_t nrows, Py_ssize_t col0, Py_ssize_t Wp, Py_ssize_t cstep,
                          float *xs)
    void cn_copy_slab_f64(const double *x, Py_ssize_t sc, Py_ssize_t sy, Py_ssize_t sx,
                          Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0,
                          Py_ssize_t nrows, Py_ssize_t col0, Py_ssize_t Wp, Py_ssize_t cstep,
                          double *xs)
    void cn_forward_rows_f32(const cn_plan *p, const float *xs, Py_ssize_t i0, Py_ssize_t i1,
                             const float *w, const float *bias, float *y)
    void cn_forward_rows_f64(const cn_plan *p, const double *xs, Py_ssize_t i0, Py_ssize_t i1,
                             const double *w, const double *bias, double *y)
    void cn_sum_pixels_f32(int isa, const float *dyb, Py_ssize_t npix, Py_ssize_t step,
                           Py_ssize_t F, double *sums)
    void cn_sum_pixels_f64(int isa, const double *dyb, Py_ssize_t npix, Py_ssize_t step,
                           Py_ssize_t F, double *sums)
    void cn_weight_rows_f32(const cn_plan *p, const float *xs, Py_ssize_t i0, Py_ssize_t i1,
                            const float *dyb, Py_ssize_t k0, Py_ssize_t k1, float *dwb)
    void cn_weight_rows_f64(const cn_plan *p, const double *xs, Py_ssize_t i0, Py_ssize_t i1,
                            const double *dyb, Py_ssize_t k0, Py_ssize_t k1, double *dwb)
    void cn_weight_items_add_f32(const cn_plan *p, Py_ssize_t k0, Py_ssize_t k1, float *part,
                                 float *dwb)
    void cn_weight_items_add_f64(const cn_plan *p, Py_ssize_t k0, Py_ssize_t k1, double *part,
                                 double *dwb)
    void cn_add_f32(int isa, float *dst, float *src, Py_ssize_t n, int zero)
    void cn_add_f64(int isa, double *dst, double *src, Py_ssize_t n, int zero)


# A call has at least ITEMS_PER_THREAD work items a thread where the rows allow, and runs on
# one thread below PARALLEL_MIN_MACS multiply-adds (waking a team costs microseconds).
ITEMS_PER_THREAD = 4
PARALLEL_MIN_MACS = 65536
# Pixels of a block of the weight gradient: the block's inputs and output gradients are read
# once per tile of dw, and stay in the L1 cache between the tiles (measured best: 64 to 256
# pixels on the seed model's layers, ~40 KB of data).
WEIGHT_BLOCK_PIXELS = 128
WEIGHT_BLOCK_BYTES = 40 * 1024
# The weight gradient sums the pixels in groups of consecutive output rows: at most
# WEIGHT_GROUPS groups of at least WEIGHT_GROUP_PIXELS pixels (whole rows), so many by the
# shapes alone (never by the thread count), so that threads can share the pixels (the split
# by pixels: each group's partial sums apart, added in group order) or the tiles of dw (the
# split by tiles: each thread walks every group for its tiles) and get the same bits.
WEIGHT_GROUPS = 16
WEIGHT_GROUP_PIXELS = 4096
# The split by pixels keeps a partial dw per group; past this many bytes of them only the
# split by tiles is tried.
PIXEL_SPLIT_MAX_BYTES = 4 << 20
cdef enum:
    SPLIT_TILES = 0             # threads share the tiles of dw
    SPLIT_PIXELS = 1            # threads share the groups of pixels
    FOLD_CHUNK = 4096           # numbers of dw per work item when adding the partial sums
SPLIT_NAMES = ("tiles", "pixels")
# Candidate tile widths (pixels, or input numbers for the weight gradient) by NV, for 32
# vector registers and for 16; the largest of each is the largest compiled.
TILE_WIDTHS_32 = {1: (12, 16), 2: (8, 14), 3: (6, 9), 4: (5, 7)}
TILE_WIDTHS_16 = {1: (8, 12), 2: (4, 6), 3: (3, 4), 4: (2, 3)}

_algorithm = "auto"
_isa = mg_isa_best()
_forced_tile = None
_forced_split = None
_tuning = os.environ.get("MINIGRAD_CONV_TUNE", "1") != "0"
_verbose = os.environ.get("MINIGRAD_VERBOSE", "0") not in ("", "0")
_plans = {}


# ---------------------------------------------------------------------------------------------
# Settings (minigrad.backends offers them to users).

def get_isa():
    """The instruction set of the direct kernels: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[_isa]


def set_isa(name):
    """Run the direct kernels with this instruction set only ('avx512', 'avx2', 'base'), or
    None for the default (the widest, or AVX2 where it measures faster)."""
    global _isa
    _isa = isa_code(name)
    _plans.clear()


def set_algorithm(name):
    """'direct' (channels-last direct kernels wherever they apply), 'gemm' (im2col + GEMM on
    NCHW copies everywhere) or 'auto' (the default: direct wherever it applies)."""
    global _algorithm
    if name not in ("auto", "direct", "gemm"):
        raise ValueError(f"unknown convolution algorithm {name!r}; expected 'auto', 'direct' "
                         f"or 'gemm'")
    _algorithm = name
    _plans.clear()


def set_tile(tile):
    """Force the direct kernels' tile (NV, width) for every pass, or None to choose by
    measurement. NV is the number of vectors of output channels (1 to 4), width the pixels
    (forward) or input numbers (weight gradient) of a tile; widths past the largest compiled
    for the ISA are cut to it."""
    global _forced_tile
    if tile is not None:
        nv, width = tile
        if not 1 <= nv <= CN_MAX_NV or width < 1:
            raise ValueError(f"no tile {tile!r}: NV is 1 to {CN_MAX_NV}, the width positive")
        tile = (int(nv), int(width))
    _forced_tile = tile
    _plans.clear()


def set_weight_split(name):
    """Force how threads share the weight gradient: 'tiles' (each thread some tiles of dw,
    over every pixel), 'pixels' (each thread some groups of pixels, over every tile; also on
    one thread), or None to choose by measurement. The bits are the same either way."""
    global _forced_split
    if name is not None and name not in SPLIT_NAMES:
        raise ValueError(f"unknown weight-gradient split {name!r}; expected 'tiles', 'pixels' "
                         f"or None")
    _forced_split = None if name is None else SPLIT_NAMES.index(name)
    _plans.clear()


def weight_gradient_groups(Py_ssize_t N, Py_ssize_t OH, Py_ssize_t OW):
    """How many groups of consecutive output rows (n * OH + i) the weight gradient sums apart
    (then adds in order): group g holds rows [N*OH*g // G, N*OH*(g+1) // G)."""
    return max(1, min(WEIGHT_GROUPS, N * OH, N * OH * OW // WEIGHT_GROUP_PIXELS))


def set_verbose(enabled):
    """Print each decision (pass, shape, algorithm, layout, ISA, tile, split) to stderr when
    it is taken (also set by the environment variable MINIGRAD_VERBOSE=1)."""
    global _verbose
    _verbose = bool(enabled)


def set_tuning(enabled):
    """Choose tiles by timing the candidates at a shape's first call (True, the default) or
    take the first candidate unmeasured (False: deterministic timing, for tests)."""
    global _tuning
    _tuning = bool(enabled)
    _plans.clear()


def plans():
    """The decisions taken so far: one dict per (pass, shape, dtype, threads), with the
    algorithm, layout, ISA and tile it runs and (for tuned ones) the seconds each candidate
    took."""
    return [dict(plan) for plan in _plans.values()]


# ---------------------------------------------------------------------------------------------
# Layouts.

cdef bint dense_in_order(cnp.ndarray a, int o0, int o1, int o2, int o3):
    """Whether the 4-d array a is dense with its axes o0 (outermost) .. o3 (innermost) in
    memory; axes of size 1 may have any stride."""
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *strides = cnp.PyArray_STRIDES(a)
    cdef Py_ssize_t expected = cnp.PyArray_ITEMSIZE(a)
    cdef int axis
    for axis in (o3, o2, o1, o0):
        if shape[axis] != 1 and strides[axis] != expected:
            return False
        expected *= shape[axis]
    return True


cdef inline bint is_channels_last(cnp.ndarray a):
    """a (N, C, H, W) is dense NHWC in memory."""
    return dense_in_order(a, 0, 2, 3, 1)


cdef inline bint is_hwio(cnp.ndarray w):
    """w (F, C, KH, KW) is dense (KH, KW, C, F) in memory."""
    return dense_in_order(w, 2, 3, 1, 0)


cdef inline bint aligned(cnp.ndarray a):
    return <size_t>cnp.PyArray_DATA(a) % 64 == 0


cdef inline Py_ssize_t ceil_div(Py_ssize_t m, Py_ssize_t d) noexcept nogil:
    return (m + d - 1) // d


cdef inline void element_strides(cnp.ndarray a, Py_ssize_t *out):
    cdef int axis
    for axis in range(4):
        out[axis] = cnp.PyArray_STRIDES(a)[axis] // cnp.PyArray_ITEMSIZE(a)


# ---------------------------------------------------------------------------------------------
# The work loops: padded copies of input rows, then the tiles of conv_nhwc.h.

cdef void forward_item(const cn_plan *p, const floating *x, const Py_ssize_t *xs_,
                       Py_ssize_t rows, Py_ssize_t row_blocks, const floating *w,
                       const floating *bias, floating *y, floating *slab,
                       Py_ssize_t item) noexcept nogil:
    """Rows [i0, i1) of sample n, item = n * row_blocks + block."""
    cdef Py_ssize_t n = item // row_blocks, i0 = item % row_blocks * rows
    cdef Py_ssize_t i1 = min(i0 + rows, p.OH)
    cdef Py_ssize_t nrows = (i1 - i0 - 1) * p.sh + (p.KH - 1) * p.dh + 1
    x = x + n * xs_[0]
    y = y + n * p.OH * p.OW * p.y_step
    if floating is float:
        cn_copy_slab_f32(x, xs_[1], xs_[2], xs_[3], p.C, p.H, p.W, i0 * p.sh - p.ph, nrows,
                         -p.pw, p.Wp, p.C, slab)
        cn_forward_rows_f32(p, slab, i0, i1, w, bias, y)
    else:
        cn_copy_slab_f64(x, xs_[1], xs_[2], xs_[3], p.C, p.H, p.W, i0 * p.sh - p.ph, nrows,
                         -p.pw, p.Wp, p.C, slab)
        cn_forward_rows_f64(p, slab, i0, i1, w, bias, y)


cdef void forward_loop(const cn_plan *p, const floating *x, const Py_ssize_t *xs_,
                       Py_ssize_t N, Py_ssize_t rows, const floating *w, const floating *bias,
                       floating *y, floating *slabs, Py_ssize_t slab_size,
                       int num_threads) noexcept nogil:
    """Every output row of every sample, items of `rows` rows spread over the threads."""
    cdef Py_ssize_t row_blocks = ceil_div(p.OH, rows), items = N * row_blocks, item
    if num_threads == 1 or items == 1:      # no OpenMP team to wake: ~3 us a call
        for item in range(items):
            forward_item(p, x, xs_, rows, row_blocks, w, bias, y, slabs, item)
        return
    with parallel(num_threads=num_threads):
        for item in prange(items, schedule="dynamic"):
            forward_item(p, x, xs_, rows, row_blocks, w, bias, y,
                         slabs + omp_get_thread_num() * slab_size, item)


cdef struct weight_work:
    # What every thread of a weight-gradient call reads: the plan; x and dy (of the call's
    # dtype: the pointers are untyped, the functions' fused type says which) with their element
    # strides; whether dy's rows are read in place (dense channels-last, dy_step numbers a
    # pixel) or copied; the row blocks, items and groups of pixels; the buffers.
    const cn_plan *p
    const void *x
    const void *dy
    Py_ssize_t xs[4]
    Py_ssize_t dys[4]
    bint dy_in_place
    Py_ssize_t N, rows, items, groups
    double *db                  # the bias gradient (whole groups of 8 doubles), or NULL
    void *parts                 # partial weight gradients, part_size numbers each
    Py_ssize_t part_size        # the numbers of dw: KH * KW * C * dy_step
    double *bias_parts          # partial bias gradients, dy_step doubles each
    void *slabs                 # slab_size numbers a thread
    Py_ssize_t slab_size
    void *dybs                  # dyb_size numbers a thread
    Py_ssize_t dyb_size
    void *dwb                   # the gradient being summed (KH, KW, C, dy_step numbers)
    int threads                 # how many threads the work pays for
    Py_ssize_t zeroed_parts     # partial sums to zero before the work (the split by tiles)
    Py_ssize_t db_size          # doubles of db (whole groups of 8)


cdef inline Py_ssize_t group_start(const weight_work *w, Py_ssize_t g) noexcept nogil:
    """The first output row r = n * OH + i of group of pixels g (g = groups: the end)."""
    return w.N * w.p.OH * g // w.groups


cdef void weight_block(const weight_work *w, Py_ssize_t n, Py_ssize_t i0, Py_ssize_t i1,
                       Py_ssize_t k0, Py_ssize_t k1, floating *dwb, double *db,
                       int tid) noexcept nogil:
    """dwb += items k0 <= k < k1 of the weight gradient over output rows i0 <= i < i1 of
    sample n (each sum continues from dwb's value, pixel by pixel), db += those pixels' bias
    gradient if db is not NULL; with thread tid's slab and copy of dy."""
    cdef const cn_plan *p = w.p
    cdef const floating *dy = <const floating *>w.dy + n * w.dys[0]
    cdef floating *slab = <floating *>w.slabs + tid * w.slab_size
    cdef floating *copy = <floating *>w.dybs + tid * w.dyb_size
    cdef const floating *dyb = copy
    if w.dy_in_place:
        dyb = dy + i0 * w.dys[2]
    else:
        copy_dy_rows(p, dy, w.dys, i0, i1, copy)
    if k1 > k0:
        copy_x_rows(p, <const floating *>w.x + n * w.xs[0], w.xs, i0, i1, slab)
        if floating is float:
            cn_weight_rows_f32(p, slab, i0, i1, dyb, k0, k1, dwb)
        else:
            cn_weight_rows_f64(p, slab, i0, i1, dyb, k0, k1, dwb)
    if db != NULL:
        if floating is float:
            cn_sum_pixels_f32(p.isa, dyb, (i1 - i0) * p.OW, p.dy_step, p.F, db)
        else:
            cn_sum_pixels_f64(p.isa, dyb, (i1 - i0) * p.OW, p.dy_step, p.F, db)


cdef void weight_group(const weight_work *w, Py_ssize_t g, Py_ssize_t k0, Py_ssize_t k1,
                       floating *dwb, double *db, int tid) noexcept nogil:
    """weight_block over the pixels of group g in order, in blocks of at most `rows` rows of
    one sample."""
    cdef Py_ssize_t r = group_start(w, g), end = group_start(w, g + 1), n, i0, i1
    while r < end:
        n = r // w.p.OH
        i0 = r - n * w.p.OH
        i1 = min(i0 + w.rows, w.p.OH, i0 + end - r)
        weight_block(w, n, i0, i1, k0, k1, dwb, db, tid)
        r += i1 - i0


cdef void weight_tiles_thread(const weight_work *w, int tid, int team,
                              floating *dwb) noexcept nogil:
    """The split by tiles of dw: thread tid of team computes items [items*tid/team,
    items*(tid+1)/team) over every group of pixels in order, thread 0 also the bias gradient.
    Group 0 sums into dwb and db; each later group into the thread's partial sums (zero on
    entry), which are then added into dwb and zeroed again."""
    cdef Py_ssize_t k0 = w.items * tid // team, k1 = w.items * (tid + 1) // team, g, f
    cdef bint bias = w.db != NULL and tid == 0
    cdef floating *part = <floating *>w.parts + tid * w.part_size
    if k1 == k0 and not bias:
        return
    weight_group(w, 0, k0, k1, dwb, w.db if bias else NULL, tid)
    for g in range(1, w.groups):
        weight_group(w, g, k0, k1, part, w.bias_parts if bias else NULL, tid)
        if floating is float:
            cn_weight_items_add_f32(w.p, k0, k1, part, dwb)
        else:
            cn_weight_items_add_f64(w.p, k0, k1, part, dwb)
        if bias:
            for f in range(ceil_div(w.p.F, 8) * 8):
                w.db[f] += w.bias_parts[f]
                w.bias_parts[f] = 0


cdef void weight_pixels_group(const weight_work *w, Py_ssize_t g, floating *dwb,
                              int tid) noexcept nogil:
    """The split by groups of pixels: every item of dw over group g, group 0's sums into dwb
    and db, group g > 0's into partial sums g - 1 (zeroed here)."""
    cdef floating *part = <floating *>w.parts + (g - 1) * w.part_size
    cdef double *bias_part = NULL
    if g == 0:
        weight_group(w, 0, 0, w.items, dwb, w.db, tid)
        return
    memset(part, 0, w.part_size * sizeof(floating))
    if w.db != NULL:
        bias_part = w.bias_parts + (g - 1) * w.p.dy_step
        memset(bias_part, 0, w.p.dy_step * sizeof(double))
    weight_group(w, g, 0, w.items, part, bias_part, tid)


cdef void add_partials(const weight_work *w, Py_ssize_t chunk, floating *dwb) noexcept nogil:
    """dwb += partial sums 0, 1, ... in group order, on numbers [chunk * FOLD_CHUNK, ...)."""
    cdef Py_ssize_t start = chunk * FOLD_CHUNK, count = min(FOLD_CHUNK, w.part_size - start), g
    cdef floating *parts = <floating *>w.parts
    for g in range(w.groups - 1):
        if floating is float:
            cn_add_f32(w.p.isa, dwb + start, parts + g * w.part_size + start, count, 0)
        else:
            cn_add_f64(w.p.isa, dwb + start, parts + g * w.part_size + start, count, 0)


cdef void weight_by_pixels(const weight_work *w, floating *dwb, int num_threads) noexcept nogil:
    """The groups of pixels spread over the threads, then their partial sums added into dwb
    (in group order, the numbers of dwb spread over the threads) and db."""
    cdef Py_ssize_t g, chunk, chunks = ceil_div(w.part_size, FOLD_CHUNK), f
    if num_threads == 1:
        for g in range(w.groups):
            weight_pixels_group(w, g, dwb, 0)
        for chunk in range(chunks):
            add_partials(w, chunk, dwb)
    else:
        with parallel(num_threads=num_threads):
            for g in prange(w.groups, schedule="dynamic"):
                weight_pixels_group(w, g, dwb, omp_get_thread_num())
        for chunk in prange(chunks, num_threads=num_threads, schedule="static"):
            add_partials(w, chunk, dwb)
    if w.db != NULL:
        for g in range(w.groups - 1):
            for f in range(ceil_div(w.p.F, 8) * 8):
                w.db[f] += w.bias_parts[g * w.p.dy_step + f]


cdef void weight_loop(const weight_work *w, floating *dwb, int split,
                      int num_threads) noexcept nogil:
    """dwb (zero) = the weight gradient, db (zero, if not NULL) = the bias gradient. Both
    splits sum in the same order: each group's partial sums over its pixels in order, added
    into the total in group order."""
    if split == SPLIT_PIXELS:
        weight_by_pixels(w, dwb, num_threads)
    elif num_threads == 1:
        weight_tiles_thread(w, 0, 1, dwb)
    else:
        with parallel(num_threads=num_threads):
            weight_tiles_thread(w, omp_get_thread_num(), omp_get_num_threads(), dwb)


cdef inline void copy_x_rows(const cn_plan *p, const floating *x, const Py_ssize_t *xs_,
                             Py_ssize_t i0, Py_ssize_t i1, floating *slab) noexcept nogil:
    cdef Py_ssize_t nrows = (i1 - i0 - 1) * p.sh + (p.KH - 1) * p.dh + 1
    if floating is float:
        cn_copy_slab_f32(x, xs_[1], xs_[2], xs_[3], p.C, p.H, p.W, i0 * p.sh - p.ph, nrows,
                         -p.pw, p.Wp, p.C, slab)
    else:
        cn_copy_slab_f64(x, xs_[1], xs_[2], xs_[3], p.C, p.H, p.W, i0 * p.sh - p.ph, nrows,
                         -p.pw, p.Wp, p.C, slab)


cdef inline void copy_dy_rows(const cn_plan *p, const floating *dy, const Py_ssize_t *dys_,
                              Py_ssize_t i0, Py_ssize_t i1, floating *dyb) noexcept nogil:
    """dyb[(i - i0) * OW + j, f] = dy[f, i, j], dy_step numbers a pixel (zero past F)."""
    if floating is float:
        cn_copy_slab_f32(dy, dys_[1], dys_[2], dys_[3], p.F, p.OH, p.OW, i0, i1 - i0, 0, p.OW,
                         p.dy_step, dyb)
    else:
        cn_copy_slab_f64(dy, dys_[1], dys_[2], dys_[3], p.F, p.OH, p.OW, i0, i1 - i0, 0, p.OW,
                         p.dy_step, dyb)


# ---------------------------------------------------------------------------------------------
# Plans: the candidates, and the choice among them.

cdef object candidate_tiles(int isa, Py_ssize_t channels, int itemsize):
    """(NV, width) candidates for `channels` output channels: NV dividing the vectors the
    channels need (no vector of zeros but in the last block), or the most that fit."""
    cdef int lanes = cn_lanes(isa, itemsize)
    cdef Py_ssize_t vectors = ceil_div(max(channels, 1), lanes)
    widths = TILE_WIDTHS_32 if isa == MG_ISA_AVX512 else TILE_WIDTHS_16
    nvs = {nv for nv in range(2, CN_MAX_NV + 1) if vectors % nv == 0}
    nvs.add(min(vectors, CN_MAX_NV))
    tiles = []
    for nv in sorted(nvs, reverse=True):
        tiles += [(nv, width) for width in widths[nv]]
    return tiles


cdef object candidates(Py_ssize_t channels, int itemsize):
    """(ISA, NV, width) to try: the selected ISA's tiles, and AVX2's too where AVX-512 is
    selected (a CPU that runs 512-bit FMAs as two halves may prefer 256-bit vectors)."""
    if _forced_tile is not None:
        nv, width = _forced_tile
        return [(_isa, nv, min(width, cn_max_cw(_isa, nv)))]
    isas = [_isa]
    if _isa == MG_ISA_AVX512:
        isas.append(MG_ISA_AVX2)
    return [(isa, nv, width) for isa in isas for nv, width in candidate_tiles(isa, channels,
                                                                             itemsize)]


def choose(pass_name, shape, dtype, int threads, run, options):
    """The option in `options` that runs `run(option)` fastest (each timed twice; the first,
    untimed, when tuning is off), remembered for (pass_name, shape, dtype, threads). `run`
    does the call's real work: every option gives the same bits, so whichever ran last left
    the call's result. (No negative indices here: the module is compiled without
    wraparound.)"""
    key = (pass_name, shape, dtype, threads)
    plan = _plans.get(key)
    if plan is not None:
        run(plan["choice"])
        return plan["choice"]
    timings = {}
    if not _tuning or len(options) == 1:
        choice = options[0]
        run(choice)
    else:
        for option in options:
            best = float("inf")
            for _ in range(2):
                start = time.perf_counter()
                run(option)
                best = min(best, time.perf_counter() - start)
            timings[option] = best
        choice = min(timings, key=timings.get)
    record(pass_name, shape, dtype, threads, "direct", "channels-last", ISA_NAMES[choice[0]],
           choice[1:3], choice, timings)
    return choice


cdef record(pass_name, shape, dtype, threads, algorithm, layout, isa, tile, choice, timings):
    """Remember (and with verbose on, print) how one pass at one shape runs. A weight
    gradient's choice (ISA, NV, width, split) also names how its threads split the work."""
    split = SPLIT_NAMES[choice[3]] if choice is not None and len(choice) > 3 else None
    # keyed by the dtype itself (its .name costs ~1.7 us a call), shown by name
    _plans[(pass_name, shape, dtype, threads)] = {
        "pass": pass_name, "shape": shape, "dtype": dtype.name, "threads": threads,
        "algorithm": algorithm, "layout": layout, "isa": isa, "tile": tile, "split": split,
        "choice": choice, "seconds": timings}
    if _verbose:
        print(f"minigrad conv2d: {pass_name} {shape} {dtype.name} on {threads} thread(s): "
              f"{algorithm}, {layout}, {isa}" + (f", tile {tile}" if tile else "")
              + (f", split by {split}" if split else ""), file=sys.stderr)


cdef void fill_plan(cn_plan *p, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t F,
                    Py_ssize_t OH, Py_ssize_t OW, int KH, int KW, int sh, int sw, int ph,
                    int pw, int dh, int dw) noexcept nogil:
    p.C, p.H, p.W, p.F, p.OH, p.OW = C, H, W, F, OH, OW
    p.KH, p.KW, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw = KH, KW, sh, sw, ph, pw, dh, dw
    p.Wp = (OW - 1) * sw + (KW - 1) * dw + 1
    p.y_step = F


cdef Py_ssize_t forward_rows_per_item(Py_ssize_t N, Py_ssize_t OH, int num_threads):
    """Whole samples, unless there are too few of them to give each thread a few items."""
    cdef Py_ssize_t wanted = ITEMS_PER_THREAD * num_threads
    if num_threads == 1 or N >= wanted:
        return OH
    return ceil_div(OH, min(OH, ceil_div(wanted, N)))


cdef struct forward_work:
    # One direct forward pass (or input gradient) ready to run without the GIL: the plan; x
    # (untyped, the fused type of the functions says which float) with its element strides;
    # the HWIO weights (KH, KW, C, w_step) to read, and when they must be packed first, the
    # (F, C, KH, KW) weights to pack them from, with their element strides; bias (or NULL), y
    # (dense NHWC) and the threads' slabs.
    const cn_plan *p
    const void *x
    Py_ssize_t xs[4]
    Py_ssize_t N, rows
    void *w
    const void *w_source
    Py_ssize_t ws[4]
    const void *bias
    void *y
    void *slabs
    Py_ssize_t slab_size


cdef list prepare_forward(forward_work *fw, cn_plan *p, cnp.ndarray x, cnp.ndarray weight,
                          bias, cnp.ndarray y, int num_threads, str tag):
    """Fill fw for y = the direct convolution of x with weight (F, C, KH, KW) + bias, p filled
    in: y dense NHWC, x any strides, the weight read in place when it is HWIO, else packed (by
    forward_execute). Returns the arrays fw points into (keep them alive while it runs). `tag`
    names its scratch buffers (two passes that run at once need their own)."""
    cdef Py_ssize_t fb = p.nv * cn_lanes(p.isa, x.itemsize)
    cdef cnp.ndarray w = weight
    fw.p = p
    fw.rows = forward_rows_per_item(x.shape[0], p.OH, num_threads)
    fw.N = x.shape[0]
    fw.slab_size = ceil_div(((fw.rows - 1) * p.sh + (p.KH - 1) * p.dh + 1) * p.Wp * p.C, 16) * 16
    slabs = scratch(tag + "_slabs", x.dtype, fw.slab_size * num_threads)
    fw.w_source = NULL
    if is_hwio(weight) and p.F % fb == 0 and aligned(weight):
        p.w_step = p.F
    else:
        p.w_step = ceil_div(p.F, fb) * fb
        w = scratch(tag + "_weights", x.dtype,
                    weight.shape[2] * weight.shape[3] * p.C * p.w_step)
        fw.w_source = cnp.PyArray_DATA(weight)
        element_strides(weight, fw.ws)
    fw.bias = NULL
    if bias is not None:
        if not bias.flags.c_contiguous:
            bias = np.ascontiguousarray(bias)
        if bias.shape[0] > 0:
            fw.bias = cnp.PyArray_DATA(<cnp.ndarray>bias)
    fw.x = cnp.PyArray_DATA(x)
    element_strides(x, fw.xs)
    fw.w = cnp.PyArray_DATA(w)
    fw.y = cnp.PyArray_DATA(y)
    fw.slabs = cnp.PyArray_DATA(<cnp.ndarray>slabs)
    return [x, weight, w, bias, y, slabs]


cdef void pack_weights(const forward_work *fw, const floating *source,
                       floating *w) noexcept nogil:
    """w[a, b, c, f] = source[f, c, a, b] (any strides) for f < F, 0 up to w_step."""
    cdef const cn_plan *p = fw.p
    if floating is float:
        cn_pack_weights_f32(source, fw.ws[0], fw.ws[1], fw.ws[2], fw.ws[3], p.KH, p.KW, p.C,
                            p.F, p.w_step, w)
    else:
        cn_pack_weights_f64(source, fw.ws[0], fw.ws[1], fw.ws[2], fw.ws[3], p.KH, p.KW, p.C,
                            p.F, p.w_step, w)


cdef void forward_execute(const forward_work *fw, bint is_f32,
                          int num_threads) noexcept nogil:
    """Run a prepared pass (packing its weights first if need be) on num_threads threads."""
    if is_f32:
        if fw.w_source != NULL:
            pack_weights(fw, <const float *>fw.w_source, <float *>fw.w)
        forward_loop(fw.p, <const float *>fw.x, fw.xs, fw.N, fw.rows, <const float *>fw.w,
                     <const float *>fw.bias, <float *>fw.y, <float *>fw.slabs, fw.slab_size,
                     num_threads)
    else:
        if fw.w_source != NULL:
            pack_weights(fw, <const double *>fw.w_source, <double *>fw.w)
        forward_loop(fw.p, <const double *>fw.x, fw.xs, fw.N, fw.rows, <const double *>fw.w,
                     <const double *>fw.bias, <double *>fw.y, <double *>fw.slabs,
                     fw.slab_size, num_threads)


cdef run_forward(cn_plan *p, cnp.ndarray x, cnp.ndarray weight, bias, cnp.ndarray y,
                 int num_threads):
    """y = the direct convolution of x with weight (F, C, KH, KW) + bias, p filled in; y dense
    NHWC, x any strides, the weight read in place when it is HWIO (else packed)."""
    cdef forward_work fw
    cdef bint is_f32 = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    keep = prepare_forward(&fw, p, x, weight, bias, y, num_threads, "conv")
    with nogil:
        forward_execute(&fw, is_f32, num_threads)


# ---------------------------------------------------------------------------------------------
# Kernels.

# Past this many bytes of weights (the KH*KW*C*F of a layer) the direct kernels, which stream a
# block of output channels' weights for every row of output pixels, no longer keep the weights
# in L2; im2col + the GEMM, which streams them once per chunk of samples, wins there. Measured
# on one core, batch 8, ms for forward / input gradient / weight gradient, direct | GEMM:
#     128 -> 128,  16x16, 576 KB:   3.30 / 3.47 / 4.93  |  4.58 / 5.45 / 6.03
#     128 -> 256, s2,    1152 KB:   2.04 /   -  / 3.39  |  2.06 / 2.12 / 2.11
#     256 -> 256,   8x8, 2304 KB:   5.49 / 6.56 / 9.23  |  4.46 / 4.22 / 4.48
#     512 -> 512,   4x4, 9216 KB:  14.56 / 14.4 / 13.5  |  4.54 / 4.68 / 4.32
GEMM_MIN_WEIGHT_BYTES = 1 << 20
# Up to this many multiply-adds a pass, a convolution's input and weight gradients run side
# by side on two threads, one each (conv2d_backward), instead of one after the other with the
# whole team on each: a small pass gains little from a team (waking it, moving the weights
# and gradients between the cores' caches), two passes at once keep both cores busy without
# sharing data. Measured on an Intel Xeon (two 512-bit FMA units), 2 threads: conv3 / conv2 of
# the seed model at batch 1 (3.3M / 6.5M multiply-adds a pass), both passes 98 / 119 us one
# after the other, 61 / 100 us side by side. With every layer side by side, its training step
# was 3-5% faster at batch 2 and 4, within the noise at batch 8 and 32, 10-15% slower at 64
# (conv2: 13M, 26M, 52M, 210M, 420M multiply-adds a pass): the bound keeps the clear gains.
SIDE_BY_SIDE_MAX_MACS = 16 << 20
# The direct input gradient vectorises over the input's channels; with fewer than this many
# (an image's 3) most lanes would be idle: 3 -> 32, 5x5, 32x32, batch 8: 1.09 ms direct, 0.93
# GEMM; 3 -> 64, 3x3: 0.87 against 0.58.
DIRECT_MIN_INPUT_CHANNELS = 8


cdef str path_for(weight, int groups, bint input_gradient, int sh, int sw):
    """How a convolution pass runs: 'depthwise' (one input channel per group:
    conv_depthwise.pyx), 'direct' (conv_nhwc.h) or 'gemm' (conv_gemm.pyx: channels-last im2col
    + the GEMM). The choice depends on the shapes only (each path sums in its own order: a
    choice by timing would let two runs differ in their last bits). The direct kernels compute
    the input gradient at stride 1 only."""
    if groups > 1 and weight.shape[1] == 1:
        return "depthwise"
    if _algorithm == "gemm" or groups > 1 or (input_gradient and (sh != 1 or sw != 1)):
        return "gemm"
    if _algorithm == "direct":
        return "direct"
    if weight.size * weight.itemsize > GEMM_MIN_WEIGHT_BYTES:
        return "gemm"
    if input_gradient and weight.shape[1] < DIRECT_MIN_INPUT_CHANNELS:
        return "gemm"
    return "direct"


def conv2d_forward(x, weight, bias, out, int stride_h, int stride_w, int pad_top,
                   int pad_left, int dilation_h, int dilation_w, int groups, int num_threads):
    """out = conv2d(x, weight) + bias: x (N, C, H, W), weight (F, C/G, KH, KW), bias (F,) or
    None, out (N, F, OH, OW) or None (then a new array: channels-last for the direct kernels,
    NCHW otherwise). All of one float dtype. Returns out."""
    cdef cn_plan p
    cdef Py_ssize_t N = x.shape[0], F = weight.shape[0], OH, OW
    path = path_for(weight, groups, False, stride_h, stride_w)
    if path != "direct":
        return other_path(path, "forward", (x, weight, bias), out,
                          (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups),
                          x.shape, weight.shape, num_threads)
    if out is None:
        raise ValueError("conv2d_forward: out is required")   # the caller knows OH, OW
    OH, OW = out.shape[2], out.shape[3]
    if N == 0 or F == 0 or OH * OW == 0:
        return out
    if x.shape[1] * x.shape[2] * x.shape[3] == 0:       # no input numbers: the bias alone
        out[...] = 0 if bias is None else bias[:, None, None]
        return out
    y = out if is_channels_last(out) else channels_last_empty(N, F, OH, OW, x.dtype)
    fill_plan(&p, x.shape[1], x.shape[2], x.shape[3], F, OH, OW, weight.shape[2],
              weight.shape[3], stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w)
    shape = (x.shape, weight.shape, stride_h, stride_w, pad_top, pad_left, dilation_h,
             dilation_w)
    plan = _plans.get(("forward", shape, x.dtype, num_threads))
    if plan is not None:            # the common case: no closure, no candidates
        p.isa, p.nv, p.cw = plan["choice"]
        run_forward(&p, x, weight, bias, y, num_threads)
    else:
        def run(option):
            p.isa, p.nv, p.cw = option
            run_forward(&p, x, weight, bias, y, num_threads)

        choose("forward", shape, x.dtype, num_threads, run, candidates(F, x.itemsize))
    if y is not out:
        out[...] = y
    return out


def conv2d_backward_input(grad_out, weight, grad_input, int stride_h, int stride_w,
                          int pad_top, int pad_left, int dilation_h, int dilation_w,
                          int groups, int num_threads):
    """grad_input (N, C, H, W) from grad_out (N, F, OH, OW): at stride 1 the direct forward
    kernels on grad_out with the weights flipped and transposed (padding dilation*(K-1) -
    padding), else im2col + GEMM. Returns grad_input."""
    cdef cn_plan p
    cdef Py_ssize_t N = grad_input.shape[0], C = grad_input.shape[1]
    cdef Py_ssize_t H = grad_input.shape[2], W = grad_input.shape[3]
    cdef int KH = weight.shape[2], KW = weight.shape[3]
    path = path_for(weight, groups, True, stride_h, stride_w)
    if path != "direct":
        return other_path(path, "backward_input",
                          (grad_out, weight), grad_input,
                          (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups),
                          grad_input.shape, weight.shape, num_threads)
    if N == 0 or C * H * W == 0:
        return grad_input
    if weight.shape[0] * grad_out.shape[2] * grad_out.shape[3] == 0:
        grad_input[...] = 0
        return grad_input
    dx = grad_input if is_channels_last(grad_input) else channels_last_empty(N, C, H, W,
                                                                              grad_out.dtype)
    flipped, shape = input_gradient_plan(&p, grad_out, weight, grad_input, pad_top, pad_left,
                                         dilation_h, dilation_w)
    plan = _plans.get(("backward_input", shape, grad_out.dtype, num_threads))
    if plan is not None:
        p.isa, p.nv, p.cw = plan["choice"]
        run_forward(&p, grad_out, flipped, None, dx, num_threads)
    else:
        def run(option):
            p.isa, p.nv, p.cw = option
            run_forward(&p, grad_out, flipped, None, dx, num_threads)

        choose("backward_input", shape, grad_out.dtype, num_threads, run,
               candidates(C, grad_out.itemsize))
    if dx is not grad_input:
        grad_input[...] = dx
    return grad_input


cdef tuple input_gradient_plan(cn_plan *p, grad_out, weight, grad_input, int pad_top,
                               int pad_left, int dilation_h, int dilation_w):
    """Fill p for the input gradient at stride 1 as a direct convolution of grad_out; returns
    (the weights of that convolution, the pass's shape key)."""
    cdef int KH = weight.shape[2], KW = weight.shape[3]
    fill_plan(p, weight.shape[0], grad_out.shape[2], grad_out.shape[3], grad_input.shape[1],
              grad_input.shape[2], grad_input.shape[3], KH, KW, 1, 1,
              dilation_h * (KH - 1) - pad_top, dilation_w * (KW - 1) - pad_left, dilation_h,
              dilation_w)
    # wt (F, C, KH, KW) presented as the weights of the flipped convolution: (C, F, KH, KW)
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    return flipped, (grad_input.shape, weight.shape, 1, 1, pad_top, pad_left, dilation_h,
                     dilation_w)


def conv2d_backward_weight(x, grad_out, grad_weight, int stride_h, int stride_w, int pad_top,
                           int pad_left, int dilation_h, int dilation_w, int groups,
                           int num_threads, grad_bias=None):
    """grad_weight (F, C/G, KH, KW) from x and grad_out, and, if grad_bias (F,) is given, the
    bias gradient in the same pass over grad_out. Returns grad_weight."""
    cdef cn_plan p
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = grad_weight.shape[0]
    cdef Py_ssize_t OH = grad_out.shape[2], OW = grad_out.shape[3]
    cdef int KH = grad_weight.shape[2], KW = grad_weight.shape[3]
    path = path_for(grad_weight, groups, False, stride_h, stride_w)
    if path != "direct":
        other_path(path, "backward_weight", (x, grad_out), grad_weight,
                   (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups),
                   x.shape, grad_weight.shape, num_threads)
        if grad_bias is not None:
            conv2d_backward_bias(grad_out, grad_bias, num_threads)
        return grad_weight
    if F == 0 or C == 0:
        if grad_bias is not None:
            conv2d_backward_bias(grad_out, grad_bias, num_threads)
        return grad_weight
    if N * OH * OW * x.shape[2] * x.shape[3] == 0:
        grad_weight[...] = 0
        if grad_bias is not None:
            grad_bias[...] = 0
        return grad_weight
    fill_plan(&p, C, x.shape[2], x.shape[3], F, OH, OW, KH, KW, stride_h, stride_w, pad_top,
              pad_left, dilation_h, dilation_w)
    shape = weight_key(x, grad_weight, (stride_h, stride_w, pad_top, pad_left, dilation_h,
                                         dilation_w))
    db = bias_sums(F, grad_bias)
    plan = _plans.get(("backward_weight", shape, x.dtype, num_threads))
    if plan is not None:
        p.isa, p.nv, p.cw, split = plan["choice"]
        dwb = run_weight(&p, x, grad_out, db, split, num_threads, grad_weight)
    else:
        result = {}

        def run(option):
            p.isa, p.nv, p.cw, split = option
            result["dwb"] = run_weight(&p, x, grad_out, db, split, num_threads, grad_weight)

        # a partial dw has up to 64 numbers a pixel for each started 64 of F (dy_step)
        splits = weight_splits(N, OH, OW, KH * KW * C * ceil_div(F, 64) * 64 * x.itemsize,
                               num_threads)
        choose("backward_weight", shape, x.dtype, num_threads, run,
               [tile + (split,) for split in splits for tile in candidates(F, x.itemsize)])
        dwb = result["dwb"]
    store_weight_gradient(dwb, grad_weight, db, grad_bias)
    return grad_weight


cdef object bias_sums(Py_ssize_t F, grad_bias):
    """The float64 sums of the bias gradient, with room for whole groups of 8 channels
    (cn_sum_pixels_ adds them eight at a time; weight_execute zeroes them), or None."""
    return np.empty(F + 7, dtype=np.float64) if grad_bias is not None else None


cdef store_weight_gradient(dwb, grad_weight, db, grad_bias):
    """grad_weight = the summed weight gradient dwb (KH, KW, C, dy_step), unless it was summed
    in place; grad_bias = the bias sums db, when asked for."""
    if dwb is not grad_weight:
        np.copyto(grad_weight, dwb[..., :grad_weight.shape[0]].transpose(3, 2, 0, 1))
    if grad_bias is not None:
        grad_bias[...] = db[:grad_bias.shape[0]]


def conv2d_backward(x, grad_out, weight, grad_input, grad_weight, grad_bias, int stride_h,
                    int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                    int groups, int num_threads):
    """grad_input and grad_weight (and grad_bias, when given) of one convolution: the two
    passes of conv2d_backward_input and conv2d_backward_weight. Small direct passes run side
    by side, one thread each (see SIDE_BY_SIDE_MAX_MACS); each pass's result does not depend
    on its thread count, so the bits are those of running them one after the other."""
    cdef cn_plan pi, pw
    cdef forward_work fw
    cdef weight_work w
    cdef int split, tid, team
    cdef bint is_f32 = x.dtype == np.float32
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = weight.shape[0]
    cdef Py_ssize_t OH = grad_out.shape[2], OW = grad_out.shape[3]
    args = (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups)
    plans = None
    if (num_threads >= 2 and N * C * F * OH * OW * x.shape[2] * x.shape[3] > 0
            and path_for(weight, groups, True, stride_h, stride_w) == "direct"
            and path_for(weight, groups, False, stride_h, stride_w) == "direct"):
        flipped, input_shape = input_gradient_plan(&pi, grad_out, weight, grad_input,
                                                   pad_top, pad_left, dilation_h, dilation_w)
        fill_plan(&pw, C, x.shape[2], x.shape[3], F, OH, OW, weight.shape[2], weight.shape[3],
                  stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w)
        shape = weight_key(x, weight, args)
        if weight_macs(&pw, N) <= SIDE_BY_SIDE_MAX_MACS:
            plans = (_plans.get(("backward_input", input_shape, x.dtype, 1)),
                     _plans.get(("backward_weight", shape, x.dtype, 1)))
            if plans[0] is None or plans[1] is None:
                num_threads = 1     # the first call: choose each pass's tile on one thread
                plans = None
    if plans is None:
        conv2d_backward_input(grad_out, weight, grad_input, *args, num_threads)
        conv2d_backward_weight(x, grad_out, grad_weight, *args, num_threads,
                               grad_bias=grad_bias)
        return grad_input, grad_weight
    dx = grad_input if is_channels_last(grad_input) else channels_last_empty(
        N, C, x.shape[2], x.shape[3], x.dtype)
    pi.isa, pi.nv, pi.cw = plans[0]["choice"]
    # keep_*: the arrays the prepared passes point into, alive until they have run
    keep_input = prepare_forward(&fw, &pi, grad_out, flipped, None, dx, 1,
                                 "conv_input_gradient")
    pw.isa, pw.nv, pw.cw, split = plans[1]["choice"]
    db = bias_sums(F, grad_bias)
    keep_weight = prepare_weight(&w, &pw, x, grad_out, db, split, 1, "conv", grad_weight)
    if ("backward", shape, x.dtype, num_threads) not in _plans:
        record("backward", shape, x.dtype, num_threads,
               "input and weight gradients side by side", "channels-last", ISA_NAMES[pi.isa],
               (), None, {})
    with nogil, parallel(num_threads=2):
        tid = omp_get_thread_num()
        team = omp_get_num_threads()
        if tid == 0:
            forward_execute(&fw, is_f32, 1)
        if tid == team - 1:             # thread 1, or thread 0 again if it is alone
            weight_execute(&w, is_f32, split, 1)
    if dx is not grad_input:
        grad_input[...] = dx
    store_weight_gradient(keep_weight[0], grad_weight, db, grad_bias)
    return grad_input, grad_weight


cdef tuple weight_key(x, weight, tuple args):
    """The shape key of a weight-gradient pass (args: stride, top-left padding, dilation)."""
    return (x.shape, weight.shape) + args[:6]


cdef list weight_splits(Py_ssize_t N, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t weight_bytes,
                        int num_threads):
    """The splits of the weight gradient's work to try: by tiles of dw, and by groups of
    pixels where there are threads and groups to share and their partial sums (weight_bytes
    each) are small."""
    if _forced_split is not None:
        return [_forced_split]
    groups = weight_gradient_groups(N, OH, OW)
    if num_threads == 1 or groups == 1 or (groups - 1) * weight_bytes > PIXEL_SPLIT_MAX_BYTES:
        return [SPLIT_TILES]
    return [SPLIT_TILES, SPLIT_PIXELS]


cdef object run_weight(cn_plan *p, cnp.ndarray x, cnp.ndarray dy, db, int split,
                       int num_threads, out):
    """The weight gradient as a (KH, KW, C, dy_step) array (zero past F), or in `out` (see
    prepare_weight); db (float64, room for whole groups of 8) gets the bias gradient when
    given. `split`: how threads share the work (SPLIT_TILES or SPLIT_PIXELS)."""
    cdef weight_work w
    cdef int threads
    cdef bint is_f32 = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    keep = prepare_weight(&w, p, x, dy, db, split, num_threads, "conv", out)
    threads = w.threads
    with nogil:
        weight_execute(&w, is_f32, split, threads)
    return keep[0]


cdef void weight_execute(const weight_work *w, bint is_f32, int split,
                         int num_threads) noexcept nogil:
    """Zero the sums (on the thread that runs the work, whose cache then holds them), then run
    a prepared weight gradient on num_threads threads."""
    cdef size_t size = sizeof(float) if is_f32 else sizeof(double)
    memset(w.dwb, 0, w.part_size * size)
    memset(w.parts, 0, w.zeroed_parts * w.part_size * size)
    memset(w.bias_parts, 0, w.zeroed_parts * w.p.dy_step * sizeof(double))
    if w.db != NULL:
        memset(w.db, 0, w.db_size * sizeof(double))
    if is_f32:
        weight_loop(w, <float *>w.dwb, split, num_threads)
    else:
        weight_loop(w, <double *>w.dwb, split, num_threads)


cdef list prepare_weight(weight_work *w, cn_plan *p, cnp.ndarray x, cnp.ndarray dy, db,
                         int split, int num_threads, str tag, out=None):
    """Fill w for the weight gradient (and db's, when given) of x and dy, p filled in, on up
    to num_threads threads (w.threads: fewer where the work is small). Returns [the gradient
    as a (KH, KW, C, dy_step) array, or `out` itself (an (F, C, KH, KW) array) when it is
    HWIO memory the sums can go to directly, then the arrays w points into]: keep them alive
    while it runs. `tag` names its scratch buffers."""
    cdef int lanes = cn_lanes(p.isa, x.itemsize)
    cdef Py_ssize_t fb = p.nv * lanes, width, N = x.shape[0]
    cdef Py_ssize_t run, tblocks, items, rows, slab_rows, dyb_size, slab_size, part_count
    cdef int threads = num_threads
    # whole tiles of fb channels, and whole groups of 8 for the bias sums
    p.dy_step = ceil_div(p.F, fb * 8 // gcd(fb, 8)) * (fb * 8 // gcd(fb, 8))
    run = p.C if p.dw != 1 else p.KW * p.C
    width = min(p.cw, run)
    p.cw = <int>width
    tblocks = ceil_div(run, width)
    items = p.KH * (p.KW if p.dw != 1 else 1) * tblocks * ceil_div(p.F, fb)
    rows = max(1, min(p.OH, ceil_div(WEIGHT_BLOCK_PIXELS, p.OW)))
    while rows > 1 and (rows * p.OW * p.dy_step + ((rows - 1) * p.sh + (p.KH - 1) * p.dh + 1)
                        * p.Wp * p.C) * x.itemsize > WEIGHT_BLOCK_BYTES:
        rows -= 1
    slab_rows = (rows - 1) * p.sh + (p.KH - 1) * p.dh + 1
    slab_size = ceil_div(slab_rows * p.Wp * p.C, 16) * 16
    dyb_size = ceil_div(rows * p.OW * p.dy_step, 16) * 16
    if (split == SPLIT_TILES and items < 2) or weight_macs(p, N) < PARALLEL_MIN_MACS:
        threads = 1
    w.p = p
    w.x = cnp.PyArray_DATA(x)
    w.dy = cnp.PyArray_DATA(dy)
    element_strides(x, w.xs)
    element_strides(dy, w.dys)
    w.dy_in_place = is_channels_last(dy) and p.dy_step == p.F
    w.N, w.rows, w.items = N, rows, items
    w.groups = weight_gradient_groups(N, p.OH, p.OW)
    w.part_size = p.KH * p.KW * p.C * p.dy_step
    w.slab_size, w.dyb_size = slab_size, dyb_size
    # partial sums: one set a thread (tiles, zeroed here) or a group past the first (pixels)
    part_count = threads if split == SPLIT_TILES else w.groups - 1
    if w.groups == 1:
        part_count = 0
    slabs = scratch(tag + "_slabs", x.dtype, slab_size * threads)
    dybs = scratch(tag + "_dy_rows", x.dtype, 0 if w.dy_in_place else dyb_size * threads)
    if out is not None and p.dy_step == p.F and is_hwio(out) and aligned(out):
        dwb = out       # summed where it is wanted: no copy afterwards
    else:
        dwb = scratch(tag + "_weight_grad", x.dtype, w.part_size)
    parts = scratch(tag + "_weight_partials", x.dtype, max(1, part_count * w.part_size))
    bias_parts = scratch(tag + "_bias_partials", np.float64, max(1, part_count * p.dy_step))
    w.zeroed_parts = part_count if split == SPLIT_TILES else 0
    w.slabs = cnp.PyArray_DATA(<cnp.ndarray>slabs)
    w.dybs = cnp.PyArray_DATA(<cnp.ndarray>dybs)
    w.parts = cnp.PyArray_DATA(<cnp.ndarray>parts)
    w.bias_parts = <double *>cnp.PyArray_DATA(<cnp.ndarray>bias_parts)
    w.db = NULL
    w.db_size = 0
    if db is not None:
        w.db = <double *>cnp.PyArray_DATA(<cnp.ndarray>db)
        w.db_size = db.shape[0]
    w.threads = threads
    w.dwb = cnp.PyArray_DATA(<cnp.ndarray>dwb)
    result = dwb if dwb is out else dwb.reshape(p.KH, p.KW, p.C, p.dy_step)
    return [result, x, dy, db, slabs, dybs, parts, bias_parts]


cdef inline Py_ssize_t gcd(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    while b:
        a, b = b, a % b
    return a


cdef inline Py_ssize_t weight_macs(const cn_plan *p, Py_ssize_t N) noexcept nogil:
    """Multiply-adds of the weight gradient."""
    return N * p.OH * p.OW * p.F * p.C * p.KH * p.KW


def conv2d_backward_bias(grad_out, grad_bias, int num_threads):
    """grad_bias[f] = sum over n, i, j of grad_out[n, f, i, j], accumulated in float64 over
    the pixels in order (channels-last), or by conv_gemm's planes (NCHW)."""
    if grad_out.size == 0:
        grad_bias[...] = 0
    elif is_channels_last(grad_out):
        pixels = grad_out.transpose(0, 2, 3, 1).reshape(-1, grad_out.shape[1])
        sums = np.zeros(grad_out.shape[1], dtype=np.float64)
        if grad_out.dtype == np.float32:
            sum_rows[float](pixels, sums)
        else:
            sum_rows[double](pixels, sums)
        grad_bias[...] = sums
    else:
        conv_depthwise.backward_bias(np.ascontiguousarray(grad_out), grad_bias, num_threads)
    return grad_bias


cdef void sum_rows(const floating[:, ::1] rows, double[::1] sums) noexcept:
    cdef Py_ssize_t k, f
    with nogil:
        for k in range(rows.shape[0]):
            for f in range(rows.shape[1]):
                sums[f] += rows[k, f]


# ---------------------------------------------------------------------------------------------
# The other paths: channels-last im2col + GEMM (conv_gemm.pyx) and the depthwise loops
# (conv_depthwise.pyx, on NCHW copies).

cdef note_path(path, pass_name, x_shape, w_shape, args, dtype, int num_threads):
    """Record a call of the GEMM or depthwise paths (once per shape); args: the strides,
    paddings, dilations and groups."""
    shape = (tuple(x_shape), tuple(w_shape)) + tuple(args[:6])
    if (pass_name, shape, dtype, num_threads) in _plans:
        return
    if path == "depthwise":
        record(pass_name, shape, dtype, num_threads, "depthwise loops", "NCHW", "base",
               (), None, {})
    else:
        record(pass_name, shape, dtype, num_threads, "im2col + GEMM", "channels-last",
               gemm_get_isa(), (), None, {})


def other_path(path, pass_name, inputs, out, args, x_shape, w_shape, int num_threads):
    """out = the pass (forward, backward_input, backward_weight) of the GEMM or depthwise path.
    The GEMM path writes channels-last activations (and any weight layout); the depthwise
    loops want C-contiguous NCHW arrays: an output in another layout is written through a copy."""
    note_path(path, pass_name, x_shape, w_shape, args, out.dtype, num_threads)
    if path == "depthwise":
        kernel = getattr(conv_depthwise, pass_name)
        inputs = [None if a is None else np.ascontiguousarray(a) for a in inputs]
        target = out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)
    else:
        kernel = getattr(conv_gemm, pass_name)
        target = out if pass_name == "backward_weight" or is_channels_last(out) else \
            channels_last_empty(*out.shape, out.dtype)
    kernel(*inputs, target, *args, num_threads)
    if target is not out:
        out[...] = target
    return out
