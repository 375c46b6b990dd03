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

/// `relu` as PyTorch computes it: `0` where `v < 0`, `v` elsewhere (NaN
/// and −0 pass).
#[inline(always)]
pub fn relu(v: f32) -> f32 {
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

/// [`relu`] of every element.
pub fn relu_in_place(v: &mut [f32]) {
    for v in v {
        *v = relu(*v);
    }
}

/// The 2×2, stride-2 pooling fused after a convolution and its `relu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool2 {
    /// `AvgPool2d(2, 2)`.
    Avg,
    /// `MaxPool2d(2, 2)`.
    Max,
}

impl Pool2 {
    /// One window, in row-major order, as `AvgPool2d` sums it (from 0, then
    /// times ¼) or as `MaxPool2d` picks it (the first maximum, NaN
    /// propagating).
    #[inline(always)]
    pub fn reduce(self, v: [f32; 4]) -> f32 {
        match self {
            Pool2::Avg => (((0.0 + v[0]) + v[1]) + v[2] + v[3]) * 0.25,
            Pool2::Max => {
                let mut m = v[0];
                for &b in &v[1..] {
                    if (b > m) | (b.is_nan() & !m.is_nan()) {
                        m = b;
                    }
                }
                m
            }
        }
    }
}

/// Convolution, `relu` and 2×2 pooling of one image into `PH × PW`
/// (`PH = HO / 2`, `PW = WO / 2`): each pooled output from the four
/// activated outputs of its window, as [`forward`] computes them.
#[cfg_attr(feature = "std", allow(dead_code))]
pub fn forward_relu_pool<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    pool: Pool2,
) {
    for o in 0..CO {
        for r in 0..PH {
            for c in 0..PW {
                let at = |dr: usize, dc: usize| {
                    relu(output::<CI, K, S, P, H, W>(
                        w,
                        b,
                        x,
                        o,
                        2 * r + dr,
                        2 * c + dc,
                    ))
                };
                y[(o * PH + r) * PW + c] = pool.reduce([at(0, 0), at(0, 1), at(1, 0), at(1, 1)]);
            }
        }
    }
}

/// Output `(o, r, c)` of the convolution, summed as [`forward`] sums it.
fn output<
    const CI: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    o: usize,
    r: usize,
    c: usize,
) -> f32 {
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
    acc
}

/// The gradient through a `relu` whose output is `y`: `dy` where `y > 0`
/// (or NaN), 0 elsewhere, as PyTorch's `threshold_backward`.
#[inline(always)]
pub fn relu_grad(y: f32, dy: f32) -> f32 {
    if y <= 0.0 {
        0.0
    } else {
        dy
    }
}

/// [`relu_grad`] of every element: `dx[j] = relu_grad(y[j], dy[j])`.
#[cfg_attr(not(test), allow(dead_code))]
pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
        *dx = relu_grad(y, dy);
    }
}

/// The gradient reaching the convolution at output `j`: `dy[j]`, or
/// through a fused `relu` whose output is `gate`.
#[inline(always)]
fn reaching(gate: Option<&[f32]>, dy: &[f32], j: usize) -> f32 {
    match gate {
        Some(y) => relu_grad(y[j], dy[j]),
        None => dy[j],
    }
}

/// Adds `∂L/∂w` and `∂L/∂b` of one image to `dw` and `db` (through a fused
/// `relu` whose output is `gate`, when given).
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
    gate: Option<&[f32]>,
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    for o in 0..CO {
        for r in 0..HO {
            for c in 0..WO {
                let g = reaching(gate, dy, (o * HO + r) * WO + c);
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

/// Writes `∂L/∂x` of one image to `dx` (through a fused `relu` whose output
/// is `gate`, when given).
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
    gate: Option<&[f32]>,
    dy: &[f32],
    dx: &mut [f32],
) {
    dx[..CI * H * W].fill(0.0);
    for o in 0..CO {
        for r in 0..HO {
            for c in 0..WO {
                let g = reaching(gate, dy, (o * HO + r) * WO + c);
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
