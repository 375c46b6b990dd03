//! 2-D convolution, as PyTorch's `Conv2d(in, out, kernel, stride, padding)`:
//! weight `[CO, CI, K, K]` (OIHW), bias `[CO]`, zero padding.

use super::{batch_len, Layer};
use crate::simd;

/// `Conv2d` from `CI` to `CO` channels, `K`×`K` kernel, stride `S`, padding
/// `P`, on an `H`×`W` input giving `HO`×`WO`.
pub struct Conv2d<
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
    > Conv2d<CI, CO, K, S, P, H, W, HO, WO>
{
    /// Fails to compile when the output size does not follow from the input.
    const CHECK: () = {
        assert!(S > 0 && K > 0);
        assert!(H + 2 * P >= K && W + 2 * P >= K);
        assert!(HO == (H + 2 * P - K) / S + 1);
        assert!(WO == (W + 2 * P - K) / S + 1);
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
    > Layer for Conv2d<CI, CO, K, S, P, H, W, HO, WO>
{
    const IN: usize = CI * H * W;
    const OUT: usize = CO * HO * WO;
    const WEIGHTS: usize = CO * CI * K * K;
    const BIASES: usize = CO;

    fn forward(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        let () = Self::CHECK;
        let n = batch_len(x.len(), Self::IN);
        simd::conv2d::forward::<CI, CO, K, S, P, H, W, HO, WO>(simd::level(), n, w, b, x, y);
    }

    fn backward(
        w: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let () = Self::CHECK;
        let n = batch_len(x.len(), Self::IN);
        simd::conv2d::backward::<CI, CO, K, S, P, H, W, HO, WO>(
            simd::level(),
            n,
            w,
            x,
            dy,
            dx,
            dw,
            db,
        );
    }
}

/// The specification: direct convolution, one output at a time.
pub mod scalar {
    /// `y[o, r, c] = b[o] + Σ_{i, kr, kc} w[o, i, kr, kc] · x[i, r·S + kr − P, c·S + kc − P]`,
    /// where `x` is zero outside the image. One image.
    pub fn forward<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        w: &[f32],
        b: &[f32],
        x: &[f32],
        y: &mut [f32],
    ) {
        for o in 0..CO {
            for r in 0..HO {
                for c in 0..WO {
                    let mut acc = b[o];
                    for i in 0..CI {
                        for kr in 0..K {
                            let xr = (r * S + kr) as isize - P as isize;
                            if xr < 0 || xr >= H as isize {
                                continue;
                            }
                            for kc in 0..K {
                                let xc = (c * S + kc) as isize - P as isize;
                                if xc < 0 || xc >= W as isize {
                                    continue;
                                }
                                acc += w[((o * CI + i) * K + kr) * K + kc]
                                    * x[(i * H + xr as usize) * W + xc as usize];
                            }
                        }
                    }
                    y[(o * HO + r) * WO + c] = acc;
                }
            }
        }
    }

    /// Adds `∂L/∂w` and `∂L/∂b` of one image to `dw` and `db`.
    pub fn backward_params<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        x: &[f32],
        dy: &[f32],
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        for o in 0..CO {
            for r in 0..HO {
                for c in 0..WO {
                    let g = dy[(o * HO + r) * WO + c];
                    db[o] += g;
                    for i in 0..CI {
                        for kr in 0..K {
                            let xr = (r * S + kr) as isize - P as isize;
                            if xr < 0 || xr >= H as isize {
                                continue;
                            }
                            for kc in 0..K {
                                let xc = (c * S + kc) as isize - P as isize;
                                if xc < 0 || xc >= W as isize {
                                    continue;
                                }
                                dw[((o * CI + i) * K + kr) * K + kc] +=
                                    g * x[(i * H + xr as usize) * W + xc as usize];
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes `∂L/∂x` of one image to `dx`.
    pub fn backward_input<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        w: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        dx[..CI * H * W].fill(0.0);
        for o in 0..CO {
            for r in 0..HO {
                for c in 0..WO {
                    let g = dy[(o * HO + r) * WO + c];
                    for i in 0..CI {
                        for kr in 0..K {
                            let xr = (r * S + kr) as isize - P as isize;
                            if xr < 0 || xr >= H as isize {
                                continue;
                            }
                            for kc in 0..K {
                                let xc = (c * S + kc) as isize - P as isize;
                                if xc < 0 || xc >= W as isize {
                                    continue;
                                }
                                dx[(i * H + xr as usize) * W + xc as usize] +=
                                    g * w[((o * CI + i) * K + kr) * K + kc];
                            }
                        }
                    }
                }
            }
        }
    }
}
