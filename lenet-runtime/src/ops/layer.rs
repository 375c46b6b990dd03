//! The interface every operation's layer type implements.

use crate::simd::{self, Level};

/// One step of a network, with its sizes fixed at compile time.
///
/// All slices hold `n` images one after another; `n` is `x.len() / IN`.
pub trait Layer {
    /// Floats per image going in.
    const IN: usize;
    /// Floats per image coming out.
    const OUT: usize;
    /// Number of weights (0 for layers without parameters).
    const WEIGHTS: usize;
    /// Number of biases (0 for layers without parameters).
    const BIASES: usize;

    /// `y = layer(x)` for every image of the batch.
    ///
    /// # Panics
    /// If a slice is shorter than the sizes require.
    fn forward(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        Self::forward_at(simd::level(), w, b, x, y)
    }

    /// Back-propagates `dy` (the gradient of the loss with respect to `y`).
    ///
    /// `x` and `y` are the input and output of [`Layer::forward`]. The
    /// gradient with respect to `x` is written to `dx` when it is given
    /// (overwriting it); the gradients of the weights and biases are *added*
    /// to `dw` and `db`.
    ///
    /// # Panics
    /// If a slice is shorter than the sizes require.
    fn backward(
        w: &[f32],
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        Self::backward_at(simd::level(), w, x, y, dy, dx, dw, db)
    }

    /// [`Layer::forward`] with the kernels of `level` (lowered to what the
    /// CPU runs), so that tests and benchmarks can compare the levels side by
    /// side.
    #[doc(hidden)]
    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]);

    /// [`Layer::backward`] with the kernels of `level` (lowered to what the
    /// CPU runs).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn backward_at(
        level: Level,
        w: &[f32],
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    );
}

/// Number of images in a batch slice of `len` floats of `per_image` each.
#[inline(always)]
pub(crate) fn batch_len(len: usize, per_image: usize) -> usize {
    debug_assert!(per_image > 0 && len.is_multiple_of(per_image));
    len / per_image
}
