//! The vectorised convolution against its scalar specification, forward and
//! backward, at every level this CPU runs, over many sizes.

// The pooled sizes `(HO) / 2` read to clippy as a rounded-up division.
#![allow(clippy::manual_div_ceil)]

use proptest::prelude::*;

use super::{scalar, Conv2dLayer, Conv2dReluLayer, Conv2dReluPoolLayer};
use crate::ops::layer::Layer;
use crate::ops::test_support::{abs, assert_close, levels, Rng};

/// The scalar specification over `n` images: `y`, and `dw`, `db`, `dx`
/// starting from `dw0`, `db0`.
#[allow(clippy::type_complexity)]
fn reference<
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
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    dy: &[f32],
    dw0: &[f32],
    db0: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let (inp, out) = (CI * H * W, CO * HO * WO);
    let mut y = vec![0.0; n * out];
    let (mut dw, mut db, mut dx) = (dw0.to_vec(), db0.to_vec(), vec![0.0; n * inp]);
    for s in 0..n {
        let (xs, dys) = (&x[s * inp..(s + 1) * inp], &dy[s * out..(s + 1) * out]);
        scalar::forward::<CI, CO, K, S, P, H, W, HO, WO>(w, b, xs, &mut y[s * out..(s + 1) * out]);
        scalar::backward_params::<CI, CO, K, S, P, H, W, HO, WO>(xs, None, dys, &mut dw, &mut db);
        scalar::backward_input::<CI, CO, K, S, P, H, W, HO, WO>(
            w,
            None,
            dys,
            &mut dx[s * inp..(s + 1) * inp],
        );
    }
    (y, dw, db, dx)
}

