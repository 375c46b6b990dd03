//! 2-D convolution, as PyTorch's `Conv2d(in, out, kernel, stride, padding)`:
//! weight `[CO, CI, K, K]` (OIHW), bias `[CO]`, zero padding.

#[allow(unsafe_code)]
mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;
use scalar::Pool2;

/// PyTorch's `Conv2d` from `CI` to `CO` channels, `K`×`K` kernel, stride `S`, padding
/// `P`, on an `H`×`W` input giving `HO`×`WO`.
///
/// The sizes must follow from one another (`HO = (H + 2·P − K) / S + 1`,
/// likewise `WO`): any use of a layer whose sizes do not fails to compile.
pub struct Conv2dLayer<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

impl<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > Conv2dLayer<CI, CO, K, S, P, H, W, HO, WO>
{
    /// The geometry the kernels' contract asks for, proved at compile time:
    /// evaluating it fails to compile when the output size does not follow
    /// from the input.
    const GEOMETRY: () = {
        assert!(S > 0 && K > 0, "Conv2d: kernel and stride must be positive");
        assert!(
            H + 2 * P >= K && W + 2 * P >= K,
            "Conv2d: the kernel is larger than the padded input"
        );
        assert!(
            HO == (H + 2 * P - K) / S + 1,
            "Conv2d: HO is not (H + 2·P − K) / S + 1"
        );
        assert!(
            WO == (W + 2 * P - K) / S + 1,
            "Conv2d: WO is not (W + 2·P − K) / S + 1"
        );
    };
}

impl<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > Layer for Conv2dLayer<CI, CO, K, S, P, H, W, HO, WO>
{
    const IN: usize = CI * H * W;
    const OUT: usize = CO * HO * WO;
    const WEIGHTS: usize = CO * CI * K * K;
    const BIASES: usize = CO;

    #[allow(unsafe_code)]
    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::GEOMETRY;
        let n = batch_len(x.len(), Self::IN);
        // SAFETY: `Self::GEOMETRY`, evaluated above at compile time, proves
        // the sizes the kernels trust (`K, S > 0`, `H + 2·P ≥ K`, `HO` and
        // `WO` follow from `H`, `W`, `K`, `S`, `P`); the kernel checks the
        // slices' lengths against `n` images itself.
        unsafe { kernels::forward::<CI, CO, K, S, P, H, W, HO, WO>(level, n, w, b, x, y, false) }
    }

    #[allow(unsafe_code)]
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
        let n = batch_len(x.len(), Self::IN);
        // SAFETY: as in `forward_at`: `Self::GEOMETRY` proves the sizes, the
        // kernel checks the lengths.
        unsafe {
            kernels::backward::<CI, CO, K, S, P, H, W, HO, WO>(level, n, w, x, None, dy, dx, dw, db)
        }
    }
}

/// [`Conv2dLayer`] followed by `relu`, fused: the activation is applied to
/// each output as the kernel stores it, and backward reads the mask from
/// `y` (the activated output) as it reads `dy` — the same results as
/// `Conv2dLayer` then `ReluLayer`, without the passes between them.
pub struct Conv2dReluLayer<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

impl<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > Layer for Conv2dReluLayer<CI, CO, K, S, P, H, W, HO, WO>
{
    const IN: usize = CI * H * W;
    const OUT: usize = CO * HO * WO;
    const WEIGHTS: usize = CO * CI * K * K;
    const BIASES: usize = CO;

    #[allow(unsafe_code)]
    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::GEOMETRY;
        let n = batch_len(x.len(), Self::IN);
        // SAFETY: `Conv2dLayer::GEOMETRY`, evaluated above at compile time,
        // proves the sizes the kernels trust; the kernel checks the slices'
        // lengths against `n` images itself.
        unsafe { kernels::forward::<CI, CO, K, S, P, H, W, HO, WO>(level, n, w, b, x, y, true) }
    }

    #[allow(unsafe_code)]
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
        let () = Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::GEOMETRY;
        let n = batch_len(x.len(), Self::IN);
        // SAFETY: as in `forward_at`: `Conv2dLayer::GEOMETRY` proves the
        // sizes, the kernel checks the lengths (`y`'s too).
        unsafe {
            kernels::backward::<CI, CO, K, S, P, H, W, HO, WO>(
                level,
                n,
                w,
                x,
                Some(y),
                dy,
                dx,
                dw,
                db,
            )
        }
    }
}

/// [`Conv2dLayer`], `relu` and 2×2 pooling at stride 2 (`MaxPool2d(2)`
/// when `MAX`, else `AvgPool2d(2)`) into `PH × PW`, fused for inference:
/// only the pooled map is written (see [`Conv2dReluLayer`] for training,
/// whose backward needs the activated map).
///
/// The sizes must follow from one another (those of [`Conv2dLayer`], and
/// `PH = HO / 2 > 0`, `PW = WO / 2 > 0`): any use of a layer whose sizes
/// do not fails to compile.
pub struct Conv2dReluPoolLayer<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const MAX: bool,
    const PH: usize,
    const PW: usize,
>;

impl<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
        const MAX: bool,
        const PH: usize,
        const PW: usize,
    > Conv2dReluPoolLayer<CI, CO, K, S, P, H, W, HO, WO, MAX, PH, PW>
{
    /// The convolution's geometry and the pooling's, proved at compile time.
    const GEOMETRY: () = {
        let () = Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::GEOMETRY;
        assert!(
            PH == HO / 2 && PW == WO / 2 && PH > 0 && PW > 0,
            "Conv2dReluPool: PH, PW are not HO / 2, WO / 2 (both positive)"
        );
    };
}

impl<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
        const MAX: bool,
        const PH: usize,
        const PW: usize,
    > Layer for Conv2dReluPoolLayer<CI, CO, K, S, P, H, W, HO, WO, MAX, PH, PW>
{
    const IN: usize = CI * H * W;
    const OUT: usize = CO * PH * PW;
    const WEIGHTS: usize = CO * CI * K * K;
    const BIASES: usize = CO;

    #[allow(unsafe_code)]
    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::GEOMETRY;
        let n = batch_len(x.len(), Self::IN);
        let pool = if MAX { Pool2::Max } else { Pool2::Avg };
        // SAFETY: `Self::GEOMETRY`, evaluated above at compile time, proves
        // the sizes the kernels trust; the kernel checks the slices'
        // lengths against `n` images itself.
        unsafe {
            kernels::forward_pooled::<CI, CO, K, S, P, H, W, HO, WO, PH, PW>(
                level, n, w, b, x, y, pool,
            )
        }
    }

    /// # Panics
    /// Always: the pooled map does not determine the gradient (the
    /// generated training pass runs [`Conv2dReluLayer`] and the pooling
    /// apart).
    fn backward_at(
        _level: Level,
        _w: &[f32],
        _x: &[f32],
        _y: &[f32],
        _dy: &[f32],
        _dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        panic!("Conv2dReluPoolLayer is for inference: train Conv2dReluLayer and the pooling");
    }
}
