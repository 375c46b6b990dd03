//! Batch norm through its type against the scalar specification at every
//! level, the chunked statistics against the whole batch's, a small example
//! computed by PyTorch, and the fold into the layer before.

use proptest::prelude::*;

use super::{fold_into_preceding, scalar, BatchNormLayer, BatchStats, EvalNorm, GradSums};
use crate::ops::test_support::{levels, Rng};
use crate::ops::Clamp;

fn close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{j}]: got {g}, want {w}"
        );
    }
}

fn check<const C: usize, const HW: usize>(seed: u64, n: usize) {
    let mut rng = Rng::new(seed);
    let x: Vec<f32> = rng.vec(n * C * HW).iter().map(|v| 3.0 * v + 0.5).collect();
    let dy = rng.vec(x.len());
    let (gamma, beta) = (rng.vec(C), rng.vec(C));
    let (rm, rv): (Vec<f32>, Vec<f32>) = (
        rng.vec(C),
        rng.vec(C).iter().map(|v| v.abs() + 0.1).collect(),
    );
    let eps = 1e-5;
    let stats = BatchNormLayer::<C, HW>::stats(&x);
    let norm = stats.normalisation(eps);
    let sums = BatchNormLayer::<C, HW>::grad_sums(&norm, &x, &dy);

    let mut y = vec![0.0; x.len()];
    scalar::forward::<C>(HW, &norm, &gamma, &beta, &x, &mut y);
    let mut dx = vec![0.0; x.len()];
    scalar::backward_input::<C>(HW, &norm, &gamma, &sums, &x, &dy, &mut dx);
    let mut ye = vec![0.0; x.len()];
    scalar::forward_eval::<C>(HW, &gamma, &beta, &rm, &rv, eps, &x, &mut ye);

    for level in levels("batch_norm") {
        let what = |t: &str| format!("{level:?} batch norm C = {C}, HW = {HW}, n = {n}: {t}");
        let mut got = vec![f32::NAN; x.len()];
        BatchNormLayer::<C, HW>::forward_train_at(level, &norm, &gamma, &beta, &x, &mut got);
        close(&what("train y"), &got, &y, 1e-5);
        let mut got = vec![f32::NAN; x.len()];
        BatchNormLayer::<C, HW>::backward_input_at(level, &norm, &gamma, &sums, &x, &dy, &mut got);
        close(&what("dx"), &got, &dx, 1e-4);
        let mut got = vec![f32::NAN; x.len()];
        BatchNormLayer::<C, HW>::forward_eval_at(level, &gamma, &beta, &rm, &rv, eps, &x, &mut got);
        close(&what("eval y"), &got, &ye, 1e-5);
        // In place: the very same bits as out of place.
        let mut inplace = x.clone();
        BatchNormLayer::<C, HW>::forward_eval_in_place_at(
            level,
            &gamma,
            &beta,
            &rm,
            &rv,
            eps,
            &mut inplace,
        );
        assert_eq!(
            inplace.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{}",
            what("eval in place")
        );
        // Clamped: the clamp of the unclamped bits, out of place and in place.
        let norm = EvalNorm {
            gamma: &gamma,
            beta: &beta,
            running_mean: &rm,
            running_var: &rv,
            eps,
        };
        for clamp in [Clamp::Relu, Clamp::Relu6] {
            let (lo, hi) = clamp.bounds();
            let want: Vec<u32> = got.iter().map(|v| v.clamp(lo, hi).to_bits()).collect();
            let mut clamped = vec![f32::NAN; x.len()];
            BatchNormLayer::<C, HW>::forward_eval_clamped_at(level, norm, clamp, &x, &mut clamped);
            let bits: Vec<u32> = clamped.iter().map(|v| v.to_bits()).collect();
            assert_eq!(bits, want, "{}", what("eval clamped"));
            let mut inplace = x.clone();
            BatchNormLayer::<C, HW>::forward_eval_clamped_in_place_at(
                level,
                norm,
                clamp,
                &mut inplace,
            );
            let bits: Vec<u32> = inplace.iter().map(|v| v.to_bits()).collect();
            assert_eq!(bits, want, "{}", what("eval clamped in place"));
        }
    }

    // Any chunking of the batch gives the whole batch's statistics and sums.
    for chunk in 1..n {
        let (mut s, mut g) = (BatchStats::<C>::EMPTY, GradSums::<C>::ZERO);
        for (xc, dyc) in x.chunks(chunk * C * HW).zip(dy.chunks(chunk * C * HW)) {
            s = s.combine(&BatchNormLayer::<C, HW>::stats(xc));
            g = g.combine(&BatchNormLayer::<C, HW>::grad_sums(&norm, xc, dyc));
        }
        assert_eq!(s.count, stats.count);
        for ch in 0..C {
            let tol = 1e-9 * (1.0 + stats.m2[ch].abs());
            assert!(
                (s.mean[ch] - stats.mean[ch]).abs() <= 1e-12,
                "mean, chunks of {chunk}"
            );
            assert!(
                (s.m2[ch] - stats.m2[ch]).abs() <= tol,
                "m2, chunks of {chunk}"
            );
            assert!((g.sum_dy[ch] - sums.sum_dy[ch]).abs() <= 1e-9);
            assert!((g.sum_dy_xhat[ch] - sums.sum_dy_xhat[ch]).abs() <= 1e-9);
        }
    }
}

