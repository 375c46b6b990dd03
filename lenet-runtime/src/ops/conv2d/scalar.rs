//! The specification: direct convolution, one output at a time.

/// `y[o, r, c] = b[o] + Σ_{i, kr, kc} w[o, i, kr, kc] · x[i, r·S + kr − P, c·S + kc − P]`,
/// where `x` is zero outside the image. One image.
pub fn forward<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    for o in 0..CO {
        for r in 0..HO {
            for c in 0..WO {
                let mut acc = b[o];
                for i in 0..CI {
                    for kr in 0..K {
                        let xr = (r * S + kr) as isize - P as isize;
                        if xr < 0 || xr >= H as isize {
                            continue;
                        }
                        for kc in 0..K {
                            let xc = (c * S + kc) as isize - P as isize;
                            if xc < 0 || xc >= W as isize {
                                continue;
                            }
                            acc += w[((o * CI + i) * K + kr) * K + kc]
                                * x[(i * H + xr as usize) * W + xc as usize];
                        }
                    }
                }
                y[(o * HO + r) * WO + c] = acc;
            }
        }
    }
}

/// Adds `∂L/∂w` and `∂L/∂b` of one image to `dw` and `db`.
pub fn backward_params<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    for o in 0..CO {
        for r in 0..HO {
            for c in 0..WO {
                let g = dy[(o * HO + r) * WO + c];
                db[o] += g;
                for i in 0..CI {
                    for kr in 0..K {
                        let xr = (r * S + kr) as isize - P as isize;
                        if xr < 0 || xr >= H as isize {
                            continue;
                        }
                        for kc in 0..K {
                            let xc = (c * S + kc) as isize - P as isize;
                            if xc < 0 || xc >= W as isize {
                                continue;
                            }
                            dw[((o * CI + i) * K + kr) * K + kc] +=
                                g * x[(i * H + xr as usize) * W + xc as usize];
                        }
                    }
                }
            }
        }
    }
}

/// Writes `∂L/∂x` of one image to `dx`.
pub fn backward_input<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    dx[..CI * H * W].fill(0.0);
    for o in 0..CO {
        for r in 0..HO {
            for c in 0..WO {
                let g = dy[(o * HO + r) * WO + c];
                for i in 0..CI {
                    for kr in 0..K {
                        let xr = (r * S + kr) as isize - P as isize;
                        if xr < 0 || xr >= H as isize {
                            continue;
                        }
                        for kc in 0..K {
                            let xc = (c * S + kc) as isize - P as isize;
                            if xc < 0 || xc >= W as isize {
                                continue;
                            }
                            dx[(i * H + xr as usize) * W + xc as usize] +=
                                g * w[((o * CI + i) * K + kr) * K + kc];
                        }
                    }
                }
            }
        }
    }
}
