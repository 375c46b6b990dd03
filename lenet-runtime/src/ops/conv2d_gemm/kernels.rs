//! The kernels of the convolution as a matrix product, compiled once for
//! every size (the sizes are run-time values: every layer shares them).
//!
//! - [`gemm_at`]: `C = epilogue(A · B)`, `A` read through any two strides
//!   (the weight, or its transpose for the input gradient), `B` and `C`
//!   row-major. Vectors run along `C`'s rows (output positions), up to
//!   4 vectors wide, and each block holds 6–16 output channels in
//!   registers: per step of the sum, one load per vector of `B` and one
//!   broadcast per channel feed `channels × vectors` fused multiply-adds.
//! - [`dots_at`]: `C += Σ A·Bᵀ` over rows of positions (the weight
//!   gradient), 4×4 (AVX-512) or 4×2 (AVX2) dot products at a time, summed
//!   over a batch of images before their lanes are added.
//! - [`row_sums_at`]: the bias gradient.
//!
//! The portable level runs the specification's loops ([`super::scalar`]).
//! Without `std` (no thread scratch for the columns), only 1×1 layers take
//! the product; the others run the direct specification.
#![cfg_attr(not(feature = "std"), allow(dead_code, unused_variables))]

use super::{scalar, Epilogue};
use crate::ops::conv2d_general::{scalar as direct, ConvGeometry};
use crate::ops::epilogue::{apply_in_place, Raw};
#[cfg(all(target_arch = "x86_64", feature = "std"))]
use crate::simd::scratch;
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};

/// `Some(x)` when it does not overflow.
fn span(terms: &[(usize, usize)], plus: usize) -> Option<usize> {
    terms
        .iter()
        .try_fold(plus, |acc, &(a, b)| acc.checked_add(a.checked_mul(b)?))
}

/// A matrix product's operands, checked by [`gemm_at`].
#[derive(Clone, Copy)]
struct Gemm {
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rs: usize,
    cs: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
}

/// `c[i·ldc + j] = epilogue_i(Σ_k a[i·rs + k·cs] · b[k·ldb + j])` for
/// `i < m`, `j < n`, with the kernels of `level`.
///
/// # Panics
/// If a slice is shorter than the sizes and strides imply, `n` exceeds a
/// leading dimension, or the epilogue holds fewer than `m` floats.
#[allow(clippy::too_many_arguments)]
pub(super) fn gemm_at(
    level: Level,
    [m, n, k]: [usize; 3],
    a: &[f32],
    [rs, cs]: [usize; 2],
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    epi: &Epilogue,
) {
    if m == 0 || n == 0 {
        return;
    }
    let fits = |need: Option<usize>, len: usize| need.is_some_and(|need| need <= len);
    assert!(
        k > 0
            && n <= ldb
            && n <= ldc
            && fits(span(&[(m - 1, rs), (k - 1, cs)], 1), a.len())
            && fits(span(&[(k - 1, ldb)], n), b.len())
            && fits(span(&[(m - 1, ldc)], n), c.len())
            && epi.covers(m),
        "conv2d_gemm: a {m}×{k} by {k}×{n} product does not fit its slices"
    );
    let g = Gemm {
        m,
        n,
        k,
        a: a.as_ptr(),
        rs,
        cs,
        b: b.as_ptr(),
        ldb,
        c: c.as_mut_ptr(),
        ldc,
    };
    let e = Raw::new(epi);
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); every index the kernel
        // forms is inside the slices, checked above.
        Level::Avx512 => unsafe { gemm_avx512(&g, &e) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as above.
        Level::Avx2 => unsafe { gemm_avx2(&g, &e) },
        _ => scalar::gemm([m, n, k], a, [rs, cs], b, ldb, c, ldc, epi),
    }
}

