//! The general and depthwise convolutions through their layer types against
//! the scalar specification, forward and backward, at every level this CPU
//! runs, over many geometries (rectangular kernels, strides, paddings,
//! dilations, groups, with and without bias).

use proptest::prelude::*;

use super::{scalar, ConvGeometry, DepthwiseConv2dLayer, GroupedConv2dLayer};
use crate::ops::test_support::{abs, assert_close, levels, Rng};
use crate::ops::{Clamp, EvalNorm, Layer};
use crate::simd::Level;

/// The scalar specification over `n` images: `y`, and `dw`, `db`, `dx`
/// starting from `dw0`, `db0`.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn reference(
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    dy: &[f32],
    dw0: &[f32],
    db0: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let (inp, out) = (g.in_len(), g.out_len());
    let mut y = vec![0.0; n * out];
    let (mut dw, mut db, mut dx) = (dw0.to_vec(), db0.to_vec(), vec![0.0; n * inp]);
    for s in 0..n {
        let (xs, dys) = (&x[s * inp..(s + 1) * inp], &dy[s * out..(s + 1) * out]);
        scalar::forward(g, w, b, xs, &mut y[s * out..(s + 1) * out]);
        scalar::backward_params(g, xs, dys, &mut dw, &mut db);
        scalar::backward_input(g, w, dys, &mut dx[s * inp..(s + 1) * inp]);
    }
    (y, dw, db, dx)
}

/// Layer `L` (whose sizes are `g`) against the specification, forward
/// and backward, at every level (reported as `op`'s); any layer type with
/// a convolution's geometry (the matrix product's too).
pub(crate) fn check<L: Layer>(op: &'static str, g: &ConvGeometry, seed: u64, n: usize) {
    assert_eq!(
        (L::IN, L::OUT, L::WEIGHTS, L::BIASES),
        (g.in_len(), g.out_len(), g.weights(), g.biases())
    );
    let mut rng = Rng::new(seed);
    let w = rng.vec(g.weights());
    let b = rng.vec(g.biases());
    let x = rng.vec(n * g.in_len());
    let dy = rng.vec(n * g.out_len());
    let dw0 = rng.vec(w.len());
    let db0 = rng.vec(b.len());
    let (y, dw, db, dx) = reference(g, n, &w, &b, &x, &dy, &dw0, &db0);
    let (ya, dwa, dba, dxa) = reference(
        g,
        n,
        &abs(&w),
        &abs(&b),
        &abs(&x),
        &abs(&dy),
        &abs(&dw0),
        &abs(&db0),
    );
    for level in levels(op) {
        let what = |t: &str| format!("{level:?} {op} {g:?}, n = {n}: {t}");
        let mut got = vec![f32::NAN; y.len()];
        L::forward_at(level, &w, &b, &x, &mut got);
        assert_close(&what("y"), &got, &y, &ya, 2e-5);

        let (mut gdw, mut gdb, mut gdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; dx.len()]);
        L::backward_at(level, &w, &x, &[], &dy, Some(&mut gdx), &mut gdw, &mut gdb);
        assert_close(&what("dw"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db"), &gdb, &db, &dba, 2e-5);
        assert_close(&what("dx"), &gdx, &dx, &dxa, 2e-5);

        let (mut gdw, mut gdb) = (dw0.clone(), db0.clone());
        L::backward_at(level, &w, &x, &[], &dy, None, &mut gdw, &mut gdb);
        assert_close(&what("dw without dx"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db without dx"), &gdb, &db, &dba, 2e-5);
    }
}

/// The output size, for the test geometries.
pub(crate) const fn out(size: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    match ConvGeometry::out_size(size, k, s, p, d) {
        Some(o) => o,
        None => panic!("bad test geometry"),
    }
}

macro_rules! depthwise {
    ($($name:ident: ($c:literal, $m:literal, ($kh:literal, $kw:literal), ($sh:literal, $sw:literal),
        ($ph:literal, $pw:literal), ($dh:literal, $dw:literal), $bias:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(8))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..6) {
                    type L = DepthwiseConv2dLayer<$c, $m, $kh, $kw, $sh, $sw, $ph, $pw, $dh, $dw, $bias,
                        $h, $w, { out($h, $kh, $sh, $ph, $dh) }, { out($w, $kw, $sw, $pw, $dw) }>;
                    check::<L>("depthwise_conv2d", &L::GEOM, seed, n);
                }
            )*
        }
    };
}

macro_rules! grouped {
    ($($name:ident: ($ci:literal, $co:literal, ($kh:literal, $kw:literal), ($sh:literal, $sw:literal),
        ($ph:literal, $pw:literal), ($dh:literal, $dw:literal), $g:literal, $bias:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(8))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..6) {
                    type L = GroupedConv2dLayer<$ci, $co, $kh, $kw, $sh, $sw, $ph, $pw, $dh, $dw, $g, $bias,
                        $h, $w, { out($h, $kh, $sh, $ph, $dh) }, { out($w, $kw, $sw, $pw, $dw) }>;
                    check::<L>("grouped_conv2d", &L::GEOM, seed, n);
                }
            )*
        }
    };
}

