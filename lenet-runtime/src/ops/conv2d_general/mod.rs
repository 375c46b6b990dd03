//! 2-D convolution in PyTorch's full generality:
//! `Conv2d(in, out, (KH, KW), stride = (SH, SW), padding = (PH, PW),
//! dilation = (DH, DW), groups = G, bias = BIAS)`, weight `[CO, CI / G, KH, KW]`
//! (OIHW), bias `[CO]` when `BIAS`, zero padding.

#[allow(unsafe_code)]
mod flat;
#[allow(unsafe_code)]
mod kernels;
pub(crate) mod scalar;
#[cfg(test)]
pub(crate) mod tests;

use super::batch_norm::EvalNorm;
use super::epilogue::{self, Epilogue};
use super::layer::{batch_len, Layer};
use super::piecewise::Clamp;
use crate::simd::{self, Level};

/// The sizes of a general convolution, at run time: what the scalar
/// specification and the kernels read. The layer types build it from their
/// const parameters, prove it consistent at compile time
/// ([`ConvGeometry::assert_valid`]) and pass it to the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Input channels.
    pub ci: usize,
    /// Output channels.
    pub co: usize,
    /// Groups: `ci` and `co` are multiples of it.
    pub groups: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Zero padding above and below.
    pub ph: usize,
    /// Zero padding left and right.
    pub pw: usize,
    /// Vertical dilation.
    pub dh: usize,
    /// Horizontal dilation.
    pub dw: usize,
    /// Whether there is a bias.
    pub bias: bool,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl ConvGeometry {
    /// `floor((size + 2·pad − dilation·(kernel − 1) − 1) / stride) + 1`, or
    /// `None` when the dilated kernel is larger than the padded input or a
    /// size is zero.
    pub const fn out_size(
        size: usize,
        kernel: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
    ) -> Option<usize> {
        if kernel == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let span = dilation * (kernel - 1) + 1;
        if size + 2 * pad < span {
            return None;
        }
        Some((size + 2 * pad - span) / stride + 1)
    }

    /// Panics (a compile error when evaluated in a `const`) unless the sizes
    /// follow from one another: positive sizes, `groups` dividing both
    /// channel counts, the dilated kernel fitting the padded input, and `ho`,
    /// `wo` given by [`ConvGeometry::out_size`].
    pub const fn assert_valid(&self) {
        assert!(
            self.ci > 0 && self.co > 0 && self.h > 0 && self.w > 0,
            "Conv2d: channels and input sizes must be positive"
        );
        assert!(
            self.groups > 0
                && self.ci.is_multiple_of(self.groups)
                && self.co.is_multiple_of(self.groups),
            "Conv2d: groups must divide both channel counts"
        );
        match Self::out_size(self.h, self.kh, self.sh, self.ph, self.dh) {
            Some(ho) => assert!(
                ho == self.ho,
                "Conv2d: HO is not (H + 2·PH − DH·(KH − 1) − 1) / SH + 1"
            ),
            None => panic!("Conv2d: the dilated kernel is larger than the padded input (height)"),
        }
        match Self::out_size(self.w, self.kw, self.sw, self.pw, self.dw) {
            Some(wo) => assert!(
                wo == self.wo,
                "Conv2d: WO is not (W + 2·PW − DW·(KW − 1) − 1) / SW + 1"
            ),
            None => panic!("Conv2d: the dilated kernel is larger than the padded input (width)"),
        }
    }

    /// Floats per input image.
    pub const fn in_len(&self) -> usize {
        self.ci * self.h * self.w
    }
    /// Floats per output image.
    pub const fn out_len(&self) -> usize {
        self.co * self.ho * self.wo
    }
    /// Whether `x` holds `n` input images, `y` (an output or its gradient)
    /// `n` output images and `w` the weights (the products checked for
    /// overflow).
    pub fn holds(&self, n: usize, w: &[f32], x: &[f32], y: &[f32]) -> bool {
        let fits = |len: usize, per: usize| n.checked_mul(per).is_some_and(|need| need <= len);
        fits(x.len(), self.in_len()) && fits(y.len(), self.out_len()) && w.len() >= self.weights()
    }
    /// Input channels per group.
    pub const fn ci_per_group(&self) -> usize {
        self.ci / self.groups
    }
    /// Output channels per group.
    pub const fn co_per_group(&self) -> usize {
        self.co / self.groups
    }
    /// Number of weights, `co · ci / groups · kh · kw`.
    pub const fn weights(&self) -> usize {
        self.co * self.ci_per_group() * self.kh * self.kw
    }
    /// Number of biases: `co`, or 0 without bias.
    pub const fn biases(&self) -> usize {
        if self.bias {
            self.co
        } else {
            0
        }
    }

    /// The output columns `[lo, hi)` whose tap `k` (of `kw`) falls inside
    /// the input row: `lo·sw + k·dw ≥ pw` and `c·sw + k·dw − pw < w` for
    /// every `c < hi`, with `hi ≤ wo` (empty when `lo ≥ hi`).
    #[inline(always)]
    pub(crate) fn columns(&self, k: usize) -> (usize, usize) {
        let off = k * self.dw;
        let lo = if off >= self.pw {
            0
        } else {
            (self.pw - off).div_ceil(self.sw)
        };
        let hi = if self.w + self.pw > off {
            (self.w + self.pw - off).div_ceil(self.sw).min(self.wo)
        } else {
            0
        };
        (lo, hi)
    }

    /// The input row that output row `r` reads with kernel row `k`, if it is
    /// inside the image.
    #[inline(always)]
    pub(crate) fn input_row(&self, r: usize, k: usize) -> Option<usize> {
        let at = r * self.sh + k * self.dh;
        if at >= self.ph && at - self.ph < self.h {
            Some(at - self.ph)
        } else {
            None
        }
    }
}

