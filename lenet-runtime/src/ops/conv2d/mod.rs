//! 2-D convolution, as PyTorch's `Conv2d(in, out, kernel, stride, padding)`:
//! weight `[CO, CI, K, K]` (OIHW), bias `[CO]`, zero padding.

#[allow(unsafe_code)]
mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

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
        unsafe { kernels::forward::<CI, CO, K, S, P, H, W, HO, WO>(level, n, w, b, x, y) }
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
            kernels::backward::<CI, CO, K, S, P, H, W, HO, WO>(level, n, w, x, dy, dx, dw, db)
        }
    }
}
