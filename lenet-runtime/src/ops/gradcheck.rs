//! Every layer's backward pass against central finite differences of
//! `L = Σ dy · forward(w, b, x)`, computed in f64, at every level of the
//! dispatch this CPU runs.

use super::test_support::{levels, Rng};
use super::{
    AdaptiveAvgPool2dLayer, AvgPool2dLayer, Conv2dLayer, FlattenLayer, Layer, LinearLayer,
    MaxPool2dLayer, ReluLayer, SigmoidLayer, TanhLayer,
};
use super::{
    BatchNormLayer, DepthwiseConv2dLayer, GemmConv2dLayer, GroupedConv2dLayer, LeakyReluLayer,
    PaddedAvgPool2dLayer, PaddedMaxPool2dLayer, Relu6Layer,
};
use crate::simd::Level;

/// `Σ dy · y` in f64.
fn objective<L: Layer>(level: Level, w: &[f32], b: &[f32], x: &[f32], dy: &[f32]) -> f64 {
    let mut y = vec![0.0; dy.len()];
    L::forward_at(level, w, b, x, &mut y);
    y.iter().zip(dy).map(|(&y, &d)| y as f64 * d as f64).sum()
}

/// Central differences of [`objective`] along every coordinate of `v` (one
/// of `w`, `b`, `x`, chosen by `which`).
fn numeric<L: Layer>(
    level: Level,
    which: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    dy: &[f32],
    h: f32,
) -> Vec<f64> {
    let mut args = [w.to_vec(), b.to_vec(), x.to_vec()];
    let len = args[which].len();
    (0..len)
        .map(|j| {
            let v = args[which][j];
            args[which][j] = v + h;
            let up = objective::<L>(level, &args[0], &args[1], &args[2], dy);
            args[which][j] = v - h;
            let down = objective::<L>(level, &args[0], &args[1], &args[2], dy);
            args[which][j] = v;
            // The step actually taken, after rounding to f32.
            (up - down) / ((v + h) as f64 - (v - h) as f64)
        })
        .collect()
}

/// Checks `dx`, `dw`, `db` of `n` images against finite differences with
/// step `h`, within `tol · (1 + |value|)`.
fn check<L: Layer>(
    what: &str,
    level: Level,
    x: Vec<f32>,
    n: usize,
    h: f32,
    tol: f64,
    rng: &mut Rng,
) {
    assert_eq!(x.len(), n * L::IN);
    let w = rng.vec(L::WEIGHTS);
    let b = rng.vec(L::BIASES);
    let dy = rng.vec(n * L::OUT);
    let mut y = vec![0.0; n * L::OUT];
    L::forward_at(level, &w, &b, &x, &mut y);
    let mut dx = vec![f32::NAN; x.len()];
    let (mut dw, mut db) = (vec![0.0; w.len()], vec![0.0; b.len()]);
    L::backward_at(level, &w, &x, &y, &dy, Some(&mut dx), &mut dw, &mut db);
    for (name, which, got) in [("dw", 0, &dw), ("db", 1, &db), ("dx", 2, &dx)] {
        let want = numeric::<L>(level, which, &w, &b, &x, &dy, h);
        for (j, (&g, &f)) in got.iter().zip(&want).enumerate() {
            let err = (g as f64 - f).abs();
            assert!(
                err <= tol * (1.0 + f.abs()),
                "{level:?} {what} {name}[{j}]: backward {g}, finite differences {f}"
            );
        }
    }
}

/// Inputs at least `gap` away from 0 (relu's kink).
fn away_from_zero(rng: &mut Rng, len: usize, gap: f32) -> Vec<f32> {
    (0..len)
        .map(|_| loop {
            let v = rng.float();
            if v.abs() > gap {
                break v;
            }
        })
        .collect()
}

/// Distinct inputs, at least `2 / len` apart (no ties in a max window).
fn distinct(rng: &mut Rng, len: usize) -> Vec<f32> {
    let mut order: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        order.swap(i, rng.next_u64() as usize % (i + 1));
    }
    order
        .iter()
        .map(|&k| 2.0 * k as f32 / len as f32 - 1.0)
        .collect()
}