depthwise! {
    dw_mobilenet_s1: (8, 1, (3, 3), (1, 1), (1, 1), (1, 1), false, 12, 12);
    dw_mobilenet_s2: (8, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 12, 12);
    dw_mobilenet_s2_odd: (3, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 13, 11);
    dw_dscnn: (4, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 25, 5);
    dw_wide_rows: (2, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 4, 37);
    dw_multiplier: (3, 2, (3, 3), (1, 1), (1, 1), (1, 1), true, 7, 9);
    dw_multiplier_s2: (2, 3, (2, 3), (2, 1), (0, 1), (1, 1), false, 8, 8);
    dw_rect_dilated: (3, 1, (3, 2), (1, 2), (2, 1), (2, 3), true, 9, 10);
    dw_big_pad: (2, 1, (3, 3), (1, 1), (2, 2), (1, 1), true, 5, 6);
    dw_stride3: (2, 1, (5, 5), (3, 3), (2, 2), (1, 1), false, 11, 14);
    dw_s2_wide: (2, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 5, 75);
    dw_s1_wide_dilated: (2, 1, (3, 3), (1, 1), (2, 2), (2, 2), true, 4, 53);
    dw_narrow_dilated: (3, 2, (3, 2), (1, 1), (2, 1), (2, 3), true, 9, 8);
    dw_narrow_tall: (2, 1, (3, 3), (1, 1), (1, 1), (1, 1), false, 120, 6);
    dw_narrow_tiny: (5, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 3, 3);
    dw_one_by_one: (5, 2, (1, 1), (1, 1), (0, 0), (1, 1), true, 3, 17);
    dw_many_channels: (20, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 6, 6);
    dw_many_channels_s2: (19, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 7, 6);
    dw_multiplier5_s2: (2, 5, (3, 3), (2, 2), (1, 1), (1, 1), true, 9, 7);
}

grouped! {
    g_dscnn_first: (1, 4, (10, 4), (2, 2), (5, 1), (1, 1), 1, true, 49, 10);
    g_one_input_many_outputs: (1, 9, (10, 4), (2, 2), (5, 1), (1, 1), 1, false, 49, 10);
    g_nobias: (3, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, false, 7, 9);
    g_rect: (2, 3, (1, 5), (1, 1), (0, 2), (1, 1), 1, true, 6, 19);
    g_groups2: (4, 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, true, 6, 7);
    g_groups3_dilated: (6, 3, (3, 3), (1, 2), (2, 2), (2, 2), 3, false, 9, 8);
    g_depthwise_as_groups: (4, 8, (3, 3), (2, 2), (1, 1), (1, 1), 4, true, 9, 9);
    g_stride_rect: (2, 5, (4, 2), (3, 2), (1, 0), (1, 1), 1, true, 13, 9);
    g_s2_wide_dilated: (2, 3, (3, 4), (1, 2), (1, 2), (1, 2), 1, true, 4, 70);
    g_pointwise: (16, 8, (1, 1), (1, 1), (0, 0), (1, 1), 1, false, 6, 6);
    g_pointwise_grouped: (8, 16, (1, 1), (2, 2), (0, 0), (1, 1), 4, true, 5, 7);
}

#[test]
fn out_size_is_pytorchs() {
    // torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, dilation=2) on 10×10 gives 4×4.
    assert_eq!(ConvGeometry::out_size(10, 3, 2, 1, 2), Some(4));
    assert_eq!(ConvGeometry::out_size(49, 10, 2, 5, 1), Some(25));
    assert_eq!(ConvGeometry::out_size(10, 4, 2, 1, 1), Some(5));
    assert_eq!(ConvGeometry::out_size(96, 3, 2, 1, 1), Some(48));
    assert_eq!(ConvGeometry::out_size(4, 3, 1, 0, 2), None);
    assert_eq!(ConvGeometry::out_size(4, 3, 0, 0, 1), None);
}

