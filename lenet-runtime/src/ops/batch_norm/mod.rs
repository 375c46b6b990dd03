//! Batch normalisation, as PyTorch's `BatchNorm2d(C)` (statistics over
//! N, H, W of each channel) and `BatchNorm1d(F)` (over N of each feature):
//! [`BatchNormLayer<C, HW>`] with `HW = H·W` for the former and `HW = 1` for the
//! latter. Parameters `weight` (γ, `[C]`) and `bias` (β, `[C]`); buffers
//! `running_mean`, `running_var` (`[C]`) and `num_batches_tracked` (an
//! `i64`).

#[allow(unsafe_code)]
mod kernels;
mod passes;
pub(crate) mod scalar;
#[cfg(test)]
mod tests;

use super::piecewise::Clamp;
use crate::simd::{self, Level};

/// Batch normalisation of `C` channels of `HW` values per image (`HW = H·W`
/// for `BatchNorm2d`, 1 for `BatchNorm1d`). Images of `C·HW` floats lie one
/// after another in every slice.
///
/// Training, when a batch is split across threads, is in phases so that the
/// statistics are those of the *whole* batch, as PyTorch's:
///
/// 1. each thread: [`BatchNormLayer::stats`] of its images; then
///    [`BatchStats::combine`] them (in any grouping: Chan's parallel
///    formulas) and [`BatchStats::normalisation`] with `eps`;
/// 2. each thread: [`BatchNormLayer::forward_train`] with that normalisation
///    (it is also what backward needs: the batch mean and `1/√(var + eps)`);
///    once per batch: [`BatchNormLayer::update_running`] with the combined
///    statistics and `momentum` (unbiased variance, `num_batches_tracked`
///    incremented);
/// 3. backward, each thread: [`BatchNormLayer::grad_sums`] of its images; the
///    sums [`GradSums::combine`]d give `dγ` and `dβ`
///    ([`GradSums::add_param_grads`]); then each thread:
///    [`BatchNormLayer::backward_input`].
///
/// Evaluation uses the running statistics: [`BatchNormLayer::forward_eval`], or
/// fold them into the convolution or linear layer before
/// ([`fold_into_preceding`]).
///
/// The statistics and the gradient sums are reductions in f64 (scalar); the
/// element-wise passes (forward, eval, `dx`) are vectorised, each an affine
/// map per channel of the centred input (`y = a·(x − mean) + β`,
/// `dx = a·dy + b·(x − mean) + k`), compared with the
/// specification (`scalar.rs`) at every level.
///
/// ```compile_fail
/// use lenet_runtime::ops::BatchNormLayer;
/// // No channels.
/// let s = BatchNormLayer::<0, 4>::stats(&[]);
/// ```
pub struct BatchNormLayer<const C: usize, const HW: usize>;

/// Per-channel statistics of some images: how many values per channel,
/// their mean and the sum of their squared deviations from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats<const C: usize> {
    /// Values per channel (`images · HW`).
    pub count: usize,
    /// Mean of each channel.
    pub mean: [f64; C],
    /// `Σ (x − mean)²` of each channel.
    pub m2: [f64; C],
}

/// What training forward used and backward needs: the batch's mean and
/// `1 / √(biased variance + eps)` of each channel, and the values per channel
/// of the whole batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation<const C: usize> {
    /// Values per channel in the whole batch.
    pub count: usize,
    /// The batch mean of each channel.
    pub mean: [f32; C],
    /// `1 / √(var + eps)` of each channel (biased variance).
    pub inv_std: [f32; C],
}

/// Per-channel sums of the backward pass over some images: `Σ dy` (which is
/// `dβ`) and `Σ dy · x̂` (which is `dγ`), added across threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradSums<const C: usize> {
    /// `Σ dy` of each channel.
    pub sum_dy: [f64; C],
    /// `Σ dy · x̂` of each channel, `x̂ = (x − mean) · inv_std`.
    pub sum_dy_xhat: [f64; C],
}