#[test]
fn every_layer_matches_finite_differences_at_every_level() {
    for level in levels("every layer (finite differences)") {
        let mut rng = Rng::new(0x5eed ^ level as u64);
        let r = &mut rng;
        // Affine in each argument: a large step is exact up to rounding.
        let x = r.vec(2 * 48);
        check::<Conv2dLayer<1, 2, 5, 1, 0, 8, 6, 4, 2>>("conv k5", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 3 * 7 * 6);
        check::<Conv2dLayer<3, 5, 3, 2, 1, 7, 6, 4, 3>>("conv k3 s2 p1", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(3 * 2 * 5 * 5);
        check::<Conv2dLayer<2, 3, 5, 1, 2, 5, 5, 5, 5>>("conv k5 p2", level, x, 3, 1.0, 1e-4, r);
        let x = r.vec(2 * 4 * 6 * 7);
        check::<Conv2dLayer<4, 17, 2, 1, 0, 6, 7, 5, 6>>("conv k2", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 3 * 6 * 6);
        check::<Conv2dLayer<3, 2, 1, 1, 1, 6, 6, 8, 8>>("conv k1 p1", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 3 * 7 * 6);
        check::<DepthwiseConv2dLayer<3, 2, 3, 3, 2, 2, 1, 1, 1, 1, true, 7, 6, 4, 3>>(
            "depthwise k3 s2 p1 ×2",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(2 * 2 * 9 * 8);
        check::<DepthwiseConv2dLayer<2, 1, 3, 2, 1, 2, 2, 1, 2, 3, false, 9, 8, 9, 4>>(
            "depthwise rect dilated",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(2 * 4 * 6 * 7);
        check::<GroupedConv2dLayer<4, 6, 3, 2, 1, 2, 1, 0, 2, 1, 2, true, 6, 7, 4, 3>>(
            "grouped conv g2 dilated",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(2 * 12 * 6);
        check::<GroupedConv2dLayer<1, 3, 10, 4, 2, 2, 5, 1, 1, 1, 1, false, 12, 6, 7, 3>>(
            "conv 10×4 s2 no bias",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(2 * 5 * 3 * 7);
        check::<GemmConv2dLayer<5, 17, 1, 1, 1, 1, 0, 0, 1, 1, true, 3, 7, 3, 7>>(
            "pointwise conv (matrix product)",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(2 * 3 * 9 * 8);
        check::<GemmConv2dLayer<3, 6, 3, 2, 2, 1, 1, 1, 1, 2, false, 9, 8, 5, 8>>(
            "strided dilated conv (matrix product)",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = r.vec(3 * 37);
        check::<LinearLayer<37, 19>>("linear", level, x, 3, 1.0, 1e-4, r);
        let x = r.vec(5 * 120);
        check::<LinearLayer<120, 84>>("linear 120→84", level, x, 5, 1.0, 1e-4, r);
        let x = r.vec(2 * 2 * 7 * 9);
        check::<AvgPool2dLayer<2, 2, 2, 7, 9, 3, 4>>("avg pool 2", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 3 * 7 * 7);
        check::<AvgPool2dLayer<3, 3, 2, 7, 7, 3, 3>>("avg pool 3 s2", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 3 * 4 * 5);
        check::<AdaptiveAvgPool2dLayer<3, 4, 5>>("adaptive avg pool", level, x, 2, 1.0, 1e-4, r);
        let x = r.vec(2 * 30);
        check::<FlattenLayer<30>>("flatten", level, x, 2, 1.0, 1e-4, r);
        // Piecewise linear, away from the kinks and ties.
        let x = away_from_zero(r, 2 * 53, 0.01);
        check::<ReluLayer<53>>("relu", level, x, 2, 1e-3, 1e-3, r);
        let x = away_from_zero(r, 2 * 41, 0.01);
        check::<LeakyReluLayer<41, 0x3e4c_cccd>>("leaky relu 0.2", level, x, 2, 1e-3, 1e-3, r);
        let x = away_from_zero(r, 2 * 41, 0.01);
        check::<LeakyReluLayer<41, 0xbf00_0000>>("leaky relu −0.5", level, x, 2, 1e-3, 1e-3, r);
        let x: Vec<f32> = away_from_zero(r, 2 * 43, 0.01)
            .iter()
            .map(|v| 4.0 * v + 3.0)
            .collect();
        let x: Vec<f32> = x
            .iter()
            .map(|&v| {
                if (v - 6.0).abs() < 0.05 || v.abs() < 0.05 {
                    v + 0.1
                } else {
                    v
                }
            })
            .collect();
        check::<Relu6Layer<43>>("relu6", level, x, 2, 1e-3, 1e-3, r);
        let x = distinct(r, 2 * 2 * 6 * 7);
        check::<MaxPool2dLayer<2, 2, 2, 6, 7, 3, 3>>("max pool 2", level, x, 2, 1e-4, 1e-3, r);
        let x = distinct(r, 2 * 2 * 7 * 7);
        check::<MaxPool2dLayer<2, 3, 2, 7, 7, 3, 3>>("max pool 3 s2", level, x, 2, 1e-4, 1e-3, r);
        let x = r.vec(2 * 2 * 7 * 6);
        check::<PaddedAvgPool2dLayer<2, 3, 2, 2, 1, 1, 1, 7, 6, 4, 7>>(
            "padded avg pool",
            level,
            x,
            2,
            1.0,
            1e-4,
            r,
        );
        let x = distinct(r, 2 * 2 * 7 * 6);
        check::<PaddedMaxPool2dLayer<2, 3, 2, 2, 1, 1, 1, 7, 6, 4, 7>>(
            "padded max pool",
            level,
            x,
            2,
            1e-4,
            1e-3,
            r,
        );
        // Smooth.
        let x = r.vec(2 * 29);
        check::<TanhLayer<29>>("tanh", level, x, 2, 1e-3, 2e-3, r);
        let x = r.vec(2 * 29);
        check::<SigmoidLayer<29>>("sigmoid", level, x, 2, 1e-3, 2e-3, r);
    }
}

#[test]
fn max_pool_sends_the_gradient_to_the_first_maximum() {
    // Every window of a constant plane is a tie: PyTorch (and lenet) give
    // the window's gradient to its first element in row-major order.
    type Pool = MaxPool2dLayer<1, 2, 2, 4, 4, 2, 2>;
    let x = [0.5f32; 16];
    let mut y = [0.0; 4];
    Pool::forward(&[], &[], &x, &mut y);
    let dy = [1.0, 2.0, 3.0, 4.0];
    let mut dx = [f32::NAN; 16];
    Pool::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    let mut want = [0.0; 16];
    for (k, at) in [0, 2, 8, 10].into_iter().enumerate() {
        want[at] = dy[k];
    }
    assert_eq!(dx, want);

    // Overlapping 3×3 windows, stride 2, on a 5×5 plane of ties but for one
    // larger value shared by all four windows: it takes every gradient.
    type Overlap = MaxPool2dLayer<1, 3, 2, 5, 5, 2, 2>;
    let mut x = [1.0f32; 25];
    x[12] = 2.0;
    let mut y = [0.0; 4];
    Overlap::forward(&[], &[], &x, &mut y);
    assert_eq!(y, [2.0; 4]);
    let mut dx = [f32::NAN; 25];
    Overlap::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    let mut want = [0.0; 25];
    want[12] = 10.0;
    assert_eq!(dx, want);

    // Ties in overlapping windows: each window's first maximum.
    let x = [1.0f32; 25];
    Overlap::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    let mut want = [0.0; 25];
    for (k, at) in [0, 2, 10, 12].into_iter().enumerate() {
        want[at] += dy[k];
    }
    assert_eq!(dx, want);
}

/// `Σ dy · BatchNorm_train(x; γ, β)` in f64, the statistics those of the
/// whole batch.
fn batch_norm_objective<const C: usize, const HW: usize>(
    level: Level,
    gamma: &[f32],
    beta: &[f32],
    x: &[f32],
    dy: &[f32],
) -> f64 {
    let norm = BatchNormLayer::<C, HW>::stats(x).normalisation(1e-5);
    let mut y = vec![0.0; x.len()];
    BatchNormLayer::<C, HW>::forward_train_at(level, &norm, gamma, beta, x, &mut y);
    y.iter().zip(dy).map(|(&y, &d)| y as f64 * d as f64).sum()
}

/// Batch norm's backward through the batch statistics (`dx`, `dγ`, `dβ`)
/// against central differences of the training forward.
fn check_batch_norm<const C: usize, const HW: usize>(level: Level, n: usize, rng: &mut Rng) {
    let x: Vec<f32> = rng.vec(n * C * HW).iter().map(|v| 2.0 * v + 0.3).collect();
    let dy = rng.vec(x.len());
    let (gamma, beta) = (rng.vec(C), rng.vec(C));
    let norm = BatchNormLayer::<C, HW>::stats(&x).normalisation(1e-5);
    // Two chunks, as two threads would.
    let half = (n / 2) * C * HW;
    let sums = BatchNormLayer::<C, HW>::grad_sums(&norm, &x[..half], &dy[..half]).combine(
        &BatchNormLayer::<C, HW>::grad_sums(&norm, &x[half..], &dy[half..]),
    );
    let (mut dgamma, mut dbeta) = (vec![0.0; C], vec![0.0; C]);
    sums.add_param_grads(&mut dgamma, &mut dbeta);
    let mut dx = vec![f32::NAN; x.len()];
    BatchNormLayer::<C, HW>::backward_input_at(level, &norm, &gamma, &sums, &x, &dy, &mut dx);

    let h = 1e-2f32;
    let mut args = [gamma.clone(), beta.clone(), x.clone()];
    for (name, which, got) in [("dgamma", 0, &dgamma), ("dbeta", 1, &dbeta), ("dx", 2, &dx)] {
        for j in 0..args[which].len() {
            let v = args[which][j];
            args[which][j] = v + h;
            let up = batch_norm_objective::<C, HW>(level, &args[0], &args[1], &args[2], &dy);
            args[which][j] = v - h;
            let down = batch_norm_objective::<C, HW>(level, &args[0], &args[1], &args[2], &dy);
            args[which][j] = v;
            let want = (up - down) / ((v + h) as f64 - (v - h) as f64);
            let g = got[j] as f64;
            assert!(
                (g - want).abs() <= 5e-3 * (1.0 + want.abs()),
                "{level:?} batch norm C = {C}, HW = {HW}: {name}[{j}]: backward {g}, finite differences {want}"
            );
        }
    }
}

#[test]
fn batch_norm_matches_finite_differences_at_every_level() {
    for level in levels("batch norm (finite differences)") {
        let mut rng = Rng::new(0xb17 ^ level as u64);
        check_batch_norm::<3, 10>(level, 4, &mut rng);
        check_batch_norm::<2, 25>(level, 2, &mut rng);
        check_batch_norm::<9, 1>(level, 6, &mut rng);
        check_batch_norm::<17, 1>(level, 3, &mut rng);
    }
}
