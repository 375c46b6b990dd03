//! Padded pooling through its layer types against the scalar specification
//! at every level this CPU runs, over many geometries, with ties, NaNs and
//! infinities for max pooling (compared bit for bit).

use proptest::prelude::*;

use super::{scalar, PaddedAvgPool2dLayer, PaddedMaxPool2dLayer};
use crate::ops::test_support::{abs, assert_close, levels, Rng};
use crate::ops::Layer;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

#[allow(clippy::too_many_arguments)]
fn check<
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
>(
    seed: u64,
    planes: usize,
) {
    let mut rng = Rng::new(seed);
    // Ties (values on a coarse grid), NaNs and −∞ for the max rules.
    let mut xt: Vec<f32> = rng
        .vec(planes * H * W)
        .iter()
        .map(|v| (v * 3.0).round() / 3.0)
        .collect();
    for (i, v) in xt.iter_mut().enumerate() {
        match i % 29 {
            5 => *v = f32::NAN,
            11 => *v = f32::NEG_INFINITY,
            17 => *v = -0.0,
            _ => {}
        }
    }
    let x = rng.vec(planes * H * W);
    let dy = rng.vec(planes * HO * WO);
    let what = format!("pool k{KH}×{KW} s{SH}×{SW} p{PH}×{PW} {H}×{W}, {planes} planes");

    type Max<
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
    > = PaddedMaxPool2dLayer<1, KH, KW, SH, SW, PH, PW, H, W, HO, WO>;
    type Avg<
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
    > = PaddedAvgPool2dLayer<1, KH, KW, SH, SW, PH, PW, H, W, HO, WO>;

    for x in [&x, &xt] {
        let mut y = vec![0.0; dy.len()];
        let mut dx = vec![0.0; x.len()];
        scalar::max_forward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, x, &mut y);
        scalar::max_backward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, x, &dy, &mut dx);
        for level in levels("padded_max_pool2d") {
            let mut got = vec![1.0; y.len()];
            Max::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>::forward_at(level, &[], &[], x, &mut got);
            assert_eq!(bits(&got), bits(&y), "{level:?} max {what}: y");
            let mut got = vec![1.0; dx.len()];
            Max::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>::backward_at(
                level,
                &[],
                x,
                &[],
                &dy,
                Some(&mut got),
                &mut [],
                &mut [],
            );
            assert_eq!(bits(&got), bits(&dx), "{level:?} max {what}: dx");
        }
    }

    let mut y = vec![0.0; dy.len()];
    let mut ya = vec![0.0; dy.len()];
    let mut dx = vec![0.0; x.len()];
    let mut dxa = vec![0.0; x.len()];
    scalar::avg_forward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, &x, &mut y);
    scalar::avg_forward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, &abs(&x), &mut ya);
    scalar::avg_backward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, &dy, &mut dx);
    scalar::avg_backward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, &abs(&dy), &mut dxa);
    for level in levels("padded_avg_pool2d") {
        let mut got = vec![f32::NAN; y.len()];
        Avg::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>::forward_at(level, &[], &[], &x, &mut got);
        assert_close(&format!("{level:?} avg {what}: y"), &got, &y, &ya, 1e-6);
        let mut got = vec![f32::NAN; dx.len()];
        Avg::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>::backward_at(
            level,
            &[],
            &x,
            &[],
            &dy,
            Some(&mut got),
            &mut [],
            &mut [],
        );
        assert_close(&format!("{level:?} avg {what}: dx"), &got, &dx, &dxa, 1e-6);
    }
}

macro_rules! cases {
    ($($name:ident: (($kh:literal, $kw:literal), ($sh:literal, $sw:literal), ($ph:literal, $pw:literal), $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(12))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), planes in 1usize..12) {
                    check::<$kh, $kw, $sh, $sw, $ph, $pw, $h, $w,
                        { ($h + 2 * $ph - $kh) / $sh + 1 }, { ($w + 2 * $pw - $kw) / $sw + 1 }>(seed, planes);
                }
            )*
        }
    };
}

cases! {
    resnet_stem: ((3, 3), (2, 2), (1, 1), 16, 16);
    k3_s1_p1: ((3, 3), (1, 1), (1, 1), 7, 9);
    k2_s2_p1: ((2, 2), (2, 2), (1, 1), 7, 8);
    rect: ((3, 2), (2, 1), (1, 1), 9, 6);
    rect_stride: ((2, 4), (1, 3), (0, 2), 5, 13);
    unpadded_rect: ((1, 3), (1, 3), (0, 0), 4, 12);
    k5_p2: ((5, 5), (3, 3), (2, 2), 11, 10);
    wide_rows: ((3, 3), (1, 1), (1, 1), 3, 70);
    window_fills_input: ((4, 4), (1, 1), (2, 2), 1, 2);
}

#[test]
fn max_pool_sends_the_gradient_to_the_first_maximum_with_padding() {
    // A constant plane of −1 under 3×3, stride 2, padding 1: every window's
    // first in-image pixel takes its gradient (the −∞ padding never does).
    type Pool = PaddedMaxPool2dLayer<1, 3, 3, 2, 2, 1, 1, 4, 4, 2, 2>;
    let x = [-1.0f32; 16];
    let mut y = [0.0; 4];
    Pool::forward(&[], &[], &x, &mut y);
    assert_eq!(y, [-1.0; 4]);
    let dy = [1.0, 2.0, 3.0, 4.0];
    let mut dx = [f32::NAN; 16];
    Pool::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    let mut want = [0.0; 16];
    for (k, at) in [0, 1, 4, 5].into_iter().enumerate() {
        want[at] += dy[k];
    }
    assert_eq!(dx, want);
}
