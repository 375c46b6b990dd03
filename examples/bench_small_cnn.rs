//! One speed figure of lenet's DS-CNN (keyword spotting, 1×49×10) or
//! MobileNetV1-0.25 (3×96×96) per process, measured as a user's program
//! meets it: no warm-up, the first call counts in the first window.
//! `bench/small_cnn_peers.py` runs it beside ONNX Runtime and PyTorch.
//!
//! ```text
//! cargo build --release --example bench_small_cnn
//! target/release/examples/bench_small_cnn ds_cnn|mobilenet_v1_025 latency1|infer64 THREADS [WINDOWS]
//! target/release/examples/bench_small_cnn check ds_cnn|mobilenet_v1_025 DIR
//! ```
//!
//! A figure prints one line per window (`window <i> <figure>`): µs per
//! image for `latency1` (`forward`, one image), images/s for `infer64`
//! (`forward_batch`, 64 images), then `median <figure>`. `THREADS` sizes
//! rayon's global pool.
//!
//! `check` builds the network from seed 1, trains it two SGD steps (so the
//! batch norms' running statistics are not the fresh ones), writes its
//! tensors to `DIR/<network>.safetensors` and prints the logits of
//! `forward_batch` on two images, one image a line. Image `k`'s pixel `i`
//! (flat, C×H×W) is `((k·len + i)·7919 mod 1000) / 1000 − 0.5`.

#[path = "../tests/small_cnns/mod.rs"]
mod small_cnns;

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use lenet::optim::Sgd;
use ndarray::Array4;
use small_cnns::{DsCnn, MobileNetV1};

/// The shortest window, seconds.
const WINDOW: f64 = 0.2;

fn rng_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn images([c, h, w]: [usize; 3], n: usize, seed: u64) -> Array4<f32> {
    Array4::from_shape_vec((n, c, h, w), rng_vec(n * c * h * w, seed)).expect("n·c·h·w floats")
}

/// The images of `check`, which `bench/small_cnn_peers.py` rebuilds.
fn check_images([c, h, w]: [usize; 3], n: usize) -> Array4<f32> {
    Array4::from_shape_fn((n, c, h, w), |(k, ci, y, x)| {
        let i = ((k * c + ci) * h + y) * w + x;
        ((i * 7919) % 1000) as f32 / 1000.0 - 0.5
    })
}

/// `windows` windows of at least `WINDOW` seconds each, calling `f` from
/// the very first call on; each window's seconds per call.
fn windows(windows: usize, f: &mut dyn FnMut()) -> Vec<f64> {
    (0..windows)
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            loop {
                f();
                calls += 1;
                let t = start.elapsed().as_secs_f64();
                if t >= WINDOW {
                    break t / calls as f64;
                }
            }
        })
        .collect()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// One figure (`latency1` or `infer64`) over a number of windows.
type Figure = fn(&str, usize) -> Vec<f64>;
/// `check` into a directory, for the network of the given name.
type Check = fn(&Path, &str);

/// The `Figure` and the `Check` of network `$net`.
macro_rules! per_network {
    ($net:ty) => {
        (
            |what: &str, n_windows: usize| -> Vec<f64> {
                type Net = $net;
                let net = Net::new(1);
                match what {
                    "latency1" => {
                        let x = rng_vec(Net::INPUT_LEN, 11);
                        let x: &[f32; Net::INPUT_LEN] = x.as_slice().try_into().expect("one image");
                        windows(n_windows, &mut || {
                            black_box(net.forward(black_box(x)));
                        })
                        .into_iter()
                        .map(|s| s * 1e6)
                        .collect()
                    }
                    "infer64" => {
                        let x = images(Net::INPUT_SHAPE, 64, 12);
                        windows(n_windows, &mut || {
                            black_box(net.forward_batch(black_box(x.view())).expect("shape"));
                        })
                        .into_iter()
                        .map(|s| 64.0 / s)
                        .collect()
                    }
                    other => {
                        eprintln!("unknown figure {other:?}: latency1 or infer64");
                        std::process::exit(2);
                    }
                }
            },
            |dir: &Path, name: &str| {
                type Net = $net;
                let mut net = Net::new(1);
                let x = images(Net::INPUT_SHAPE, 4, 13);
                let labels: Vec<usize> = (0..4).map(|i| i % Net::OUTPUT_LEN).collect();
                let mut sgd = Sgd::new(0.05);
                for _ in 0..2 {
                    let (_, grads) = net.loss_and_grad(x.view(), &labels).expect("shape");
                    sgd.step(&mut net, &grads);
                }
                net.save_safetensors(dir.join(format!("{name}.safetensors")))
                    .expect("weights written");
                let logits = net
                    .forward_batch(check_images(Net::INPUT_SHAPE, 2).view())
                    .expect("shape");
                for row in logits.rows() {
                    let cells: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
                    println!("{}", cells.join(" "));
                }
            },
        )
    };
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let (network, what) = if arg(0) == "check" {
        (arg(1), "check")
    } else {
        (arg(0), arg(1))
    };
    let (figure, check): (Figure, Check) = match network {
        "ds_cnn" => per_network!(DsCnn),
        "mobilenet_v1_025" => per_network!(MobileNetV1),
        other => {
            eprintln!("unknown network {other:?}: ds_cnn or mobilenet_v1_025");
            std::process::exit(2);
        }
    };
    if what == "check" {
        check(Path::new(arg(2)), network);
        return;
    }
    let threads: usize = arg(2).parse().unwrap_or(1);
    let n_windows: usize = arg(3).parse().unwrap_or(7);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("rayon's global pool, built once");
    let v = figure(what, n_windows);
    for (i, x) in v.iter().enumerate() {
        println!("window {i} {x:.3}");
    }
    println!("median {:.3}", median(&v));
}
