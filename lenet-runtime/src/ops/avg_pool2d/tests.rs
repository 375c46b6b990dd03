//! Average pooling through its layer type against the scalar
//! specification, at every level this CPU runs, over many sizes.

use proptest::prelude::*;

use super::{scalar, AvgPool2dLayer};
use crate::ops::layer::Layer;
use crate::ops::test_support::{abs, assert_close, levels, Rng};

fn check<
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    seed: u64,
    planes: usize,
) {
    let mut rng = Rng::new(seed);
    let x = rng.vec(planes * H * W);
    let dy = rng.vec(planes * HO * WO);
    let mut y = vec![0.0; dy.len()];
    let mut ya = vec![0.0; dy.len()];
    scalar::forward::<K, S, H, W, HO, WO>(planes, &x, &mut y);
    scalar::forward::<K, S, H, W, HO, WO>(planes, &abs(&x), &mut ya);
    let mut dx = vec![0.0; x.len()];
    let mut dxa = vec![0.0; x.len()];
    scalar::backward::<K, S, H, W, HO, WO>(planes, &dy, &mut dx);
    scalar::backward::<K, S, H, W, HO, WO>(planes, &abs(&dy), &mut dxa);
    for level in levels("avg_pool2d") {
        let what = |t: &str| format!("{level:?} pool k{K} s{S} {H}×{W}, {planes} planes: {t}");
        let mut got = vec![f32::NAN; y.len()];
        AvgPool2dLayer::<1, K, S, H, W, HO, WO>::forward_at(level, &[], &[], &x, &mut got);
        assert_close(&what("avg y"), &got, &y, &ya, 1e-6);
        let mut got = vec![f32::NAN; dx.len()];
        AvgPool2dLayer::<1, K, S, H, W, HO, WO>::backward_at(
            level,
            &[],
            &x,
            &[],
            &dy,
            Some(&mut got),
            &mut [],
            &mut [],
        );
        assert_close(&what("avg dx"), &got, &dx, &dxa, 1e-6);
    }
}

macro_rules! cases {
    ($($name:ident: ($k:literal, $s:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(16))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), planes in 1usize..40) {
                    check::<$k, $s, $h, $w, { ($h - $k) / $s + 1 }, { ($w - $k) / $s + 1 }>(seed, planes);
                }
            )*
        }
    };
}

cases! {
    lenet_s2: (2, 2, 28, 28);
    lenet_s4: (2, 2, 10, 10);
    odd_uncovered: (2, 2, 7, 9);
    k3_tiles: (3, 3, 9, 12);
    k3_uncovered: (3, 3, 10, 8);
    overlapping: (3, 2, 9, 7);
    one: (1, 1, 5, 3);
    wide_rows: (2, 2, 4, 70);
}
