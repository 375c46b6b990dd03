//! The small-CNN vocabulary against PyTorch: batch norm, relu6, LeakyReLU,
//! dropout, grouped, depthwise, dilated and rectangular convolutions and
//! padded pooling, in eval mode, in training and in safetensors files.
//!
//! `scripts/make_small_cnn_fixtures.py` builds the two networks below in
//! PyTorch (same layer names, so the same state_dict keys) and writes:
//! `small_cnn_all.*` (AllLayers: state_dict with random batch norm
//! statistics, a batch and its eval-mode logits) and `small_cnn_train.*`
//! (TrainNet: initial state_dict, three SGD steps in `model.train()`, the
//! loss of each and the state_dict after the last).

use std::collections::HashMap;

use lenet::optim::Sgd;
use lenet::BufferRef;
use ndarray::{Array4, ArrayView4};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

lenet::network! {
    /// Every layer and argument of the second edition.
    pub struct AllLayers {
        input: [3, 20, 18],
        conv1: Conv2d(3, 8, (3, 5), (2, 1), (1, 2), (2, 1), bias = false),
        bn1: BatchNorm2d(8),
        relu6,
        dw: Conv2d(8, 16, 3, padding = 1, groups = 8),
        bn2: BatchNorm2d(16, eps = 1e-3, momentum = 0.01),
        gconv: Conv2d(16, 12, 3, padding = (0, 1), groups = 2),
        pool1: MaxPool2d(3, stride = 2, padding = 1),
        act: LeakyReLU(0.2),
        pool2: AvgPool2d((2, 3), stride = (1, 2), padding = (1, 1)),
        drop1: Dropout(0.3),
        flatten,
        fc1: Linear(12 * 5 * 5, 32),
        bn3: BatchNorm1d(32),
        relu,
        Dropout(),
        fc2: Linear(32, 5),
    }
}

lenet::network! {
    /// AllLayers without its dropouts: the same state_dict.
    pub struct AllLayersNoDropout {
        input: [3, 20, 18],
        conv1: Conv2d(3, 8, (3, 5), (2, 1), (1, 2), (2, 1), bias = false),
        bn1: BatchNorm2d(8),
        relu6,
        dw: Conv2d(8, 16, 3, padding = 1, groups = 8),
        bn2: BatchNorm2d(16, eps = 1e-3, momentum = 0.01),
        gconv: Conv2d(16, 12, 3, padding = (0, 1), groups = 2),
        pool1: MaxPool2d(3, stride = 2, padding = 1),
        act: LeakyReLU(0.2),
        pool2: AvgPool2d((2, 3), stride = (1, 2), padding = (1, 1)),
        flatten,
        fc1: Linear(12 * 5 * 5, 32),
        bn3: BatchNorm1d(32),
        relu,
        fc2: Linear(32, 5),
    }
}

lenet::network! {
    /// Trained against PyTorch: batch norms 2d and 1d, a depthwise
    /// convolution, relu6 and LeakyReLU, no dropout.
    pub struct TrainNet {
        input: [2, 10, 10],
        conv1: Conv2d(2, 6, 3, padding = 1),
        bn1: BatchNorm2d(6),
        relu6,
        dw: Conv2d(6, 6, 3, stride = 2, padding = 1, groups = 6, bias = false),
        bn2: BatchNorm2d(6, eps = 1e-3, momentum = 0.2),
        LeakyReLU(negative_slope = 0.1),
        AvgPool2d(2, stride = 1),
        flatten,
        fc1: Linear(6 * 4 * 4, 16),
        bn3: BatchNorm1d(16),
        relu,
        fc2: Linear(16, 4),
    }
}

const ALL_IMAGE: usize = 3 * 20 * 18;
const ALL_CLASSES: usize = 5;
/// The training steps of the fixture.
const STEPS: usize = 3;
/// The learning rate of the fixture's `torch.optim.SGD`.
const LR: f64 = 0.05;

// ---------------------------------------------------------------------------
// Reading the fixtures, independently of the crate's own loader.

/// A fixture file of tests/fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn deserialize(bytes: &[u8]) -> SafeTensors<'_> {
    SafeTensors::deserialize(bytes).expect("a fixture is a valid safetensors file")
}

fn tensor<'a>(st: &SafeTensors<'a>, name: &str) -> TensorView<'a> {
    st.tensor(name)
        .unwrap_or_else(|e| panic!("fixture tensor {name}: {e}"))
}

