//! Element-wise steps run in place: the memory plan lets an activation
//! overwrite its input (and its backward overwrite the incoming gradient),
//! so that the two need one buffer, not two.
//!
//! The kernels take distinct input and output slices; in place, the data
//! pass through a small stack window (64 floats without `std`, 512 with)
//! on their way through the very kernel the out-of-place step runs, so
//! both give the same bits.

use super::activation::{ReluLayer, SigmoidLayer, TanhLayer};
use super::layer::Layer;
use super::piecewise::{LeakyReluLayer, Relu6Layer};
use crate::simd;

/// Floats copied at a time: small enough for a microcontroller's stack
/// without `std`, a few cache lines at a time with it.
#[cfg(not(feature = "std"))]
const WINDOW: usize = 64;
#[cfg(feature = "std")]
const WINDOW: usize = 512;

/// An element-wise layer that can overwrite its input with its output.
pub trait InPlace: Layer {
    /// `y = layer(y)` for every image of the batch.
    fn forward_in_place(y: &mut [f32]) {
        forward_through_window(Self::forward_at, y)
    }

    /// `d = dlayer(y) ⊙ d`: the gradient of the output (`d`) becomes the
    /// gradient of the input, from the forward output `y`.
    fn backward_in_place(y: &[f32], d: &mut [f32]) {
        backward_through_window(Self::backward_at, y, d)
    }
}

/// A layer's `forward_at`.
type ForwardAt = fn(simd::Level, &[f32], &[f32], &[f32], &mut [f32]);
/// A layer's `backward_at`.
type BackwardAt =
    fn(simd::Level, &[f32], &[f32], &[f32], &[f32], Option<&mut [f32]>, &mut [f32], &mut [f32]);

/// [`InPlace::forward_in_place`] through the window, compiled once here
/// (each layer lends its `forward_at`).
#[inline(never)]
fn forward_through_window(forward_at: ForwardAt, y: &mut [f32]) {
    let level = simd::level();
    let mut window = [0.0f32; WINDOW];
    for chunk in y.chunks_mut(WINDOW) {
        let x = &mut window[..chunk.len()];
        x.copy_from_slice(chunk);
        forward_at(level, &[], &[], x, chunk);
    }
}

/// [`InPlace::backward_in_place`] through the window, compiled once here.
#[inline(never)]
fn backward_through_window(backward_at: BackwardAt, y: &[f32], d: &mut [f32]) {
    let level = simd::level();
    let mut window = [0.0f32; WINDOW];
    for (y, chunk) in y.chunks(WINDOW).zip(d.chunks_mut(WINDOW)) {
        let dy = &mut window[..chunk.len()];
        dy.copy_from_slice(chunk);
        backward_at(level, &[], y, y, dy, Some(chunk), &mut [], &mut []);
    }
}

impl<const N: usize> InPlace for ReluLayer<N> {}
impl<const N: usize> InPlace for TanhLayer<N> {}
impl<const N: usize> InPlace for SigmoidLayer<N> {}
impl<const N: usize> InPlace for Relu6Layer<N> {}
/// In place only forward, or with a slope that is not negative: a negative
/// slope's backward reads the sign of `x`, which `y` does not keep (the
/// memory plan does not run it in place in training then).
impl<const N: usize, const SLOPE_BITS: u32> InPlace for LeakyReluLayer<N, SLOPE_BITS> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<L: InPlace>() {
        let x: Vec<f32> = (0..1300).map(|i| (i as f32 - 650.0) * 0.011).collect();
        let mut y = vec![f32::NAN; x.len()];
        L::forward(&[], &[], &x, &mut y);
        let mut z = x.clone();
        L::forward_in_place(&mut z);
        assert_eq!(y, z);
        let dy: Vec<f32> = (0..1300).map(|i| (i as f32 * 0.11).sin()).collect();
        let mut dx = vec![f32::NAN; x.len()];
        L::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
        let mut d = dy.clone();
        L::backward_in_place(&y, &mut d);
        assert_eq!(dx, d);
    }

    #[test]
    fn in_place_matches_out_of_place() {
        check::<ReluLayer<100>>();
        check::<TanhLayer<100>>();
        check::<SigmoidLayer<100>>();
        check::<Relu6Layer<100>>();
        // Slope 0.2.
        check::<LeakyReluLayer<100, 0x3e4c_cccd>>();
    }
}
