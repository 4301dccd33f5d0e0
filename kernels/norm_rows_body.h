/* The loops of norm_rows.h for one data type and ISA. Included with NR_T (float or double),
 * NR_SUFFIX (f32, f64), NR_ISA (base, avx2, avx512) and NR_TARGET (the attributes that enable
 * the ISA) defined; GCC's vectoriser does the rest. */

#define NR_NAME(x) NR_CAT(NR_CAT(nr_, NR_ISA), NR_CAT(_, NR_CAT(x, NR_SUFFIX)))

/* Σ x[i] over a row, in lanes (see norm_rows.h). */
static inline NR_TARGET double NR_NAME(sum_)(const NR_T *restrict x, ptrdiff_t M)
{
    double lane[NR_LANES] = {0}, total = 0;
    ptrdiff_t i = 0;
    for (; i + NR_LANES <= M; i += NR_LANES)
        for (int l = 0; l < NR_LANES; l++) lane[l] += x[i + l];
    for (int l = 0; l < NR_LANES; l++) total += lane[l];
    for (; i < M; i++) total += x[i];
    return total;
}

/* Σ (x[i] - mean)² over a row, in lanes. */
static inline NR_TARGET double NR_NAME(squares_)(const NR_T *restrict x, ptrdiff_t M,
                                                 double mean)
{
    double lane[NR_LANES] = {0}, total = 0, d;
    ptrdiff_t i = 0;
    for (; i + NR_LANES <= M; i += NR_LANES)
        for (int l = 0; l < NR_LANES; l++) {
            d = x[i + l] - mean;
            lane[l] += d * d;
        }
    for (int l = 0; l < NR_LANES; l++) total += lane[l];
    for (; i < M; i++) {
        d = x[i] - mean;
        total += d * d;
    }
    return total;
}

/* A row's mean. */
static NR_TARGET double NR_NAME(mean_)(const NR_T *restrict x, ptrdiff_t M)
{
    return NR_NAME(sum_)(x, M) / M;
}

/* 1 / sqrt(biased variance + eps) of a row of the given mean (a second pass). */
static NR_TARGET double NR_NAME(rstd_)(const NR_T *restrict x, ptrdiff_t M, double mean,
                                       double eps)
{
    return 1.0 / sqrt(NR_NAME(squares_)(x, M, mean) / M + eps);
}

/* y = (x - mean) rstd w + b over a row (w, b per element, either may be NULL). */
static NR_TARGET void NR_NAME(normalize_)(const NR_T *restrict x, ptrdiff_t M, double mean,
                                          double rstd, const NR_T *restrict w,
                                          const NR_T *restrict b, NR_T *restrict y)
{
    const NR_T m = (NR_T)mean, r = (NR_T)rstd;
    if (w && b)
        for (ptrdiff_t i = 0; i < M; i++) y[i] = (x[i] - m) * r * w[i] + b[i];
    else if (w)
        for (ptrdiff_t i = 0; i < M; i++) y[i] = (x[i] - m) * r * w[i];
    else if (b)
        for (ptrdiff_t i = 0; i < M; i++) y[i] = (x[i] - m) * r + b[i];
    else
        for (ptrdiff_t i = 0; i < M; i++) y[i] = (x[i] - m) * r;
}

/* y = x scale + shift over S numbers (one channel of a group norm row). */
static NR_TARGET void NR_NAME(scale_shift_)(const NR_T *restrict x, ptrdiff_t S, double scale,
                                            double shift, NR_T *restrict y)
{
    const NR_T a = (NR_T)scale, c = (NR_T)shift;
    for (ptrdiff_t i = 0; i < S; i++) y[i] = x[i] * a + c;
}

/* dx of a row of `blocks` blocks of S numbers, h = g w with w per block (group norm: a block
 * is a channel) or per element (layer norm: S == 1), or h = g for w NULL:
 * dx = rstd (h - mean(h) - x̂ mean(h x̂)). */
