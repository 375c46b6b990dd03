//! DS-CNN keyword spotting and MobileNetV1-0.25 (tests/small_cnns) as a
//! user meets them: built, run on one image and on a batch, and trained a
//! few steps, on a thread with a 2 MiB stack; their tensors carry
//! PyTorch's names and shapes (tests/fixtures/small_cnns.state_dict.txt,
//! written by `bench/small_cnns.py --state-dict`).

mod small_cnns;

use std::time::Instant;

use lenet::optim::Sgd;
use lenet::BufferRef;
use ndarray::Array4;
use small_cnns::{DsCnn, MobileNetV1};

/// PyTorch's `named_parameters()` and `named_buffers()` of both networks.
const STATE_DICT: &str = include_str!("fixtures/small_cnns.state_dict.txt");

/// Training steps on one batch, over which the loss must fall.
const STEPS: usize = 5;

/// PyTorch's `(name, shape)` of each tensor of `kind` (`param` or
/// `buffer`) of `network`, in PyTorch's order.
fn pytorch_tensors(network: &str, kind: &str) -> Vec<(String, Vec<usize>)> {
    STATE_DICT
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            (f[0] == network && f[1] == kind).then(|| {
                let dims = f[3].trim_matches(|c| c == '[' || c == ']');
                let shape = dims
                    .split(',')
                    .filter(|d| !d.is_empty())
                    .map(|d| d.parse().unwrap())
                    .collect();
                (f[2].to_string(), shape)
            })
        })
        .collect()
}

/// `n` images of shape `[c, h, w]`, uniform in [-1, 1), from `seed`.
fn images(n: usize, [c, h, w]: [usize; 3], seed: u64) -> Array4<f32> {
    let mut s = seed;
    Array4::from_shape_simple_fn((n, c, h, w), || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

/// Runs `f` on a thread with a 2 MiB stack.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

/// Builds `$net`, checks its tensors against PyTorch's (`$key` in the
/// fixture), runs `forward` and `forward_batch`, and trains `STEPS` SGD
/// steps (learning rate `$lr`) on one batch of `$batch` images.
macro_rules! real_network {
    ($net:ty, $key:literal, $batch:expr, $lr:expr) => {{
        type Net = $net;
        let start = Instant::now();
        let mut net = Net::new(0);

        let params: Vec<(String, Vec<usize>)> = net
            .named_parameters()
            .map(|(name, shape, values)| {
                assert_eq!(values.len(), shape.iter().product::<usize>(), "{name}");
                (name.to_string(), shape.to_vec())
            })
            .collect();
        assert_eq!(params, pytorch_tensors($key, "param"));
        let param_count: usize = net.named_parameters().map(|(_, _, v)| v.len()).sum();
        assert_eq!(param_count, Net::PARAM_COUNT);

        let buffers: Vec<(String, Vec<usize>)> = net
            .named_buffers()
            .map(|(name, shape, _)| (name.to_string(), shape.to_vec()))
            .collect();
        assert_eq!(buffers, pytorch_tensors($key, "buffer"));
        let mut buffer_count = 0;
        for (name, _, buffer) in net.named_buffers() {
            match buffer {
                BufferRef::F32(v) => {
                    let fresh = if name.ends_with(".running_var") { 1.0 } else { 0.0 };
                    assert!(v.iter().all(|&x| x == fresh), "{name}");
                    buffer_count += v.len();
                }
                BufferRef::I64(n) => {
                    assert_eq!(n, 0, "{name}");
                    buffer_count += 1;
                }
            }
        }
        assert_eq!(buffer_count, Net::BUFFER_COUNT);

        let x = images(3, Net::INPUT_SHAPE, 1);
        let first: &[f32; Net::INPUT_LEN] = x.as_slice().unwrap()[..Net::INPUT_LEN]
            .try_into()
            .unwrap();
        let one = net.forward(first);
        assert!(one.iter().all(|v| v.is_finite()));
        let batch = net.forward_batch(x.view()).unwrap();
        assert_eq!(batch.dim(), (3, Net::OUTPUT_LEN));
        for (a, b) in one.iter().zip(batch.row(0)) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "{a} vs {b}");
        }
        let inference = start.elapsed();

        let x = images($batch, Net::INPUT_SHAPE, 2);
        let labels: Vec<usize> = (0..$batch).map(|i| i % Net::OUTPUT_LEN).collect();
        let mut sgd = Sgd::new($lr);
        let mut losses = Vec::new();
        for _ in 0..STEPS {
            let (loss, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
            losses.push(loss);
            sgd.step(&mut net, &grads);
        }
        assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
        assert!(losses[STEPS - 1] < losses[0], "the loss did not fall: {losses:?}");
        // Each step moved the running statistics, as PyTorch's train mode.
        for (name, _, buffer) in net.named_buffers() {
            match buffer {
                BufferRef::F32(v) if name.ends_with(".running_mean") => {
                    assert!(v.iter().any(|&x| x != 0.0), "{name}")
                }
                BufferRef::I64(n) => assert_eq!(n, STEPS as i64, "{name}"),
                BufferRef::F32(_) => {}
            }
        }
        eprintln!(
            "{}: new + forward + forward_batch(3) {:.2?}, {STEPS} training steps at batch {} {:.2?}, losses {losses:?}",
            $key,
            inference,
            $batch,
            start.elapsed() - inference,
        );
    }};
}

#[test]
fn ds_cnn_builds_runs_and_trains() {
    assert_eq!(
        pytorch_tensors("ds_cnn", "param")[0],
        ("conv1.weight".to_string(), vec![64, 1, 10, 4])
    );
    assert!(
        pytorch_tensors("ds_cnn", "buffer").contains(&("bn1.running_mean".to_string(), vec![64]))
    );
    on_small_stack(|| real_network!(DsCnn, "ds_cnn", 8, 0.05));
}

// At batch 4 the last batch norms see 36 values a channel (3×3 each) and
// the loss is rough: steps of 0.01 already overshoot, in PyTorch as here.
#[test]
fn mobilenet_v1_025_builds_runs_and_trains() {
    on_small_stack(|| real_network!(MobileNetV1, "mobilenet_v1_025", 4, 0.001));
}