/// A depthwise convolution, PyTorch's
/// `Conv2d(C, C·M, (KH, KW), stride = (SH, SW), padding = (PH, PW),
/// dilation = (DH, DW), groups = C, bias = BIAS)` on a `C`×`H`×`W` input
/// giving `C·M`×`HO`×`WO`: output channel `o` reads input channel `o / M`.
/// Weight `[C·M, 1, KH, KW]`, bias `[C·M]` when `BIAS` (else
/// [`Layer::BIASES`] is 0 and `b` is ignored).
///
/// The generator passes PyTorch's numbers as they are: `M = out / in`, each
/// pair `(h, w)` as two parameters, and `HO`, `WO` from
/// [`ConvGeometry::out_size`]. Sizes that do not follow from one another do
/// not compile:
///
/// ```compile_fail
/// use lenet_runtime::ops::{DepthwiseConv2dLayer, Layer};
/// // 3×3, stride 2, padding 1 on 8×8 gives 4×4, not 8×8.
/// type Lying = DepthwiseConv2dLayer<2, 1, 3, 3, 2, 2, 1, 1, 1, 1, false, 8, 8, 8, 8>;
/// let mut y = vec![0.0; 128];
/// Lying::forward(&[0.0; 18], &[], &[0.0; 128], &mut y);
/// ```
///
/// ```
/// use lenet_runtime::ops::{DepthwiseConv2dLayer, Layer};
/// type Honest = DepthwiseConv2dLayer<2, 1, 3, 3, 2, 2, 1, 1, 1, 1, false, 8, 8, 4, 4>;
/// let mut y = vec![0.0; 32];
/// Honest::forward(&[1.0; 18], &[], &[1.0; 128], &mut y);
/// assert_eq!(y[0], 4.0); // the top-left window holds 2×2 pixels inside
/// assert_eq!(y[5], 9.0);
/// ```
///
/// Two layer types share the direct kernels, compiled once in this crate
/// and specialised per shape class (kernel size, stride and dilation), not
/// per layer: [`DepthwiseConv2dLayer`] (`groups =
/// in_channels`, one input channel per output channel, channel multiplier
/// `M`: MobileNet's and DS-CNN's depthwise convolutions) and
/// [`GroupedConv2dLayer`] for everything else that the tuned [`super::Conv2dLayer`]
/// (square, undilated, `groups = 1`, with bias) does not cover. Neither is a
/// dense GEMM: a depthwise layer costs `KH·KW` multiply-adds per output.
///
/// Output size, per dimension:
/// `floor((H + 2·P − D·(K − 1) − 1) / S) + 1`, computed by
/// [`ConvGeometry::out_size`].
pub struct DepthwiseConv2dLayer<
    const C: usize,
    const M: usize,
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
        const C: usize,
        const M: usize,
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
    > DepthwiseConv2dLayer<C, M, KH, KW, SH, SW, PH, PW, DH, DW, BIAS, H, W, HO, WO>
{
    /// The sizes, as the kernels read them.
    pub const GEOM: ConvGeometry = ConvGeometry {
        ci: C,
        co: C * M,
        groups: C,
        kh: KH,
        kw: KW,
        sh: SH,
        sw: SW,
        ph: PH,
        pw: PW,
        dh: DH,
        dw: DW,
        bias: BIAS,
        h: H,
        w: W,
        ho: HO,
        wo: WO,
    };

    /// The geometry the kernels' contract asks for, proved at compile time.
    const GEOMETRY: () = {
        assert!(
            M > 0,
            "DepthwiseConv2dLayer: the channel multiplier must be positive"
        );
        Self::GEOM.assert_valid();
    };

    /// Inference with what follows folded into the store: `y =
    /// clamp(norm(conv(x)))`, the batch norm (when given) with its running
    /// statistics, the clamp `relu`, `relu6` or none. Stride-1 layers as
    /// wide as their input run a kernel that applies it before each store
    /// (on AVX-512); the others apply it in a pass over each finished map.
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

    /// [`DepthwiseConv2dLayer::forward_fused`] with the kernels of `level`.
    #[doc(hidden)]
    #[allow(unsafe_code)]
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
        let g = &Self::GEOM;
        let (mut s, mut a) = ([[0.0f32; M]; C], [[0.0f32; M]; C]);
        let bias = if BIAS { Some(&b[..C * M]) } else { None };
        let epi = Epilogue::for_inference(
            bias,
            norm,
            clamp,
            s.as_flattened_mut(),
            a.as_flattened_mut(),
        );
        let n = batch_len(x.len(), g.in_len());
        if flat::forward(level, g, n, w, x, y, &epi) {
            return;
        }
        // SAFETY: `Self::GEOMETRY`, evaluated above at compile time, proves
        // `Self::GEOM` valid (`assert_valid`); the kernel checks the slices'
        // lengths against `n` images itself.
        unsafe { kernels::forward(g, level, n, w, b, x, y) };
        let out = &mut y[..n * g.out_len()];
        epilogue::apply_in_place(level, &epi.without_bias(), g.co, HO * WO, out);
    }
}

