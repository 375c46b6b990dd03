//! 2-D convolution as a matrix product, for layers with many channels:
//! `Conv2d(CI, CO, (KH, KW), stride = (SH, SW), padding = (PH, PW),
//! dilation = (DH, DW), bias = BIAS)` with `groups = 1`, weight
//! `[CO, CI, KH, KW]` (OIHW).
//!
//! Per image, the output `CO × (HO·WO)` is the product of the weight,
//! `CO × (CI·KH·KW)`, and the input's columns, `(CI·KH·KW) × (HO·WO)`: a
//! 1×1 convolution (MobileNet's and DS-CNN's pointwise layers) multiplies the
//! input itself; any other kernel first copies its taps into columns
//! (im2col). The product runs in one kernel compiled once for every size
//! (`kernels::gemm`): vectors of output positions, register-blocked over
//! output channels. An [`Epilogue`] applied as each output is stored folds
//! what follows the convolution in inference: the bias, an
//! evaluation-mode batch norm ([`EvalNorm`]) and a `relu` or `relu6`
//! ([`Clamp`]).
//!
//! The specification is the direct convolution of [`super::ConvGeometry`]
//! (`conv2d_general::scalar`), followed by the epilogue.

#[allow(unsafe_code)]
mod kernels;
pub(crate) mod scalar;
#[cfg(test)]
mod tests;

use super::batch_norm::EvalNorm;
use super::conv2d_general::{ConvGeometry, GroupedConv2dLayer};
pub(crate) use super::epilogue::Epilogue;
use super::layer::{batch_len, Layer};
pub use super::piecewise::Clamp;
use crate::simd::{self, Level};

/// A convolution with `groups = 1` as a matrix product (any kernel, stride,
/// padding and dilation; `BIAS` or not), on a `CI`×`H`×`W` input giving
/// `CO`×`HO`×`WO`. Weight `[CO, CI, KH, KW]`, bias `[CO]` when `BIAS` (else
/// [`Layer::BIASES`] is 0 and `b` is ignored).
///
/// The generator passes PyTorch's numbers, each pair `(h, w)` as two
/// parameters; sizes that do not follow from one another do not compile:
///
/// ```compile_fail
/// use lenet_runtime::ops::{GemmConv2dLayer, Layer};
/// // 1×1 on 4×4 gives 4×4, not 3×3.
/// type Lying = GemmConv2dLayer<2, 3, 1, 1, 1, 1, 0, 0, 1, 1, true, 4, 4, 3, 3>;
/// let mut y = vec![0.0; 27];
/// Lying::forward(&[0.0; 6], &[0.0; 3], &[0.0; 32], &mut y);
/// ```
///
/// ```
/// use lenet_runtime::ops::{GemmConv2dLayer, Layer};
/// // A pointwise layer: 2 → 3 channels on 2×2.
/// type Pointwise = GemmConv2dLayer<2, 3, 1, 1, 1, 1, 0, 0, 1, 1, true, 2, 2, 2, 2>;
/// let mut y = vec![0.0; 12];
/// Pointwise::forward(&[1.0, 2.0, 0.0, 1.0, 1.0, 0.0], &[0.5, 0.0, 0.0], &[1.0; 8], &mut y);
/// assert_eq!(y[0], 3.5);
/// assert_eq!(y[4], 1.0);
/// ```
///
/// [`GemmConv2dLayer::forward_fused`] folds a batch norm and a clamp into
/// the store, for inference.
pub struct GemmConv2dLayer<
    const CI: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const BIAS: bool,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>;

impl<
        const CI: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
        const BIAS: bool,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > GemmConv2dLayer<CI, CO, KH, KW, SH, SW, PH, PW, DH, DW, BIAS, H, W, HO, WO>
{
    /// The sizes, as the kernels read them: those of the general
    /// convolution with one group.
    pub const GEOM: ConvGeometry =
        GroupedConv2dLayer::<CI, CO, KH, KW, SH, SW, PH, PW, DH, DW, 1, BIAS, H, W, HO, WO>::GEOM;

    /// The geometry the kernels' contract asks for, proved at compile time.
    const GEOMETRY: () = Self::GEOM.assert_valid();

    /// Inference with what follows folded into the store: `y =
    /// clamp(norm(conv(x)))`, the batch norm (when given) with its running
    /// statistics, the clamp `relu`, `relu6` or none.
    ///
    /// # Panics
    /// If a slice is shorter than the sizes require.
    pub fn forward_fused(
        w: &[f32],
        b: &[f32],
        norm: Option<EvalNorm<'_>>,
        clamp: Clamp,
        x: &[f32],
        y: &mut [f32],
    ) {
        Self::forward_fused_at(simd::level(), w, b, norm, clamp, x, y)
    }

    /// [`GemmConv2dLayer::forward_fused`] with the kernels of `level`.
    #[doc(hidden)]
    #[inline(never)]
    pub fn forward_fused_at(
        level: Level,
        w: &[f32],
        b: &[f32],
        norm: Option<EvalNorm<'_>>,
        clamp: Clamp,
        x: &[f32],
        y: &mut [f32],
    ) {
        let () = Self::GEOMETRY;
        let (mut s, mut a) = ([0.0f32; CO], [0.0f32; CO]);
        let bias = if BIAS { Some(&b[..CO]) } else { None };
        let epi = Epilogue::for_inference(bias, norm, clamp, &mut s, &mut a);
        let n = batch_len(x.len(), Self::GEOM.in_len());
        kernels::forward(level, &Self::GEOM, n, w, x, y, &epi);
    }
}

impl<
        const CI: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
        const BIAS: bool,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > Layer for GemmConv2dLayer<CI, CO, KH, KW, SH, SW, PH, PW, DH, DW, BIAS, H, W, HO, WO>
{
    const IN: usize = Self::GEOM.in_len();
    const OUT: usize = Self::GEOM.out_len();
    const WEIGHTS: usize = Self::GEOM.weights();
    const BIASES: usize = Self::GEOM.biases();

    #[inline(never)]
    fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
        Self::forward_fused_at(level, w, b, None, Clamp::None, x, y)
    }

    #[inline(never)]
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
        kernels::backward(level, &Self::GEOM, n, w, x, dy, dx, dw, db);
    }
}
