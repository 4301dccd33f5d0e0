/* Direct convolution (stride 1, dilation 1) for one data type and instruction set.
 *
 * Included by conv_direct.h with these macros defined:
 *   CD_NAME(x)   the name of function x for this type and instruction set
 *   CD_T         float or double
 *   CD_VEC       a GCC vector type of CD_T (unaligned loads through it are allowed)
 *   CD_TARGET    function attributes: __attribute__((target("avx2,fma"))) or empty
 *
 * The layouts (conv_direct.h explains them): xp is the zero-padded input of one sample,
 * (C, Hp, Wp), wp the packed weights of one block of FB output channels, (Cg, KH, KW, FB).
 * L below is the number of lanes of CD_VEC.
 */

#define CD_L ((int)(sizeof(CD_VEC) / sizeof(CD_T)))

/* One output tile: FB channels x NR rows x NC vectors of columns, over a chunk of channels:
 *
 *     acc[f, t, j] (+)= sum over c < nc, a < na, b < KW of
 *                       w[c, a, b, f] * x[c, a + t, j + b]
 *
 * x points at the tile's first input row for its first tap row and first channel
 * (x[c, r, q] = x[c * x_cstride + r * Wp + q]), w at the packed weights of that tap row, acc
 * (the item's accumulation buffer, acc[f, t, j] = acc[f * acc_fstride + t * acc_rstride + j])
 * at the tile's corner; `first` starts the sums from zero instead of acc. FB, NR and NC are
 * compile-time constants at every call site, so the FB * NR * NC sums live in registers: each
 * tap loads NR * NC vectors of x, broadcasts FB weights and does FB * NR * NC FMAs. */
static inline __attribute__((always_inline)) CD_TARGET void
CD_NAME(forward_tile)(const int FB, const int NR, const int NC, const CD_T *restrict x,
                      ptrdiff_t x_cstride, ptrdiff_t Wp, const CD_T *restrict w,
                      ptrdiff_t w_cstride, ptrdiff_t nc, int na, int KW,
                      CD_T *restrict acc, ptrdiff_t acc_fstride, ptrdiff_t acc_rstride,
                      int first)
{
    CD_VEC sum[12][6];  /* FB <= 12, NR * NC <= 6: fixed sizes keep them in registers */
#pragma GCC unroll 12
    for (int f = 0; f < FB; f++)
#pragma GCC unroll 3
        for (int t = 0; t < NR; t++)
#pragma GCC unroll 4
            for (int v = 0; v < NC; v++)
                sum[f][t * NC + v] = first ? (CD_VEC){0}
                    : *(const CD_VEC *)(acc + f * acc_fstride + t * acc_rstride + v * CD_L);
    for (ptrdiff_t c = 0; c < nc; c++) {
        const CD_T *xc = x + c * x_cstride;
        const CD_T *wc = w + c * w_cstride;
        for (int a = 0; a < na; a++) {
            const CD_T *xr = xc + a * Wp;
            const CD_T *wr = wc + a * KW * FB;
#pragma GCC unroll 8
            for (int b = 0; b < KW; b++) {
                CD_VEC xv[6];
#pragma GCC unroll 3
                for (int t = 0; t < NR; t++)
#pragma GCC unroll 4
                    for (int v = 0; v < NC; v++)
                        xv[t * NC + v] = *(const CD_VEC *)(xr + t * Wp + b + v * CD_L);
#pragma GCC unroll 12
                for (int f = 0; f < FB; f++) {
                    const CD_T wf = wr[b * FB + f];
#pragma GCC unroll 6
                    for (int k = 0; k < NR * NC; k++)
                        sum[f][k] += wf * xv[k];
                }
            }
        }
    }
#pragma GCC unroll 12
    for (int f = 0; f < FB; f++)
#pragma GCC unroll 3
        for (int t = 0; t < NR; t++)
#pragma GCC unroll 4
            for (int v = 0; v < NC; v++)
                *(CD_VEC *)(acc + f * acc_fstride + t * acc_rstride + v * CD_L) =
                    sum[f][t * NC + v];
}