/// `c[i·ldc + j] += Σ_{s < imgs, q < len} a[s·a_img + i·lda + q] ·
/// b[s·b_img + j·ldb + q]` for `i < mi`, `j < nj`, with the kernels of
/// `level`.
///
/// # Panics
/// If a slice is shorter than the sizes and strides imply, or `nj` exceeds
/// `ldc`.
#[allow(clippy::too_many_arguments)]
pub(super) fn dots_at(
    level: Level,
    [imgs, len]: [usize; 2],
    (a, a_img, lda, mi): (&[f32], usize, usize, usize),
    (b, b_img, ldb, nj): (&[f32], usize, usize, usize),
    c: &mut [f32],
    ldc: usize,
) {
    if imgs == 0 || len == 0 || mi == 0 || nj == 0 {
        return;
    }
    let fits = |need: Option<usize>, have: usize| need.is_some_and(|need| need <= have);
    assert!(
        nj <= ldc
            && fits(span(&[(imgs - 1, a_img), (mi - 1, lda)], len), a.len())
            && fits(span(&[(imgs - 1, b_img), (nj - 1, ldb)], len), b.len())
            && fits(span(&[(mi - 1, ldc)], nj), c.len()),
        "conv2d_gemm: {mi}×{nj} dot products of {imgs}×{len} do not fit their slices"
    );
    let d = Dots {
        imgs,
        len,
        a: a.as_ptr(),
        a_img,
        lda,
        mi,
        b: b.as_ptr(),
        b_img,
        ldb,
        nj,
        c: c.as_mut_ptr(),
        ldc,
    };
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); every index the kernel
        // forms is inside the slices, checked above.
        Level::Avx512 => unsafe { dots_avx512(&d) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as above.
        Level::Avx2 => unsafe { dots_avx2(&d) },
        _ => {
            for i in 0..mi {
                for j in 0..nj {
                    let mut acc = 0.0;
                    for s in 0..imgs {
                        let ar = &a[s * a_img + i * lda..][..len];
                        let br = &b[s * b_img + j * ldb..][..len];
                        acc += ar.iter().zip(br).map(|(x, y)| x * y).sum::<f32>();
                    }
                    c[i * ldc + j] += acc;
                }
            }
        }
    }
}

