//! The specification, formula by formula, with PyTorch's conventions:
//! statistics over the `N·HW` values of each channel, the biased variance to
//! normalise, the unbiased one for the running update. Reductions are in
//! f64 (as PyTorch accumulates float batch norm on the CPU). The
//! element-wise passes here are the oracle of the kernels' tests; the
//! statistics and sums are what the layer runs.

use super::{GradSums, Normalisation};

/// `1 / √v` in f64: the hardware square root with `std`, else
/// [`inv_sqrt_newton`]. `+∞` at 0, NaN below 0 or at NaN, 0 at `+∞`.
#[inline]
pub fn inv_sqrt(v: f64) -> f64 {
    #[cfg(feature = "std")]
    {
        1.0 / v.sqrt()
    }
    #[cfg(not(feature = "std"))]
    {
        inv_sqrt_newton(v)
    }
}

/// `1 / √v` without `std`: Newton's iteration from the bit-level first
/// guess, exact to f64 rounding; `+∞` at 0, NaN below 0 or at NaN, 0 at
/// `+∞`.
#[cfg_attr(feature = "std", allow(dead_code))]
pub fn inv_sqrt_newton(v: f64) -> f64 {
    if v.is_nan() || v < 0.0 {
        return f64::NAN;
    }
    if v == 0.0 {
        return f64::INFINITY;
    }
    if v == f64::INFINITY {
        return 0.0;
    }
    // Scale into [1, 4) so that the first guess is good whatever `v`.
    let (mut m, mut scale) = (v, 1.0f64);
    while m >= 4.0 {
        m *= 0.25;
        scale *= 0.5;
    }
    while m < 1.0 {
        m *= 4.0;
        scale *= 2.0;
    }
    let mut y = f64::from_bits(0x5fe6_eb50_c7b5_37a9 - (m.to_bits() >> 1));
    for _ in 0..6 {
        y *= 1.5 - 0.5 * m * y * y;
    }
    y * scale
}

/// The biased variance of `count` values whose squared deviations from
/// their mean sum to `m2` (what training normalises with).
#[inline]
pub fn var(m2: f64, count: usize) -> f64 {
    m2 / count as f64
}

/// The unbiased variance of the same (what the running statistics take);
/// infinite or NaN with a single value, which PyTorch refuses to train on.
#[inline]
pub fn var_unbiased(m2: f64, count: usize) -> f64 {
    m2 / (count as f64 - 1.0)
}

/// The coefficients of evaluation mode for the `s.len()` channels (every
/// slice as long): `s = −running_mean`, `a = γ · (1 / √(running_var + eps))`,
/// the square root in f64.
#[inline(always)]
pub fn eval_coefficients(
    (mean, var, gamma): (&[f32], &[f32], &[f32]),
    eps: f32,
    s: &mut [f32],
    a: &mut [f32],
) {
    let c = s.len();
    let (mean, var, gamma, a) = (&mean[..c], &var[..c], &gamma[..c], &mut a[..c]);
    for ch in 0..c {
        let inv_std = inv_sqrt(var[ch] as f64 + eps as f64) as f32;
        s[ch] = -mean[ch];
        a[ch] = gamma[ch] * inv_std;
    }
}

/// Mean and sum of squared deviations of each channel over `x`'s images
/// (`mean.len()` channels of `hw` values each), two passes, written to
/// `mean` and `m2`; returns the values per channel (left unwritten when
/// there are none).
#[inline(never)]
pub fn stats(hw: usize, x: &[f32], mean: &mut [f64], m2: &mut [f64]) -> usize {
    let c = mean.len();
    let n = x.len() / (c * hw);
    let count = n * hw;
    if count == 0 {
        return count;
    }
    for ch in 0..c {
        let values = || (0..n).flat_map(move |i| &x[(i * c + ch) * hw..][..hw]);
        let mu = values().map(|&v| v as f64).sum::<f64>() / count as f64;
        mean[ch] = mu;
        m2[ch] = values().map(|&v| (v as f64 - mu) * (v as f64 - mu)).sum();
    }
    count
}

/// `y = (x − mean) · inv_std · γ + β`, channel by channel.
#[cfg_attr(not(test), allow(dead_code))]
pub fn forward<const C: usize>(
    hw: usize,
    norm: &Normalisation<C>,
    gamma: &[f32],
    beta: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    for (j, (y, &x)) in y.iter_mut().zip(x).enumerate() {
        let ch = (j / hw) % C;
        *y = (x - norm.mean[ch]) * norm.inv_std[ch] * gamma[ch] + beta[ch];
    }
}

/// `Σ dy` and `Σ dy · x̂` of each channel, `x̂ = (x − mean) · inv_std`,
/// added to `sum_dy` and `sum_dy_xhat` (`sum_dy.len()` channels).
#[inline(never)]
pub fn grad_sums(
    hw: usize,
    (mean, inv_std): (&[f32], &[f32]),
    x: &[f32],
    dy: &[f32],
    sum_dy: &mut [f64],
    sum_dy_xhat: &mut [f64],
) {
    let c = sum_dy.len();
    for (j, (&x, &dy)) in x.iter().zip(dy).enumerate() {
        let ch = (j / hw) % c;
        let xhat = (x as f64 - mean[ch] as f64) * inv_std[ch] as f64;
        sum_dy[ch] += dy as f64;
        sum_dy_xhat[ch] += dy as f64 * xhat;
    }
}

/// `dx = γ · inv_std · (dy − Σdy / M − x̂ · Σ(dy·x̂) / M)`, `M` the values per
/// channel in the whole batch (`norm.count`).
#[cfg_attr(not(test), allow(dead_code))]
pub fn backward_input<const C: usize>(
    hw: usize,
    norm: &Normalisation<C>,
    gamma: &[f32],
    sums: &GradSums<C>,
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    let m = norm.count as f64;
    for (j, ((dx, &x), &dy)) in dx.iter_mut().zip(x).zip(dy).enumerate() {
        let ch = (j / hw) % C;
        let inv_std = norm.inv_std[ch] as f64;
        let xhat = (x as f64 - norm.mean[ch] as f64) * inv_std;
        let g = dy as f64 - sums.sum_dy[ch] / m - xhat * sums.sum_dy_xhat[ch] / m;
        *dx = (gamma[ch] as f64 * inv_std * g) as f32;
    }
}

/// `y = (x − running_mean) / √(running_var + eps) · γ + β`.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(test), allow(dead_code))]
pub fn forward_eval<const C: usize>(
    hw: usize,
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    eps: f32,
    x: &[f32],
    y: &mut [f32],
) {
    for (j, (y, &x)) in y.iter_mut().zip(x).enumerate() {
        let ch = (j / hw) % C;
        let inv_std = inv_sqrt(running_var[ch] as f64 + eps as f64) as f32;
        *y = (x - running_mean[ch]) * inv_std * gamma[ch] + beta[ch];
    }
}