fn check<
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
    seed: u64,
    n: usize,
) {
    let mut rng = Rng::new(seed);
    let w = rng.vec(CO * CI * K * K);
    let b = rng.vec(CO);
    let x = rng.vec(n * CI * H * W);
    let dy = rng.vec(n * CO * HO * WO);
    let dw0 = rng.vec(w.len());
    let db0 = rng.vec(CO);
    let (y, dw, db, dx) =
        reference::<CI, CO, K, S, P, H, W, HO, WO>(n, &w, &b, &x, &dy, &dw0, &db0);
    // The same sums over absolute values bound the rounding of each output.
    let (ya, dwa, dba, dxa) = reference::<CI, CO, K, S, P, H, W, HO, WO>(
        n,
        &abs(&w),
        &abs(&b),
        &abs(&x),
        &abs(&dy),
        &abs(&dw0),
        &abs(&db0),
    );
    for level in levels("conv2d") {
        let what =
            |t: &str| format!("{level:?} conv {CI}→{CO} k{K} s{S} p{P} {H}×{W}, n = {n}: {t}");
        let mut got = vec![f32::NAN; y.len()];
        Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::forward_at(level, &w, &b, &x, &mut got);
        assert_close(&what("y"), &got, &y, &ya, 2e-5);

        let (mut gdw, mut gdb, mut gdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; x.len()]);
        Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::backward_at(
            level,
            &w,
            &x,
            &[],
            &dy,
            Some(&mut gdx),
            &mut gdw,
            &mut gdb,
        );
        assert_close(&what("dw"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db"), &gdb, &db, &dba, 2e-5);
        assert_close(&what("dx"), &gdx, &dx, &dxa, 2e-5);

        let (mut gdw, mut gdb) = (dw0.clone(), db0.clone());
        Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::backward_at(
            level,
            &w,
            &x,
            &[],
            &dy,
            None,
            &mut gdw,
            &mut gdb,
        );
        assert_close(&what("dw without dx"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db without dx"), &gdb, &db, &dba, 2e-5);
    }
}

macro_rules! cases {
    ($($name:ident: ($ci:literal, $co:literal, $k:literal, $s:literal, $p:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(8))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..10) {
                    check::<$ci, $co, $k, $s, $p, $h, $w,
                        { ($h + 2 * $p - $k) / $s + 1 }, { ($w + 2 * $p - $k) / $s + 1 }>(seed, n);
                }
            )*
        }
    };
}

cases! {
    lenet_c1: (1, 6, 5, 1, 0, 32, 32);
    lenet_c3: (6, 16, 5, 1, 0, 14, 14);
    mnist_c1_padded: (1, 6, 5, 1, 2, 28, 28);
    one_by_one: (3, 5, 1, 1, 0, 7, 9);
    k2_odd: (5, 7, 2, 1, 0, 9, 11);
    k3_pad1: (3, 10, 3, 1, 1, 13, 8);
    k3_pad2: (2, 9, 3, 1, 2, 5, 6);
    k4_pad1: (7, 3, 4, 1, 1, 10, 10);
    k5_pad2_wide: (2, 17, 5, 1, 2, 6, 37);
    k5_pad1_tall: (3, 4, 5, 1, 1, 21, 5);
    k3_exact: (4, 12, 3, 1, 0, 3, 3);
    stride2_k3_pad1: (3, 5, 3, 2, 1, 9, 11);
    stride2_k2: (2, 3, 2, 2, 0, 8, 7);
    stride2_k3_tiles_left_over: (3, 7, 3, 2, 0, 15, 15);
    stride2_rows_of_5: (2, 5, 3, 2, 0, 21, 11);
    channels_33: (33, 2, 3, 1, 1, 6, 5);
    out_32_pad1: (3, 32, 3, 1, 1, 7, 9);
    out_16_k2: (2, 16, 2, 1, 0, 5, 6);
    out_16_k4_pad2: (5, 16, 4, 1, 2, 6, 4);
}

/// With 16·k output channels the AVX-512 forward pass runs by vectors of
/// output channels: cover it for certain, from one image to a few.
#[test]
fn channel_vectors() {
    check::<6, 16, 5, 1, 0, 14, 14, 10, 10>(6, 1);
    check::<6, 16, 5, 1, 0, 14, 14, 10, 10>(7, 5);
    check::<5, 16, 4, 1, 2, 6, 4, 7, 5>(8, 4);
    check::<3, 32, 3, 1, 1, 7, 9, 7, 9>(9, 9);
    check::<2, 16, 3, 1, 0, 3, 19, 1, 17>(10, 4);
}

/// The portable forward pass sums each output's taps in the specification's
/// order: where the build does not fuse multiply-adds (every host build),
/// it is the specification bit for bit, whatever its tiles.
#[test]
fn portable_is_the_specification_exactly() {
    fn exact<
        const CI: usize,
        const CO: usize,
        const K: usize,
        const S: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
    >(
        seed: u64,
    ) {
        let mut rng = Rng::new(seed);
        let (w, b, x) = (
            rng.vec(CO * CI * K * K),
            rng.vec(CO),
            rng.vec(2 * CI * H * W),
        );
        let mut want = vec![0.0; 2 * CO * HO * WO];
        for (x, y) in x.chunks(CI * H * W).zip(want.chunks_mut(CO * HO * WO)) {
            scalar::forward::<CI, CO, K, S, 0, H, W, HO, WO>(&w, &b, x, y);
        }
        let mut got = vec![f32::NAN; want.len()];
        Conv2dLayer::<CI, CO, K, S, 0, H, W, HO, WO>::forward_at(
            crate::simd::Level::Portable,
            &w,
            &b,
            &x,
            &mut got,
        );
        assert_eq!(got, want, "conv {CI}→{CO} k{K} s{S} {H}×{W}");
    }
    exact::<1, 6, 5, 1, 32, 32, 28, 28>(1);
    exact::<6, 16, 5, 1, 14, 14, 10, 10>(2);
    exact::<3, 7, 3, 2, 15, 15, 7, 7>(3);
    exact::<2, 5, 3, 2, 21, 11, 10, 5>(4);
}

/// The fused `Conv2dReluLayer` against the unfused chain (`Conv2dLayer`
/// then `ReluLayer`) at every level, which it must match exactly, and
/// against the scalar specification of the chain within rounding.
fn check_relu<
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
    seed: u64,
    n: usize,
) {
    type Relu<const N: usize> = crate::ops::ReluLayer<N>;
    let mut rng = Rng::new(seed);
    let w = rng.vec(CO * CI * K * K);
    let b = rng.vec(CO);
    let x = rng.vec(n * CI * H * W);
    let dy = rng.vec(n * CO * HO * WO);
    let dw0 = rng.vec(w.len());
    let db0 = rng.vec(CO);
    let out = CO * HO * WO;
    // The specification of the chain: convolution, relu; then relu's
    // gradient and the convolution's gradients, masked by the output the
    // layer is handed back (an output within rounding of zero may be zero
    // at one level and not at another, so each level's mask is its own).
    let (mut y, _, _, _) =
        reference::<CI, CO, K, S, P, H, W, HO, WO>(n, &w, &b, &x, &dy, &dw0, &db0);
    scalar::relu_in_place(&mut y);
    let spec_grads = |y: &[f32]| {
        let mut dz = vec![0.0; dy.len()];
        scalar::relu_backward(y, &dy, &mut dz);
        let (_, dw, db, dx) =
            reference::<CI, CO, K, S, P, H, W, HO, WO>(n, &w, &b, &x, &dz, &dw0, &db0);
        (dw, db, dx)
    };
    let (ya, dwa, dba, dxa) = reference::<CI, CO, K, S, P, H, W, HO, WO>(
        n,
        &abs(&w),
        &abs(&b),
        &abs(&x),
        // |dy| bounds |dz| whatever the mask.
        &abs(&dy),
        &abs(&dw0),
        &abs(&db0),
    );
    for level in levels("conv2d + relu") {
        let what =
            |t: &str| format!("{level:?} conv+relu {CI}→{CO} k{K} s{S} p{P} {H}×{W}, n = {n}: {t}");
        // The unfused chain at this level.
        let mut cy = vec![f32::NAN; n * out];
        Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::forward_at(level, &w, &b, &x, &mut cy);
        let pre = cy.clone();
        Relu::<1>::forward_at(level, &[], &[], &pre, &mut cy);
        let mut cdz = vec![f32::NAN; n * out];
        Relu::<1>::backward_at(level, &[], &[], &cy, &dy, Some(&mut cdz), &mut [], &mut []);
        let (mut cdw, mut cdb, mut cdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; x.len()]);
        Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::backward_at(
            level,
            &w,
            &x,
            &[],
            &cdz,
            Some(&mut cdx),
            &mut cdw,
            &mut cdb,
        );
        // The fused layer.
        let mut got = vec![f32::NAN; n * out];
        Conv2dReluLayer::<CI, CO, K, S, P, H, W, HO, WO>::forward_at(level, &w, &b, &x, &mut got);
        assert_close(&what("y"), &got, &y, &ya, 2e-5);
        assert_eq!(bits(&got), bits(&cy), "{}", what("y as the chain"));
        let (dw, db, dx) = spec_grads(&got);
        let (mut gdw, mut gdb, mut gdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; x.len()]);
        Conv2dReluLayer::<CI, CO, K, S, P, H, W, HO, WO>::backward_at(
            level,
            &w,
            &x,
            &got,
            &dy,
            Some(&mut gdx),
            &mut gdw,
            &mut gdb,
        );
        assert_close(&what("dw"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db"), &gdb, &db, &dba, 2e-5);
        assert_close(&what("dx"), &gdx, &dx, &dxa, 2e-5);
        assert_eq!(bits(&gdw), bits(&cdw), "{}", what("dw as the chain"));
        // db is summed as the mask is applied (in another order than the
        // chain's separate pass), so within rounding of it.
        assert_close(&what("db as the chain"), &gdb, &cdb, &dba, 2e-5);
        assert_eq!(bits(&gdx), bits(&cdx), "{}", what("dx as the chain"));
        let (mut gdw, mut gdb) = (dw0.clone(), db0.clone());
        Conv2dReluLayer::<CI, CO, K, S, P, H, W, HO, WO>::backward_at(
            level, &w, &x, &got, &dy, None, &mut gdw, &mut gdb,
        );
        assert_eq!(bits(&gdw), bits(&cdw), "{}", what("dw without dx"));
        assert_close(&what("db without dx"), &gdb, &cdb, &dba, 2e-5);
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

macro_rules! relu_cases {
    ($($name:ident: ($ci:literal, $co:literal, $k:literal, $s:literal, $p:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(6))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..8) {
                    check_relu::<$ci, $co, $k, $s, $p, $h, $w,
                        { ($h + 2 * $p - $k) / $s + 1 }, { ($w + 2 * $p - $k) / $s + 1 }>(seed, n);
                }
            )*
        }
    };
}