impl<const C: usize> BatchStats<C> {
    /// The statistics of no image.
    pub const EMPTY: Self = BatchStats {
        count: 0,
        mean: [0.0; C],
        m2: [0.0; C],
    };

    /// The statistics of the union of two disjoint sets of images (Chan,
    /// Golub and LeVeque's pairwise update).
    pub fn combine(&self, other: &Self) -> Self {
        if other.count == 0 {
            return *self;
        }
        if self.count == 0 {
            return *other;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let mut out = Self::EMPTY;
        out.count = self.count + other.count;
        for ch in 0..C {
            let delta = other.mean[ch] - self.mean[ch];
            out.mean[ch] = self.mean[ch] + delta * nb / n;
            out.m2[ch] = self.m2[ch] + other.m2[ch] + delta * delta * na * nb / n;
        }
        out
    }

    /// The biased variance of channel `ch` (what training normalises with).
    pub fn var(&self, ch: usize) -> f64 {
        scalar::var(self.m2[ch], self.count)
    }

    /// The unbiased variance of channel `ch` (what the running statistics
    /// take); infinite or NaN with a single value per channel, which
    /// PyTorch refuses to train on.
    pub fn var_unbiased(&self, ch: usize) -> f64 {
        scalar::var_unbiased(self.m2[ch], self.count)
    }

    /// The mean and `1 / √(var + eps)` of each channel.
    pub fn normalisation(&self, eps: f32) -> Normalisation<C> {
        let mut n = Normalisation {
            count: self.count,
            mean: [0.0; C],
            inv_std: [0.0; C],
        };
        passes::normalisation(self.parts(), eps, &mut n.mean, &mut n.inv_std);
        n
    }

    /// The count, means and squared deviations, as slices.
    fn parts(&self) -> (usize, &[f64], &[f64]) {
        (self.count, &self.mean, &self.m2)
    }
}

impl<const C: usize> GradSums<C> {
    /// No image's sums.
    pub const ZERO: Self = GradSums {
        sum_dy: [0.0; C],
        sum_dy_xhat: [0.0; C],
    };

    /// The sums over both sets of images.
    pub fn combine(&self, other: &Self) -> Self {
        let mut out = *self;
        for ch in 0..C {
            out.sum_dy[ch] += other.sum_dy[ch];
            out.sum_dy_xhat[ch] += other.sum_dy_xhat[ch];
        }
        out
    }

    /// Adds `dγ = Σ dy · x̂` to `dgamma` and `dβ = Σ dy` to `dbeta`.
    ///
    /// # Panics
    /// If either holds fewer than `C` floats.
    pub fn add_param_grads(&self, dgamma: &mut [f32], dbeta: &mut [f32]) {
        passes::add_param_grads((&self.sum_dy, &self.sum_dy_xhat), dgamma, dbeta);
    }
}

impl<const C: usize, const HW: usize> BatchNormLayer<C, HW> {
    /// Floats per image.
    pub const LEN: usize = C * HW;

    /// The sizes are positive, proved at compile time.
    const GEOMETRY: () = assert!(C > 0 && HW > 0, "BatchNormLayer: C and HW must be positive");

    /// The statistics of the images of `x` (a whole batch, or one thread's
    /// part of it, to [`BatchStats::combine`]).
    pub fn stats(x: &[f32]) -> BatchStats<C> {
        let () = Self::GEOMETRY;
        let mut s = BatchStats::EMPTY;
        s.count = scalar::stats(HW, x, &mut s.mean, &mut s.m2);
        s
    }

    /// Training forward: `y = (x − mean) · inv_std · γ + β` with the batch's
    /// statistics (`norm`, from [`BatchStats::normalisation`] of the whole
    /// batch).
    ///
    /// # Panics
    /// If `gamma` or `beta` holds fewer than `C` floats, or `y` is shorter
    /// than `x`.
    pub fn forward_train(
        norm: &Normalisation<C>,
        gamma: &[f32],
        beta: &[f32],
        x: &[f32],
        y: &mut [f32],
    ) {
        Self::forward_train_at(simd::level(), norm, gamma, beta, x, y)
    }