/// `sums[i] += Σ_{s < imgs, q < len} a[s·a_img + i·len + q]` for
/// `i < sums.len()`.
///
/// # Panics
/// If `a` is shorter than the sizes imply.
pub(super) fn row_sums_at(
    level: Level,
    imgs: usize,
    len: usize,
    a: &[f32],
    a_img: usize,
    sums: &mut [f32],
) {
    let rows = sums.len();
    if imgs == 0 || len == 0 || rows == 0 {
        return;
    }
    let need = span(&[(imgs - 1, a_img), (rows - 1, len)], len);
    assert!(
        need.is_some_and(|need| need <= a.len()),
        "conv2d_gemm: {rows} rows of {imgs}×{len} do not fit their slice"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the indices are inside
        // `a` (checked above) and `sums`.
        Level::Avx512 => unsafe { row_sums_avx512(imgs, len, a.as_ptr(), a_img, sums) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as above.
        Level::Avx2 => unsafe { row_sums_avx2(imgs, len, a.as_ptr(), a_img, sums) },
        _ => {
            for (i, t) in sums.iter_mut().enumerate() {
                for s in 0..imgs {
                    *t += a[s * a_img + i * len..][..len].iter().sum::<f32>();
                }
            }
        }
    }
}

/// The columns of one image ([`scalar::im2col`]), each run of a row copied
/// with the vectors of `level` (strides 1 and 2 on AVX-512).
///
/// # Panics
/// If `x` or `cols` is shorter than the geometry implies.
pub(super) fn im2col_at(level: Level, g: &ConvGeometry, x: &[f32], cols: &mut [f32]) {
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`).
        Level::Avx512 => unsafe { im2col_avx512(g, x, cols) },
        _ => scalar::im2col(g, x, cols),
    }
}

/// The most vectors of 16 in a row of [`im2col_avx512`]: its masks are
/// computed once per tap, for rows of up to 256 outputs.
#[cfg(target_arch = "x86_64")]
const ROW_VECTORS: usize = 16;

/// [`scalar::im2col`] with AVX-512: for each tap `(ci, kr, kc)`, the output
/// columns inside the image are one run `[lo, hi)` for every row
/// ([`ConvGeometry::columns`]), so each vector's masks are computed once
/// per tap; a row is then a masked load (stride 1) or two and a permute of
/// the even lanes (stride 2) per 16 outputs, the lanes outside the run
/// loaded as zeros. Other strides, and rows of more than 256 outputs, run
/// the specification.
///
/// # Safety
/// The CPU runs AVX-512F.
///
/// # Panics
/// If `x` or `cols` is shorter than the geometry implies.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn im2col_avx512(g: &ConvGeometry, x: &[f32], cols: &mut [f32]) {
    use core::arch::x86_64::*;
    let l = Avx512::LANES;
    let (p, plane) = (g.ho * g.wo, g.h * g.w);
    let vectors = g.wo.div_ceil(l);
    if g.wo < l && p <= GATHER_POSITIONS && g.ci * plane <= i32::MAX as usize {
        // SAFETY: the CPU runs AVX-512F (this function's contract); the
        // sizes are those `im2col_gather_avx512` asks for.
        return unsafe { im2col_gather_avx512(g, x, cols) };
    }
    if g.sw > 2 || vectors > ROW_VECTORS {
        return scalar::im2col(g, x, cols);
    }
    assert!(
        x.len() >= g.ci * plane && cols.len() >= g.ci * g.kh * g.kw * p,
        "conv2d_gemm: columns of {}×{}×{} do not fit",
        g.ci,
        g.h,
        g.w
    );
    // Bits `[a, b)` of a 16-lane mask (empty when `a ≥ b`).
    let bits = |a: usize, b: usize| -> u16 {
        let (a, b) = (a.min(16), b.min(16));
        if a >= b {
            0
        } else {
            (((1u32 << b) - 1) & !((1u32 << a) - 1)) as u16
        }
    };
    let (xp, cp) = (x.as_ptr(), cols.as_mut_ptr());
    // SAFETY: the CPU runs AVX-512F (this function's contract). Loads: for
    // output column `c` in the run `[lo, hi)` of tap `kc`, the input column
    // `c·sw + kc·dw − pw` is inside the row (`columns`), and row `ir` inside
    // the plane (`input_row`); a load's lanes are those of the run (stride 1)
    // or span from its first to its last input (stride 2), all inside the
    // row, and the pointer is only formed with wrapping arithmetic. Stores:
    // row `r` of tap row `t` is `wo` floats at `(t·ho + r)·wo`, each vector
    // masked to the row, inside `cols` (checked above).
    unsafe {
        let zero = Avx512::zero();
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let mut masks = [(0u16, 0u16, 0u16); ROW_VECTORS];
        for kc in 0..g.kw {
            let (lo, hi) = g.columns(kc);
            for (j, m) in masks.iter_mut().enumerate().take(vectors) {
                let (a, b) = (lo.max(j * l) - j * l, hi.max(j * l) - j * l);
                let store = bits(0, g.wo - j * l);
                *m = if g.sw == 1 {
                    (bits(a, b), 0, store)
                } else {
                    // Inputs `2a ..= 2(b − 1)` of the 32-float window.
                    let (ia, ib) = (2 * a, (2 * b).saturating_sub(1));
                    (bits(ia, ib), bits(ia.max(16) - 16, ib.max(16) - 16), store)
                };
            }
            for ci in 0..g.ci {
                let xc = xp.add(ci * plane);
                for kr in 0..g.kh {
                    let t = (ci * g.kh + kr) * g.kw + kc;
                    let dst = cp.add(t * p);
                    for r in 0..g.ho {
                        let out = dst.add(r * g.wo);
                        let Some(ir) = g.input_row(r, kr).filter(|_| lo < hi) else {
                            for (j, m) in masks.iter().enumerate().take(vectors) {
                                _mm512_mask_storeu_ps(out.add(j * l), m.2, zero);
                            }
                            continue;
                        };
                        // Input of output column 0 (before the row where the
                        // padding is: never read there, by the masks).
                        let base = xc.wrapping_add(ir * g.w + kc * g.dw).wrapping_sub(g.pw);
                        for (j, m) in masks.iter().enumerate().take(vectors) {
                            let v = if g.sw == 1 {
                                _mm512_maskz_loadu_ps(m.0, base.wrapping_add(j * l))
                            } else {
                                let w = base.wrapping_add(2 * j * l);
                                let a = _mm512_maskz_loadu_ps(m.0, w);
                                let b = _mm512_maskz_loadu_ps(m.1, w.wrapping_add(l));
                                _mm512_permutex2var_ps(a, even, b)
                            };
                            _mm512_mask_storeu_ps(out.add(j * l), m.2, v);
                        }
                    }
                }
            }
        }
    }
}

/// The most output positions of [`im2col_gather_avx512`] (its position
/// table is on the stack).
#[cfg(target_arch = "x86_64")]
const GATHER_POSITIONS: usize = 1024;

/// [`scalar::im2col`] for maps of rows shorter than a vector (DS-CNN's 5
/// columns): each vector of 16 output positions, across rows, is one masked
/// gather per tap, its indices from a table of each position's first input
/// row and column built once.
///
/// # Safety
/// The CPU runs AVX-512F; `ho·wo ≤ GATHER_POSITIONS` and `ci·h·w ≤
/// i32::MAX`.
///
/// # Panics
/// If `x` or `cols` is shorter than the geometry implies.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn im2col_gather_avx512(g: &ConvGeometry, x: &[f32], cols: &mut [f32]) {
    use core::arch::x86_64::*;
    let l = Avx512::LANES;
    let (p, plane) = (g.ho * g.wo, g.h * g.w);
    assert!(
        p <= GATHER_POSITIONS && x.len() >= g.ci * plane && cols.len() >= g.ci * g.kh * g.kw * p,
        "conv2d_gemm: columns of {}×{}×{} do not fit",
        g.ci,
        g.h,
        g.w
    );
    // Position `q = r·wo + c` reads input row `r·sh + kr·dh − ph` and
    // column `c·sw + kc·dw − pw`: the first terms here, as i32 (they are
    // below `h + sh` and `w + sw`, the sizes are below i32::MAX).
    let mut rows = [0i32; GATHER_POSITIONS];
    let mut columns = [0i32; GATHER_POSITIONS];
    for q in 0..p {
        rows[q] = ((q / g.wo) * g.sh) as i32;
        columns[q] = ((q % g.wo) * g.sw) as i32;
    }
    let (h, w) = (g.h as i32, g.w as i32);
    // SAFETY: the CPU runs AVX-512F (this function's contract). A gathered
    // lane is read only when its row is in `[0, h)` and its column in
    // `[0, w)`, so its index `ci·h·w + row·w + column` is inside `x`
    // (checked above); the tables are read for whole vectors inside their
    // `GATHER_POSITIONS` entries; each store is masked to the `p` positions
    // of its tap row, inside `cols` (checked above).
    unsafe {
        let (zero, hv, wv) = (
            _mm512_set1_epi32(0),
            _mm512_set1_epi32(h),
            _mm512_set1_epi32(w),
        );
        for ci in 0..g.ci {
            let xc = x.as_ptr().add(ci * plane);
            for kr in 0..g.kh {
                let dr = _mm512_set1_epi32((kr * g.dh) as i32 - g.ph as i32);
                for kc in 0..g.kw {
                    let dc = _mm512_set1_epi32((kc * g.dw) as i32 - g.pw as i32);
                    let t = (ci * g.kh + kr) * g.kw + kc;
                    let dst = cols.as_mut_ptr().add(t * p);
                    let mut q = 0;
                    while q < p {
                        let live = Avx512::first(p - q);
                        let r =
                            _mm512_add_epi32(_mm512_loadu_si512(rows.as_ptr().add(q).cast()), dr);
                        let c = _mm512_add_epi32(
                            _mm512_loadu_si512(columns.as_ptr().add(q).cast()),
                            dc,
                        );
                        let inside = _mm512_mask_cmpge_epi32_mask(live, r, zero)
                            & _mm512_cmplt_epi32_mask(r, hv)
                            & _mm512_cmpge_epi32_mask(c, zero)
                            & _mm512_cmplt_epi32_mask(c, wv);
                        let index = _mm512_add_epi32(_mm512_mullo_epi32(r, wv), c);
                        let v = _mm512_mask_i32gather_ps::<4>(
                            _mm512_setzero_ps(),
                            inside,
                            index,
                            xc.cast(),
                        );
                        Avx512::store_masked(dst.add(q), v, live);
                        q += l;
                    }
                }
            }
        }
    }
}

/// Forward over `n` images: `y = epilogue(conv(x))`.
///
/// # Panics
/// If the geometry is not valid or has groups, a slice is shorter than `n`
/// images or the weights, or the epilogue holds fewer than `co` floats.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    level: Level,
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
    epi: &Epilogue,
) {
    g.assert_valid();
    let (inl, outl, kk, p) = (g.in_len(), g.out_len(), g.ci * g.kh * g.kw, g.ho * g.wo);
    assert!(
        g.groups == 1 && g.holds(n, w, x, y) && epi.covers(g.co),
        "conv2d_gemm: slices too short for {n} images"
    );
    let level = runnable(level);
    let images = x.chunks_exact(inl).zip(y.chunks_exact_mut(outl)).take(n);
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if is_pointwise(g) && p < Avx512::LANES && level == Level::Avx512 {
        // A map smaller than a vector (MobileNet's 3×3 layers): the products
        // would fill a fraction of each vector's lanes. As dot products along
        // the input channels instead, every lane works: each image's
        // positions transposed to rows of `ci` floats, `y = w · xᵀ`, then
        // the epilogue over the map.
        scratch::with_reused(p * g.ci, |xt| {
            for (xs, ys) in images {
                for (j, row) in xt.chunks_exact_mut(g.ci).enumerate() {
                    for (k, t) in row.iter_mut().enumerate() {
                        *t = xs[k * p + j];
                    }
                }
                ys.fill(0.0);
                dots_at(
                    level,
                    [1, g.ci],
                    (w, 0, g.ci, g.co),
                    (xt, 0, g.ci, p),
                    ys,
                    p,
                );
                apply_in_place(level, epi, g.co, p, ys);
            }
        });
        return;
    }
    if is_pointwise(g) {
        for (xs, ys) in images {
            gemm_at(level, [g.co, p, kk], w, [kk, 1], xs, p, ys, p, epi);
        }
        return;
    }
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if level != Level::Portable {
        scratch::with_reused(kk * p, |cols| {
            for (xs, ys) in images {
                im2col_at(level, g, xs, cols);
                gemm_at(level, [g.co, p, kk], w, [kk, 1], cols, p, ys, p, epi);
            }
        });
        return;
    }
    for (xs, ys) in images {
        scalar::forward(g, w, xs, ys, epi);
    }
}