static NR_TARGET void NR_NAME(row_gradient_)(const NR_T *restrict g, const NR_T *restrict x,
                                             ptrdiff_t blocks, ptrdiff_t S, double mean,
                                             double rstd, const NR_T *restrict w,
                                             NR_T *restrict dx)
{
    const ptrdiff_t M = blocks * S;
    double lane_h[NR_LANES] = {0}, lane_hx[NR_LANES] = {0}, sum_h = 0, sum_hx = 0, h;
    if (S == 1 || !w) {          /* a weight per element, or none */
        ptrdiff_t i = 0;
        for (; i + NR_LANES <= M; i += NR_LANES)
            for (int l = 0; l < NR_LANES; l++) {
                h = w ? (double)g[i + l] * w[i + l] : (double)g[i + l];
                lane_h[l] += h;
                lane_hx[l] += h * (x[i + l] - mean);
            }
        for (int l = 0; l < NR_LANES; l++) {
            sum_h += lane_h[l];
            sum_hx += lane_hx[l];
        }
        for (; i < M; i++) {
            h = w ? (double)g[i] * w[i] : (double)g[i];
            sum_h += h;
            sum_hx += h * (x[i] - mean);
        }
    } else {                     /* a weight per block of S */
        for (ptrdiff_t c = 0; c < blocks; c++) {
            const NR_T *restrict gc = g + c * S, *restrict xc = x + c * S;
            double block_h[NR_LANES] = {0}, block_hx[NR_LANES] = {0}, bh = 0, bhx = 0;
            ptrdiff_t i = 0;
            for (; i + NR_LANES <= S; i += NR_LANES)
                for (int l = 0; l < NR_LANES; l++) {
                    block_h[l] += gc[i + l];
                    block_hx[l] += gc[i + l] * (xc[i + l] - mean);
                }
            for (int l = 0; l < NR_LANES; l++) {
                bh += block_h[l];
                bhx += block_hx[l];
            }
            for (; i < S; i++) {
                bh += gc[i];
                bhx += gc[i] * (xc[i] - mean);
            }
            sum_h += bh * w[c];
            sum_hx += bhx * w[c];
        }
    }
    const NR_T r = (NR_T)rstd, m = (NR_T)mean, h_mean = (NR_T)(sum_h / M);
    const NR_T hx_term = (NR_T)(rstd * rstd * sum_hx / M);   /* rstd mean(h x̂) */
    if (S == 1 || !w) {
        for (ptrdiff_t i = 0; i < M; i++) {
            const NR_T hi = w ? g[i] * w[i] : g[i];
            dx[i] = r * (hi - h_mean - (x[i] - m) * hx_term);
        }
    } else {
        for (ptrdiff_t c = 0; c < blocks; c++) {
            const NR_T wc = w[c];
            const NR_T *restrict gc = g + c * S, *restrict xc = x + c * S;
            NR_T *restrict dc = dx + c * S;
            for (ptrdiff_t i = 0; i < S; i++)
                dc[i] = r * (gc[i] * wc - h_mean - (xc[i] - m) * hx_term);
        }
    }
}

/* Columns k0 <= k < k1 of a layer norm's weight and bias gradients, over R rows of K:
 * sgx[k - k0] += Σ_r g x̂, sg[k - k0] += Σ_r g (each column's sum in row order). */
static NR_TARGET void NR_NAME(column_sums_)(const NR_T *restrict g, const NR_T *restrict x,
                                            const NR_T *restrict mean,
                                            const NR_T *restrict rstd, ptrdiff_t R,
                                            ptrdiff_t K, ptrdiff_t k0, ptrdiff_t k1,
                                            double *restrict sgx, double *restrict sg)
{
    for (ptrdiff_t r = 0; r < R; r++) {
        const NR_T *restrict gr = g + r * K, *restrict xr = x + r * K;
        const double m = mean[r], s = rstd[r];
        for (ptrdiff_t k = k0; k < k1; k++) {
            sgx[k - k0] += gr[k] * ((xr[k] - m) * s);
            sg[k - k0] += gr[k];
        }
    }
}

/* Σ g x̂ and Σ g over S numbers of one (sample, channel), in lanes. */
static NR_TARGET void NR_NAME(pair_sums_)(const NR_T *restrict g, const NR_T *restrict x,
                                          ptrdiff_t S, double mean, double rstd,
                                          double *sgx, double *sg)
{
    double lane_gx[NR_LANES] = {0}, lane_g[NR_LANES] = {0}, total_gx = 0, total_g = 0;
    ptrdiff_t i = 0;
    for (; i + NR_LANES <= S; i += NR_LANES)
        for (int l = 0; l < NR_LANES; l++) {
            lane_gx[l] += g[i + l] * (x[i + l] - mean);
            lane_g[l] += g[i + l];
        }
    for (int l = 0; l < NR_LANES; l++) {
        total_gx += lane_gx[l];
        total_g += lane_g[l];
    }
    for (; i < S; i++) {
        total_gx += g[i] * (x[i] - mean);
        total_g += g[i];
    }
    *sgx = total_gx * rstd;
    *sg = total_g;
}

/* ---- batch norm: statistics and gradients per channel -------------------------------------
 * Rows layout (channels-last memory, or a 2-D input): R rows of C channels, x[r*C + c]; a
 * thread owns a band of at most NR_BAND channels and sums each of them over the rows in order
 * (vectorised across the band). Planes layout (NCHW memory): the planes of S numbers of one
 * channel are summed with sum_ / squares_ / pair_sums_ above. */

/* Σ x and Σ (x - mean)² of channels c0 <= c < c1 (c1 - c0 <= NR_BAND) over R rows of C:
 * mean[c - c0] = Σ x / R, m2[c - c0] = Σ (x - mean)² (two passes, sums in double). */