/// A general convolution, PyTorch's
/// `Conv2d(CI, CO, (KH, KW), stride = (SH, SW), padding = (PH, PW),
/// dilation = (DH, DW), groups = G, bias = BIAS)` on a `CI`×`H`×`W` input
/// giving `CO`×`HO`×`WO`. Weight `[CO, CI / G, KH, KW]`, bias `[CO]` when
/// `BIAS` (else [`Layer::BIASES`] is 0 and `b` is ignored).
///
/// For a square, undilated, ungrouped kernel with bias, [`super::Conv2dLayer`]
/// is faster; for `G = CI`, [`DepthwiseConv2dLayer`] says what it is. This type
/// takes every case. Sizes that do not follow from one another do not
/// compile:
///
/// ```compile_fail
/// use lenet_runtime::ops::{GroupedConv2dLayer, Layer};
/// // groups = 3 does not divide 4 input channels.
/// type Lying = GroupedConv2dLayer<4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 3, true, 5, 5, 5, 5>;
/// let mut y = vec![0.0; 150];
/// Lying::forward(&[0.0; 72], &[0.0; 6], &[0.0; 100], &mut y);
/// ```
///
/// ```compile_fail
/// use lenet_runtime::ops::{GroupedConv2dLayer, Layer};
/// // A 3×3 kernel dilated by 2 spans 5×5: on 4×4 unpadded it does not fit.
/// type Lying = GroupedConv2dLayer<1, 1, 3, 3, 1, 1, 0, 0, 2, 2, 1, true, 4, 4, 1, 1>;
/// let mut y = vec![0.0; 1];
/// Lying::forward(&[0.0; 9], &[0.0], &[0.0; 16], &mut y);
/// ```
///
/// ```
/// use lenet_runtime::ops::{GroupedConv2dLayer, Layer};
/// // DS-CNN's first layer: 10×4 kernel, stride 2, padding (5, 1), no bias.
/// type First = GroupedConv2dLayer<1, 2, 10, 4, 2, 2, 5, 1, 1, 1, 1, false, 49, 10, 25, 5>;
/// let mut y = vec![0.0; 2 * 25 * 5];
/// First::forward(&[1.0; 80], &[], &[1.0; 490], &mut y);
/// assert_eq!(y[3 * 5 + 2], 40.0); // an inner window sums 10·4 ones
/// ```
pub struct GroupedConv2dLayer<
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
    const G: usize,
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
        const G: usize,
        const BIAS: bool,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    > GroupedConv2dLayer<CI, CO, KH, KW, SH, SW, PH, PW, DH, DW, G, BIAS, H, W, HO, WO>
{
    /// The sizes, as the kernels read them.
    pub const GEOM: ConvGeometry = ConvGeometry {
        ci: CI,
        co: CO,
        groups: G,
        kh: KH,
        kw: KW,
        sh: SH,
        sw: SW,
        ph: PH,
        pw: PW,
        dh: DH,
        dw: DW,
        bias: BIAS,
        h: H,
        w: W,
        ho: HO,
        wo: WO,
    };

    /// The geometry the kernels' contract asks for, proved at compile time.
    const GEOMETRY: () = Self::GEOM.assert_valid();
}

