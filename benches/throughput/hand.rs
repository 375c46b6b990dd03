//! LeNet-5 composed by hand from the runtime's layers, call for call what
//! `network!` generates, to measure the whole network on 1 and 2 threads.

use rayon::prelude::*;

use super::*;

/// Offsets of each tensor in the flat parameter array (PyTorch order).
const C1W: usize = 0;
const C1B: usize = C1W + 150;
const C2W: usize = C1B + 6;
const C2B: usize = C2W + 2400;
const L1W: usize = C2B + 16;
const L1B: usize = L1W + 48000;
const L2W: usize = L1B + 120;
const L2B: usize = L2W + 10080;
const L3W: usize = L2B + 84;
const L3B: usize = L3W + 840;
/// Total parameters.
pub const PARAMS: usize = L3B + 10;

/// Images per pass through the layers (`SUB` env var, default 16).
static SUB_CELL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

#[allow(non_snake_case)]
fn SUB_get() -> usize {
    *SUB_CELL.get_or_init(|| {
        std::env::var("SUB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(16)
    })
}

pub struct Net {
    pub p: Vec<f32>,
}

impl Net {
    pub fn new() -> Net {
        let mut p = rng_vec(PARAMS, 7);
        for v in &mut p {
            *v *= 0.2;
        }
        Net { p }
    }

    /// One image, stack buffers only.
    pub fn forward_one(&self, x: &[f32; 1024]) -> [f32; 10] {
        let p = &self.p[..];
        let mut a1 = [0.0f32; 4704];
        C1::forward(&p[C1W..C1B], &p[C1B..C2W], x, &mut a1);
        let mut a2 = [0.0f32; 4704];
        R1::forward(&[], &[], &a1, &mut a2);
        let mut a3 = [0.0f32; 1176];
        P1::forward(&[], &[], &a2, &mut a3);
        let mut a4 = [0.0f32; 1600];
        C2::forward(&p[C2W..C2B], &p[C2B..L1W], &a3, &mut a4);
        let mut a5 = [0.0f32; 1600];
        R2::forward(&[], &[], &a4, &mut a5);
        let mut a6 = [0.0f32; 400];
        P2::forward(&[], &[], &a5, &mut a6);
        let mut a7 = [0.0f32; 400];
        Fl::forward(&[], &[], &a6, &mut a7);
        let mut a8 = [0.0f32; 120];
        L1::forward(&p[L1W..L1B], &p[L1B..L2W], &a7, &mut a8);
        let mut a9 = [0.0f32; 120];
        R3::forward(&[], &[], &a8, &mut a9);
        let mut a10 = [0.0f32; 84];
        L2::forward(&p[L2W..L2B], &p[L2B..L3W], &a9, &mut a10);
        let mut a11 = [0.0f32; 84];
        R4::forward(&[], &[], &a10, &mut a11);
        let mut a12 = [0.0f32; 10];
        L3::forward(&p[L3W..L3B], &p[L3B..], &a11, &mut a12);
        a12
    }

    /// `n` images, `SUB` at a time (the activations of a few images stay in
    /// cache; those of hundreds do not).
    pub fn forward_slice(&self, x: &[f32], logits: &mut [f32]) {
        for (x, y) in x
            .chunks(SUB_get() * 1024)
            .zip(logits.chunks_mut(SUB_get() * 10))
        {
            self.forward_chunk(x, y);
        }
    }

    /// `n` images at once.
    pub fn forward_chunk(&self, x: &[f32], logits: &mut [f32]) {
        let n = x.len() / 1024;
        let p = &self.p[..];
        let mut a1 = vec![0.0f32; n * 4704];
        C1::forward(&p[C1W..C1B], &p[C1B..C2W], x, &mut a1);
        let mut a2 = vec![0.0f32; n * 4704];
        R1::forward(&[], &[], &a1, &mut a2);
        let mut a3 = vec![0.0f32; n * 1176];
        P1::forward(&[], &[], &a2, &mut a3);
        let mut a4 = vec![0.0f32; n * 1600];
        C2::forward(&p[C2W..C2B], &p[C2B..L1W], &a3, &mut a4);
        let mut a5 = vec![0.0f32; n * 1600];
        R2::forward(&[], &[], &a4, &mut a5);
        let mut a6 = vec![0.0f32; n * 400];
        P2::forward(&[], &[], &a5, &mut a6);
        let mut a7 = vec![0.0f32; n * 400];
        Fl::forward(&[], &[], &a6, &mut a7);
        let mut a8 = vec![0.0f32; n * 120];
        L1::forward(&p[L1W..L1B], &p[L1B..L2W], &a7, &mut a8);
        let mut a9 = vec![0.0f32; n * 120];
        R3::forward(&[], &[], &a8, &mut a9);
        let mut a10 = vec![0.0f32; n * 84];
        L2::forward(&p[L2W..L2B], &p[L2B..L3W], &a9, &mut a10);
        let mut a11 = vec![0.0f32; n * 84];
        R4::forward(&[], &[], &a10, &mut a11);
        L3::forward(&p[L3W..L3B], &p[L3B..], &a11, logits);
    }

    /// Forward, softmax cross-entropy, backward of `n` images: adds
    /// `scale · ∂Σloss/∂θ` to `g`.
    pub fn loss_grad_slice(&self, x: &[f32], labels: &[usize], scale: f32, g: &mut [f32]) -> f32 {
        x.chunks(SUB_get() * 1024)
            .zip(labels.chunks(SUB_get()))
            .map(|(x, l)| self.loss_grad_chunk(x, l, scale, g))
            .sum()
    }

    /// [`Net::loss_grad_slice`] on all `n` images at once.
    pub fn loss_grad_chunk(&self, x: &[f32], labels: &[usize], scale: f32, g: &mut [f32]) -> f32 {
        let n = x.len() / 1024;
        let p = &self.p[..];
        let mut a1 = vec![0.0f32; n * 4704];
        C1::forward(&p[C1W..C1B], &p[C1B..C2W], x, &mut a1);
        let mut a2 = vec![0.0f32; n * 4704];
        R1::forward(&[], &[], &a1, &mut a2);
        let mut a3 = vec![0.0f32; n * 1176];
        P1::forward(&[], &[], &a2, &mut a3);
        let mut a4 = vec![0.0f32; n * 1600];
        C2::forward(&p[C2W..C2B], &p[C2B..L1W], &a3, &mut a4);
        let mut a5 = vec![0.0f32; n * 1600];
        R2::forward(&[], &[], &a4, &mut a5);
        let mut a6 = vec![0.0f32; n * 400];
        P2::forward(&[], &[], &a5, &mut a6);
        let mut a7 = vec![0.0f32; n * 400];
        Fl::forward(&[], &[], &a6, &mut a7);
        let mut a8 = vec![0.0f32; n * 120];
        L1::forward(&p[L1W..L1B], &p[L1B..L2W], &a7, &mut a8);
        let mut a9 = vec![0.0f32; n * 120];
        R3::forward(&[], &[], &a8, &mut a9);
        let mut a10 = vec![0.0f32; n * 84];
        L2::forward(&p[L2W..L2B], &p[L2B..L3W], &a9, &mut a10);
        let mut a11 = vec![0.0f32; n * 84];
        R4::forward(&[], &[], &a10, &mut a11);
        let mut a12 = vec![0.0f32; n * 10];
        L3::forward(&p[L3W..L3B], &p[L3B..], &a11, &mut a12);
        let mut d12 = vec![0.0f32; n * 10];
        let mut loss = 0.0f64;
        for ((y, dy), &l) in a12
            .chunks_exact(10)
            .zip(d12.chunks_exact_mut(10))
            .zip(labels)
        {
            loss += lenet_runtime::loss::softmax_cross_entropy(y, l, scale, dy) as f64;
        }
        let (dw, db) = g[L3W..].split_at_mut(840);
        let mut d11 = vec![0.0f32; n * 84];
        L3::backward(&p[L3W..L3B], &a11, &a12, &d12, Some(&mut d11), dw, db);
        let mut d10 = vec![0.0f32; n * 84];
        R4::backward(&[], &a10, &a11, &d11, Some(&mut d10), &mut [], &mut []);
        let (dw, db) = g[L2W..L3W].split_at_mut(10080);
        let mut d9 = vec![0.0f32; n * 120];
        L2::backward(&p[L2W..L2B], &a9, &a10, &d10, Some(&mut d9), dw, db);
        let mut d8 = vec![0.0f32; n * 120];
        R3::backward(&[], &a8, &a9, &d9, Some(&mut d8), &mut [], &mut []);
        let (dw, db) = g[L1W..L2W].split_at_mut(48000);
        let mut d7 = vec![0.0f32; n * 400];
        L1::backward(&p[L1W..L1B], &a7, &a8, &d8, Some(&mut d7), dw, db);
        let mut d6 = vec![0.0f32; n * 400];
        Fl::backward(&[], &a6, &a7, &d7, Some(&mut d6), &mut [], &mut []);
        let mut d5 = vec![0.0f32; n * 1600];
        P2::backward(&[], &a5, &a6, &d6, Some(&mut d5), &mut [], &mut []);
        let mut d4 = vec![0.0f32; n * 1600];
        R2::backward(&[], &a4, &a5, &d5, Some(&mut d4), &mut [], &mut []);
        let (dw, db) = g[C2W..L1W].split_at_mut(2400);
        let mut d3 = vec![0.0f32; n * 1176];
        C2::backward(&p[C2W..C2B], &a3, &a4, &d4, Some(&mut d3), dw, db);
        let mut d2 = vec![0.0f32; n * 4704];
        P1::backward(&[], &a2, &a3, &d3, Some(&mut d2), &mut [], &mut []);
        let mut d1 = vec![0.0f32; n * 4704];
        R1::backward(&[], &a1, &a2, &d2, Some(&mut d1), &mut [], &mut []);
        let (dw, db) = g[C1W..C2W].split_at_mut(150);
        C1::backward(&p[C1W..C1B], x, &a1, &d1, None, dw, db);
        loss as f32
    }
}

/// Logits of a batch, one contiguous chunk per thread (as `forward_batch`).
fn forward_batch(net: &Net, x: &[f32], out: &mut [f32]) {
    let chunk = (x.len() / 1024)
        .div_ceil(rayon::current_num_threads())
        .max(8);
    out.par_chunks_mut(chunk * 10)
        .zip(x.par_chunks(chunk * 1024))
        .for_each(|(y, x)| net.forward_slice(x, y));
}

/// One training step as `loss_and_grad` + SGD: chunk gradients summed in
/// order, then `p -= lr · g`.
fn train_step(net: &mut Net, x: &[f32], labels: &[usize], lr: f32) -> f32 {
    let n = labels.len();
    let chunk = n.div_ceil(rayon::current_num_threads());
    let scale = 1.0 / n as f32;
    let parts: Vec<(f32, Vec<f32>)> = x
        .par_chunks(chunk * 1024)
        .zip(labels.par_chunks(chunk))
        .map(|(x, l)| {
            let mut g = vec![0.0f32; PARAMS];
            let loss = net.loss_grad_slice(x, l, scale, &mut g);
            (loss, g)
        })
        .collect();
    let mut grads = vec![0.0f32; PARAMS];
    let mut loss = 0.0;
    for (l, g) in &parts {
        loss += l;
        for (a, v) in grads.iter_mut().zip(g) {
            *a += v;
        }
    }
    for (p, g) in net.p.iter_mut().zip(&grads) {
        *p -= lr * g;
    }
    loss / n as f32
}

pub fn whole_network(time: fn(&mut dyn FnMut()) -> f64, time_wall: fn(&mut dyn FnMut()) -> f64) {
    let mut net = Net::new();
    let x1: [f32; 1024] = rng_vec(1024, 11).try_into().unwrap();
    let x256 = rng_vec(256 * 1024, 12);
    let x64 = rng_vec(64 * 1024, 13);
    let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    println!("whole network (hand-composed layers, as network! generates)");
    let lat = time(&mut || {
        black_box(net.forward_one(black_box(&x1)));
    });
    println!(
        "  batch-1 latency            {:8.2} µs/image   {:6.1} GFLOP/s",
        lat * 1e6,
        FORWARD_FLOP / lat / 1e9
    );
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        // One thread: on this thread, timed in CPU time; two: wall clock.
        let clock = if threads == 1 { time } else { time_wall };
        let mut out = vec![0.0f32; 256 * 10];
        let t = if threads == 1 {
            clock(&mut || net.forward_slice(black_box(&x256), &mut out))
        } else {
            pool.install(|| clock(&mut || forward_batch(&net, black_box(&x256), &mut out)))
        };
        println!(
            "  {threads} thread(s) batch-256 inference {:9.0} images/s   {:6.1} GFLOP/s",
            256.0 / t,
            256.0 * FORWARD_FLOP / t / 1e9
        );
        let t = if threads == 1 {
            clock(&mut || {
                black_box(train_step_here(&mut net, black_box(&x64), &labels, 1e-4));
            })
        } else {
            pool.install(|| {
                clock(&mut || {
                    black_box(train_step(&mut net, black_box(&x64), &labels, 1e-4));
                })
            })
        };
        println!(
            "  {threads} thread(s) training batch 64   {:9.0} images/s   {:6.1} GFLOP/s",
            64.0 / t,
            64.0 * TRAIN_FLOP / t / 1e9
        );
    }
}

/// [`train_step`] on the calling thread alone.
fn train_step_here(net: &mut Net, x: &[f32], labels: &[usize], lr: f32) -> f32 {
    let mut g = vec![0.0f32; PARAMS];
    let loss = net.loss_grad_slice(x, labels, 1.0 / labels.len() as f32, &mut g);
    for (p, g) in net.p.iter_mut().zip(&g) {
        *p -= lr * g;
    }
    loss / labels.len() as f32
}
