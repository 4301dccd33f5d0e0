/* The register tiles of the channels-last convolution, for one data type and instruction set.
 *
 * Included by conv_nhwc.h once per (type, ISA) with these macros defined:
 *   CN_NAME(x)          the name of function x for this type and ISA
 *   CN_SUFFIX           f32 or f64
 *   CN_T                float or double
 *   CN_VEC              a GCC vector of CN_T (loads and stores through it may be unaligned)
 *   CN_TARGET           the attributes that enable the ISA (empty for the baseline)
 *   CN_TILES(X)         X(CW, NV) for every tile shape compiled for this ISA
 *   CN_FMA(s, v, acc)   acc + s * v for a scalar s and vectors v, acc (one rounding where the
 *                       ISA has fused multiply-adds)
 *   CN_TO_D8(p)         the eight numbers at p as a cn_d8 of doubles (optional: by default
 *                       GCC's conversion, which it may split into narrower vectors)
 * conv_nhwc.h describes the layouts; L below is the number of lanes of CN_VEC.
 *
 * Each kernel keeps its sums in a fixed-size array of vectors indexed by compile-time constants
 * only (CW, NV and the loop counters are constants after inlining and unrolling), which GCC
 * keeps in registers. The reduction loops are unrolled by hand, not by `#pragma GCC unroll`
 * on a loop of unknown length: for that GCC allocates registers badly (measured: 8-15% slower).
 */

#define CN_L ((int)(sizeof(CN_VEC) / sizeof(CN_T)))
#ifndef CN_TO_D8
typedef CN_T CN_NAME(eight) __attribute__((vector_size(8 * sizeof(CN_T)), aligned(sizeof(CN_T)),
                                           may_alias));
#define CN_TO_D8(p) __builtin_convertvector(*(const CN_NAME(eight) *)(p), cn_d8)
#endif

/* One step of the forward tile: NV vectors of weights w[0 : NV*L], one broadcast input number
 * per pixel x[p * px_step]: acc[p, v] += x[p * px_step] * w[v*L : (v+1)*L]. */
static inline __attribute__((always_inline)) CN_TARGET void
CN_NAME(forward_step)(const int CW, const int NV, CN_VEC *acc, const CN_T *restrict x,
                      ptrdiff_t px_step, const CN_T *restrict w)
{
    CN_VEC wv[CN_MAX_NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) wv[v] = *(const CN_VEC *)(w + v * CN_L);
#pragma GCC unroll 16
    for (int p = 0; p < CW; p++) {
        const CN_T xs = x[p * px_step];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[p * NV + v] = CN_FMA(xs, wv[v], acc[p * NV + v]);
    }
}

/* Forward tile: CW pixels x NV vectors of output channels (CW * NV sums in registers),
 *
 *     out[p, v*L + l] = bias[v*L + l] + sum over a < nkh, r < nruns, t < run of
 *                       x[p * px_step + a * kh_step + r * run_step + t] *
 *                       w[((a * nruns + r) * run + t) * w_step + v*L + l]
 *
 * x is the input slab at the tile's first pixel and first valid tap row; w the weights of the
 * tile's block of output channels at that tap row, one row of w_step numbers per (tap row, run,
 * t), the block's NV * L channels first. Only the block's first nf channels are stored (out has
 * out_step numbers a pixel); bias may be NULL. The sums run in the order (tap row, run, t) from
 * the bias, whatever the tile shape or ISA. */
static inline __attribute__((always_inline)) CN_TARGET void
CN_NAME(forward_tile)(const int CW, const int NV, const CN_T *restrict x, ptrdiff_t px_step,
                      ptrdiff_t kh_step, int nkh, ptrdiff_t run_step, int nruns, ptrdiff_t run,
                      const CN_T *restrict w, ptrdiff_t w_step, const CN_T *restrict bias,
                      CN_T *restrict out, ptrdiff_t out_step, int nf)
{
    CN_VEC acc[CN_MAX_CW * 2];      /* CW * NV <= 28: see the tile lists in conv_nhwc.h */
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        CN_VEC b = {0};
        if (bias != NULL && (v + 1) * CN_L <= nf) {
            b = *(const CN_VEC *)(bias + v * CN_L);
        } else if (bias != NULL && v * CN_L < nf) {
            CN_T part[CN_L];
            memset(part, 0, sizeof part);
            memcpy(part, bias + v * CN_L, (size_t)(nf - v * CN_L) * sizeof(CN_T));
            b = *(const CN_VEC *)part;
        }
#pragma GCC unroll 16
        for (int p = 0; p < CW; p++) acc[p * NV + v] = b;
    }
    for (int a = 0; a < nkh; a++) {
        for (int r = 0; r < nruns; r++) {
            const CN_T *restrict xr = x + a * kh_step + r * run_step;
            const CN_T *restrict wr = w + (a * nruns + r) * run * w_step;
            ptrdiff_t t = 0;
            for (; t + 4 <= run; t += 4) {
#pragma GCC unroll 4
                for (int u = 0; u < 4; u++)
                    CN_NAME(forward_step)(CW, NV, acc, xr + t + u, px_step, wr + (t + u) * w_step);
            }
            for (; t < run; t++)
                CN_NAME(forward_step)(CW, NV, acc, xr + t, px_step, wr + t * w_step);
        }
    }
