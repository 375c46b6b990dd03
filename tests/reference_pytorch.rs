//! The whole forward and backward pass against PyTorch.
//!
//! `scripts/make_fixtures.py` builds each network below in PyTorch, saves its
//! parameters and, for a batch of inputs, what PyTorch computes in float64:
//! logits, mean softmax cross-entropy and the gradient of every parameter.

use lenet::Network;
use ndarray::{Array4, ArrayView4};
use safetensors::tensor::{Dtype, SafeTensors};

lenet::network! {
    /// LeNet-5, ReLU, average pooling.
    pub struct LeNet5Avg {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

lenet::network! {
    /// LeNet-5, ReLU, max pooling.
    pub struct LeNet5Max {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: MaxPool2d(2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

lenet::network! {
    /// LeNet-5 for 28×28 digits.
    pub struct Mnist28 {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, padding = 2),
        relu,
        pool1: MaxPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: MaxPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

lenet::network! {
    /// Every other layer and option.
    struct Mixed {
        input: [3, 20, 18],
        conv1: Conv2d(3, 8, 3, stride = 2, padding = 1),
        tanh,
        MaxPool2d(3, stride = 2),
        AvgPool2d(2, 1),
        conv2: Conv2d(8, 12, 1),
        sigmoid,
        AdaptiveAvgPool2d(1),
        flatten,
        head: Linear(12, 5),
    }
}

/// A fixture file of tests/fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn f32s(st: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(t.dtype(), Dtype::F32, "{name}");
    let v = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (t.shape().to_vec(), v)
}

/// Fills a network from PyTorch's state_dict by name, independently of the
/// crate's own safetensors loader.
fn params_from_pytorch<N: Network>(bytes: &[u8]) -> N {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let mut net = N::zeros();
    assert_eq!(st.len(), N::PARAMS.len());
    for p in N::PARAMS {
        let (shape, values) = f32s(&st, p.name);
        assert_eq!(shape, p.shape, "{}", p.name);
        net.parameters_mut()[p.offset..p.offset + p.len].copy_from_slice(&values);
    }
    net
}

struct Io {
    input: Array4<f32>,
    labels: Vec<usize>,
    logits: Vec<f32>,
    loss: f32,
    st_bytes: Vec<u8>,
}

fn io(name: &str) -> Io {
    let st_bytes = fixture(&format!("{name}.io.safetensors"));
    let st = SafeTensors::deserialize(&st_bytes).unwrap();
    let (shape, input) = f32s(&st, "input");
    let input = Array4::from_shape_vec((shape[0], shape[1], shape[2], shape[3]), input).unwrap();
    let labels = st.tensor("labels").unwrap();
    assert_eq!(labels.dtype(), Dtype::I64);
    let labels = labels
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as usize)
        .collect();
    let (_, logits) = f32s(&st, "logits");
    let (_, loss) = f32s(&st, "loss");
    Io {
        input,
        labels,
        logits,
        loss: loss[0],
        st_bytes,
    }
}

fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32, abs: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = abs + rel * w.abs().max(scale * 1e-2);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g}, PyTorch {w} (tolerance {tol})"
        );
    }
}

/// Forward (single image and batch), loss and every gradient of `N` against
/// the PyTorch fixture `name`.
fn check_against_pytorch<N, F>(name: &str, forward_one: F)
where
    N: lenet::Batched,
    F: Fn(&N, &[f32]) -> Vec<f32>,
{
    let net: N = params_from_pytorch(&fixture(&format!("{name}.weights.safetensors")));
    let io = io(name);
    let n = io.labels.len();
    let view: ArrayView4<'_, f32> = io.input.view();

    // One image at a time: the `no_std` path.
    let flat = io.input.as_slice().unwrap();
    for i in 0..n {
        let got = forward_one(&net, &flat[i * N::INPUT_LEN..(i + 1) * N::INPUT_LEN]);
        let want = &io.logits[i * N::OUTPUT_LEN..(i + 1) * N::OUTPUT_LEN];
        assert_close(&format!("{name} forward image {i}"), &got, want, 0.0, 1e-5);
    }

    // The batch path.
    let batch = lenet::batch::forward_batch(&net, view).unwrap();
    assert_close(
        &format!("{name} forward_batch"),
        batch.as_slice().unwrap(),
        &io.logits,
        0.0,
        1e-5,
    );

    // Loss and every gradient.
    let (loss, grads) = lenet::batch::loss_and_grad(&net, view, &io.labels).unwrap();
    assert!(
        (loss - io.loss).abs() <= 1e-5 * io.loss.abs().max(1.0),
        "{name} loss: {loss} vs PyTorch {}",
        io.loss
    );
    let st = SafeTensors::deserialize(&io.st_bytes).unwrap();
    for p in N::PARAMS {
        let (shape, want) = f32s(&st, &format!("grad.{}", p.name));
        assert_eq!(shape, p.shape);
        let got = &grads.parameters()[p.offset..p.offset + p.len];
        assert_close(&format!("{name} ∂loss/∂{}", p.name), got, &want, 1e-4, 1e-7);
    }
}

#[test]
fn lenet5_avg_pool_matches_pytorch() {
    check_against_pytorch::<LeNet5Avg, _>("lenet5_avg", |net, x| {
        net.forward(x.try_into().unwrap()).to_vec()
    });
}

#[test]
fn lenet5_max_pool_matches_pytorch() {
    check_against_pytorch::<LeNet5Max, _>("lenet5_max", |net, x| {
        net.forward(x.try_into().unwrap()).to_vec()
    });
}

#[test]
fn mnist_28x28_with_padding_matches_pytorch() {
    check_against_pytorch::<Mnist28, _>("mnist28", |net, x| {
        net.forward(x.try_into().unwrap()).to_vec()
    });
}

#[test]
fn stride_padding_tanh_sigmoid_and_global_pooling_match_pytorch() {
    check_against_pytorch::<Mixed, _>("mixed", |net, x| {
        net.forward(x.try_into().unwrap()).to_vec()
    });
}

#[test]
fn a_state_dict_saved_by_pytorch_loads_and_gives_pytorch_logits() {
    let net = LeNet5Max::load_safetensors(format!(
        "{}/tests/fixtures/lenet5_max.weights.safetensors",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let io = io("lenet5_max");
    let logits = net.forward_batch(io.input.view()).unwrap();
    assert_close(
        "loaded lenet5_max",
        logits.as_slice().unwrap(),
        &io.logits,
        0.0,
        1e-5,
    );
    // And the same parameters as read independently.
    let independent: LeNet5Max = params_from_pytorch(&fixture("lenet5_max.weights.safetensors"));
    assert!(net == independent);
}
