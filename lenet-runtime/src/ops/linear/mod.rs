//! Fully connected layer, as PyTorch's `Linear(in, out)`: weight `[O, I]`,
//! bias `[O]`.

#[allow(unsafe_code)]
pub(crate) mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

/// PyTorch's `Linear` from `I` to `O` features.
pub struct LinearLayer<const I: usize, const O: usize>;

impl<const I: usize, const O: usize> LinearLayer<I, O> {
    /// The geometry the kernels' contract asks for: at least one feature in
    /// and out (`n = x.len() / I` would divide by zero).
    const GEOMETRY: () = assert!(I > 0 && O > 0, "Linear: sizes must be positive");
}

impl<const I: usize, const O: usize> Layer for LinearLayer<I, O> {
    const IN: usize = I;
    const OUT: usize = O;
    const WEIGHTS: usize = O * I;
    const BIASES: usize = O;

    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::GEOMETRY;
        let n = batch_len(x.len(), I);
        kernels::forward(level, (I, O), n, w, b, x, y, false);
    }

    fn backward_at(
        level: Level,
        w: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let n = batch_len(x.len(), I);
        kernels::backward(level, (I, O), n, w, x, None, dy, dx, dw, db);
    }
}

/// [`LinearLayer`] followed by `relu`, fused: the activation is applied to
/// each output as the kernel stores it, and backward reads the mask from
/// `y` (the activated output) as it reads `dy` — the same results as
/// `LinearLayer` then `ReluLayer`, without the passes between them.
pub struct LinearReluLayer<const I: usize, const O: usize>;

impl<const I: usize, const O: usize> Layer for LinearReluLayer<I, O> {
    const IN: usize = I;
    const OUT: usize = O;
    const WEIGHTS: usize = O * I;
    const BIASES: usize = O;

    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = LinearLayer::<I, O>::GEOMETRY;
        let n = batch_len(x.len(), I);
        kernels::forward(level, (I, O), n, w, b, x, y, true);
    }

    fn backward_at(
        level: Level,
        w: &[f32],
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let () = LinearLayer::<I, O>::GEOMETRY;
        let n = batch_len(x.len(), I);
        kernels::backward(level, (I, O), n, w, x, Some(y), dy, dx, dw, db);
    }
}