fn f32s(st: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = tensor(st, name);
    assert_eq!(t.dtype(), Dtype::F32, "fixture tensor {name}: dtype");
    let v = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (t.shape().to_vec(), v)
}

fn i64s(st: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<i64>) {
    let t = tensor(st, name);
    assert_eq!(t.dtype(), Dtype::I64, "fixture tensor {name}: dtype");
    let v = t
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (t.shape().to_vec(), v)
}

fn images(st: &SafeTensors<'_>, name: &str) -> Array4<f32> {
    let (shape, values) = f32s(st, name);
    let shape: [usize; 4] = shape.try_into().expect("images are N×C×H×W");
    Array4::from_shape_vec(shape, values).unwrap()
}

fn labels(st: &SafeTensors<'_>, name: &str) -> Vec<usize> {
    i64s(st, name).1.into_iter().map(|l| l as usize).collect()
}

fn count(st: &SafeTensors<'_>, name: &str) -> usize {
    i64s(st, name).1[0] as usize
}

/// PyTorch's order of `named_parameters()` and of `named_buffers()`, from
/// the "order" metadata of an io fixture.
fn pytorch_order(io_bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (_, meta) = SafeTensors::read_metadata(io_bytes).unwrap();
    let meta = meta.metadata().as_ref().expect("io fixtures have metadata");
    let (mut params, mut buffers) = (Vec::new(), Vec::new());
    for line in meta["order"].lines() {
        match line.split_once(' ') {
            Some(("parameter", name)) => params.push(name.to_string()),
            Some(("buffer", name)) => buffers.push(name.to_string()),
            _ => panic!("malformed order line {line:?}"),
        }
    }
    (params, buffers)
}

/// The tensors of safetensors bytes re-serialised by the `safetensors`
/// crate, with `name` left out (`replacement` None) or replaced.
fn edited(bytes: &[u8], name: &str, replacement: Option<(Dtype, Vec<usize>, &[u8])>) -> Vec<u8> {
    let st = deserialize(bytes);
    let mut tensors: Vec<(String, TensorView<'_>)> = st.tensors();
    let before = tensors.len();
    tensors.retain(|(n, _)| n != name);
    assert_eq!(tensors.len() + 1, before, "{name} is in the fixture");
    if let Some((dtype, shape, data)) = replacement {
        tensors.push((
            name.to_string(),
            TensorView::new(dtype, shape, data).unwrap(),
        ));
    }
    safetensors::serialize(tensors, &None).unwrap()
}

// ---------------------------------------------------------------------------
// Comparing.

/// `got` against PyTorch's `want`, element by element: within `abs` plus
/// `rel` times the larger of |want| and 1 % of the tensor's largest value.
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

fn assert_bits_equal(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits(),
            "{what}[{i}]: got {g}, file holds {w}"
        );
    }
}

/// Every buffer of a network as owned values, by name.
fn buffers_of<'a>(
    it: impl Iterator<Item = (&'static str, &'static [usize], BufferRef<'a>)>,
) -> Vec<(&'static str, Vec<usize>, Buffer)> {
    it.map(|(name, shape, b)| {
        let b = match b {
            BufferRef::F32(v) => Buffer::F32(v.to_vec()),
            BufferRef::I64(v) => Buffer::I64(v),
        };
        (name, shape.to_vec(), b)
    })
    .collect()
}

#[derive(Debug, PartialEq)]
enum Buffer {
    F32(Vec<f32>),
    I64(i64),
}