/* Output rows i0 .. i1-1 (i0 a multiple of NR) of one block of FB channels of one sample:
 *
 *     out[f, i, j] = bias[f] + sum over c, a, b of w[c, a, b, f] * xp[c, i + a, j + b]
 *
 * xp is (Cg, Hp, Wp), padded on all sides (row i + a of xp is input row i - PT + a). A tile's
 * tap rows a that read only padding rows for all its NR rows are skipped (the row ranges
 * [a_lo, a_hi) come from valid_top = PT and valid_bottom = PT + H, the xp rows holding the
 * image). Channels are taken in chunks of `chunk` so that a chunk of xp and of the weights stay
 * in the L1 cache across the rows; the sums wait in `acc` ((FB, OHr, OWr) numbers, OHr and OWr
 * the output rows and columns rounded up to whole tiles) between chunks. */
static inline __attribute__((always_inline)) CD_TARGET void
CD_NAME(forward_rows)(const int FB, const int NR, const int NC, const CD_T *xp, ptrdiff_t Hp,
                      ptrdiff_t Wp, ptrdiff_t Cg, ptrdiff_t chunk, const CD_T *wp, int KH,
                      int KW, ptrdiff_t valid_top, ptrdiff_t valid_bottom, const CD_T *bias,
                      int nf, CD_T *out, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t i0, ptrdiff_t i1,
                      CD_T *acc)
{
    const ptrdiff_t OWr = (OW + NC * CD_L - 1) / (NC * CD_L) * (NC * CD_L);
    const ptrdiff_t OHr = (OH + NR - 1) / NR * NR;
    for (ptrdiff_t c0 = 0; c0 < Cg; c0 += chunk) {
        const ptrdiff_t nc = Cg - c0 < chunk ? Cg - c0 : chunk;
        for (ptrdiff_t i = i0; i < i1; i += NR) {
            /* tap rows a with i + t + a in [valid_top, valid_bottom) for some t < NR */
            ptrdiff_t a_lo = valid_top - (i + NR - 1), a_hi = valid_bottom - i;
            a_lo = a_lo > 0 ? a_lo : 0;
            a_hi = a_hi < KH ? a_hi : KH;
            const int na = a_hi > a_lo ? (int)(a_hi - a_lo) : 0;
            if (na == 0) a_lo = 0;
            const CD_T *x = xp + c0 * Hp * Wp + (i + a_lo) * Wp;
            const CD_T *w = wp + (c0 * KH + a_lo) * KW * FB;
            for (ptrdiff_t j0 = 0; j0 < OW; j0 += NC * CD_L)
                CD_NAME(forward_tile)(FB, NR, NC, x + j0, Hp * Wp, Wp, w,
                                      (ptrdiff_t)KH * KW * FB, nc, na, KW,
                                      acc + i * OWr + j0, OHr * OWr, OWr, c0 == 0);
        }
    }
    if (Cg == 0)
        for (ptrdiff_t k = 0; k < FB * OHr * OWr; k++)
            acc[k] = 0;
    for (int f = 0; f < nf; f++) {
        const CD_T add = bias != NULL ? bias[f] : (CD_T)0;
        for (ptrdiff_t i = i0; i < i1 && i < OH; i++) {
            const CD_T *src = acc + f * OHr * OWr + i * OWr;
            CD_T *dst = out + f * OH * OW + i * OW;
            for (ptrdiff_t j = 0; j < OW; j++)
                dst[j] = src[j] + add;
        }
    }
}

/* The common kernel widths get the tap loop unrolled (KW a constant) */
#define CD_FORWARD_CALL(FB, NR, NC, KW_)                                                     \
    CD_NAME(forward_rows)(FB, NR, NC, xp, Hp, Wp, Cg, chunk, wp, KH, KW_, valid_top,         \
                          valid_bottom, bias, nf, out, OH, OW, i0, i1, acc)
