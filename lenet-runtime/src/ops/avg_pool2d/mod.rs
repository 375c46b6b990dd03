//! Average pooling, as PyTorch's `AvgPool2d(kernel, stride)`, no padding.

#[allow(unsafe_code)]
mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

/// PyTorch's `AvgPool2d` over `C` channels of `H`×`W`, window `K`, stride `S`.
pub struct AvgPool2dLayer<
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
    > AvgPool2dLayer<C, K, S, H, W, HO, WO>
{
    /// The geometry the kernels' contract asks for, proved at compile
    /// time: evaluating it fails to compile when the output size does not
    /// follow from the input.
    const GEOMETRY: () = {
        assert!(
            K > 0 && S > 0 && H >= K && W >= K,
            "AvgPool2d: the window must be positive and fit the input"
        );
        assert!(
            HO == (H - K) / S + 1 && WO == (W - K) / S + 1,
            "AvgPool2d: HO, WO are not (H − K) / S + 1, (W − K) / S + 1"
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
    > Layer for AvgPool2dLayer<C, K, S, H, W, HO, WO>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * HO * WO;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    #[allow(unsafe_code)]
    fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::GEOMETRY;
        let planes = batch_len(x.len(), Self::IN) * C;
        // SAFETY: `Self::GEOMETRY`, evaluated above at compile time, proves
        // the sizes the kernels trust; the kernel checks the lengths.
        unsafe { kernels::avg_forward::<K, S, H, W, HO, WO>(level, planes, x, y) }
    }

    #[allow(unsafe_code)]
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
            // SAFETY: as in `forward_at`: `Self::GEOMETRY` proves the
            // sizes, the kernel checks the lengths.
            unsafe { kernels::avg_backward::<K, S, H, W, HO, WO>(level, planes, dy, dx) }
        }
    }
}