/// `forward_fused` of a depthwise layer (the flat kernel where it applies,
/// the general kernels and a pass elsewhere) against the specification
/// followed by the batch norm's and the clamp's, at every level.
fn check_fused<const C: usize, const HO: usize, const WO: usize>(
    run: impl Fn(Level, &[f32], &[f32], Option<EvalNorm<'_>>, Clamp, &[f32], &mut [f32]),
    g: &ConvGeometry,
    seed: u64,
) {
    let mut rng = Rng::new(seed);
    let n = 3;
    let (w, b) = (rng.vec(g.weights()), rng.vec(g.biases()));
    let x = rng.vec(n * g.in_len());
    let (gamma, beta, mean) = (rng.vec(g.co), rng.vec(g.co), rng.vec(g.co));
    let var: Vec<f32> = rng.vec(g.co).iter().map(|v| v.abs() + 0.2).collect();
    let norm = EvalNorm {
        gamma: &gamma,
        beta: &beta,
        running_mean: &mean,
        running_var: &var,
        eps: 1e-5,
    };
    let (inl, outl) = (g.in_len(), g.out_len());
    let mut conv = vec![0.0; n * outl];
    let mut bound = vec![0.0; n * outl];
    let (aw, ab, ax) = (abs(&w), abs(&b), abs(&x));
    for s in 0..n {
        scalar::forward(
            g,
            &w,
            &b,
            &x[s * inl..][..inl],
            &mut conv[s * outl..][..outl],
        );
        scalar::forward(
            g,
            &aw,
            &ab,
            &ax[s * inl..][..inl],
            &mut bound[s * outl..][..outl],
        );
    }
    for clamp in [Clamp::None, Clamp::Relu6] {
        for with_norm in [false, true] {
            let (lo, hi) = clamp.bounds();
            let (want, wbound): (Vec<f32>, Vec<f32>) = conv
                .iter()
                .zip(&bound)
                .enumerate()
                .map(|(j, (&v, &bd))| {
                    let o = (j / (HO * WO)) % C;
                    if with_norm {
                        let a = gamma[o] / (var[o] + 1e-5).sqrt();
                        (
                            (a * (v - mean[o]) + beta[o]).clamp(lo, hi),
                            a.abs() * (bd + mean[o].abs()) + 1.0,
                        )
                    } else {
                        (v.clamp(lo, hi), bd)
                    }
                })
                .unzip();
            for level in levels("depthwise_conv2d fused") {
                let mut got = vec![f32::NAN; n * outl];
                run(
                    level,
                    &w,
                    &b,
                    with_norm.then_some(norm),
                    clamp,
                    &x,
                    &mut got,
                );
                let what = format!("{level:?} {g:?} {clamp:?} norm {with_norm}");
                assert_close(&what, &got, &want, &wbound, 2e-5);
            }
        }
    }
}

macro_rules! depthwise_fused {
    ($($name:ident: ($c:literal, $m:literal, ($kh:literal, $kw:literal), ($sh:literal, $sw:literal),
        ($ph:literal, $pw:literal), ($dh:literal, $dw:literal), $bias:literal, $h:literal, $w:literal);)*) => {
        $(
            #[test]
            fn $name() {
                const HO: usize = out($h, $kh, $sh, $ph, $dh);
                const WO: usize = out($w, $kw, $sw, $pw, $dw);
                type L = DepthwiseConv2dLayer<$c, $m, $kh, $kw, $sh, $sw, $ph, $pw, $dh, $dw, $bias,
                    $h, $w, HO, WO>;
                check_fused::<{ $c * $m }, HO, WO>(
                    |level, w, b, norm, clamp, x, y| L::forward_fused_at(level, w, b, norm, clamp, x, y),
                    &L::GEOM,
                    17,
                );
            }
        )*
    };
}

depthwise_fused! {
    fused_dscnn: (64, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 25, 5);
    fused_mobilenet_s1: (8, 1, (3, 3), (1, 1), (1, 1), (1, 1), false, 20, 20);
    fused_mobilenet_tiny: (33, 1, (3, 3), (1, 1), (1, 1), (1, 1), false, 3, 3);
    fused_multiplier: (3, 2, (3, 3), (1, 1), (1, 1), (1, 1), true, 7, 9);
    fused_rect_dilated_same: (2, 1, (3, 5), (1, 1), (2, 4), (2, 2), true, 9, 11);
    fused_taller_output: (2, 1, (1, 3), (1, 1), (2, 1), (1, 1), true, 4, 6);
    fused_wide_plane: (2, 1, (3, 3), (1, 1), (1, 1), (1, 1), true, 30, 61);
    fused_stride2_pass: (4, 1, (3, 3), (2, 2), (1, 1), (1, 1), true, 9, 8);
    fused_stride2_even: (8, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 12, 12);
    fused_stride2_even_odd_channels: (5, 1, (3, 3), (2, 2), (1, 1), (1, 1), true, 6, 10);
    fused_stride2_even_wide: (3, 1, (3, 3), (2, 2), (1, 1), (1, 1), true, 4, 70);
    fused_stride2_even_multiplier: (3, 2, (3, 3), (2, 2), (1, 1), (1, 1), true, 10, 14);
    fused_stride2_even_k5: (2, 1, (5, 5), (2, 2), (2, 2), (1, 1), true, 8, 8);
    fused_stride2_even_dilated: (2, 1, (3, 3), (2, 2), (2, 2), (2, 2), false, 8, 10);
    fused_mobilenet_s2: (16, 1, (3, 3), (2, 2), (1, 1), (1, 1), false, 48, 48);
    fused_not_same_width: (2, 1, (3, 3), (1, 1), (0, 0), (1, 1), false, 8, 8);
}
