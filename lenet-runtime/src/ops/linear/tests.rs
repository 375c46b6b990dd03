//! The vectorised fully connected layer against its scalar specification,
//! forward and backward, at every level this CPU runs, over many sizes.

use proptest::prelude::*;

use super::{scalar, LinearLayer, LinearReluLayer};
use crate::ops::layer::Layer;
use crate::ops::test_support::{abs, assert_close, levels, Rng};

#[allow(clippy::type_complexity)]
fn reference<const I: usize, const O: usize>(
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    dy: &[f32],
    dw0: &[f32],
    db0: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut y = vec![0.0; n * O];
    scalar::forward((I, O), n, w, b, x, &mut y);
    let (mut dw, mut db, mut dx) = (dw0.to_vec(), db0.to_vec(), vec![0.0; n * I]);
    scalar::backward_params((I, O), n, x, None, dy, &mut dw, &mut db);
    scalar::backward_input((I, O), n, w, None, dy, &mut dx);
    (y, dw, db, dx)
}

fn check<const I: usize, const O: usize>(seed: u64, n: usize) {
    let mut rng = Rng::new(seed);
    let (w, b, x, dy) = (rng.vec(O * I), rng.vec(O), rng.vec(n * I), rng.vec(n * O));
    let (dw0, db0) = (rng.vec(O * I), rng.vec(O));
    let (y, dw, db, dx) = reference::<I, O>(n, &w, &b, &x, &dy, &dw0, &db0);
    let (ya, dwa, dba, dxa) = reference::<I, O>(
        n,
        &abs(&w),
        &abs(&b),
        &abs(&x),
        &abs(&dy),
        &abs(&dw0),
        &abs(&db0),
    );
    for level in levels("linear") {
        let what = |t: &str| format!("{level:?} linear {I}→{O}, n = {n}: {t}");
        let mut got = vec![f32::NAN; y.len()];
        LinearLayer::<I, O>::forward_at(level, &w, &b, &x, &mut got);
        assert_close(&what("y"), &got, &y, &ya, 2e-5);

        let (mut gdw, mut gdb, mut gdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; x.len()]);
        LinearLayer::<I, O>::backward_at(
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
        LinearLayer::<I, O>::backward_at(level, &w, &x, &[], &dy, None, &mut gdw, &mut gdb);
        assert_close(&what("dw without dx"), &gdw, &dw, &dwa, 2e-5);
        assert_close(&what("db without dx"), &gdb, &db, &dba, 2e-5);
    }
}

macro_rules! cases {
    ($($name:ident: ($i:literal, $o:literal, $nmax:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(12))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..$nmax) {
                    check::<$i, $o>(seed, n);
                }
            )*
        }
    };
}

cases! {
    lenet_fc1: (400, 120, 70);
    lenet_fc2: (120, 84, 40);
    lenet_fc3: (84, 10, 40);
    one_to_one: (1, 1, 10);
    small_odd: (3, 5, 10);
    one_vector: (16, 16, 20);
    just_over: (17, 33, 30);
    many_outputs: (7, 131, 15);
    wide_input: (257, 3, 15);
    square: (64, 64, 30);
}

/// The portable forward pass sums each output's inputs in the
/// specification's order: where the build does not fuse multiply-adds
/// (every host build), it is the specification bit for bit.
#[test]
fn portable_is_the_specification_exactly() {
    fn exact<const I: usize, const O: usize>(seed: u64, n: usize) {
        let mut rng = Rng::new(seed);
        let (w, b, x) = (rng.vec(O * I), rng.vec(O), rng.vec(n * I));
        let mut want = vec![0.0; n * O];
        scalar::forward((I, O), n, &w, &b, &x, &mut want);
        let mut got = vec![f32::NAN; want.len()];
        LinearLayer::<I, O>::forward_at(crate::simd::Level::Portable, &w, &b, &x, &mut got);
        assert_eq!(got, want, "linear {I}→{O}, n = {n}");
    }
    exact::<400, 120>(1, 1);
    exact::<120, 84>(2, 3);
    exact::<84, 10>(3, 2);
    exact::<17, 7>(4, 5);
}