static NR_TARGET void NR_NAME(band_moments_)(const NR_T *restrict x, ptrdiff_t R, ptrdiff_t C,
                                             ptrdiff_t c0, ptrdiff_t c1,
                                             double *restrict mean, double *restrict m2)
{
    const ptrdiff_t width = c1 - c0;
    double acc[NR_BAND] = {0}, centre[NR_BAND] = {0}, d;
    for (ptrdiff_t r = 0; r < R; r++) {
        const NR_T *restrict xr = x + r * C + c0;
        if (width == NR_BAND)
            for (int k = 0; k < NR_BAND; k++) acc[k] += xr[k];
        else
            for (int k = 0; k < width; k++) acc[k] += xr[k];
    }
    for (int k = 0; k < width; k++) {
        centre[k] = acc[k] / R;
        acc[k] = 0;
    }
    for (ptrdiff_t r = 0; r < R; r++) {
        const NR_T *restrict xr = x + r * C + c0;
        if (width == NR_BAND)
            for (int k = 0; k < NR_BAND; k++) {
                d = xr[k] - centre[k];
                acc[k] += d * d;
            }
        else
            for (int k = 0; k < width; k++) {
                d = xr[k] - centre[k];
                acc[k] += d * d;
            }
    }
    for (int k = 0; k < width; k++) {
        mean[k] = centre[k];
        m2[k] = acc[k];
    }
}

/* Σ g and Σ g (x - mean) of channels c0 <= c < c1 (at most NR_BAND) over R rows of C. */
static NR_TARGET void NR_NAME(band_gradient_sums_)(const NR_T *restrict g,
                                                   const NR_T *restrict x, ptrdiff_t R,
                                                   ptrdiff_t C, ptrdiff_t c0, ptrdiff_t c1,
                                                   const double *restrict mean,
                                                   double *restrict sg, double *restrict sgxc)
{
    const ptrdiff_t width = c1 - c0;
    double acc_g[NR_BAND] = {0}, acc_gx[NR_BAND] = {0}, centre[NR_BAND] = {0};
    for (int k = 0; k < width; k++) centre[k] = mean[k];
    for (ptrdiff_t r = 0; r < R; r++) {
        const NR_T *restrict gr = g + r * C + c0, *restrict xr = x + r * C + c0;
        if (width == NR_BAND)
            for (int k = 0; k < NR_BAND; k++) {
                acc_g[k] += gr[k];
                acc_gx[k] += gr[k] * (xr[k] - centre[k]);
            }
        else
            for (int k = 0; k < width; k++) {
                acc_g[k] += gr[k];
                acc_gx[k] += gr[k] * (xr[k] - centre[k]);
            }
    }
    for (int k = 0; k < width; k++) {
        sg[k] = acc_g[k];
        sgxc[k] = acc_gx[k];
    }
}

/* y = x scale[c] + shift[c] over `rows` rows of C channels. */
static NR_TARGET void NR_NAME(rows_scale_shift_)(const NR_T *restrict x, ptrdiff_t rows,
                                                 ptrdiff_t C, const NR_T *restrict scale,
                                                 const NR_T *restrict shift, NR_T *restrict y)
{
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t c = 0; c < C; c++) y[r * C + c] = x[r * C + c] * scale[c] + shift[c];
}

/* dx = scale[c] (g - grad_mean[c] - (x - mean[c]) coef[c]) over `rows` rows of C channels. */
static NR_TARGET void NR_NAME(rows_input_gradient_)(const NR_T *restrict g,
                                                    const NR_T *restrict x, ptrdiff_t rows,
                                                    ptrdiff_t C, const NR_T *restrict mean,
                                                    const NR_T *restrict scale,
                                                    const NR_T *restrict grad_mean,
                                                    const NR_T *restrict coef,
                                                    NR_T *restrict dx)
{
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t c = 0; c < C; c++) {
            const ptrdiff_t i = r * C + c;
            dx[i] = scale[c] * (g[i] - grad_mean[c] - (x[i] - mean[c]) * coef[c]);
        }
}

/* The same over one plane of S numbers of a channel (the channel's numbers as scalars). */
static NR_TARGET void NR_NAME(plane_input_gradient_)(const NR_T *restrict g,
                                                     const NR_T *restrict x, ptrdiff_t S,
                                                     NR_T mean, NR_T scale, NR_T grad_mean,
                                                     NR_T coef, NR_T *restrict dx)
{
    for (ptrdiff_t i = 0; i < S; i++) dx[i] = scale * (g[i] - grad_mean - (x[i] - mean) * coef);
}

#undef NR_NAME
#undef NR_T
#undef NR_SUFFIX
#undef NR_ISA
#undef NR_TARGET
