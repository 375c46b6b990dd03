//! Average pooling, as PyTorch's `AvgPool2d(kernel, stride)`, no padding.

use super::{batch_len, Layer};
use crate::simd;

/// `AvgPool2d` over `C` channels of `H`×`W`, window `K`, stride `S`.
pub struct AvgPool2d<
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
    > AvgPool2d<C, K, S, H, W, HO, WO>
{
    const CHECK: () = {
        assert!(K > 0 && S > 0 && H >= K && W >= K);
        assert!(HO == (H - K) / S + 1 && WO == (W - K) / S + 1);
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
    > Layer for AvgPool2d<C, K, S, H, W, HO, WO>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * HO * WO;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward(_w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::CHECK;
        let planes = batch_len(x.len(), Self::IN) * C;
        simd::pool::avg_forward::<K, S, H, W, HO, WO>(simd::level(), planes, x, y);
    }

    fn backward(
        _w: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _dw: &mut [f32],
        _db: &mut [f32],
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            let planes = batch_len(x.len(), Self::IN) * C;
            simd::pool::avg_backward::<K, S, H, W, HO, WO>(simd::level(), planes, dy, dx);
        }
    }
}

/// The specification, over `planes` independent `H`×`W` planes.
pub mod scalar {
    /// `y[p, r, c] = mean over the K×K window of x[p]`.
    pub fn forward<
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        planes: usize,
        x: &[f32],
        y: &mut [f32],
    ) {
        let scale = 1.0 / (K * K) as f32;
        for p in 0..planes {
            for r in 0..HO {
                for c in 0..WO {
                    let mut acc = 0.0;
                    for kr in 0..K {
                        for kc in 0..K {
                            acc += x[(p * H + r * S + kr) * W + c * S + kc];
                        }
                    }
                    y[(p * HO + r) * WO + c] = acc * scale;
                }
            }
        }
    }

    /// Each window spreads `dy / K²` over its inputs.
    pub fn backward<
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        planes: usize,
        dy: &[f32],
        dx: &mut [f32],
    ) {
        let scale = 1.0 / (K * K) as f32;
        dx[..planes * H * W].fill(0.0);
        for p in 0..planes {
            for r in 0..HO {
                for c in 0..WO {
                    let g = dy[(p * HO + r) * WO + c] * scale;
                    for kr in 0..K {
                        for kc in 0..K {
                            dx[(p * H + r * S + kr) * W + c * S + kc] += g;
                        }
                    }
                }
            }
        }
    }
}
