//! The passes of [`BatchNormLayer`](super::BatchNormLayer) with the channel
//! count and the plane size as run-time values, compiled once in this
//! crate. The layer's methods, generic over `C` and `HW`, only lend arrays
//! of `C` values for the per-channel coefficients and call these; a network
//! with many batch norms then instantiates a few lines per layer in its own
//! crate, not the passes. (`#[inline(never)]`: small functions would
//! otherwise be inlined across crates into every layer.)

use super::{eval_coefficients, kernels, scalar, EvalNorm};
use crate::ops::piecewise::Clamp;
use crate::simd::Level;

/// Training forward, `y = (x − mean) · inv_std · γ + β`, with `s` and `a`
/// (one float per channel each) as scratch for the coefficients.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn forward_train(
    level: Level,
    hw: usize,
    (mean, inv_std): (&[f32], &[f32]),
    (gamma, beta): (&[f32], &[f32]),
    (s, a): (&mut [f32], &mut [f32]),
    x: &[f32],
    y: &mut [f32],
) {
    let c = s.len();
    for ch in 0..c {
        s[ch] = -mean[ch];
        a[ch] = gamma[ch] * inv_std[ch];
    }
    kernels::affine(level, hw, x, s, a, &beta[..c], Clamp::None.bounds(), y);
}

/// `dx = a·dy + b·(x − mean) + k` per channel, the coefficients from the
/// batch's normalisation (`m` values per channel) and the whole batch's
/// sums, with `coef` (four slices of one float per channel) as scratch.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn backward_input(
    level: Level,
    hw: usize,
    (m, mean, inv_std): (usize, &[f32], &[f32]),
    gamma: &[f32],
    (sum_dy, sum_dy_xhat): (&[f64], &[f64]),
    [s, a, b, k]: [&mut [f32]; 4],
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    let c = s.len();
    let m = m as f64;
    for ch in 0..c {
        let inv_std = inv_std[ch] as f64;
        let ac = gamma[ch] as f64 * inv_std;
        s[ch] = -mean[ch];
        a[ch] = ac as f32;
        b[ch] = (-ac * inv_std * sum_dy_xhat[ch] / m) as f32;
        k[ch] = (-ac * sum_dy[ch] / m) as f32;
    }
    kernels::affine2(level, hw, dy, x, s, a, b, k, dx);
}

/// PyTorch's running-statistics update from a batch's statistics (`count`
/// values per channel, each channel's mean and sum of squared deviations).
#[inline(never)]
pub(super) fn update_running(
    (count, mean, m2): (usize, &[f64], &[f64]),
    momentum: f32,
    running_mean: &mut [f32],
    running_var: &mut [f32],
) {
    let m = momentum as f64;
    for ch in 0..mean.len() {
        let var = scalar::var_unbiased(m2[ch], count);
        running_mean[ch] = (m * mean[ch] + (1.0 - m) * running_mean[ch] as f64) as f32;
        running_var[ch] = (m * var + (1.0 - m) * running_var[ch] as f64) as f32;
    }
}

/// The mean and `1 / √(biased variance + eps)` of each channel, as f32.
#[inline(never)]
pub(super) fn normalisation(
    (count, mean, m2): (usize, &[f64], &[f64]),
    eps: f32,
    out_mean: &mut [f32],
    inv_std: &mut [f32],
) {
    for ch in 0..mean.len() {
        out_mean[ch] = mean[ch] as f32;
        inv_std[ch] = scalar::inv_sqrt(scalar::var(m2[ch], count) + eps as f64) as f32;
    }
}

/// Adds `dγ = Σ dy · x̂` to `dgamma` and `dβ = Σ dy` to `dbeta`.
#[inline(never)]
pub(super) fn add_param_grads(
    (sum_dy, sum_dy_xhat): (&[f64], &[f64]),
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let c = sum_dy.len();
    for ((g, b), (&sx, &sd)) in dgamma[..c]
        .iter_mut()
        .zip(&mut dbeta[..c])
        .zip(sum_dy_xhat.iter().zip(sum_dy))
    {
        *g += sx as f32;
        *b += sd as f32;
    }
}

/// Evaluation forward with the running statistics, then `clamp`, with `s`
/// and `a` (one float per channel each) as scratch; in place when `x` is
/// `None`.
#[inline(never)]
pub(super) fn forward_eval(
    level: Level,
    hw: usize,
    norm: EvalNorm<'_>,
    clamp: Clamp,
    (s, a): (&mut [f32], &mut [f32]),
    x: Option<&[f32]>,
    y: &mut [f32],
) {
    let c = s.len();
    eval_coefficients(
        norm.running_mean,
        norm.running_var,
        norm.gamma,
        norm.eps,
        s,
        a,
    );
    match x {
        Some(x) => kernels::affine(level, hw, x, s, a, &norm.beta[..c], clamp.bounds(), y),
        None => kernels::affine_in_place(level, hw, y, s, a, &norm.beta[..c], clamp.bounds()),
    }
}