macro_rules! cases {
    ($($name:ident: ($c:literal, $hw:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(8))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 2usize..7) {
                    check::<$c, $hw>(seed, n);
                }
            )*
        }
    };
}

cases! {
    bn2d_small: (3, 5);
    bn2d_planes: (4, 49);
    bn2d_vectors: (2, 32);
    bn2d_one_row: (5, 17);
    bn1d: (7, 1);
    bn1d_wide: (120, 1);
    bn1d_vector: (16, 1);
}

/// `torch.nn.BatchNorm2d(2)` in training mode on a 2×2×1×3 batch, with
/// `weight = [1.5, −0.5]`, `bias = [0.25, 1]`, `running_mean = [0.1, −0.2]`,
/// `running_var = [2, 0.5]` (numbers printed by PyTorch 2).
#[test]
fn matches_pytorch_on_a_small_batch() {
    type Bn = BatchNormLayer<2, 3>;
    let x = [1., 2., 4., 0.5, -1., 3., -2., 0., 1., 2., 2.5, -0.5];
    let dy = [0.3, -1., 2., 1., 0., -0.5, 0.7, 0.2, -0.4, -1.5, 0.25, 1.];
    let (gamma, beta) = ([1.5f32, -0.5], [0.25f32, 1.]);
    let (mut rm, mut rv, mut tracked) = ([0.1f32, -0.2], [2.0f32, 0.5], 0i64);

    let stats = Bn::stats(&x[..6]).combine(&Bn::stats(&x[6..]));
    let norm = stats.normalisation(1e-5);
    let mut y = [0.0; 12];
    Bn::forward_train(&norm, &gamma, &beta, &x, &mut y);
    let want_y = [
        0.25,
        1.071_582_6,
        2.714_748,
        1.192_960_9,
        1.689_145_8,
        0.365_985_93,
        -2.214_748,
        -0.571_582_6,
        0.25,
        0.696_775_9,
        0.531_380_9,
        1.523_750_9,
    ];
    close("y", &y, &want_y, 1e-6);

    let sums =
        Bn::grad_sums(&norm, &x[..6], &dy[..6]).combine(&Bn::grad_sums(&norm, &x[6..], &dy[6..]));
    let (mut dgamma, mut dbeta) = ([0.0; 2], [0.0; 2]);
    sums.add_param_grads(&mut dgamma, &mut dbeta);
    close("dgamma", &dgamma, &[1.478_848_7, -2.742_800_5], 1e-6);
    close("dbeta", &dbeta, &[1.8, 0.25], 1e-6);
    let mut dx = [0.0; 12];
    Bn::backward_input(&norm, &gamma, &sums, &x, &dy, &mut dx);
    let want_dx = [
        2.448_507e-8,
        -1.178_970_7,
        1.063_950_5,
        -0.258_649_86,
        0.222_201_51,
        -0.012_567_167,
        0.661_372_96,
        0.028_755_072,
        -0.575_107_8,
        0.418_263_7,
        -0.210_639_2,
        -0.158_608_94,
    ];
    close("dx", &dx, &want_dx, 1e-5);

    Bn::update_running(&stats, 0.1, &mut rm, &mut rv, &mut tracked);
    close("running_mean", &rm, &[0.19, -0.071_666_65], 1e-6);
    close("running_var", &rv, &[2.2, 0.724_166_7], 1e-6);
    assert_eq!(tracked, 1);

    let mut ye = [0.0; 12];
    Bn::forward_eval(&gamma, &beta, &rm, &rv, 1e-5, &x, &mut ye);
    let want_eval = [
        1.069_150_9,
        2.080_448_4,
        4.103_043_6,
        0.664_115_1,
        1.545_445_9,
        -0.804_769_75,
        -1.964_741_5,
        0.057_853_483,
        1.069_150_9,
        -0.217_215_84,
        -0.510_992_77,
        1.251_668_9,
    ];
    close("eval y", &ye, &want_eval, 1e-6);
}

