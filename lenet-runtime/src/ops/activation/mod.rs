//! Element-wise activations: `relu`, `tanh`, `sigmoid`. Backward uses the
//! output `y` alone (`relu' = [y > 0]`, `tanh' = 1 − y²`, `σ' = y(1 − y)`),
//! which matches PyTorch's gradients (`relu'(0) = 0`).

#[allow(unsafe_code)]
mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::Layer;
use crate::simd::Level;

/// `relu` on `N` floats per image.
pub struct ReluLayer<const N: usize>;
/// `tanh` on `N` floats per image.
pub struct TanhLayer<const N: usize>;
/// `sigmoid` on `N` floats per image.
pub struct SigmoidLayer<const N: usize>;

impl<const N: usize> Layer for ReluLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        kernels::relu(level, x, y);
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
            kernels::relu_backward(level, y, dy, dx);
        }
    }
}

impl<const N: usize> Layer for TanhLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(_level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        scalar::tanh(x, y);
    }

    fn backward_at(
        _level: Level,
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

impl<const N: usize> Layer for SigmoidLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(_level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        scalar::sigmoid(x, y);
    }

    fn backward_at(
        _level: Level,
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