/// Backward over `n` images: `dx` overwritten when given, `dw` and `db`
/// added to.
///
/// # Panics
/// If the geometry is not valid or has groups, or a slice is shorter than
/// `n` images, the weights or the biases need.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    level: Level,
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    g.assert_valid();
    let (inl, outl, kk, p) = (g.in_len(), g.out_len(), g.ci * g.kh * g.kw, g.ho * g.wo);
    assert!(
        g.groups == 1
            && g.holds(n, w, x, dy)
            && dx.as_ref().is_none_or(|dx| dx.len() >= n * inl)
            && dw.len() >= g.weights()
            && db.len() >= g.biases(),
        "conv2d_gemm: slices too short for {n} images"
    );
    let level = runnable(level);
    if n == 0 {
        return;
    }
    if level == Level::Portable || (!is_pointwise(g) && !cfg!(feature = "std")) {
        let mut dx = dx;
        for s in 0..n {
            let (xs, dys) = (&x[s * inl..(s + 1) * inl], &dy[s * outl..(s + 1) * outl]);
            direct::backward_params(g, xs, dys, dw, db);
            if let Some(dx) = dx.as_deref_mut() {
                direct::backward_input(g, w, dys, &mut dx[s * inl..(s + 1) * inl]);
            }
        }
        return;
    }
    if g.bias {
        row_sums_at(level, n, p, dy, outl, &mut db[..g.co]);
    }
    if is_pointwise(g) {
        dots_at(
            level,
            [n, p],
            (dy, outl, p, g.co),
            (x, inl, p, g.ci),
            dw,
            g.ci,
        );
        if let Some(dx) = dx {
            for (dys, dxs) in dy.chunks_exact(outl).zip(dx.chunks_exact_mut(inl)).take(n) {
                gemm_at(
                    level,
                    [g.ci, p, g.co],
                    w,
                    [1, g.ci],
                    dys,
                    p,
                    dxs,
                    p,
                    &Epilogue::NONE,
                );
            }
        }
        return;
    }
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    scratch::with_reused(2 * kk * p, |buf| {
        let (cols, dcols) = buf.split_at_mut(kk * p);
        let mut dx = dx;
        for s in 0..n {
            let (xs, dys) = (&x[s * inl..(s + 1) * inl], &dy[s * outl..(s + 1) * outl]);
            im2col_at(level, g, xs, cols);
            dots_at(
                level,
                [1, p],
                (dys, outl, p, g.co),
                (cols, kk * p, p, kk),
                dw,
                kk,
            );
            if let Some(dx) = dx.as_deref_mut() {
                gemm_at(
                    level,
                    [kk, p, g.co],
                    w,
                    [1, kk],
                    dys,
                    p,
                    dcols,
                    p,
                    &Epilogue::NONE,
                );
                let dxs = &mut dx[s * inl..(s + 1) * inl];
                dxs.fill(0.0);
                scalar::col2im(g, dcols, dxs);
            }
        }
    });
}

