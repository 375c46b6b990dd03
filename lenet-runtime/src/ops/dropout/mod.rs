//! DropoutLayer, as PyTorch's `DropoutLayer(p)`: the identity in evaluation (the
//! [`Layer`] impl); in training, each value is zeroed with probability `p`
//! and the others are scaled by `1 / (1 − p)`, and backward applies the same
//! mask to the gradient.

#[allow(unsafe_code)]
mod kernels;
pub(crate) mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::{self, Level};

/// DropoutLayer on `N` floats per image. In evaluation (the [`Layer`] impl) the
/// identity; in training [`DropoutLayer::forward_train`] and
/// [`DropoutLayer::backward_train`].
///
/// The mask is counter-based: whether value `j` of image `i` of the batch
/// is kept is a hash of `(seed, i, j)` ([`DropoutLayer::keeps`]), so it depends
/// on nothing else: not on the thread count nor on how the batch is cut
/// (a thread passes the batch index of its first image), nor on the
/// instruction set. Backward recomputes the mask rather than storing it.
/// The generator derives one seed per layer and training step with
/// [`DropoutLayer::seed`].
///
/// The mask is applied as PyTorch does, `y = x · m` with `m ∈ {0, 1/(1−p)}`:
/// a dropped NaN or infinity gives NaN. The random numbers are lenet's, not
/// PyTorch's: the same `p`, not the same mask.
///
/// ```compile_fail
/// use lenet_runtime::ops::DropoutLayer;
/// // No values per image.
/// DropoutLayer::<0>::forward_train(0.5, 1, 0, &[], &mut []);
/// ```
pub struct DropoutLayer<const N: usize>;

impl<const N: usize> DropoutLayer<N> {
    /// The seed of one dropout layer at one training step, from the
    /// network's seed: distinct layers and steps give independent masks.
    pub const fn seed(network_seed: u64, step: u64, layer: u32) -> u64 {
        scalar::mix64(scalar::mix64(network_seed ^ scalar::mix64(step)) ^ layer as u64)
    }

    /// Whether value `element` of image `image` (its index in the whole
    /// batch) is kept (else zeroed) with drop probability `p`.
    pub fn keeps(p: f32, seed: u64, image: usize, element: usize) -> bool {
        scalar::keeps(
            scalar::threshold(p),
            scalar::image_key(seed, image),
            element,
        )
    }

    /// Training forward over the images of `x`, the first of which is image
    /// `first_image` of the batch: `y = x · m`, `m = 0` where dropped and
    /// `1 / (1 − p)` elsewhere. `p` in `[0, 1)` (the generator checks it).
    ///
    /// # Panics
    /// If `y` is shorter than `x`.
    pub fn forward_train(p: f32, seed: u64, first_image: usize, x: &[f32], y: &mut [f32]) {
        Self::forward_train_at(simd::level(), p, seed, first_image, x, y)
    }

    /// [`DropoutLayer::forward_train`] with the kernels of `level`.
    #[doc(hidden)]
    pub fn forward_train_at(
        level: Level,
        p: f32,
        seed: u64,
        first_image: usize,
        x: &[f32],
        y: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        assert!(y.len() >= x.len(), "dropout: y shorter than x");
        let n = batch_len(x.len(), N);
        for i in 0..n {
            let at = i * N..(i + 1) * N;
            let key = scalar::image_key(seed, first_image + i);
            kernels::apply(level, p, key, &x[at.clone()], &mut y[at]);
        }
    }

    /// Training backward: `dx = dy · m`, the mask of [`DropoutLayer::forward_train`]
    /// with the same `p`, `seed` and `first_image`.
    ///
    /// # Panics
    /// If `dx` is shorter than `dy`.
    pub fn backward_train(p: f32, seed: u64, first_image: usize, dy: &[f32], dx: &mut [f32]) {
        Self::forward_train_at(simd::level(), p, seed, first_image, dy, dx)
    }

    /// [`DropoutLayer::backward_train`] with the kernels of `level`.
    #[doc(hidden)]
    pub fn backward_train_at(
        level: Level,
        p: f32,
        seed: u64,
        first_image: usize,
        dy: &[f32],
        dx: &mut [f32],
    ) {
        Self::forward_train_at(level, p, seed, first_image, dy, dx)
    }

    /// A positive size, proved at compile time.
    const GEOMETRY: () = assert!(N > 0, "DropoutLayer: N must be positive");
}

impl<const N: usize> Layer for DropoutLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    /// The identity (evaluation mode).
    fn forward_at(_level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        y[..x.len()].copy_from_slice(x);
    }

    /// The identity (evaluation mode).
    fn backward_at(
        _level: Level,
        _w: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            dx[..dy.len()].copy_from_slice(dy);
        }
    }
}
