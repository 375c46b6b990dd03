//! Piecewise-linear activations beyond `relu`, with PyTorch's results bit
//! for bit, NaN included: [`LeakyReluLayer`] and [`Relu6Layer`].

#[allow(unsafe_code)]
mod kernels;
pub(crate) mod scalar;
#[cfg(test)]
mod tests;

use super::layer::Layer;
use crate::simd::Level;

/// A clamp that a convolution's or a batch norm's kernel applies as it
/// stores each output (a fused `relu` or `relu6`): `x < lo ? lo : x > hi ? hi : x`, NaN
/// and −0 passing through (as `f32::clamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clamp {
    /// None.
    None,
    /// `relu`: below 0, 0.
    Relu,
    /// `relu6`: into `[0, 6]`.
    Relu6,
}

impl Clamp {
    /// `(lo, hi)`.
    pub const fn bounds(self) -> (f32, f32) {
        match self {
            Clamp::None => (f32::NEG_INFINITY, f32::INFINITY),
            Clamp::Relu => (0.0, f32::INFINITY),
            Clamp::Relu6 => (0.0, 6.0),
        }
    }
}

/// `LeakyReLU(negative_slope)` on `N` floats per image; the slope is
/// `f32::from_bits(SLOPE_BITS)` (the generator passes
/// `negative_slope.to_bits()`, e.g. `1008981770` for PyTorch's default
/// `0.01`).
///
/// ```
/// use lenet_runtime::ops::{Layer, LeakyReluLayer};
/// type L = LeakyReluLayer<3, 1008981770>;
/// assert_eq!(L::SLOPE, 0.01);
/// let mut y = [0.0; 3];
/// L::forward(&[], &[], &[2.0, -1.0, f32::NAN], &mut y);
/// assert_eq!(&y[..2], &[2.0, -0.01]);
/// assert!(y[2].is_nan());
/// ```
///
/// - [`LeakyReluLayer`]: `y = x` where `x > 0`, else `x · slope`; NaN gives NaN.
///   Gradient `dy` where `x > 0`, else `dy · slope` (so at 0 and at NaN,
///   `dy · slope`, as `torch.nn.LeakyReLU`).
/// - [`Relu6Layer`]: `y = 0` where `x < 0`, `6` where `x > 6`, else `x` (so NaN
///   gives NaN and `−0` stays `−0`, as `torch.nn.ReLU6`, which is
///   `hardtanh(x, 0, 6)`). Gradient `0` where `x ≤ 0` or `x ≥ 6`, else `dy`
///   (so `dy` at NaN, as PyTorch).
///
/// Backward reads the output `y` (like [`super::ReluLayer`]), which decides the
/// same cases as `x`: for `Relu6Layer` always, for `LeakyReluLayer` when the slope is
/// not negative. With a negative slope, backward reads `x` instead, which
/// the caller must then keep.
pub struct LeakyReluLayer<const N: usize, const SLOPE_BITS: u32>;

/// `ReLU6` on `N` floats per image: `y = clamp(x, 0, 6)`, NaN and `−0`
/// passing through, gradient `dy` strictly between 0 and 6 and at NaN, as
/// PyTorch (see [`LeakyReluLayer`] for both activations' rules).
pub struct Relu6Layer<const N: usize>;

impl<const N: usize, const SLOPE_BITS: u32> LeakyReluLayer<N, SLOPE_BITS> {
    /// The negative slope.
    pub const SLOPE: f32 = f32::from_bits(SLOPE_BITS);
}

impl<const N: usize, const SLOPE_BITS: u32> Layer for LeakyReluLayer<N, SLOPE_BITS> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        kernels::leaky_relu(level, Self::SLOPE, x, y);
    }

    /// `dx = dy` where the input was positive, else `dy · slope`; decided on
    /// `y` when the slope is not negative, else on `x`.
    fn backward_at(
        level: Level,
        _w: &[f32],
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            let gate = if Self::SLOPE >= 0.0 { y } else { x };
            kernels::leaky_relu_backward(level, Self::SLOPE, gate, dy, dx);
        }
    }
}

impl<const N: usize> Layer for Relu6Layer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        kernels::relu6(level, x, y);
    }

    fn backward_at(
        level: Level,
        _w: &[f32],
        _x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            kernels::relu6_backward(level, y, dy, dx);
        }
    }
}