#pragma GCC unroll 16
    for (int p = 0; p < CW; p++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            CN_T *o = out + p * out_step + v * CN_L;
            if ((v + 1) * CN_L <= nf) {
                *(CN_VEC *)o = acc[p * NV + v];
            } else if (v * CN_L < nf) {
                const CN_VEC last = acc[p * NV + v];
                memcpy(o, &last, (size_t)(nf - v * CN_L) * sizeof(CN_T));
            }
        }
}

/* One step of the weight-gradient tile, one pixel: NV vectors of dy, CB broadcast inputs,
 * acc[c, v] += x[c] * dy[v*L : (v+1)*L]. */
static inline __attribute__((always_inline)) CN_TARGET void
CN_NAME(weight_step)(const int CB, const int NV, CN_VEC *acc, const CN_T *restrict x,
                     const CN_T *restrict dy)
{
    CN_VEC g[CN_MAX_NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) g[v] = *(const CN_VEC *)(dy + v * CN_L);
#pragma GCC unroll 16
    for (int c = 0; c < CB; c++) {
        const CN_T xs = x[c];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[c * NV + v] = CN_FMA(xs, g[v], acc[c * NV + v]);
    }
}

/* Weight-gradient tile: CB input numbers x NV vectors of output channels, over the pixels of
 * nrows rows of ncols,
 *
 *     dw[c * dw_step + v*L + l] += sum over r < nrows, j < ncols of
 *                                  x[r * x_row_step + j * x_px_step + c] *
 *                                  dy[r * dy_row_step + j * dy_px_step + v*L + l]
 *
 * for c < CB. The sums start from dw and run over the pixels in order (rows, then columns):
 * a caller that cuts the pixels into blocks gets the same bits as one call over all of them. */
