//! Pooling with rectangular windows, strides and padding, as PyTorch's
//! `MaxPool2d((KH, KW), stride = (SH, SW), padding = (PH, PW))` and
//! `AvgPool2d((KH, KW), stride = (SH, SW), padding = (PH, PW))` (with
//! `ceil_mode = False`, and padding at most half the window, PyTorch's
//! rule). Output `floor((H + 2·PH − KH) / SH) + 1`, likewise for the width.

#[allow(unsafe_code)]
mod kernels;
mod scalar;
#[cfg(test)]
mod tests;

use super::layer::{batch_len, Layer};
use crate::simd::Level;

/// `MaxPool2d` over `C` channels of `H`×`W`, window `KH`×`KW`, stride
/// `(SH, SW)`, padding `(PH, PW)` with −∞, giving `HO`×`WO`.
///
/// - Max pooling pads with −∞ (a padded tap never wins; every window holds
///   at least one pixel); the gradient of a window goes to its first maximum
///   in row-major order, and the first NaN wins, as [`super::MaxPool2dLayer`].
/// - Average pooling counts the padded zeros (`count_include_pad = True`):
///   every window divides by `KH·KW`.
///
/// [`super::MaxPool2dLayer`] and [`super::AvgPool2dLayer`] remain the layers for
/// square, unpadded windows; the generator uses these for the rest.
///
/// ```compile_fail
/// use lenet_runtime::ops::{Layer, PaddedMaxPool2dLayer};
/// // Padding 2 is more than half a 3-wide window.
/// type Lying = PaddedMaxPool2dLayer<1, 3, 3, 2, 2, 2, 2, 6, 6, 4, 4>;
/// let mut y = [0.0; 16];
/// Lying::forward(&[], &[], &[0.0; 36], &mut y);
/// ```
///
/// ```compile_fail
/// use lenet_runtime::ops::{Layer, PaddedAvgPool2dLayer};
/// // 3×3, stride 2, padding 1 on 7×7 gives 4×4, not 3×3.
/// type Lying = PaddedAvgPool2dLayer<1, 3, 3, 2, 2, 1, 1, 7, 7, 3, 3>;
/// let mut y = [0.0; 9];
/// Lying::forward(&[], &[], &[0.0; 49], &mut y);
/// ```
///
/// ```
/// use lenet_runtime::ops::{Layer, PaddedAvgPool2dLayer, PaddedMaxPool2dLayer};
/// type Max = PaddedMaxPool2dLayer<1, 3, 3, 2, 2, 1, 1, 7, 7, 4, 4>;
/// type Avg = PaddedAvgPool2dLayer<1, 3, 3, 2, 2, 1, 1, 7, 7, 4, 4>;
/// let x = [-1.0; 49];
/// let mut y = [0.0; 16];
/// Max::forward(&[], &[], &x, &mut y);
/// assert_eq!(y[0], -1.0); // the −∞ padding never wins
/// Avg::forward(&[], &[], &x, &mut y);
/// assert_eq!(y[0], -4.0 / 9.0); // the zero padding counts
/// ```
pub struct PaddedMaxPool2dLayer<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

/// `AvgPool2d` over `C` channels of `H`×`W`, window `KH`×`KW`, stride
/// `(SH, SW)`, padding `(PH, PW)` with zeros that count, giving `HO`×`WO`.
pub struct PaddedAvgPool2dLayer<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

/// The geometry both layers prove at compile time.
const fn assert_valid([kh, kw, sh, sw, ph, pw, h, w, ho, wo]: [usize; 10]) {
    assert!(
        kh > 0 && kw > 0 && sh > 0 && sw > 0 && h > 0 && w > 0,
        "Pool2d: window, stride and input must be positive"
    );
    assert!(
        2 * ph <= kh && 2 * pw <= kw,
        "Pool2d: padding must be at most half the window"
    );
    assert!(
        h + 2 * ph >= kh && w + 2 * pw >= kw,
        "Pool2d: the window is larger than the padded input"
    );
    assert!(
        ho == (h + 2 * ph - kh) / sh + 1 && wo == (w + 2 * pw - kw) / sw + 1,
        "Pool2d: HO, WO are not (H + 2·PH − KH) / SH + 1, (W + 2·PW − KW) / SW + 1"
    );
}

macro_rules! pool_layer {
    ($ty:ident, $forward:ident, $backward:ident, $uses_x:literal) => {
        impl<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const SH: usize,
                const SW: usize,
                const PH: usize,
                const PW: usize,
                const H: usize,
                const W: usize,
                const HO: usize,
                const WO: usize,
            > $ty<C, KH, KW, SH, SW, PH, PW, H, W, HO, WO>
        {
            /// The geometry the kernels' contract asks for, proved at
            /// compile time.
            const GEOMETRY: () = assert_valid([KH, KW, SH, SW, PH, PW, H, W, HO, WO]);
        }

        impl<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const SH: usize,
                const SW: usize,
                const PH: usize,
                const PW: usize,
                const H: usize,
                const W: usize,
                const HO: usize,
                const WO: usize,
            > Layer for $ty<C, KH, KW, SH, SW, PH, PW, H, W, HO, WO>
        {
            const IN: usize = C * H * W;
            const OUT: usize = C * HO * WO;
            const WEIGHTS: usize = 0;
            const BIASES: usize = 0;

            fn forward_at(level: Level, _w: &[f32], _b: &[f32], x: &[f32], y: &mut [f32]) {
                let () = Self::GEOMETRY;
                let planes = batch_len(x.len(), Self::IN) * C;
                kernels::$forward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(level, planes, x, y);
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
                    let planes = batch_len(dy.len(), Self::OUT) * C;
                    let x: &[f32] = if $uses_x { x } else { &[] };
                    kernels::$backward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(
                        level, planes, x, dy, dx,
                    );
                }
            }
        }
    };
}

pool_layer!(PaddedMaxPool2dLayer, max_forward, max_backward, true);
pool_layer!(PaddedAvgPool2dLayer, avg_forward, avg_backward, false);

/// The output columns `[lo, hi)` whose window tap `k` falls inside the
/// input row (`c·SW + k − PW ∈ [0, W)`), `hi ≤ WO`.
#[inline(always)]
const fn columns<const SW: usize, const PW: usize, const W: usize, const WO: usize>(
    k: usize,
) -> (usize, usize) {
    let lo = if k >= PW { 0 } else { (PW - k).div_ceil(SW) };
    let hi = if W + PW > k {
        let hi = (W + PW - k).div_ceil(SW);
        if hi < WO {
            hi
        } else {
            WO
        }
    } else {
        0
    };
    (lo, hi)
}

/// The input row of output row `r`'s window tap `k`, if inside the image.
#[inline(always)]
const fn input_row<const SH: usize, const PH: usize, const H: usize>(
    r: usize,
    k: usize,
) -> Option<usize> {
    let at = r * SH + k;
    if at >= PH && at - PH < H {
        Some(at - PH)
    } else {
        None
    }
}
