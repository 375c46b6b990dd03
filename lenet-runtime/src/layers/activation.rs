//! Element-wise activations: `relu`, `tanh`, `sigmoid`. Backward uses the
//! output `y` alone (`relu' = [y > 0]`, `tanh' = 1 − y²`, `σ' = y(1 − y)`),
//! which matches PyTorch's gradients (`relu'(0) = 0`).

use super::Layer;
use crate::simd;

/// `relu` on `N` floats per image.
pub struct Relu<const N: usize>;
/// `tanh` on `N` floats per image.
pub struct Tanh<const N: usize>;
/// `sigmoid` on `N` floats per image.
pub struct Sigmoid<const N: usize>;

impl<const N: usize> Layer for Relu<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward(_w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        simd::activation::relu(simd::level(), x, y);
    }

    fn backward(
        _w: &[f32],
        _x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            simd::activation::relu_backward(simd::level(), y, dy, dx);
        }
    }
}

impl<const N: usize> Layer for Tanh<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward(_w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        scalar::tanh(x, y);
    }

    fn backward(
        _w: &[f32],
        _x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            scalar::tanh_backward(y, dy, dx);
        }
    }
}

impl<const N: usize> Layer for Sigmoid<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward(_w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        scalar::sigmoid(x, y);
    }

    fn backward(
        _w: &[f32],
        _x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            scalar::sigmoid_backward(y, dy, dx);
        }
    }
}

/// The specification.
pub mod scalar {
    use crate::math;

    /// `y = max(x, 0)` as PyTorch computes it: `0` where `x < 0`, `x`
    /// elsewhere, so that NaN stays NaN and −0 stays −0.
    pub fn relu(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = if x < 0.0 { 0.0 } else { x };
        }
    }

    /// `dx = dy · [y > 0]` as PyTorch's `threshold_backward`: `0` where
    /// `y <= 0`, `dy` elsewhere, also where `y` is NaN.
    pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = if y <= 0.0 { 0.0 } else { dy };
        }
    }

    /// `y = tanh(x)`.
    pub fn tanh(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = math::tanh(x);
        }
    }

    /// `dx = dy · (1 − y²)`.
    pub fn tanh_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = dy * (1.0 - y * y);
        }
    }

    /// `y = 1 / (1 + e^(−x))`.
    pub fn sigmoid(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = math::sigmoid(x);
        }
    }

    /// `dx = dy · y · (1 − y)`.
    pub fn sigmoid_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = dy * y * (1.0 - y);
        }
    }
}
