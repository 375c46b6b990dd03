//! Optimisers against PyTorch: short sequences worked out by hand from
//! PyTorch's formulas, and a fixture written by PyTorch itself
//! (`scripts/make_optim_fixture.py`).

mod linear_model;

use linear_model::Tiny;
use lenet_runtime::optim::{Adam, Optimizer, Sgd};
use serde_json::Value;

fn run(opt: &mut impl Optimizer, p: f32, grads: &[f32]) -> Vec<f32> {
    let mut params = [p];
    grads
        .iter()
        .map(|&g| {
            opt.step_slice(&mut params, &[g]);
            params[0]
        })
        .collect()
}

fn close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * w.abs().max(1.0), "step {i}: got {g}, want {w} (all: {got:?})");
    }
}

#[test]
fn plain_sgd_subtracts_lr_times_gradient() {
    close(&run(&mut Sgd::new(0.1), 1.0, &[1.0, -2.0, 0.5]), &[0.9, 1.1, 1.05], 1e-6);
}

#[test]
fn momentum_starts_from_the_first_gradient() {
    // buf = 1, 1.9, 2.71; p = 1 − 0.1·buf cumulatively.
    close(&run(&mut Sgd::new(0.1).momentum(0.9), 1.0, &[1.0; 3]), &[0.9, 0.71, 0.439], 1e-6);
}

#[test]
fn weight_decay_is_added_to_the_gradient_before_momentum() {
    // g₁ = 1 + 0.1·1 = 1.1, buf = 1.1, p = 0.89;
    // g₂ = 1 + 0.1·0.89 = 1.089, buf = 0.99 + 1.089 = 2.079, p = 0.6821.
    let got = run(&mut Sgd::new(0.1).momentum(0.9).weight_decay(0.1), 1.0, &[1.0; 2]);
    close(&got, &[0.89, 0.6821], 1e-6);
}

#[test]
fn nesterov_looks_ahead_along_the_buffer() {
    // buf = 1, g = 1 + 0.9·1 = 1.9, p = 0.81; buf = 1.9, g = 2.71, p = 0.539.
    close(&run(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 1.0, &[1.0; 2]), &[0.81, 0.539], 1e-6);
}

#[test]
fn dampening_scales_later_gradients_only() {
    // buf = 1 (no dampening on the first step), then 0.5·1 + 0.5·1 = 1.
    close(&run(&mut Sgd::new(0.1).momentum(0.5).dampening(0.5), 1.0, &[1.0; 2]), &[0.9, 0.8], 1e-6);
}

#[test]
fn adam_bias_correction_makes_constant_gradients_move_by_lr() {
    // m̂ = g and v̂ = g² at every step for a constant g, so each step is
    // lr · g / (|g| + eps) ≈ lr.
    let got = run(&mut Adam::new(0.1), 1.0, &[2.0; 3]);
    close(&got, &[0.9, 0.8, 0.7], 1e-6);
    // eps outside the square root: with g tiny, the step is lr·g/(|g| + eps).
    let got = run(&mut Adam::new(0.1).eps(1e-3), 0.0, &[1e-3]);
    close(&got, &[-0.05], 1e-6);
}

#[test]
fn adam_after_a_zero_gradient_follows_the_moments() {
    // Step 2 with g = 0: m = 0.18, v = 0.003996, m̂ = 0.18/0.19,
    // v̂ = 0.003996/0.001999, step = 0.1·m̂/(√v̂ + 1e-8).
    let got = run(&mut Adam::new(0.1), 1.0, &[2.0, 0.0]);
    let m_hat = 0.18f64 / 0.19;
    let v_hat = 0.003996f64 / (1.0 - 0.999f64 * 0.999);
    let want = 0.9 - 0.1 * m_hat / (v_hat.sqrt() + 1e-8);
    close(&got, &[0.9, want as f32], 1e-6);
}

#[test]
fn step_updates_a_whole_network() {
    let mut net = Tiny { p: vec![1.0; 8] };
    let grads = Tiny { p: (0..8).map(|i| i as f32).collect() };
    let mut sgd = Sgd::new(0.5);
    sgd.step(&mut net, &grads);
    assert_eq!(net.p, [1.0, 0.5, 0.0, -0.5, -1.0, -1.5, -2.0, -2.5]);
    let mut adam = Adam::new(0.5);
    adam.step(&mut net, &grads);
    assert_eq!(adam.steps(), 1);
    // The first Adam step moves every parameter with a gradient by lr.
    assert!((net.p[3] - (-1.0)).abs() < 1e-6 && net.p[0] == 1.0, "{:?}", net.p);
}

#[test]
fn learning_rate_can_change_between_steps() {
    let mut sgd = Sgd::new(0.1);
    let mut p = [1.0];
    sgd.step_slice(&mut p, &[1.0]);
    sgd.set_lr(0.01);
    sgd.step_slice(&mut p, &[1.0]);
    assert_eq!((sgd.lr(), p[0]), (0.01, 0.9 - 0.01));
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn optimiser(kind: &str, o: &Value) -> Box<dyn Optimizer> {
    let f = |k: &str| o.get(k).and_then(Value::as_f64);
    match kind {
        "sgd" => Box::new(
            Sgd::new(f("lr").unwrap())
                .momentum(f("momentum").unwrap_or(0.0))
                .dampening(f("dampening").unwrap_or(0.0))
                .weight_decay(f("weight_decay").unwrap_or(0.0))
                .nesterov(o.get("nesterov").and_then(Value::as_bool).unwrap_or(false)),
        ),
        "adam" => {
            let b = |i: usize| o.get("betas").and_then(|b| b[i].as_f64()).unwrap_or([0.9, 0.999][i]);
            Box::new(
                Adam::new(f("lr").unwrap())
                    .betas(b(0), b(1))
                    .eps(f("eps").unwrap_or(1e-8))
                    .weight_decay(f("weight_decay").unwrap_or(0.0)),
            )
        }
        other => panic!("unknown optimiser {other}"),
    }
}

#[test]
fn matches_pytorch_step_by_step() {
    let text = include_str!("optim_fixture.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for (c, case) in cases.iter().enumerate() {
        let mut opt = optimiser(case["optimizer"].as_str().unwrap(), &case["options"]);
        let mut p = floats(&case["params"]);
        for (s, (g, want)) in case["grads"].as_array().unwrap().iter().zip(case["after"].as_array().unwrap()).enumerate() {
            opt.step_slice(&mut p, &floats(g));
            for (i, (got, want)) in p.iter().zip(floats(want)).enumerate() {
                // A few ulps: PyTorch's kernels may fuse multiply-adds.
                assert!(
                    (got - want).abs() <= 4.0 * f32::EPSILON * want.abs().max(1.0),
                    "case {c} {} {}, step {s}, param {i}: {got} vs PyTorch {want}",
                    case["optimizer"],
                    case["options"]
                );
            }
        }
    }
}