/// A 1×1 convolution of stride 1 without padding: the input is its own
/// columns.
fn is_pointwise(g: &ConvGeometry) -> bool {
    (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == (1, 1, 1, 1, 0, 0)
}

/// The operands of [`dots_at`], checked there.
#[derive(Clone, Copy)]
struct Dots {
    imgs: usize,
    len: usize,
    a: *const f32,
    a_img: usize,
    lda: usize,
    mi: usize,
    b: *const f32,
    b_img: usize,
    ldb: usize,
    nj: usize,
    c: *mut f32,
    ldc: usize,
}

/// # Safety
/// The CPU runs AVX-512F; `g`'s pointers are valid for the floats its sizes
/// and strides imply, `e`'s for `g.m` floats (as [`gemm_at`] checks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gemm_avx512(g: &Gemm, e: &Raw) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); the
    // blocks cover `[0, m) × [0, n)` once.
    unsafe {
        // Panels of 4 vectors (6 rows a block) or of 3 (8 rows), whichever
        // runs fewer cycles for these sizes (8 or 16 channels fill blocks of
        // 8, not of 6).
        let widest = if cycles(g.m, g.n, 3, 8) < cycles(g.m, g.n, 4, 6) {
            3
        } else {
            4
        };
        let mut j = 0;
        while j < g.n {
            let width = (g.n - j).min(widest * Avx512::LANES);
            match width.div_ceil(Avx512::LANES) {
                1 => panel::<Avx512, 1, 16>(g, e, j, width),
                2 => panel::<Avx512, 2, 12>(g, e, j, width),
                3 => panel::<Avx512, 3, 8>(g, e, j, width),
                _ => panel::<Avx512, 4, 6>(g, e, j, width),
            }
            j += width;
        }
    }
}

