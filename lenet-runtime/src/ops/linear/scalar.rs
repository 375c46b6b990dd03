//! The specification.

/// `y[n, o] = b[o] + Σ_i w[o, i] · x[n, i]`.
///
/// The kernel tests' oracle: every level, the portable one included, runs a
/// kernel of its own.
#[cfg_attr(not(test), allow(dead_code))]
pub fn forward(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    for s in 0..n {
        for o in 0..fan_out {
            let mut acc = b[o];
            for i in 0..fan_in {
                acc += w[o * fan_in + i] * x[s * fan_in + i];
            }
            y[s * fan_out + o] = acc;
        }
    }
}

/// `relu` as PyTorch computes it: `0` where `v < 0`, `v` elsewhere (NaN
/// and −0 pass).
pub fn relu_in_place(v: &mut [f32]) {
    for v in v {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
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

/// The gradient reaching the layer at `j`: `dy[j]`, or through a fused
/// `relu` whose output is `gate`.
#[inline(always)]
fn reaching(gate: Option<&[f32]>, dy: &[f32], j: usize) -> f32 {
    match gate {
        Some(y) => relu_grad(y[j], dy[j]),
        None => dy[j],
    }
}

/// `dw[o, i] += Σ_n g[n, o] · x[n, i]`, `db[o] += Σ_n g[n, o]`, where `g`
/// is `dy` (through a fused `relu` whose output is `gate`, when given).
pub fn backward_params(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    x: &[f32],
    gate: Option<&[f32]>,
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    for s in 0..n {
        for o in 0..fan_out {
            let g = reaching(gate, dy, s * fan_out + o);
            db[o] += g;
            for i in 0..fan_in {
                dw[o * fan_in + i] += g * x[s * fan_in + i];
            }
        }
    }
}

/// `dx[n, i] = Σ_o g[n, o] · w[o, i]`, `g` as in [`backward_params`].
pub fn backward_input(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    gate: Option<&[f32]>,
    dy: &[f32],
    dx: &mut [f32],
) {
    for s in 0..n {
        for i in 0..fan_in {
            let mut acc = 0.0;
            for o in 0..fan_out {
                acc += reaching(gate, dy, s * fan_out + o) * w[o * fan_in + i];
            }
            dx[s * fan_in + i] = acc;
        }
    }
}