#define CD_FORWARD_CASE(FB, NR, NC)                                                          \
    if (fb == FB && nr == NR && nc == NC) {                                                  \
        if (KW == 5)                                                                         \
            CD_FORWARD_CALL(FB, NR, NC, 5);                                                  \
        else if (KW == 3)                                                                    \
            CD_FORWARD_CALL(FB, NR, NC, 3);                                                  \
        else                                                                                 \
            CD_FORWARD_CALL(FB, NR, NC, KW);                                                 \
        return 0;                                                                            \
    }

/* forward_rows for one of CD_FORWARD_SHAPES (conv_direct.h); -1 for any other shape. */
static CD_TARGET int
CD_NAME(forward)(int fb, int nr, int nc, const CD_T *xp, ptrdiff_t Hp, ptrdiff_t Wp,
                 ptrdiff_t Cg, ptrdiff_t chunk, const CD_T *wp, int KH, int KW,
                 ptrdiff_t valid_top, ptrdiff_t valid_bottom, const CD_T *bias, int nf,
                 CD_T *out, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t i0, ptrdiff_t i1, CD_T *acc)
{
    CD_FORWARD_SHAPES(CD_FORWARD_CASE)
    return -1;
}
#undef CD_FORWARD_CALL
#undef CD_FORWARD_CASE

/* Weight-gradient tile: FBW output channels and NB kernel columns (taps b0 .. b0+NB-1) of one
 * tap row a, over all samples:
 *
 *     dw[f, b0 + t] = sum over n < N, r < nrows, j < nvec*L of dy[n, f, r, j] * x[n, r, j + t]
 *
 * with dy[n, f, r, j] = dy[n * dy_nstride + f * dy_fstride + r * OWp + j] (nvec * L == OWp)
 * and x[n, r, q] = x[n * x_nstride + r * Wp + q]. The lanes of each sum hold partial sums over
 * j, added up at the end; only channels f < nf are stored (a block of nf < FBW channels reads
 * its last channel in place of the missing ones, never past the array). */
static inline __attribute__((always_inline)) CD_TARGET void
CD_NAME(wgrad_tile)(const int FBW, const int NB, const CD_T *restrict dy, ptrdiff_t dy_nstride,
                    ptrdiff_t dy_fstride, int nf, ptrdiff_t OWp, const CD_T *restrict x,
                    ptrdiff_t x_nstride, ptrdiff_t Wp, ptrdiff_t N, ptrdiff_t nrows,
                    CD_T *restrict dw, ptrdiff_t dw_fstride)
{
    CD_VEC acc[5][4];  /* NB <= 5, FBW <= 4: fixed sizes keep them in registers */
    ptrdiff_t channel[4];
    const ptrdiff_t nvec = OWp / CD_L;
#pragma GCC unroll 4
    for (int f = 0; f < FBW; f++)
        channel[f] = (f < nf ? f : nf - 1) * dy_fstride;
#pragma GCC unroll 8
    for (int t = 0; t < NB; t++)
#pragma GCC unroll 4
        for (int f = 0; f < FBW; f++)
            acc[t][f] = (CD_VEC){0};
    for (ptrdiff_t n = 0; n < N; n++) {
        for (ptrdiff_t r = 0; r < nrows; r++) {
            const CD_T *dr = dy + n * dy_nstride + r * OWp;
            const CD_T *xr = x + n * x_nstride + r * Wp;
            for (ptrdiff_t jv = 0; jv < nvec; jv++) {
                CD_VEC d[4];
#pragma GCC unroll 4
                for (int f = 0; f < FBW; f++)
                    d[f] = *(const CD_VEC *)(dr + channel[f] + jv * CD_L);
#pragma GCC unroll 8
                for (int t = 0; t < NB; t++) {
                    const CD_VEC xv = *(const CD_VEC *)(xr + jv * CD_L + t);
#pragma GCC unroll 4
                    for (int f = 0; f < FBW; f++)
                        acc[t][f] += d[f] * xv;
                }
            }
        }
    }
    for (int f = 0; f < FBW && f < nf; f++)
#pragma GCC unroll 8
        for (int t = 0; t < NB; t++) {
            CD_T lanes[CD_L], total = 0;
            memcpy(lanes, &acc[t][f], sizeof lanes);
            for (int l = 0; l < CD_L; l++)
                total += lanes[l];
            dw[f * dw_fstride + t] = total;
        }
}

