//! The specification: the direct convolution (`conv2d_general::scalar`)
//! followed by the epilogue; and, in plain loops, the pieces the kernels
//! are made of (the matrix product, the columns of an image), which the
//! portable level runs.

#![cfg_attr(not(feature = "std"), allow(dead_code))]
use super::Epilogue;
use crate::ops::conv2d_general::{scalar as direct, ConvGeometry};

/// One image: `y = epilogue(conv(x))`, the convolution without its bias
/// (the epilogue adds it).
pub fn forward(g: &ConvGeometry, w: &[f32], x: &[f32], y: &mut [f32], epi: &Epilogue) {
    let plain = ConvGeometry { bias: false, ..*g };
    direct::forward(&plain, w, &[], x, y);
    let p = g.ho * g.wo;
    for o in 0..g.co {
        epi.apply(o, &mut y[o * p..(o + 1) * p]);
    }
}

/// `c[i, j] = epilogue_i(Σ_k a[i·rs + k·cs] · b[k·ldb + j])` for `i < m`,
/// `j < n`, summed in the order of `k` (from zero).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    [m, n, k]: [usize; 3],
    a: &[f32],
    [rs, cs]: [usize; 2],
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    epi: &Epilogue,
) {
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        row.fill(0.0);
        for kk in 0..k {
            let av = a[i * rs + kk * cs];
            for (t, &bv) in row.iter_mut().zip(&b[kk * ldb..kk * ldb + n]) {
                *t += av * bv;
            }
        }
        epi.apply(i, row);
    }
}

/// The columns of one image: row `(ci·KH + kr)·KW + kc`, column `r·WO + c`
/// holds `x[ci, r·SH + kr·DH − PH, c·SW + kc·DW − PW]`, zero outside the
/// image.
pub fn im2col(g: &ConvGeometry, x: &[f32], cols: &mut [f32]) {
    let p = g.ho * g.wo;
    for ci in 0..g.ci {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for kr in 0..g.kh {
            for kc in 0..g.kw {
                let row = (ci * g.kh + kr) * g.kw + kc;
                let dst = &mut cols[row * p..(row + 1) * p];
                let (lo, hi) = g.columns(kc);
                for (r, d) in dst.chunks_exact_mut(g.wo).enumerate() {
                    match g.input_row(r, kr) {
                        Some(ir) if lo < hi => {
                            for v in &mut d[..lo] {
                                *v = 0.0;
                            }
                            for v in &mut d[hi..] {
                                *v = 0.0;
                            }
                            let first = ir * g.w + lo * g.sw + kc * g.dw - g.pw;
                            gather(&mut d[lo..hi], &plane[first..], g.sw);
                        }
                        _ => {
                            for v in d.iter_mut() {
                                *v = 0.0;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `d[c] = src[c·stride]`, with the common strides as constants so that
/// the copy vectorises.
fn gather(d: &mut [f32], src: &[f32], stride: usize) {
    fn by<const S: usize>(d: &mut [f32], src: &[f32]) {
        let src = &src[..(d.len() - 1) * S + 1];
        for (c, v) in d.iter_mut().enumerate() {
            *v = src[c * S];
        }
    }
    match stride {
        _ if d.is_empty() => {}
        1 => d.copy_from_slice(&src[..d.len()]),
        2 => by::<2>(d, src),
        _ => {
            for (c, v) in d.iter_mut().enumerate() {
                *v = src[c * stride];
            }
        }
    }
}

/// Adds the columns' gradient `dcols` back to the image's, `dx` (the
/// transpose of [`im2col`]).
pub fn col2im(g: &ConvGeometry, dcols: &[f32], dx: &mut [f32]) {
    let p = g.ho * g.wo;
    for ci in 0..g.ci {
        let plane = &mut dx[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for kr in 0..g.kh {
            for kc in 0..g.kw {
                let row = (ci * g.kh + kr) * g.kw + kc;
                let src = &dcols[row * p..(row + 1) * p];
                let (lo, hi) = g.columns(kc);
                if lo >= hi {
                    continue;
                }
                for (r, d) in src.chunks_exact(g.wo).enumerate() {
                    if let Some(ir) = g.input_row(r, kr) {
                        let first = ir * g.w + lo * g.sw + kc * g.dw - g.pw;
                        for (c, &v) in d[lo..hi].iter().enumerate() {
                            plane[first + c * g.sw] += v;
                        }
                    }
                }
            }
        }
    }
}
