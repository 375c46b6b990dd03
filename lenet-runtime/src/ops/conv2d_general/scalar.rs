//! The specification: direct grouped convolution, one output at a time.

use super::ConvGeometry;

/// The input pixel that output `(r, c)` reads with tap `(kr, kc)`, if it is
/// inside the image (outside is the zero padding).
fn tap(g: &ConvGeometry, r: usize, c: usize, kr: usize, kc: usize) -> Option<(usize, usize)> {
    let xr = (r * g.sh + kr * g.dh) as isize - g.ph as isize;
    let xc = (c * g.sw + kc * g.dw) as isize - g.pw as isize;
    if xr < 0 || xc < 0 || xr >= g.h as isize || xc >= g.w as isize {
        None
    } else {
        Some((xr as usize, xc as usize))
    }
}

/// `y[o, r, c] = b[o] + Σ_{j, kr, kc} w[o, j, kr, kc] · x[i, r·SH + kr·DH − PH, c·SW + kc·DW − PW]`
/// with `i = (o / (CO/G))·(CI/G) + j` (the `j`-th input channel of `o`'s
/// group), `x` zero outside the image and `b` zero without bias. One image.
pub fn forward(g: &ConvGeometry, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
    let (cig, cog) = (g.ci_per_group(), g.co_per_group());
    for o in 0..g.co {
        for r in 0..g.ho {
            for c in 0..g.wo {
                let mut acc = if g.bias { b[o] } else { 0.0 };
                for j in 0..cig {
                    let i = (o / cog) * cig + j;
                    for kr in 0..g.kh {
                        for kc in 0..g.kw {
                            if let Some((xr, xc)) = tap(g, r, c, kr, kc) {
                                acc += w[((o * cig + j) * g.kh + kr) * g.kw + kc]
                                    * x[(i * g.h + xr) * g.w + xc];
                            }
                        }
                    }
                }
                y[(o * g.ho + r) * g.wo + c] = acc;
            }
        }
    }
}

/// Adds `∂L/∂w` and (with bias) `∂L/∂b` of one image to `dw` and `db`.
pub fn backward_params(g: &ConvGeometry, x: &[f32], dy: &[f32], dw: &mut [f32], db: &mut [f32]) {
    let (cig, cog) = (g.ci_per_group(), g.co_per_group());
    for o in 0..g.co {
        for r in 0..g.ho {
            for c in 0..g.wo {
                let d = dy[(o * g.ho + r) * g.wo + c];
                if g.bias {
                    db[o] += d;
                }
                for j in 0..cig {
                    let i = (o / cog) * cig + j;
                    for kr in 0..g.kh {
                        for kc in 0..g.kw {
                            if let Some((xr, xc)) = tap(g, r, c, kr, kc) {
                                dw[((o * cig + j) * g.kh + kr) * g.kw + kc] +=
                                    d * x[(i * g.h + xr) * g.w + xc];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes `∂L/∂x` of one image to `dx`.
pub fn backward_input(g: &ConvGeometry, w: &[f32], dy: &[f32], dx: &mut [f32]) {
    let (cig, cog) = (g.ci_per_group(), g.co_per_group());
    dx[..g.in_len()].fill(0.0);
    for o in 0..g.co {
        for r in 0..g.ho {
            for c in 0..g.wo {
                let d = dy[(o * g.ho + r) * g.wo + c];
                for j in 0..cig {
                    let i = (o / cog) * cig + j;
                    for kr in 0..g.kh {
                        for kc in 0..g.kw {
                            if let Some((xr, xc)) = tap(g, r, c, kr, kc) {
                                dx[(i * g.h + xr) * g.w + xc] +=
                                    d * w[((o * cig + j) * g.kh + kr) * g.kw + kc];
                            }
                        }
                    }
                }
            }
        }
    }
}