/// The cycles per step of the sum that AVX-512 panels of at most `widest`
/// vectors take over an `m × n` product: each block of `r` rows and `v`
/// vectors issues `r·v` multiply-adds and `r + v` loads, two of each a
/// cycle.
#[cfg(target_arch = "x86_64")]
fn cycles(m: usize, n: usize, widest: usize, rows: usize) -> usize {
    let mr = |v: usize| [16, 12, 8, 6][v - 1];
    let block = |r: usize, v: usize| (r * v).max(r + v);
    let mut total = 0;
    let mut j = 0;
    while j < n {
        let width = (n - j).min(widest * 16);
        let v = width.div_ceil(16);
        let main = if v == widest { rows } else { mr(v) };
        let mut i = 0;
        while i + main <= m {
            total += block(main, v);
            i += main;
        }
        for r in [4, 4, 4, 2, 1] {
            if i + r <= m {
                total += block(r, v);
                i += r;
            }
        }
        j += width;
    }
    total
}

/// # Safety
/// The CPU runs AVX2 and FMA; otherwise as [`gemm_avx512`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_avx2(g: &Gemm, e: &Raw) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); the
    // blocks cover `[0, m) × [0, n)` once.
    unsafe {
        let mut j = 0;
        while j < g.n {
            let width = (g.n - j).min(2 * Avx2::LANES);
            match width.div_ceil(Avx2::LANES) {
                1 => panel::<Avx2, 1, 12>(g, e, j, width),
                _ => panel::<Avx2, 2, 6>(g, e, j, width),
            }
            j += width;
        }
    }
}

/// Columns `[j, j + width)` of every row, `width` in `((NV − 1)·LANES,
/// NV·LANES]`: blocks of `MR` rows, then 4, 2 and 1.
///
/// # Safety
/// As [`gemm_avx512`], for `S`'s instruction set, with `j + width ≤ g.n`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn panel<S: Simd, const NV: usize, const MR: usize>(
    g: &Gemm,
    e: &Raw,
    j: usize,
    width: usize,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); each
    // block's rows are inside `[0, m)`.
    unsafe {
        let mask = S::first(width - (NV - 1) * S::LANES);
        let mut i = 0;
        while i + MR <= g.m {
            block::<S, MR, NV>(g, e, i, j, mask);
            i += MR;
        }
        while i + 4 <= g.m {
            block::<S, 4, NV>(g, e, i, j, mask);
            i += 4;
        }
        if i + 2 <= g.m {
            block::<S, 2, NV>(g, e, i, j, mask);
            i += 2;
        }
        if i < g.m {
            block::<S, 1, NV>(g, e, i, j, mask);
        }
    }
}