static inline __attribute__((always_inline)) CN_TARGET void
CN_NAME(weight_tile)(const int CB, const int NV, const CN_T *restrict x, ptrdiff_t x_px_step,
                     ptrdiff_t x_row_step, const CN_T *restrict dy, ptrdiff_t dy_px_step,
                     ptrdiff_t dy_row_step, ptrdiff_t nrows, ptrdiff_t ncols,
                     CN_T *restrict dw, ptrdiff_t dw_step)
{
    CN_VEC acc[CN_MAX_CW * 2];
#pragma GCC unroll 16
    for (int c = 0; c < CB; c++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[c * NV + v] = *(const CN_VEC *)(dw + c * dw_step + v * CN_L);
    for (ptrdiff_t r = 0; r < nrows; r++) {
        const CN_T *restrict xr = x + r * x_row_step;
        const CN_T *restrict gr = dy + r * dy_row_step;
        ptrdiff_t j = 0;
        for (; j + 2 <= ncols; j += 2) {
            CN_NAME(weight_step)(CB, NV, acc, xr + j * x_px_step, gr + j * dy_px_step);
            CN_NAME(weight_step)(CB, NV, acc, xr + (j + 1) * x_px_step,
                                 gr + (j + 1) * dy_px_step);
        }
        if (j < ncols)
            CN_NAME(weight_step)(CB, NV, acc, xr + j * x_px_step, gr + j * dy_px_step);
    }
#pragma GCC unroll 16
    for (int c = 0; c < CB; c++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            *(CN_VEC *)(dw + c * dw_step + v * CN_L) = acc[c * NV + v];
}

/* sums[f] += dy[q * step + f] for q < npix, f < NC (a multiple of 8, at most 64): each sum
 * runs over the pixels in order, in double; the NC sums advance together, so that their
 * additions (one dependent chain per vector of sums) overlap. Eight numbers at a time are
 * converted straight from memory (cheaper than splitting a wider load). */
static inline __attribute__((always_inline)) CN_TARGET void
CN_NAME(sum_pixels_block)(const int NC, const CN_T *restrict dy, ptrdiff_t npix, ptrdiff_t step,
                          double *restrict sums)
{
    cn_d8 acc[8];
#pragma GCC unroll 8
    for (int g = 0; g < NC / 8; g++) acc[g] = *(const cn_d8 *)(sums + 8 * g);
    for (ptrdiff_t q = 0; q < npix; q++)
#pragma GCC unroll 8
        for (int g = 0; g < NC / 8; g++)
            acc[g] += CN_TO_D8(dy + q * step + 8 * g);
#pragma GCC unroll 8
    for (int g = 0; g < NC / 8; g++) *(cn_d8 *)(sums + 8 * g) = acc[g];
}

/* sums[f] += dy[q * step + f] for q < npix, f < F rounded up to a multiple of 8 (dy has zeros
 * there and sums room): the bias gradient of a block of pixels, each sum running over the
 * pixels in order, in double. Blocks of up to 8 vectors of doubles (64 channels with AVX-512,
 * 32 with AVX2, 16 with the baseline's 128 bits) walk down the pixels together. */
static CN_TARGET void CN_NAME(sum_pixels)(const CN_T *restrict dy, ptrdiff_t npix,
                                          ptrdiff_t step, ptrdiff_t F, double *restrict sums)
{
    const ptrdiff_t most = 8 * (ptrdiff_t)(sizeof(CN_VEC) / sizeof(double));
    for (ptrdiff_t f0 = 0; f0 < F; f0 += most) {
        const ptrdiff_t left = (F - f0 + 7) / 8 * 8;
        switch (left < most ? left : most) {
        case 8: CN_NAME(sum_pixels_block)(8, dy + f0, npix, step, sums + f0); break;
        case 16: CN_NAME(sum_pixels_block)(16, dy + f0, npix, step, sums + f0); break;
        case 24: CN_NAME(sum_pixels_block)(24, dy + f0, npix, step, sums + f0); break;
        case 32: CN_NAME(sum_pixels_block)(32, dy + f0, npix, step, sums + f0); break;
        case 40: CN_NAME(sum_pixels_block)(40, dy + f0, npix, step, sums + f0); break;
        case 48: CN_NAME(sum_pixels_block)(48, dy + f0, npix, step, sums + f0); break;
        case 56: CN_NAME(sum_pixels_block)(56, dy + f0, npix, step, sums + f0); break;
        default: CN_NAME(sum_pixels_block)(64, dy + f0, npix, step, sums + f0); break;
        }
    }
}

/* dst[e] += src[e] for e < n, a multiple of L (then src[e] = 0 if zero): a partial weight
 * gradient added into the total, lane by lane (the same bits on every ISA). */
static CN_TARGET void CN_NAME(add_partial)(CN_T *restrict dst, CN_T *restrict src, ptrdiff_t n,
                                           int zero)
{
    for (ptrdiff_t e = 0; e < n; e += CN_L) {
        *(CN_VEC *)(dst + e) += *(const CN_VEC *)(src + e);
        if (zero) *(CN_VEC *)(src + e) = (CN_VEC){0};
    }
}

/* One function per compiled shape, and tables of them indexed [NV - 1][CW - 1] (NULL where
 * no tile is compiled). */
#define CN_DEFINE(CW, NV)                                                                     \
    static CN_TARGET void CN_NAME(forward_##CW##x##NV)(                                       \
        const CN_T *x, ptrdiff_t px_step, ptrdiff_t kh_step, int nkh, ptrdiff_t run_step,     \
        int nruns, ptrdiff_t run, const CN_T *w, ptrdiff_t w_step, const CN_T *bias,          \
        CN_T *out, ptrdiff_t out_step, int nf)                                                \
    {                                                                                         \
        CN_NAME(forward_tile)(CW, NV, x, px_step, kh_step, nkh, run_step, nruns, run, w,      \
                              w_step, bias, out, out_step, nf);                               \
    }                                                                                         \
    static CN_TARGET void CN_NAME(weight_##CW##x##NV)(                                        \
        const CN_T *x, ptrdiff_t x_px_step, ptrdiff_t x_row_step, const CN_T *dy,             \
        ptrdiff_t dy_px_step, ptrdiff_t dy_row_step, ptrdiff_t nrows, ptrdiff_t ncols,        \
        CN_T *dw, ptrdiff_t dw_step)                                                          \
    {                                                                                         \
        CN_NAME(weight_tile)(CW, NV, x, x_px_step, x_row_step, dy, dy_px_step, dy_row_step,   \
                             nrows, ncols, dw, dw_step);                                      \
    }
CN_TILES(CN_DEFINE)
#undef CN_DEFINE

#define CN_FORWARD_ENTRY(CW, NV) [NV - 1][CW - 1] = CN_NAME(forward_##CW##x##NV),
#define CN_WEIGHT_ENTRY(CW, NV) [NV - 1][CW - 1] = CN_NAME(weight_##CW##x##NV),
static const CN_CAT(cn_forward_fn_, CN_SUFFIX) CN_NAME(forward_table)[CN_MAX_NV][CN_MAX_CW] = {
    CN_TILES(CN_FORWARD_ENTRY)};
static const CN_CAT(cn_weight_fn_, CN_SUFFIX) CN_NAME(weight_table)[CN_MAX_NV][CN_MAX_CW] = {
    CN_TILES(CN_WEIGHT_ENTRY)};
#undef CN_FORWARD_ENTRY
#undef CN_WEIGHT_ENTRY

#undef CN_L
#undef CN_NAME
#undef CN_SUFFIX
#undef CN_T
#undef CN_VEC
#undef CN_TARGET
#undef CN_TILES
#undef CN_FMA
#undef CN_TO_D8