/// The `Layer` impl of a layer type with a `GEOM` and a `GEOMETRY`: a thin
/// shim that proves its geometry at compile time and passes it to the
/// kernels, which are not generic.
macro_rules! conv_layer {
    ($ty:ident < $($p:ident : $t:ty),* >) => {
        impl<$(const $p: $t),*> Layer for $ty<$($p),*> {
            const IN: usize = Self::GEOM.in_len();
            const OUT: usize = Self::GEOM.out_len();
            const WEIGHTS: usize = Self::GEOM.weights();
            const BIASES: usize = Self::GEOM.biases();

            #[allow(unsafe_code)]
            #[inline(never)]
            fn forward_at(level: Level, w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
                let () = Self::GEOMETRY;
                let n = batch_len(x.len(), Self::IN);
                // SAFETY: `Self::GEOMETRY`, evaluated above at compile time,
                // proves `Self::GEOM` valid (`assert_valid`); the kernel
                // checks the slices' lengths against `n` images itself.
                unsafe { kernels::forward(&Self::GEOM, level, n, w, b, x, y) }
            }

            #[allow(unsafe_code)]
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
                // SAFETY: as in `forward_at`: `Self::GEOMETRY` proves the
                // sizes, the kernel checks the lengths.
                unsafe { kernels::backward(&Self::GEOM, level, n, w, x, dy, dx, dw, db) }
            }
        }
    };
}

conv_layer!(DepthwiseConv2dLayer<
    C: usize, M: usize, KH: usize, KW: usize, SH: usize, SW: usize, PH: usize, PW: usize,
    DH: usize, DW: usize, BIAS: bool, H: usize, W: usize, HO: usize, WO: usize
>);
conv_layer!(GroupedConv2dLayer<
    CI: usize, CO: usize, KH: usize, KW: usize, SH: usize, SW: usize, PH: usize, PW: usize,
    DH: usize, DW: usize, G: usize, BIAS: bool, H: usize, W: usize, HO: usize, WO: usize
>);
