//! Max pooling, as PyTorch's `MaxPool2d(kernel, stride)`, no padding.
//!
//! The gradient of a window goes to its first maximum in row-major order,
//! as PyTorch does.

use super::{batch_len, Layer};
use crate::simd;

/// `MaxPool2d` over `C` channels of `H`×`W`, window `K`, stride `S`.
pub struct MaxPool2d<
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
    > MaxPool2d<C, K, S, H, W, HO, WO>
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
    > Layer for MaxPool2d<C, K, S, H, W, HO, WO>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * HO * WO;
    const WEIGHTS: usize = 0;
    const BIASES: usize = 0;

    fn forward(_w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::CHECK;
        let planes = batch_len(x.len(), Self::IN) * C;
        simd::pool::max_forward::<K, S, H, W, HO, WO>(simd::level(), planes, x, y);
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
            simd::pool::max_backward::<K, S, H, W, HO, WO>(simd::level(), planes, x, dy, dx);
        }
    }
}

/// The specification, over `planes` independent `H`×`W` planes.
pub mod scalar {
    /// Whether `b` replaces the running maximum `m`: when it is larger, or
    /// when it is the first NaN. With taps visited in row-major order, the
    /// first maximum wins and NaN propagates, as in PyTorch. (`|` and `&`
    /// rather than `||` and `&&`, so that vectorised callers get no branch.)
    #[inline(always)]
    pub fn takes_over(m: f32, b: f32) -> bool {
        (b > m) | (b.is_nan() & !m.is_nan())
    }

    /// Row-major index within the window of its first maximum.
    fn argmax<const K: usize, const S: usize, const H: usize, const W: usize>(
        x: &[f32],
        r: usize,
        c: usize,
    ) -> usize {
        let mut best = (r * S) * W + c * S;
        for kr in 0..K {
            for kc in 0..K {
                let at = (r * S + kr) * W + c * S + kc;
                if takes_over(x[best], x[at]) {
                    best = at;
                }
            }
        }
        best
    }

    /// `y[p, r, c] = max over the window of x[p]`.
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
        for p in 0..planes {
            let x = &x[p * H * W..(p + 1) * H * W];
            for r in 0..HO {
                for c in 0..WO {
                    y[(p * HO + r) * WO + c] = x[argmax::<K, S, H, W>(x, r, c)];
                }
            }
        }
    }

    /// `dx` is zero but at each window's first maximum, which gets the
    /// window's `dy` (added, as windows may overlap).
    pub fn backward<
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        planes: usize,
        x: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        dx[..planes * H * W].fill(0.0);
        for p in 0..planes {
            let xp = &x[p * H * W..(p + 1) * H * W];
            for r in 0..HO {
                for c in 0..WO {
                    let at = argmax::<K, S, H, W>(xp, r, c);
                    dx[p * H * W + at] += dy[(p * HO + r) * WO + c];
                }
            }
        }
    }
}
