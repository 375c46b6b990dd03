//! The specification.

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