relu_cases! {
    relu_lenet_c1: (1, 6, 5, 1, 0, 32, 32);
    relu_lenet_c3: (6, 16, 5, 1, 0, 14, 14);
    relu_mnist_c1_padded: (1, 6, 5, 1, 2, 28, 28);
    relu_channels_padded: (3, 16, 3, 1, 1, 9, 9);
    relu_strided: (2, 5, 3, 2, 0, 11, 11);
    relu_strided_padded: (2, 4, 3, 2, 1, 8, 8);
    relu_k2_odd: (5, 7, 2, 1, 0, 9, 11);
}

/// The fused `Conv2dReluPoolLayer` against the unfused chain
/// (`Conv2dLayer`, `ReluLayer`, then `AvgPool2dLayer` or `MaxPool2dLayer`)
/// at every level and against its scalar specification.
fn check_pooled<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const PH: usize,
    const PW: usize,
>(
    seed: u64,
    n: usize,
) {
    use crate::ops::{AvgPool2dLayer, MaxPool2dLayer, ReluLayer};
    let mut rng = Rng::new(seed);
    let w = rng.vec(CO * CI * K * K);
    let b = rng.vec(CO);
    let x = rng.vec(n * CI * H * W);
    let (inp, out) = (CI * H * W, CO * PH * PW);
    // Bounds on rounding: the pooled sums of absolute values.
    let mut bound = vec![0.0; n * out];
    for s in 0..n {
        scalar::forward_relu_pool::<CI, CO, K, S, P, H, W, PH, PW>(
            &abs(&w),
            &abs(&b),
            &abs(&x[s * inp..(s + 1) * inp]),
            &mut bound[s * out..(s + 1) * out],
            scalar::Pool2::Max,
        );
    }
    for max in [false, true] {
        let pool = if max {
            scalar::Pool2::Max
        } else {
            scalar::Pool2::Avg
        };
        let mut spec = vec![0.0; n * out];
        for s in 0..n {
            scalar::forward_relu_pool::<CI, CO, K, S, P, H, W, PH, PW>(
                &w,
                &b,
                &x[s * inp..(s + 1) * inp],
                &mut spec[s * out..(s + 1) * out],
                pool,
            );
        }
        for level in levels("conv2d + relu + pool") {
            let what = |t: &str| {
                format!(
                    "{level:?} conv+relu+{pool:?} {CI}→{CO} k{K} s{S} p{P} {H}×{W}, n = {n}: {t}"
                )
            };
            let mut map = vec![f32::NAN; n * CO * HO * WO];
            Conv2dLayer::<CI, CO, K, S, P, H, W, HO, WO>::forward_at(level, &w, &b, &x, &mut map);
            let pre = map.clone();
            ReluLayer::<1>::forward_at(level, &[], &[], &pre, &mut map);
            let mut chain = vec![f32::NAN; n * out];
            if max {
                MaxPool2dLayer::<CO, 2, 2, HO, WO, PH, PW>::forward_at(
                    level,
                    &[],
                    &[],
                    &map,
                    &mut chain,
                );
            } else {
                AvgPool2dLayer::<CO, 2, 2, HO, WO, PH, PW>::forward_at(
                    level,
                    &[],
                    &[],
                    &map,
                    &mut chain,
                );
            }
            let mut got = vec![f32::NAN; n * out];
            if max {
                Conv2dReluPoolLayer::<CI, CO, K, S, P, H, W, HO, WO, true, PH, PW>::forward_at(
                    level, &w, &b, &x, &mut got,
                );
            } else {
                Conv2dReluPoolLayer::<CI, CO, K, S, P, H, W, HO, WO, false, PH, PW>::forward_at(
                    level, &w, &b, &x, &mut got,
                );
            }
            assert_close(&what("y against the chain"), &got, &chain, &bound, 2e-5);
            assert_close(
                &what("y against the specification"),
                &got,
                &spec,
                &bound,
                2e-5,
            );
        }
    }
}

macro_rules! pooled_cases {
    ($($name:ident: ($ci:literal, $co:literal, $k:literal, $s:literal, $p:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..6) {
                    check_pooled::<$ci, $co, $k, $s, $p, $h, $w,
                        { ($h + 2 * $p - $k) / $s + 1 }, { ($w + 2 * $p - $k) / $s + 1 },
                        { (($h + 2 * $p - $k) / $s + 1) / 2 }, { (($w + 2 * $p - $k) / $s + 1) / 2 }>(seed, n);
                }
            )*
        }
    };
}

pooled_cases! {
    pooled_lenet_c1: (1, 6, 5, 1, 0, 32, 32);
    pooled_lenet_c3: (6, 16, 5, 1, 0, 14, 14);
    pooled_mnist_c1_padded: (1, 6, 5, 1, 2, 28, 28);
    pooled_channels_padded_odd: (3, 16, 3, 1, 1, 9, 9);
    pooled_odd_rows: (2, 5, 2, 1, 0, 8, 10);
    pooled_strided: (2, 4, 3, 2, 0, 13, 13);
    pooled_strided_padded: (2, 4, 3, 2, 1, 8, 8);
}