#[test]
fn folding_into_the_layer_before_gives_the_same_outputs() {
    use crate::ops::{GroupedConv2dLayer, Layer, LinearLayer};
    let mut rng = Rng::new(7);
    let (gamma, beta, rm) = (rng.vec(4), rng.vec(4), rng.vec(4));
    let rv: Vec<f32> = rng.vec(4).iter().map(|v| v.abs() + 0.2).collect();
    let eps = 1e-3;

    // A convolution without bias, then BatchNorm2d(4).
    type Conv = GroupedConv2dLayer<2, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 5, 6, 5, 6>;
    type Folded = GroupedConv2dLayer<2, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, 5, 6, 5, 6>;
    let (w, x) = (rng.vec(Conv::WEIGHTS), rng.vec(3 * Conv::IN));
    let mut h = vec![0.0; 3 * Conv::OUT];
    Conv::forward(&w, &[], &x, &mut h);
    let mut want = vec![0.0; h.len()];
    BatchNormLayer::<4, 30>::forward_eval(&gamma, &beta, &rm, &rv, eps, &h, &mut want);
    let (mut fw, mut fb) = (w.clone(), vec![0.0; 4]);
    fold_into_preceding(&gamma, &beta, &rm, &rv, eps, &mut fw, &mut fb);
    let mut got = vec![0.0; h.len()];
    Folded::forward(&fw, &fb, &x, &mut got);
    close("folded conv", &got, &want, 1e-5);

    // A linear layer, then BatchNorm1d(4).
    let (w, b, x) = (rng.vec(4 * 9), rng.vec(4), rng.vec(2 * 9));
    let mut h = vec![0.0; 8];
    LinearLayer::<9, 4>::forward(&w, &b, &x, &mut h);
    let mut want = vec![0.0; 8];
    BatchNormLayer::<4, 1>::forward_eval(&gamma, &beta, &rm, &rv, eps, &h, &mut want);
    let (mut fw, mut fb) = (w.clone(), b.clone());
    fold_into_preceding(&gamma, &beta, &rm, &rv, eps, &mut fw, &mut fb);
    let mut got = vec![0.0; 8];
    LinearLayer::<9, 4>::forward(&fw, &fb, &x, &mut got);
    close("folded linear", &got, &want, 1e-5);
}

#[test]
fn inv_sqrt_without_std_is_exact_to_rounding() {
    for v in [
        1e-12, 1e-5, 0.1, 0.5, 1.0, 2.0, 3.999, 4.0, 1e3, 1e30, 123.456,
    ] {
        let want = 1.0 / f64::sqrt(v);
        assert!(
            (scalar::inv_sqrt_newton(v) - want).abs() <= 4.0 * f64::EPSILON * want,
            "{v}"
        );
    }
    assert_eq!(scalar::inv_sqrt_newton(0.0), f64::INFINITY);
    assert_eq!(scalar::inv_sqrt_newton(f64::INFINITY), 0.0);
    assert!(scalar::inv_sqrt_newton(-1.0).is_nan() && scalar::inv_sqrt_newton(f64::NAN).is_nan());
}

#[test]
fn eval_coefficients_are_the_specifications_bits_at_every_level() {
    let mut rng = Rng::new(11);
    // 37 channels: whole vectors and a tail; variances from 0 (with eps)
    // to large, one negative (NaN), one infinite.
    let c = 37;
    let mean = rng.vec(c);
    let gamma = rng.vec(c);
    let mut var: Vec<f32> = rng.vec(c).iter().map(|v| v.abs() * 10f32.powi(4)).collect();
    var[0] = 0.0;
    var[1] = 1e-30;
    var[2] = -1.0;
    var[3] = f32::INFINITY;
    let mut want = (vec![f32::NAN; c], vec![f32::NAN; c]);
    scalar::eval_coefficients((&mean, &var, &gamma), 1e-5, &mut want.0, &mut want.1);
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for level in levels("batch_norm coefficients") {
        let mut got = (vec![f32::NAN; c], vec![f32::NAN; c]);
        super::kernels::coefficients(level, (&mean, &var, &gamma), 1e-5, &mut got.0, &mut got.1);
        assert_eq!(bits(&got.0), bits(&want.0), "{level:?}: s");
        assert_eq!(bits(&got.1), bits(&want.1), "{level:?}: a");
    }
}
