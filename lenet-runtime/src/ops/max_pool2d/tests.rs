//! Max pooling through its layer type against the scalar specification,
//! at every level this CPU runs, over many sizes, with ties and NaNs.

use proptest::prelude::*;

use super::{scalar, MaxPool2dLayer};
use crate::ops::layer::Layer;
use crate::ops::test_support::{levels, Rng};

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
    let mut dx = vec![0.0; x.len()];
    scalar::forward::<K, S, H, W, HO, WO>(planes, &x, &mut y);
    scalar::backward::<K, S, H, W, HO, WO>(planes, &x, &dy, &mut dx);
    for level in levels("max_pool2d") {
        let what = |t: &str| format!("{level:?} pool k{K} s{S} {H}×{W}, {planes} planes: {t}");
        let mut got = vec![f32::NAN; y.len()];
        MaxPool2dLayer::<1, K, S, H, W, HO, WO>::forward_at(level, &[], &[], &x, &mut got);
        assert_eq!(got, y, "{}", what("max y"));
        let mut got = vec![f32::NAN; dx.len()];
        MaxPool2dLayer::<1, K, S, H, W, HO, WO>::backward_at(
            level,
            &[],
            &x,
            &[],
            &dy,
            Some(&mut got),
            &mut [],
            &mut [],
        );
        assert_eq!(got, dx, "{}", what("max dx"));
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

/// Max pooling with ties and NaNs: the kernels must pick the same (first)
/// maximum as the specification and propagate NaN the same way. Compared bit
/// for bit, so NaN equals NaN.
fn check_ties<
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
    let mut x: Vec<f32> = rng
        .vec(planes * H * W)
        .iter()
        .map(|v| (v * 2.0).round() / 2.0)
        .collect();
    for i in (0..x.len()).step_by(37) {
        x[i] = f32::NAN;
    }
    let dy = rng.vec(planes * HO * WO);
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut y = vec![0.0; dy.len()];
    let mut dx = vec![0.0; x.len()];
    scalar::forward::<K, S, H, W, HO, WO>(planes, &x, &mut y);
    scalar::backward::<K, S, H, W, HO, WO>(planes, &x, &dy, &mut dx);
    for level in levels("max_pool2d") {
        let mut got = vec![1.0; y.len()];
        MaxPool2dLayer::<1, K, S, H, W, HO, WO>::forward_at(level, &[], &[], &x, &mut got);
        assert_eq!(
            bits(&got),
            bits(&y),
            "{level:?} max y with ties, k{K} {H}×{W}"
        );
        let mut got = vec![1.0; dx.len()];
        MaxPool2dLayer::<1, K, S, H, W, HO, WO>::backward_at(
            level,
            &[],
            &x,
            &[],
            &dy,
            Some(&mut got),
            &mut [],
            &mut [],
        );
        assert_eq!(
            bits(&got),
            bits(&dx),
            "{level:?} max dx with ties, k{K} {H}×{W}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn max_pool_ties_and_nans(seed in any::<u64>(), planes in 1usize..12) {
        check_ties::<2, 2, 28, 28, 14, 14>(seed, planes);
        check_ties::<2, 2, 7, 9, 3, 4>(seed, planes);
        check_ties::<3, 3, 10, 8, 3, 2>(seed, planes);
        check_ties::<3, 2, 9, 7, 4, 3>(seed, planes);
    }
}
