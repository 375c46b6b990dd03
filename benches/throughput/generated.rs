//! The whole LeNet-5 as `network!` generates it, through its public API:
//! `forward` (one image, stack only), `forward_batch` and `loss_and_grad`
//! (rayon, one chunk per thread) and `lenet::optim::Sgd`.

use lenet::optim::Sgd;
use ndarray::Array4;

use super::*;

lenet::network! {
    /// LeNet-5 as in the SPEC.
    pub struct LeNet5 {
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

fn images(n: usize, seed: u64) -> Array4<f32> {
    Array4::from_shape_vec((n, 1, 32, 32), rng_vec(n * 1024, seed)).expect("n·1024 floats")
}

/// Batch-1 latency, batch-256 inference and training at batch 64 of the
/// generated LeNet-5 on 1 and 2 threads.
pub fn whole_network(time: fn(&mut dyn FnMut()) -> f64) {
    let mut net = LeNet5::new(1);
    let x1: [f32; 1024] = rng_vec(1024, 11).try_into().expect("1024 floats");
    let x256 = images(256, 12);
    let x64 = images(64, 13);
    let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    let mut opt = Sgd::new(1e-4);
    println!(
        "whole network: LeNet5 from lenet::network!, lenet::optim::Sgd (lr 1e-4, no momentum)"
    );
    let lat = time(&mut || {
        black_box(net.forward(black_box(&x1)));
    });
    println!(
        "  batch-1 latency (forward)          {:8.2} µs/image   {:6.1} GFLOP/s",
        lat * 1e6,
        FORWARD_FLOP / lat / 1e9
    );
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let t = time(&mut || {
                black_box(net.forward_batch(black_box(x256.view())).expect("shape"));
            });
            println!(
                "  {threads} thread(s) batch-256 forward_batch {:9.0} images/s   {:6.1} GFLOP/s",
                256.0 / t,
                256.0 * FORWARD_FLOP / t / 1e9
            );
            let t = time(&mut || {
                let (loss, grads) = net
                    .loss_and_grad(black_box(x64.view()), &labels)
                    .expect("shape");
                opt.step(&mut net, &grads);
                black_box(loss);
            });
            println!(
                "  {threads} thread(s) training batch 64    {:9.0} images/s   {:6.1} GFLOP/s",
                64.0 / t,
                64.0 * TRAIN_FLOP / t / 1e9
            );
        });
    }
}
