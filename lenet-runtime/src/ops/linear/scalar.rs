//! The specification.

/// `y[n, o] = b[o] + Σ_i w[o, i] · x[n, i]`.
///
/// The kernel tests' oracle: every level, the portable one included, runs a
/// kernel of its own.
#[cfg_attr(not(test), allow(dead_code))]
pub fn forward<const I: usize, const O: usize>(
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    for s in 0..n {
        for o in 0..O {
            let mut acc = b[o];
            for i in 0..I {
                acc += w[o * I + i] * x[s * I + i];
            }
            y[s * O + o] = acc;
        }
    }
}

/// `dw[o, i] += Σ_n dy[n, o] · x[n, i]`, `db[o] += Σ_n dy[n, o]`.
pub fn backward_params<const I: usize, const O: usize>(
    n: usize,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    for s in 0..n {
        for o in 0..O {
            let g = dy[s * O + o];
            db[o] += g;
            for i in 0..I {
                dw[o * I + i] += g * x[s * I + i];
            }
        }
    }
}

/// `dx[n, i] = Σ_o dy[n, o] · w[o, i]`.
pub fn backward_input<const I: usize, const O: usize>(
    n: usize,
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    for s in 0..n {
        for i in 0..I {
            let mut acc = 0.0;
            for o in 0..O {
                acc += dy[s * O + o] * w[o * I + i];
            }
            dx[s * I + i] = acc;
        }
    }
}