    /// [`BatchNormLayer::forward_train`] with the kernels of `level`.
    #[doc(hidden)]
    #[inline(never)]
    pub fn forward_train_at(
        level: Level,
        norm: &Normalisation<C>,
        gamma: &[f32],
        beta: &[f32],
        x: &[f32],
        y: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let (mut s, mut a) = ([0.0f32; C], [0.0f32; C]);
        let stats = (&norm.mean[..], &norm.inv_std[..]);
        passes::forward_train(level, HW, stats, (gamma, beta), (&mut s, &mut a), x, y);
    }

    /// The running-statistics update of one training batch, as PyTorch's:
    /// `running = (1 − momentum) · running + momentum · batch` for the mean
    /// and the *unbiased* variance, and `num_batches_tracked += 1`. `stats`
    /// are those of the whole batch. Call it once per batch.
    ///
    /// # Panics
    /// If `running_mean` or `running_var` holds fewer than `C` floats.
    pub fn update_running(
        stats: &BatchStats<C>,
        momentum: f32,
        running_mean: &mut [f32],
        running_var: &mut [f32],
        num_batches_tracked: &mut i64,
    ) {
        passes::update_running(stats.parts(), momentum, running_mean, running_var);
        *num_batches_tracked += 1;
    }

    /// The backward sums of the images of `x` and `dy` (a whole batch, or
    /// one thread's part, to [`GradSums::combine`]).
    pub fn grad_sums(norm: &Normalisation<C>, x: &[f32], dy: &[f32]) -> GradSums<C> {
        let () = Self::GEOMETRY;
        let mut g = GradSums::ZERO;
        let (mean, inv_std) = (&norm.mean[..], &norm.inv_std[..]);
        scalar::grad_sums(
            HW,
            (mean, inv_std),
            x,
            dy,
            &mut g.sum_dy,
            &mut g.sum_dy_xhat,
        );
        g
    }

    /// Backward through the batch statistics:
    /// `dx = γ · inv_std · (dy − Σdy / M − x̂ · Σ(dy·x̂) / M)`, `M =
    /// norm.count`, with `sums` those of the whole batch.
    ///
    /// # Panics
    /// If `gamma` holds fewer than `C` floats, or `dy` or `dx` is shorter
    /// than `x`.
    pub fn backward_input(
        norm: &Normalisation<C>,
        gamma: &[f32],
        sums: &GradSums<C>,
        x: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        Self::backward_input_at(simd::level(), norm, gamma, sums, x, dy, dx)
    }

    /// [`BatchNormLayer::backward_input`] with the kernels of `level`.
    #[doc(hidden)]
    #[inline(never)]
    pub fn backward_input_at(
        level: Level,
        norm: &Normalisation<C>,
        gamma: &[f32],
        sums: &GradSums<C>,
        x: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let mut coef = [[0.0f32; C]; 4];
        let [s, a, b, k] = &mut coef;
        passes::backward_input(
            level,
            HW,
            (norm.count, &norm.mean, &norm.inv_std),
            gamma,
            (&sums.sum_dy, &sums.sum_dy_xhat),
            [s, a, b, k],
            x,
            dy,
            dx,
        );
    }

    /// The statistics step of training forward, in one call: the batch
    /// statistics of `x` (the whole batch), the running-statistics update
    /// when both `running` (`running_mean` then `running_var`, `2·C` floats)
    /// and `num_batches_tracked` are given, and the normalisation with `eps`
    /// that [`BatchNormLayer::forward_train`] and backward take.
    ///
    /// # Panics
    /// If `running` holds fewer than `2·C` floats.
    #[inline(never)]
    pub fn train_statistics(
        x: &[f32],
        running: Option<&mut [f32]>,
        num_batches_tracked: Option<&mut i64>,
        momentum: f32,
        eps: f32,
    ) -> Normalisation<C> {
        let stats = Self::stats(x);
        if let (Some(running), Some(tracked)) = (running, num_batches_tracked) {
            let (mean, var) = running[..2 * C].split_at_mut(C);
            Self::update_running(&stats, momentum, mean, var, tracked);
        }
        stats.normalisation(eps)
    }