/* dw[f, a, b] = sum over n, i, j of dy[n, f, i, j] * xp[n, i + a, j + b] for one input
 * channel and a block of nf <= FBW output channels (see conv_direct.h for the arguments): xp
 * is padded on all sides, its rows pt .. pt+H-1 hold the image; rows i whose i + a falls
 * outside them read zeros and are skipped. Taps are taken five kernel columns at a time. */
static inline __attribute__((always_inline)) CD_TARGET void
CD_NAME(wgrad_block)(const int FBW, const CD_T *xp, ptrdiff_t x_nstride, ptrdiff_t H,
                     ptrdiff_t Wp, const CD_T *dy, ptrdiff_t dy_nstride, ptrdiff_t dy_fstride,
                     ptrdiff_t OH, ptrdiff_t OWp, ptrdiff_t N, int KH, int KW, int pt, int nf,
                     CD_T *dw, ptrdiff_t dw_fstride)
{
    for (int a = 0; a < KH; a++) {
        const ptrdiff_t i_lo = pt - a > 0 ? pt - a : 0;
        const ptrdiff_t i_hi = H + pt - a < OH ? H + pt - a : OH;
        for (int b0 = 0; b0 < KW; b0 += 5) {
            const int nb = KW - b0 < 5 ? KW - b0 : 5;
            const ptrdiff_t nrows = i_hi > i_lo ? i_hi - i_lo : 0;
            const CD_T *x = xp + (nrows > 0 ? (i_lo + a) * Wp : 0) + b0;
            const CD_T *d = dy + (nrows > 0 ? i_lo * OWp : 0);
            CD_T *out = dw + (ptrdiff_t)a * KW + b0;
#define CD_WGRAD_TAPS(NB) \
    CD_NAME(wgrad_tile)(FBW, NB, d, dy_nstride, dy_fstride, nf, OWp, x, x_nstride, Wp, N, \
                        nrows, out, dw_fstride)
            switch (nb) {
            case 1: CD_WGRAD_TAPS(1); break;
            case 2: CD_WGRAD_TAPS(2); break;
            case 3: CD_WGRAD_TAPS(3); break;
            case 4: CD_WGRAD_TAPS(4); break;
            default: CD_WGRAD_TAPS(5);
            }
#undef CD_WGRAD_TAPS
        }
    }
}

/* wgrad_block with FBW = fbw (2 or 4); -1 for any other value. */
static CD_TARGET int
CD_NAME(wgrad)(int fbw, const CD_T *xp, ptrdiff_t x_nstride, ptrdiff_t H, ptrdiff_t Wp,
               const CD_T *dy, ptrdiff_t dy_nstride, ptrdiff_t dy_fstride, ptrdiff_t OH,
               ptrdiff_t OWp, ptrdiff_t N, int KH, int KW, int pt, int nf, CD_T *dw,
               ptrdiff_t dw_fstride)
{
    if (fbw == 2)
        CD_NAME(wgrad_block)(2, xp, x_nstride, H, Wp, dy, dy_nstride, dy_fstride, OH, OWp, N,
                             KH, KW, pt, nf, dw, dw_fstride);
    else if (fbw == 4)
        CD_NAME(wgrad_block)(4, xp, x_nstride, H, Wp, dy, dy_nstride, dy_fstride, OH, OWp, N,
                             KH, KW, pt, nf, dw, dw_fstride);
    else
        return -1;
    return 0;
}

#undef CD_L
#undef CD_NAME
#undef CD_T
#undef CD_VEC
#undef CD_TARGET
