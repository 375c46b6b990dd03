//! Max pooling, as PyTorch's `MaxPool2d(kernel, stride)`, no padding.
//!
//! The gradient of a window goes to its first maximum in row-major order,
//! as PyTorch does.

mod kernels;
// The padded max pooling shares its tie rule (`scalar::takes_over`).
pub(in crate::ops) mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

/// PyTorch's `MaxPool2d` over `C` channels of `H`×`W`, window `K`, stride `S`.
pub struct MaxPool2dLayer<
    const C: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

impl<
        const C: usize,
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > MaxPool2dLayer<C, K, S, H, W, HO, WO>
{
    /// The geometry the kernels' contract asks for, proved at compile
    /// time: evaluating it fails to compile when the output size does not
    /// follow from the input.
    const GEOMETRY: () = {
        assert!(
            K > 0 && S > 0 && H >= K && W >= K,
            "MaxPool2d: the window must be positive and fit the input"
        );
        assert!(
            HO == (H - K) / S + 1 && WO == (W - K) / S + 1,
            "MaxPool2d: HO, WO are not (H − K) / S + 1, (W − K) / S + 1"
        );
    };
}

impl<
        const C: usize,
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > Layer for MaxPool2dLayer<C, K, S, H, W, HO, WO>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * HO * WO;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::GEOMETRY;
        let planes = batch_len(x.len(), Self::IN) * C;
        kernels::max_forward::<K, S, H, W, HO, WO>(level, planes, x, y);
    }

    fn backward_at(
        level: Level,
        _w: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        if let Some(dx) = dx {
            let planes = batch_len(x.len(), Self::IN) * C;
            kernels::max_backward::<K, S, H, W, HO, WO>(level, planes, x, dy, dx);
        }
    }
}