    /// Backward of a whole batch, in one call: adds `dγ` and `dβ` to
    /// `dgamma` and `dbeta` ([`BatchNormLayer::grad_sums`],
    /// [`GradSums::add_param_grads`]) and, when `dx` is given, writes
    /// [`BatchNormLayer::backward_input`] to it.
    ///
    /// # Panics
    /// As those functions.
    #[inline(never)]
    pub fn backward_train(
        norm: &Normalisation<C>,
        gamma: &[f32],
        x: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dgamma: &mut [f32],
        dbeta: &mut [f32],
    ) {
        let sums = Self::grad_sums(norm, x, dy);
        sums.add_param_grads(dgamma, dbeta);
        if let Some(dx) = dx {
            Self::backward_input(norm, gamma, &sums, x, dy, dx);
        }
    }

    /// Evaluation forward with the running statistics:
    /// `y = (x − running_mean) / √(running_var + eps) · γ + β`.
    ///
    /// # Panics
    /// If a parameter or buffer holds fewer than `C` floats, or `y` is
    /// shorter than `x`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_eval(
        gamma: &[f32],
        beta: &[f32],
        running_mean: &[f32],
        running_var: &[f32],
        eps: f32,
        x: &[f32],
        y: &mut [f32],
    ) {
        Self::forward_eval_at(
            simd::level(),
            gamma,
            beta,
            running_mean,
            running_var,
            eps,
            x,
            y,
        )
    }

    /// [`BatchNormLayer::forward_eval`] with the kernels of `level`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn forward_eval_at(
        level: Level,
        gamma: &[f32],
        beta: &[f32],
        running_mean: &[f32],
        running_var: &[f32],
        eps: f32,
        x: &[f32],
        y: &mut [f32],
    ) {
        let norm = EvalNorm {
            gamma,
            beta,
            running_mean,
            running_var,
            eps,
        };
        Self::forward_eval_clamped_at(level, norm, Clamp::None, x, y)
    }

    /// Evaluation forward followed by a clamp (a fused `relu` or `relu6`),
    /// in one pass: `y = clamp(norm(x))`.
    ///
    /// # Panics
    /// If a parameter or buffer holds fewer than `C` floats, or `y` is
    /// shorter than `x`.
    pub fn forward_eval_clamped(norm: EvalNorm<'_>, clamp: Clamp, x: &[f32], y: &mut [f32]) {
        Self::forward_eval_clamped_at(simd::level(), norm, clamp, x, y)
    }

    /// [`BatchNormLayer::forward_eval_clamped`] with the kernels of `level`.
    #[doc(hidden)]
    #[inline(never)]
    pub fn forward_eval_clamped_at(
        level: Level,
        norm: EvalNorm<'_>,
        clamp: Clamp,
        x: &[f32],
        y: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let (mut s, mut a) = ([0.0f32; C], [0.0f32; C]);
        passes::forward_eval(level, HW, norm, clamp, (&mut s, &mut a), Some(x), y);
    }

    /// [`BatchNormLayer::forward_eval`] over `y` in place (the same
    /// arithmetic, so the same bits): what the memory plan runs when the
    /// normalised map may overwrite its input.
    ///
    /// # Panics
    /// If a parameter or buffer holds fewer than `C` floats, or `y` does not
    /// hold whole images.
    pub fn forward_eval_in_place(
        gamma: &[f32],
        beta: &[f32],
        running_mean: &[f32],
        running_var: &[f32],
        eps: f32,
        y: &mut [f32],
    ) {
        Self::forward_eval_in_place_at(
            simd::level(),
            gamma,
            beta,
            running_mean,
            running_var,
            eps,
            y,
        )
    }

    /// [`BatchNormLayer::forward_eval_in_place`] with the kernels of `level`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn forward_eval_in_place_at(
        level: Level,
        gamma: &[f32],
        beta: &[f32],
        running_mean: &[f32],
        running_var: &[f32],
        eps: f32,
        y: &mut [f32],
    ) {
        let norm = EvalNorm {
            gamma,
            beta,
            running_mean,
            running_var,
            eps,
        };
        Self::forward_eval_clamped_in_place_at(level, norm, Clamp::None, y)
    }

    /// [`BatchNormLayer::forward_eval_clamped`] over `y` in place (the same
    /// arithmetic, so the same bits).
    ///
    /// # Panics
    /// If a parameter or buffer holds fewer than `C` floats, or `y` does not
    /// hold whole images.
    pub fn forward_eval_clamped_in_place(norm: EvalNorm<'_>, clamp: Clamp, y: &mut [f32]) {
        Self::forward_eval_clamped_in_place_at(simd::level(), norm, clamp, y)
    }

    /// [`BatchNormLayer::forward_eval_clamped_in_place`] with the kernels of
    /// `level`.
    #[doc(hidden)]
    #[inline(never)]
    pub fn forward_eval_clamped_in_place_at(
        level: Level,
        norm: EvalNorm<'_>,
        clamp: Clamp,
        y: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let (mut s, mut a) = ([0.0f32; C], [0.0f32; C]);
        passes::forward_eval(level, HW, norm, clamp, (&mut s, &mut a), None, y);
    }
}