/// The fused `LinearReluLayer` against the unfused chain (`LinearLayer`
/// then `ReluLayer`) at every level, which it must match exactly, and
/// against the scalar specification of the chain within rounding.
fn check_relu<const I: usize, const O: usize>(seed: u64, n: usize) {
    type Relu = crate::ops::ReluLayer<1>;
    let mut rng = Rng::new(seed);
    let (w, b, x, dy) = (rng.vec(O * I), rng.vec(O), rng.vec(n * I), rng.vec(n * O));
    let (dw0, db0) = (rng.vec(O * I), rng.vec(O));
    let (mut y, _, _, _) = reference::<I, O>(n, &w, &b, &x, &dy, &dw0, &db0);
    scalar::relu_in_place(&mut y);
    // The gradients are masked by the output the layer is handed back: an
    // output within rounding of zero may be zero at one level and not at
    // another, so each level's mask is its own.
    let spec_grads = |y: &[f32]| {
        let dz: Vec<f32> = y
            .iter()
            .zip(&dy)
            .map(|(&y, &d)| scalar::relu_grad(y, d))
            .collect();
        let (_, dw, db, dx) = reference::<I, O>(n, &w, &b, &x, &dz, &dw0, &db0);
        (dw, db, dx)
    };
    let (ya, dwa, dba, dxa) = reference::<I, O>(
        n,
        &abs(&w),
        &abs(&b),
        &abs(&x),
        // |dy| bounds |dz| whatever the mask.
        &abs(&dy),
        &abs(&dw0),
        &abs(&db0),
    );
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    for level in levels("linear + relu") {
        let what = |t: &str| format!("{level:?} linear+relu {I}→{O}, n = {n}: {t}");
        let mut cy = vec![f32::NAN; n * O];
        LinearLayer::<I, O>::forward_at(level, &w, &b, &x, &mut cy);
        let pre = cy.clone();
        Relu::forward_at(level, &[], &[], &pre, &mut cy);
        let mut cdz = vec![f32::NAN; n * O];
        Relu::backward_at(level, &[], &[], &cy, &dy, Some(&mut cdz), &mut [], &mut []);
        let (mut cdw, mut cdb, mut cdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; x.len()]);
        LinearLayer::<I, O>::backward_at(
            level,
            &w,
            &x,
            &[],
            &cdz,
            Some(&mut cdx),
            &mut cdw,
            &mut cdb,
        );

        let mut got = vec![f32::NAN; n * O];
        LinearReluLayer::<I, O>::forward_at(level, &w, &b, &x, &mut got);
        assert_close(&what("y"), &got, &y, &ya, 2e-5);
        assert_eq!(bits(&got), bits(&cy), "{}", what("y as the chain"));
        let (dw, db, dx) = spec_grads(&got);
        let (mut gdw, mut gdb, mut gdx) = (dw0.clone(), db0.clone(), vec![f32::NAN; dx.len()]);
        LinearReluLayer::<I, O>::backward_at(
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
        assert_eq!(bits(&gdb), bits(&cdb), "{}", what("db as the chain"));
        assert_eq!(bits(&gdx), bits(&cdx), "{}", what("dx as the chain"));
        let (mut gdw, mut gdb) = (dw0.clone(), db0.clone());
        LinearReluLayer::<I, O>::backward_at(level, &w, &x, &got, &dy, None, &mut gdw, &mut gdb);
        assert_eq!(bits(&gdw), bits(&cdw), "{}", what("dw without dx"));
        assert_eq!(bits(&gdb), bits(&cdb), "{}", what("db without dx"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn relu_lenet_fc1(seed in any::<u64>(), n in 1usize..40) { check_relu::<400, 120>(seed, n); }
    #[test]
    fn relu_lenet_fc2(seed in any::<u64>(), n in 1usize..40) { check_relu::<120, 84>(seed, n); }
    #[test]
    fn relu_just_over(seed in any::<u64>(), n in 1usize..30) { check_relu::<17, 33>(seed, n); }
    #[test]
    fn relu_small_odd(seed in any::<u64>(), n in 1usize..10) { check_relu::<3, 5>(seed, n); }
}
