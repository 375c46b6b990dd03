//! `flatten`: `C×H×W → C·H·W`. The data are already stored flat, so this is
//! a copy forward and backward; it exists so that every step of a network is
//! a layer with the same interface.

use super::layer::Layer;
use crate::simd::Level;

/// Flattens `N` floats per image.
pub struct FlattenLayer<const N: usize>;

impl<const N: usize> Layer for FlattenLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(_level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        y[..x.len()].copy_from_slice(x);
    }

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