/// A batch norm in evaluation mode: its parameters and running statistics
/// (at least one float per channel each) and `eps`.
#[derive(Debug, Clone, Copy)]
pub struct EvalNorm<'a> {
    /// `γ`.
    pub gamma: &'a [f32],
    /// `β`.
    pub beta: &'a [f32],
    /// The running mean.
    pub running_mean: &'a [f32],
    /// The running variance.
    pub running_var: &'a [f32],
    /// Added to the variance.
    pub eps: f32,
}

/// The coefficients of evaluation mode, `y = a · (x + s) + β`, for the
/// `s.len()` channels: `s = −running_mean`, `a = γ / √(running_var + eps)`
/// (the square root in `f64`).
///
/// # Panics
/// If a slice holds fewer floats than `s`.
pub(crate) fn eval_coefficients(
    running_mean: &[f32],
    running_var: &[f32],
    gamma: &[f32],
    eps: f32,
    s: &mut [f32],
    a: &mut [f32],
) {
    let stats = (running_mean, running_var, gamma);
    kernels::coefficients(simd::level(), stats, eps, s, a);
}

/// Folds an evaluation-mode batch norm into the layer before it (a
/// convolution, weight `[C, …]` OIHW, or a linear layer, weight `[C, in]`):
/// with `s = γ / √(running_var + eps)`, every weight of output `o` is
/// multiplied by `s[o]` and `bias[o]` becomes `(bias[o] − running_mean[o]) ·
/// s[o] + β[o]`. A layer without bias takes `bias` as zeros and needs one
/// after folding (the generator then instantiates it with a bias).
///
/// # Panics
/// If `weight.len()` is not a multiple of `C`, or another slice holds fewer
/// than `C` floats (`C = bias.len()`).
pub fn fold_into_preceding(
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    eps: f32,
    weight: &mut [f32],
    bias: &mut [f32],
) {
    let c = bias.len();
    assert!(
        c > 0 && weight.len().is_multiple_of(c),
        "fold_into_preceding: {} weights for {c} outputs",
        weight.len()
    );
    let per = weight.len() / c;
    for o in 0..c {
        let s = (gamma[o] as f64 * scalar::inv_sqrt(running_var[o] as f64 + eps as f64)) as f32;
        for w in &mut weight[o * per..(o + 1) * per] {
            *w *= s;
        }
        bias[o] = (bias[o] - running_mean[o]) * s + beta[o];
    }
}
