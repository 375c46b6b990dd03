//! The second edition's layers against PyTorch itself, at every level this
//! CPU runs: grouped, depthwise, dilated and rectangular convolutions,
//! padded pooling and batch norm in training and evaluation, from the
//! fixture `scripts/make_newops_fixture.py` writes.

use lenet_runtime::ops::{
    BatchNormLayer, DepthwiseConv2dLayer, GroupedConv2dLayer, Layer, PaddedAvgPool2dLayer,
    PaddedMaxPool2dLayer,
};
use lenet_runtime::simd::available;
use serde_json::Value;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{j}]: lenet {g}, PyTorch {w}"
        );
    }
}

fn layer<L: Layer>(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let get = |k: &str| floats(&case[k]);
    let (x, dy) = (get("x"), get("dy"));
    let (w, b) = if case["kind"] == "conv" {
        (get("w"), get("b"))
    } else {
        (vec![], vec![])
    };
    assert_eq!(
        x.len(),
        case["n"].as_u64().unwrap() as usize * L::IN,
        "{name}: input size"
    );
    assert_eq!(
        (w.len(), b.len()),
        (L::WEIGHTS, L::BIASES),
        "{name}: parameters"
    );
    for level in available() {
        let what = |t: &str| format!("{level:?} {name}: {t}");
        let mut y = vec![f32::NAN; dy.len()];
        L::forward_at(level, &w, &b, &x, &mut y);
        close(&what("y"), &y, &get("y"), 1e-5);
        let (mut dx, mut dw, mut db) = (
            vec![f32::NAN; x.len()],
            vec![0.0; w.len()],
            vec![0.0; b.len()],
        );
        L::backward_at(level, &w, &x, &y, &dy, Some(&mut dx), &mut dw, &mut db);
        close(&what("dx"), &dx, &get("dx"), 1e-5);
        if case["kind"] == "conv" {
            close(&what("dw"), &dw, &get("dw"), 1e-5);
            close(&what("db"), &db, &get("db"), 1e-5);
        }
    }
}

fn batch_norm<const C: usize, const HW: usize>(case: &Value) {
    type Bn<const C: usize, const HW: usize> = BatchNormLayer<C, HW>;
    let name = case["name"].as_str().unwrap();
    let get = |k: &str| floats(&case[k]);
    let (x, dy, gamma, beta) = (get("x"), get("dy"), get("gamma"), get("beta"));
    let (eps, momentum) = (
        case["eps"].as_f64().unwrap() as f32,
        case["momentum"].as_f64().unwrap() as f32,
    );
    // Two chunks, as two threads would cut the batch.
    let half = x.len() / C / HW / 2 * C * HW;
    let stats = Bn::<C, HW>::stats(&x[..half]).combine(&Bn::<C, HW>::stats(&x[half..]));
    let norm = stats.normalisation(eps);
    let sums = Bn::<C, HW>::grad_sums(&norm, &x[..half], &dy[..half])
        .combine(&Bn::<C, HW>::grad_sums(&norm, &x[half..], &dy[half..]));
    let (mut dgamma, mut dbeta) = (vec![0.0; C], vec![0.0; C]);
    sums.add_param_grads(&mut dgamma, &mut dbeta);
    close(&format!("{name}: dgamma"), &dgamma, &get("dgamma"), 1e-5);
    close(&format!("{name}: dbeta"), &dbeta, &get("dbeta"), 1e-5);
    let (mut rm, mut rv, mut tracked) = (get("running_mean0"), get("running_var0"), 0i64);
    Bn::<C, HW>::update_running(&stats, momentum, &mut rm, &mut rv, &mut tracked);
    close(
        &format!("{name}: running_mean"),
        &rm,
        &get("running_mean"),
        1e-6,
    );
    close(
        &format!("{name}: running_var"),
        &rv,
        &get("running_var"),
        1e-6,
    );
    assert_eq!(tracked, case["num_batches_tracked"].as_i64().unwrap());
    for level in available() {
        let what = |t: &str| format!("{level:?} {name}: {t}");
        let mut y = vec![f32::NAN; x.len()];
        Bn::<C, HW>::forward_train_at(level, &norm, &gamma, &beta, &x, &mut y);
        close(&what("y"), &y, &get("y"), 1e-5);
        let mut dx = vec![f32::NAN; x.len()];
        Bn::<C, HW>::backward_input_at(level, &norm, &gamma, &sums, &x, &dy, &mut dx);
        close(&what("dx"), &dx, &get("dx"), 1e-4);
        let mut y = vec![f32::NAN; x.len()];
        Bn::<C, HW>::forward_eval_at(level, &gamma, &beta, &rm, &rv, eps, &x, &mut y);
        close(&what("eval y"), &y, &get("y_eval"), 1e-5);
    }
}

#[test]
fn new_layers_match_pytorch() {
    let fixture: Value = serde_json::from_str(include_str!("newops_fixture.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        match case["name"].as_str().unwrap() {
            "grouped_dilated" => {
                layer::<GroupedConv2dLayer<4, 6, 3, 2, 1, 2, 1, 0, 2, 1, 2, true, 7, 8, 5, 4>>(case)
            }
            "dscnn_first" => layer::<
                GroupedConv2dLayer<1, 4, 10, 4, 2, 2, 5, 1, 1, 1, 1, true, 49, 10, 25, 5>,
            >(case),
            "depthwise_s2_nobias" => layer::<
                DepthwiseConv2dLayer<3, 1, 3, 3, 2, 2, 1, 1, 1, 1, false, 9, 10, 5, 5>,
            >(case),
            "depthwise_multiplier" => {
                layer::<DepthwiseConv2dLayer<2, 3, 3, 3, 1, 1, 1, 1, 1, 1, true, 6, 5, 6, 5>>(case)
            }
            "pointwise_nobias" => layer::<
                GroupedConv2dLayer<5, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, false, 4, 4, 4, 4>,
            >(case),
            "max_k3_s2_p1" => layer::<PaddedMaxPool2dLayer<2, 3, 3, 2, 2, 1, 1, 9, 8, 5, 4>>(case),
            "max_rect" => layer::<PaddedMaxPool2dLayer<2, 3, 2, 2, 1, 1, 1, 7, 6, 4, 7>>(case),
            "avg_k3_s2_p1" => layer::<PaddedAvgPool2dLayer<2, 3, 3, 2, 2, 1, 1, 9, 8, 5, 4>>(case),
            "avg_rect" => layer::<PaddedAvgPool2dLayer<2, 2, 4, 1, 3, 1, 2, 5, 11, 6, 4>>(case),
            "bn2d" => batch_norm::<3, 30>(case),
            "bn1d" => batch_norm::<7, 1>(case),
            other => panic!("unknown case {other}"),
        }
    }
}
