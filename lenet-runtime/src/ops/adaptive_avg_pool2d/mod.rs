//! Global average pooling, as PyTorch's `AdaptiveAvgPool2d(1)`: each channel
//! becomes its mean, `C×H×W → C×1×1`.

mod scalar;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

/// PyTorch's `AdaptiveAvgPool2d(1)` over `C` channels of `H`×`W`.
pub struct AdaptiveAvgPool2dLayer<const C: usize, const H: usize, const W: usize>;

impl<const C: usize, const H: usize, const W: usize> Layer for AdaptiveAvgPool2dLayer<C, H, W> {
    const IN: usize = C * H * W;
    const OUT: usize = C;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(_level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        let planes = batch_len(x.len(), Self::IN) * C;
        scalar::forward::<H, W>(planes, x, y);
    }

    fn backward_at(
        _level: Level,
        _w: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        if let Some(dx) = dx {
            let planes = batch_len(x.len(), Self::IN) * C;
            scalar::backward::<H, W>(planes, dy, dx);
        }
    }
}