fn err_of<T>(r: Result<T, lenet::Error>, what: &str) -> lenet::Error {
    match r {
        Ok(_) => panic!("{what}: loaded without error"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// Eval mode.

#[test]
fn eval_logits_match_pytorch_one_image_and_batched() {
    let net = AllLayers::from_safetensors(&fixture("small_cnn_all.weights.safetensors")).unwrap();
    let io_bytes = fixture("small_cnn_all.io.safetensors");
    let io = deserialize(&io_bytes);
    let x = images(&io, "input");
    let (_, want) = f32s(&io, "logits");
    let n = x.dim().0;

    let flat = x.as_slice().unwrap();
    for i in 0..n {
        let image: &[f32; ALL_IMAGE] = flat[i * ALL_IMAGE..(i + 1) * ALL_IMAGE].try_into().unwrap();
        let got = net.forward(image);
        assert_close(
            &format!("AllLayers forward, image {i}"),
            &got,
            &want[i * ALL_CLASSES..(i + 1) * ALL_CLASSES],
            1e-4,
            1e-4,
        );
    }

    let batch = net.forward_batch(x.view()).unwrap();
    assert_eq!(batch.dim(), (n, ALL_CLASSES));
    assert_close(
        "AllLayers forward_batch",
        batch.as_slice().unwrap(),
        &want,
        1e-4,
        1e-4,
    );
}

#[test]
fn parameter_and_buffer_counts_are_pytorchs() {
    let all = fixture("small_cnn_all.io.safetensors");
    let all = deserialize(&all);
    assert_eq!(AllLayers::PARAM_COUNT, count(&all, "param_count"));
    assert_eq!(AllLayers::BUFFER_COUNT, count(&all, "buffer_count"));
    // Dropout has neither.
    assert_eq!(AllLayersNoDropout::PARAM_COUNT, AllLayers::PARAM_COUNT);
    assert_eq!(AllLayersNoDropout::BUFFER_COUNT, AllLayers::BUFFER_COUNT);

    let train = fixture("small_cnn_train.io.safetensors");
    let train = deserialize(&train);
    assert_eq!(TrainNet::PARAM_COUNT, count(&train, "param_count"));
    assert_eq!(TrainNet::BUFFER_COUNT, count(&train, "buffer_count"));
}

/// `named_parameters()` and `named_buffers()` list the state_dict's
/// tensors in PyTorch's order, with its shapes and the values loaded.
fn check_names_shapes_values<'a>(
    what: &str,
    weights: &[u8],
    io_bytes: &[u8],
    params: impl Iterator<Item = (&'static str, &'static [usize], &'a [f32])>,
    buffers: impl Iterator<Item = (&'static str, &'static [usize], BufferRef<'a>)>,
) {
    let st = deserialize(weights);
    let (param_order, buffer_order) = pytorch_order(io_bytes);

    let params: Vec<_> = params.collect();
    let names: Vec<&str> = params.iter().map(|p| p.0).collect();
    assert_eq!(names, param_order, "{what}: named_parameters() order");
    for (name, shape, values) in params {
        let (want_shape, want) = f32s(&st, name);
        assert_eq!(shape, want_shape, "{what}: shape of parameter {name}");
        assert_bits_equal(&format!("{what} parameter {name}"), values, &want);
    }

    let buffers = buffers_of(buffers);
    let names: Vec<&str> = buffers.iter().map(|b| b.0).collect();
    assert_eq!(names, buffer_order, "{what}: named_buffers() order");
    for (name, shape, value) in &buffers {
        let file = tensor(&st, name);
        assert_eq!(
            shape.as_slice(),
            file.shape(),
            "{what}: shape of buffer {name}"
        );
        match value {
            Buffer::F32(v) => {
                let (_, want) = f32s(&st, name);
                assert_bits_equal(&format!("{what} buffer {name}"), v, &want);
            }
            Buffer::I64(v) => {
                assert!(
                    name.ends_with(".num_batches_tracked"),
                    "{what}: {name} is I64"
                );
                assert!(
                    shape.is_empty(),
                    "{what}: {name} has shape [], got {shape:?}"
                );
                let (_, want) = i64s(&st, name);
                assert_eq!(*v, want[0], "{what}: value of {name}");
            }
        }
        if name.ends_with(".num_batches_tracked") {
            assert!(
                matches!(value, Buffer::I64(_)),
                "{what}: {name} is an I64 buffer"
            );
        }
    }

    // Together they are the state_dict: nothing left over.
    assert_eq!(
        param_order.len() + buffer_order.len(),
        st.len(),
        "{what}: parameters and buffers are the whole state_dict"
    );
}

#[test]
fn named_parameters_and_buffers_are_the_state_dict() {
    let weights = fixture("small_cnn_all.weights.safetensors");
    let io = fixture("small_cnn_all.io.safetensors");
    let net = AllLayers::from_safetensors(&weights).unwrap();
    check_names_shapes_values(
        "AllLayers",
        &weights,
        &io,
        net.named_parameters(),
        net.named_buffers(),
    );
    // No `conv1.bias`: `bias = false`.
    assert!(net.named_parameters().all(|(n, _, _)| n != "conv1.bias"));

    let weights = fixture("small_cnn_train.init.safetensors");
    let io = fixture("small_cnn_train.io.safetensors");
    let net = TrainNet::from_safetensors(&weights).unwrap();
    check_names_shapes_values(
        "TrainNet",
        &weights,
        &io,
        net.named_parameters(),
        net.named_buffers(),
    );
}

// ---------------------------------------------------------------------------
// Files.

/// Tensor by tensor: the same names, dtypes, shapes and bytes.
fn assert_same_tensors(what: &str, got: &[u8], want: &[u8]) {
    let got = SafeTensors::deserialize(got)
        .unwrap_or_else(|e| panic!("{what}: lenet's bytes are not safetensors: {e}"));
    let want = deserialize(want);
    let mut got_names: Vec<&String> = got.names();
    let mut want_names: Vec<&String> = want.names();
    got_names.sort();
    want_names.sort();
    assert_eq!(got_names, want_names, "{what}: tensor names");
    for name in want_names {
        let (g, w) = (tensor(&got, name), tensor(&want, name));
        assert_eq!(g.dtype(), w.dtype(), "{what}: dtype of {name}");
        assert_eq!(g.shape(), w.shape(), "{what}: shape of {name}");
        assert!(g.data() == w.data(), "{what}: bytes of {name}");
    }
}

fn header(bytes: &[u8]) -> String {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    String::from_utf8_lossy(&bytes[8..8 + n]).into_owned()
}

/// The two fixtures' state_dicts, and what lenet writes for them after
/// loading them (`save_safetensors` and `to_safetensors`, checked equal).
fn saved_fixtures() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let all = fixture("small_cnn_all.weights.safetensors");
    let net = AllLayers::from_safetensors(&all).unwrap();
    let path = dir.path().join("all.safetensors");
    net.save_safetensors(&path).unwrap();
    let saved = std::fs::read(&path).unwrap();
    let written = lenet::weights::safetensors::to_safetensors(&net);
    assert!(
        saved == written,
        "AllLayers: save_safetensors writes the bytes of to_safetensors"
    );

    let train = fixture("small_cnn_train.init.safetensors");
    let net = TrainNet::from_safetensors(&train).unwrap();
    let train_written = lenet::weights::safetensors::to_safetensors(&net);
    vec![
        ("small_cnn_all.weights.safetensors", written, all),
        ("small_cnn_train.init.safetensors", train_written, train),
    ]
}

#[test]
fn saving_writes_the_tensors_pytorch_wrote() {
    for (name, got, want) in saved_fixtures() {
        assert_same_tensors(name, &got, &want);
    }
}

#[test]
fn saving_writes_the_bytes_pytorch_wrote() {
    for (name, got, want) in saved_fixtures() {
        // A file's order is the `safetensors` library's, not the
        // state_dict's: I64 tensors first, then F32, each by name; and
        // `save_file(model.state_dict(), path)` writes no metadata. The Rust
        // crate writes the same bytes as the Python package.
        let st = deserialize(&want);
        assert!(
            safetensors::serialize(st.tensors(), &None).unwrap() == want,
            "{name}: the safetensors crate re-serialises the fixture to its own bytes"
        );
        assert_eq!(header(&got), header(&want), "{name}: header");
        assert!(got == want, "{name}: the bytes PyTorch wrote");
    }
}

#[test]
fn a_missing_buffer_is_an_error_naming_it() {
    let weights = fixture("small_cnn_all.weights.safetensors");
    // Re-serialised whole, the file still loads.
    let same = edited(
        &weights,
        "bn1.running_var",
        Some((
            Dtype::F32,
            vec![8],
            tensor(&deserialize(&weights), "bn1.running_var").data(),
        )),
    );
    let net = AllLayers::from_safetensors(&same).unwrap();
    assert!(net == AllLayers::from_safetensors(&weights).unwrap());

    let missing = edited(&weights, "bn1.running_var", None);
    let e = err_of(
        AllLayers::from_safetensors(&missing),
        "without bn1.running_var",
    );
    assert!(e.to_string().contains("bn1.running_var"), "{e}");

    let missing = edited(&weights, "bn3.running_mean", None);
    let e = err_of(
        AllLayers::from_safetensors(&missing),
        "without bn3.running_mean",
    );
    assert!(e.to_string().contains("bn3.running_mean"), "{e}");
}

#[test]
fn num_batches_tracked_must_be_an_i64_scalar() {
    let weights = fixture("small_cnn_all.weights.safetensors");

    let as_f32 = 37.0f32.to_le_bytes();
    let bad = edited(
        &weights,
        "bn1.num_batches_tracked",
        Some((Dtype::F32, vec![], &as_f32)),
    );
    let e = err_of(AllLayers::from_safetensors(&bad), "F32 num_batches_tracked");
    assert!(e.to_string().contains("bn1.num_batches_tracked"), "{e}");

    let one = 1234i64.to_le_bytes();
    let bad = edited(
        &weights,
        "bn2.num_batches_tracked",
        Some((Dtype::I64, vec![1], &one)),
    );
    let e = err_of(
        AllLayers::from_safetensors(&bad),
        "num_batches_tracked of shape [1]",
    );
    assert!(e.to_string().contains("bn2.num_batches_tracked"), "{e}");
}

// ---------------------------------------------------------------------------
// Training.

#[test]
fn sgd_steps_in_training_mode_match_pytorch() {
    let init = fixture("small_cnn_train.init.safetensors");
    let io_bytes = fixture("small_cnn_train.io.safetensors");
    let io = deserialize(&io_bytes);
    let mut net = TrainNet::from_safetensors(&init).unwrap();
    let tracked_before: HashMap<&str, i64> = buffers_of(net.named_buffers())
        .into_iter()
        .filter_map(|(name, _, b)| match b {
            Buffer::I64(v) => Some((name, v)),
            Buffer::F32(_) => None,
        })
        .collect();
    assert_eq!(tracked_before.len(), 3);

    let (_, losses) = f32s(&io, "loss");
    assert_eq!(losses.len(), STEPS);
    let mut opt = Sgd::new(LR);
    for (step, &want) in losses.iter().enumerate() {
        let x = images(&io, &format!("input.{step}"));
        let y = labels(&io, &format!("labels.{step}"));
        let (loss, grads) = net.loss_and_grad(x.view(), &y).unwrap();
        assert!(
            (loss - want).abs() <= 1e-4 * want.abs(),
            "step {step}: loss {loss}, PyTorch {want}"
        );
        // The gradients carry the running statistics after this batch, and
        // the step copies them into the network.
        opt.step(&mut net, &grads);
        assert_eq!(
            buffers_of(net.named_buffers()),
            buffers_of(grads.named_buffers()),
            "step {step}: the network's buffers after the step are the gradients'"
        );
    }

    for (name, shape, got) in net.named_parameters() {
        let (want_shape, want) = f32s(&io, &format!("final.{name}"));
        assert_eq!(shape, want_shape, "shape of {name}");
        assert_close(
            &format!("{name} after {STEPS} steps"),
            got,
            &want,
            1e-4,
            1e-5,
        );
    }
    for (name, shape, got) in buffers_of(net.named_buffers()) {
        let key = format!("final.{name}");
        assert_eq!(shape, tensor(&io, &key).shape(), "shape of {name}");
        match got {
            Buffer::F32(got) => {
                let (_, want) = f32s(&io, &key);
                assert_close(
                    &format!("{name} after {STEPS} steps"),
                    &got,
                    &want,
                    1e-4,
                    1e-5,
                );
            }
            Buffer::I64(got) => {
                let (_, want) = i64s(&io, &key);
                assert_eq!(got, want[0], "{name} after {STEPS} steps");
                assert_eq!(
                    got,
                    tracked_before[name] + STEPS as i64,
                    "{name}: one more per step"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Dropout.

/// A batch of 16 images for AllLayers, and labels.
fn dropout_batch() -> (Array4<f32>, Vec<usize>) {
    let x = Array4::from_shape_fn((16, 3, 20, 18), |(n, c, h, w)| {
        ((n * 131 + c * 37 + h * 11 + w * 7) as f32 * 0.37).sin() * 1.5
    });
    let y = (0..16).map(|n| n % ALL_CLASSES).collect();
    (x, y)
}

fn all_grads(g: &AllLayers) -> Vec<f32> {
    g.named_parameters()
        .flat_map(|(_, _, v)| v.iter().copied())
        .collect()
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// The loss and every gradient (flat, in `named_parameters()` order) of
/// AllLayers with dropout seed `seed` on a rayon pool of `threads` threads.
fn trained_with_dropout(
    seed: u64,
    threads: usize,
    x: ArrayView4<'_, f32>,
    y: &[usize],
) -> (f32, Vec<f32>) {
    let mut net =
        AllLayers::from_safetensors(&fixture("small_cnn_all.weights.safetensors")).unwrap();
    net.set_dropout_seed(seed);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (loss, grads) = pool.install(|| net.loss_and_grad(x, y).unwrap());
    (loss, all_grads(&grads))
}

#[test]
fn dropout_masks_depend_on_the_seed_not_on_the_thread_count() {
    let (x, y) = dropout_batch();
    let (x, y) = (x.view(), y.as_slice());

    // The same seed and thread count: the same bits.
    for threads in [1, 2] {
        let a = trained_with_dropout(7, threads, x, y);
        let b = trained_with_dropout(7, threads, x, y);
        assert!(
            a.0.to_bits() == b.0.to_bits(),
            "{threads} threads, seed 7 twice: loss {} then {}",
            a.0,
            b.0
        );
        assert_bits_equal(
            &format!("{threads} threads, seed 7 twice: gradient"),
            &a.1,
            &b.1,
        );
    }

    // One thread or two: the same masks. The batch's sums are cut per
    // thread, so the results agree to rounding rather than to the bit; a
    // mask that changed with the thread count would move them by orders of
    // magnitude more.
    let one = trained_with_dropout(7, 1, x, y);
    let two = trained_with_dropout(7, 2, x, y);
    assert!(
        (one.0 - two.0).abs() <= 1e-5 * one.0.abs(),
        "seed 7: loss {} on 1 thread, {} on 2",
        one.0,
        two.0
    );
    assert_close(
        "seed 7, gradient on 2 threads vs 1",
        &two.1,
        &one.1,
        1e-4,
        1e-6,
    );

    // Another seed, other masks.
    let other = trained_with_dropout(8, 1, x, y);
    assert!(
        (other.0 - one.0).abs() > 1e-3,
        "seeds 7 and 8 give the losses {} and {}",
        one.0,
        other.0
    );
    assert!(
        largest_difference(&other.1, &one.1) > 1e-3,
        "seeds 7 and 8 give the same gradients"
    );

    // Dropout is active in training: the network without it computes
    // another loss on the same batch.
    let plain = AllLayersNoDropout::from_safetensors(&fixture("small_cnn_all.weights.safetensors"))
        .unwrap();
    let (plain_loss, _) = plain.loss_and_grad(x, y).unwrap();
    assert!(
        (plain_loss - one.0).abs() > 1e-3,
        "with dropout {}, without {plain_loss}",
        one.0
    );
}

#[test]
fn optimizer_steps_draw_new_dropout_masks() {
    let (x, y) = dropout_batch();
    let weights = fixture("small_cnn_all.weights.safetensors");
    // A learning rate of 0 keeps the parameters, and the training loss does
    // not read the running statistics that the step updates: only the
    // masks change from one step to the next.
    let mut opt = Sgd::new(0.0);

    let mut net = AllLayers::from_safetensors(&weights).unwrap();
    net.set_dropout_seed(3);
    let (first, grads) = net.loss_and_grad(x.view(), &y).unwrap();
    opt.step(&mut net, &grads);
    let (second, _) = net.loss_and_grad(x.view(), &y).unwrap();
    assert!(
        (first - second).abs() > 1e-3,
        "the step after loss {first} draws other masks, yet gives {second}"
    );

    let mut plain = AllLayersNoDropout::from_safetensors(&weights).unwrap();
    let (first, grads) = plain.loss_and_grad(x.view(), &y).unwrap();
    Sgd::new(0.0).step(&mut plain, &grads);
    let (second, _) = plain.loss_and_grad(x.view(), &y).unwrap();
    assert!(
        first.to_bits() == second.to_bits(),
        "without dropout, a step of learning rate 0 changes the loss from {first} to {second}"
    );
}

#[test]
fn forward_is_eval_mode_whatever_the_dropout_seed() {
    let weights = fixture("small_cnn_all.weights.safetensors");
    let plain = AllLayersNoDropout::from_safetensors(&weights).unwrap();
    let (x, _) = dropout_batch();
    let want = plain.forward_batch(x.view()).unwrap();
    for seed in [0, 1, 99] {
        let mut net = AllLayers::from_safetensors(&weights).unwrap();
        net.set_dropout_seed(seed);
        let a = net.forward_batch(x.view()).unwrap();
        let b = net.forward_batch(x.view()).unwrap();
        assert_bits_equal(
            &format!("seed {seed}: forward_batch twice"),
            a.as_slice().unwrap(),
            b.as_slice().unwrap(),
        );
        assert_close(
            &format!("seed {seed}: forward_batch with dropout vs without"),
            a.as_slice().unwrap(),
            want.as_slice().unwrap(),
            1e-6,
            1e-6,
        );
        let image: &[f32; ALL_IMAGE] = x.as_slice().unwrap()[..ALL_IMAGE].try_into().unwrap();
        let one = net.forward(image);
        assert_close(
            &format!("seed {seed}: forward of image 0 with dropout vs without"),
            &one,
            &want.as_slice().unwrap()[..ALL_CLASSES],
            1e-5,
            1e-5,
        );
    }
}
