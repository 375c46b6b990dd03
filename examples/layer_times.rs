//! Time per LeNet-5 layer over a block of 16 images (training) and one image.
use std::hint::black_box;
use std::time::Instant;

use lenet::__private::{AvgPool2dLayer, Conv2dLayer, InPlace, Layer, LinearLayer, ReluLayer};

type C1 = Conv2dLayer<1, 6, 5, 1, 0, 32, 32, 28, 28>;
type P1 = AvgPool2dLayer<6, 2, 2, 28, 28, 14, 14>;
type C2 = Conv2dLayer<6, 16, 5, 1, 0, 14, 14, 10, 10>;
type P2 = AvgPool2dLayer<16, 2, 2, 10, 10, 5, 5>;
type F1 = LinearLayer<400, 120>;
type F2 = LinearLayer<120, 84>;
type F3 = LinearLayer<84, 10>;

fn v(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 1000) as f32 / 1000.0) - 0.5)
        .collect()
}

fn time(name: &str, flops: f64, f: &mut dyn FnMut()) {
    for _ in 0..50 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let reps = 300;
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    println!(
        "{name:28} {:9.2} µs  {:6.1} GFLOP/s",
        best * 1e6,
        flops / best / 1e9
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);
    let (w1, b1, w2, b2) = (v(150), v(6), v(2400), v(16));
    let (fw1, fb1, fw2, fb2, fw3, fb3) = (v(48000), v(120), v(10080), v(84), v(840), v(10));
    let x = v(n * 1024);
    let mut a1 = v(n * 4704);
    let mut a2 = v(n * 1176);
    let mut a3 = v(n * 1600);
    let mut a4 = v(n * 400);
    let mut a5 = v(n * 120);
    let mut a6 = v(n * 84);
    let mut a7 = v(n * 10);
    let (mut dw1, mut db1, mut dw2, mut db2) = (v(150), v(6), v(2400), v(16));
    let (mut dfw1, mut dfb1, mut dfw2, mut dfb2, mut dfw3, mut dfb3) =
        (v(48000), v(120), v(10080), v(84), v(840), v(10));
    let nf = n as f64;
    let mut d1 = v(n * 4704);
    let mut d2 = v(n * 1176);
    let mut d3 = v(n * 1600);
    let mut d4 = v(n * 400);
    let mut d5 = v(n * 120);
    let mut d6 = v(n * 84);
    let d7 = v(n * 10);
    time("conv1 fwd", nf * 235200.0, &mut || {
        C1::forward(&w1, &b1, &x, black_box(&mut a1))
    });
    time("relu1 fwd", 0.0, &mut || {
        ReluLayer::<4704>::forward_in_place(black_box(&mut a1))
    });
    time("pool1 fwd", 0.0, &mut || {
        P1::forward(&[], &[], &a1, black_box(&mut a2))
    });
    time("conv2 fwd", nf * 480000.0, &mut || {
        C2::forward(&w2, &b2, &a2, black_box(&mut a3))
    });
    time("relu2 fwd", 0.0, &mut || {
        ReluLayer::<1600>::forward_in_place(black_box(&mut a3))
    });
    time("pool2 fwd", 0.0, &mut || {
        P2::forward(&[], &[], &a3, black_box(&mut a4))
    });
    time("fc1 fwd", nf * 96000.0, &mut || {
        F1::forward(&fw1, &fb1, &a4, black_box(&mut a5))
    });
    time("relu fc1 fwd", 0.0, &mut || {
        ReluLayer::<120>::forward_in_place(black_box(&mut a5))
    });
    time("fc2 fwd", nf * 20160.0, &mut || {
        F2::forward(&fw2, &fb2, &a5, black_box(&mut a6))
    });
    time("fc3 fwd", nf * 1680.0, &mut || {
        F3::forward(&fw3, &fb3, &a6, black_box(&mut a7))
    });
    time("fc3 bwd", nf * 3360.0, &mut || {
        F3::backward(
            &fw3,
            &a6,
            &a7,
            &d7,
            Some(black_box(&mut d6)),
            &mut dfw3,
            &mut dfb3,
        )
    });
    time("relu fc2 bwd", 0.0, &mut || {
        ReluLayer::<84>::backward_in_place(&a6, black_box(&mut d6))
    });
    time("fc2 bwd", nf * 40320.0, &mut || {
        F2::backward(
            &fw2,
            &a5,
            &a6,
            &d6,
            Some(black_box(&mut d5)),
            &mut dfw2,
            &mut dfb2,
        )
    });
    time("fc1 bwd", nf * 192000.0, &mut || {
        F1::backward(
            &fw1,
            &a4,
            &a5,
            &d5,
            Some(black_box(&mut d4)),
            &mut dfw1,
            &mut dfb1,
        )
    });
    time("pool2 bwd", 0.0, &mut || {
        P2::backward(
            &[],
            &a3,
            &a4,
            &d4,
            Some(black_box(&mut d3)),
            &mut [],
            &mut [],
        )
    });
    time("relu2 bwd", 0.0, &mut || {
        ReluLayer::<1600>::backward_in_place(&a3, black_box(&mut d3))
    });
    time("conv2 bwd", nf * 960000.0, &mut || {
        C2::backward(
            &w2,
            &a2,
            &a3,
            &d3,
            Some(black_box(&mut d2)),
            &mut dw2,
            &mut db2,
        )
    });
    time("pool1 bwd", 0.0, &mut || {
        P1::backward(
            &[],
            &a1,
            &a2,
            &d2,
            Some(black_box(&mut d1)),
            &mut [],
            &mut [],
        )
    });
    time("relu1 bwd", 0.0, &mut || {
        ReluLayer::<4704>::backward_in_place(&a1, black_box(&mut d1))
    });
    time("conv1 bwd (no dx)", nf * 235200.0, &mut || {
        C1::backward(&w1, &x, &a1, &d1, None, &mut dw1, &mut db1)
    });
}