/// Rows `[i, i + MR)`, columns `[j, j + NV·LANES)` (the last vector under
/// `mask`): `MR × NV` accumulators, the epilogue, the store.
///
/// # Safety
/// As [`panel`], with `i + MR ≤ g.m` and the last vector's lanes under
/// `mask` inside `[0, n)`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn block<S: Simd, const MR: usize, const NV: usize>(
    g: &Gemm,
    e: &Raw,
    i: usize,
    j: usize,
    mask: S::Mask,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`): `a`
    // is read at rows `< m` and sums `< k`, `b` at rows `< k` and columns
    // `< n` (the last vector masked), `c` at rows `< m` and columns `< n`.
    unsafe {
        let l = S::LANES;
        let mut acc = [[S::zero(); NV]; MR];
        let mut ap = g.a.add(i * g.rs);
        let mut bp = g.b.add(j);
        for _ in 0..g.k {
            let mut bv = [S::zero(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                *bv = if v + 1 < NV {
                    S::load(bp.add(v * l))
                } else {
                    S::load_masked(bp.add(v * l), mask)
                };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = S::splat(*ap.add(r * g.rs));
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc = S::fma(av, bv, *acc);
                }
            }
            ap = ap.add(g.cs);
            bp = bp.add(g.ldb);
        }
        for (r, acc) in acc.iter().enumerate() {
            let row = i + r;
            let ch = e.channel::<S>(row);
            let cp = g.c.add(row * g.ldc + j);
            for (v, &t) in acc.iter().enumerate() {
                let t = ch.apply(t);
                if v + 1 < NV {
                    S::store(cp.add(v * l), t);
                } else {
                    S::store_masked(cp.add(v * l), t, mask);
                }
            }
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; `d`'s pointers are valid for the floats its sizes
/// and strides imply (as [`dots_at`] checks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dots_avx512(d: &Dots) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { dots::<Avx512, 4, 4>(d) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; otherwise as [`dots_avx512`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dots_avx2(d: &Dots) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { dots::<Avx2, 4, 2>(d) }
}

/// Every `(i, j)` once: blocks of `MI × NJ`, then the last columns (as one
/// block when there are one or two), then the last rows.
///
/// # Safety
/// As [`dots_avx512`], for `S`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dots<S: Simd, const MI: usize, const NJ: usize>(d: &Dots) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); every
    // block is inside `[0, mi) × [0, nj)`.
    unsafe {
        let mut i = 0;
        while i + MI <= d.mi {
            let mut j = 0;
            while j + NJ <= d.nj {
                dot_block::<S, MI, NJ>(d, i, j);
                j += NJ;
            }
            // The last columns as one block (a map of 9 positions: 4, 4, 1).
            match d.nj - j {
                0 => {}
                1 => dot_block::<S, MI, 1>(d, i, j),
                2 => dot_block::<S, MI, 2>(d, i, j),
                _ => {
                    while j < d.nj {
                        dot_block::<S, MI, 1>(d, i, j);
                        j += 1;
                    }
                }
            }
            i += MI;
        }
        while i < d.mi {
            let mut j = 0;
            while j + NJ <= d.nj {
                dot_block::<S, 1, NJ>(d, i, j);
                j += NJ;
            }
            while j < d.nj {
                dot_block::<S, 1, 1>(d, i, j);
                j += 1;
            }
            i += 1;
        }
    }
}

/// `c[i + r, j + t] += Σ a[i + r, ·] · b[j + t, ·]` over the images, for
/// `r < MI`, `t < NJ`.
///
/// # Safety
/// As [`dots`], with `i + MI ≤ mi`, `j + NJ ≤ nj`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot_block<S: Simd, const MI: usize, const NJ: usize>(d: &Dots, i: usize, j: usize) {
    // SAFETY: the caller keeps this function's contract (`# Safety`): the
    // loads stay inside each row's `len` floats (the last one masked).
    unsafe {
        let l = S::LANES;
        let tail = S::first(d.len % l);
        let full = d.len - d.len % l;
        let mut acc = [[S::zero(); NJ]; MI];
        for s in 0..d.imgs {
            let ap = d.a.add(s * d.a_img + i * d.lda);
            let bp = d.b.add(s * d.b_img + j * d.ldb);
            let mut q = 0;
            while q < d.len {
                let mut av = [S::zero(); MI];
                let mut bv = [S::zero(); NJ];
                if q < full {
                    for (r, av) in av.iter_mut().enumerate() {
                        *av = S::load(ap.add(r * d.lda + q));
                    }
                    for (t, bv) in bv.iter_mut().enumerate() {
                        *bv = S::load(bp.add(t * d.ldb + q));
                    }
                } else {
                    for (r, av) in av.iter_mut().enumerate() {
                        *av = S::load_masked(ap.add(r * d.lda + q), tail);
                    }
                    for (t, bv) in bv.iter_mut().enumerate() {
                        *bv = S::load_masked(bp.add(t * d.ldb + q), tail);
                    }
                }
                for (acc, &av) in acc.iter_mut().zip(&av) {
                    for (acc, &bv) in acc.iter_mut().zip(&bv) {
                        *acc = S::fma(av, bv, *acc);
                    }
                }
                q += l;
            }
        }
        if MI * NJ >= 4 && MI * NJ <= S::LANES {
            // One sum per lane of one vector: a tree of pair sums, not a
            // reduction per accumulator. The accumulators are padded with
            // zeros to a power of two `P`; after level `h`, lane `q` of
            // vector `k` holds part of the sum of accumulator
            // `k·2^h + q / (LANES / 2^h)`; past one vector, each level pairs
            // it with zeros, until lane `n` is the sum of accumulator `n`.
            let mut v = [S::zero(); 16];
            for (r, acc) in acc.iter().enumerate() {
                v[r * NJ..][..NJ].copy_from_slice(acc);
            }
            let mut len = (MI * NJ).next_power_of_two();
            let mut width = 1;
            while width < S::LANES {
                for q in 0..len.div_ceil(2) {
                    let b = if 2 * q + 1 < len {
                        v[2 * q + 1]
                    } else {
                        S::zero()
                    };
                    v[q] = S::pair_sums(v[2 * q], b);
                }
                len = len.div_ceil(2);
                width *= 2;
            }
            let mut sums = [0.0f32; 16];
            S::store(sums.as_mut_ptr(), v[0]);
            for r in 0..MI {
                for t in 0..NJ {
                    *d.c.add((i + r) * d.ldc + j + t) += sums[r * NJ + t];
                }
            }
        } else {
            for (r, acc) in acc.iter().enumerate() {
                for (t, &v) in acc.iter().enumerate() {
                    *d.c.add((i + r) * d.ldc + j + t) += S::sum(v);
                }
            }
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; `a` is valid for the floats [`row_sums_at`]
/// checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_sums_avx512(imgs: usize, len: usize, a: *const f32, a_img: usize, sums: &mut [f32]) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { row_sums::<Avx512>(imgs, len, a, a_img, sums) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; otherwise as [`row_sums_avx512`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_sums_avx2(imgs: usize, len: usize, a: *const f32, a_img: usize, sums: &mut [f32]) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { row_sums::<Avx2>(imgs, len, a, a_img, sums) }
}

/// # Safety
/// As [`row_sums_avx512`], for `S`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn row_sums<S: Simd>(
    imgs: usize,
    len: usize,
    a: *const f32,
    a_img: usize,
    sums: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`): row
    // `i` of image `s` is `len` floats from `s·a_img + i·len`, the last
    // vector masked.
    unsafe {
        let l = S::LANES;
        let tail = S::first(len % l);
        let full = len - len % l;
        for (i, t) in sums.iter_mut().enumerate() {
            let mut acc = S::zero();
            for s in 0..imgs {
                let p = a.add(s * a_img + i * len);
                let mut q = 0;
                while q < full {
                    acc = S::add(acc, S::load(p.add(q)));
                    q += l;
                }
                if q < len {
                    acc = S::add(acc, S::load_masked(p.add(q), tail));
                }
            }
            *t += S::sum(acc);
        }
    }
}
