//! The training loop: epochs over a data set in a seeded random order,
//! mini-batches through the network's loss and gradient (as
//! [`loss_and_grad`] computes them), an optimiser step after each, and
//! progress reported to an observer; and the evaluation of a network on a
//! data set.
//!
//! Everything is deterministic for a given seed and thread count: the
//! shuffle comes from [`SplitMix64`], and batch gradients are reduced in a
//! fixed order.

use std::time::Instant;

use ndarray::{ArrayView2, ArrayView4};

#[cfg(doc)]
use crate::batch::loss_and_grad;
use crate::batch::{forward_batch, loss_grad_pass};
use crate::data::{Dataset, Transform};
use crate::error::Error;
use crate::init::SplitMix64;
use crate::network::{Batched, Network};
use crate::optim::Optimizer;

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per mini-batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Seed of the shuffle.
    pub seed: u64,
    /// How the learning rate changes over the run.
    pub schedule: Schedule,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 32,
            seed: 0,
            schedule: Schedule::Constant,
        }
    }
}

/// The learning rate over a run, relative to the optimiser's rate at the
/// start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// The optimiser's rate throughout.
    #[default]
    Constant,
    /// Cosine annealing to zero over all the batches of the run, step by
    /// step (PyTorch's `CosineAnnealingLR` with `T_max` = total steps,
    /// `eta_min` = 0): `lr₀ · (1 + cos(π · t / T)) / 2` at step `t`.
    Cosine,
}

impl Schedule {
    /// The rate for step `t` (from 0) of `total`, starting from `base`.
    pub fn lr(&self, base: f64, t: usize, total: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => {
                let x = t as f64 / total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
        }
    }
}

/// Progress after one mini-batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Batch within the epoch, from 1.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Mean loss of this batch.
    pub loss: f32,
    /// Mean loss over the epoch so far.
    pub mean_loss: f64,
    /// Fraction of the epoch's images so far that the network classified
    /// correctly in the forward pass of their batch (before its update).
    pub accuracy: f64,
    /// Images of the epoch so far.
    pub images: usize,
    /// Training throughput over the epoch so far.
    pub images_per_sec: f64,
}

/// Summary of one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub mean_loss: f64,
    /// Training accuracy over the epoch (see [`BatchStats::accuracy`]).
    pub accuracy: f64,
    /// Images trained on.
    pub images: usize,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
    /// Training throughput.
    pub images_per_sec: f64,
}

/// What the training loop reports, in order: for each epoch one
/// `EpochStart`, one `Batch` per mini-batch, one `EpochEnd` with the network
/// as it stands (to evaluate or save it).
#[derive(Debug)]
pub enum Event<'a, N> {
    /// An epoch begins.
    EpochStart {
        /// Epoch, from 1.
        epoch: usize,
        /// Number of epochs.
        epochs: usize,
        /// Batches in this epoch.
        batches: usize,
    },
    /// A mini-batch was trained on.
    Batch(&'a BatchStats),
    /// An epoch ended.
    EpochEnd {
        /// Its summary.
        stats: &'a EpochStats,
        /// The network after the epoch.
        net: &'a N,
    },
}

/// Checks that the images of `data` fit `N`'s one-channel input and returns
/// the transform that pads them to it, normalised with `mean` and `std`.
pub fn transform_for<N: Network>(data: &Dataset, mean: f32, std: f32) -> Result<Transform, Error> {
    let [c, h, w] = N::INPUT_SHAPE;
    if c != 1 {
        return Err(Error::Other(format!(
            "{} takes {c}-channel images; the data set is grey-scale (1 channel)",
            N::NAME
        )));
    }
    let t = Transform::new(data.rows, data.cols)
        .pad_to(h, w)
        .normalize(mean, std);
    t.check(data.rows, data.cols)?;
    Ok(t)
}

/// Trains `net` on `data` with `opt`, reporting to `observe`; returns the
/// summary of every epoch.
///
/// Fails without touching the network when the configuration or the data
/// do not fit, and stops with an error if the loss stops being finite.
pub fn train<N: Batched, O: Optimizer>(
    net: &mut N,
    opt: &mut O,
    data: &Dataset,
    transform: &Transform,
    config: &TrainConfig,
    mut observe: impl FnMut(Event<'_, N>),
) -> Result<Vec<EpochStats>, Error> {
    if config.batch_size == 0 {
        return Err(Error::Other("the batch size must be at least 1".into()));
    }
    if data.is_empty() {
        return Err(Error::Other("the training set is empty".into()));
    }
    check_transform::<N>(data, transform)?;
    let [c, h, w] = N::INPUT_SHAPE;
    let mut rng = SplitMix64::new(config.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut grad = BatchGrad::default();
    let mut epochs = Vec::with_capacity(config.epochs);
    let batches = data.len().div_ceil(config.batch_size);
    let base_lr = opt.lr();
    let total_steps = batches * config.epochs;
    for epoch in 1..=config.epochs {
        rng.shuffle(&mut order);
        observe(Event::EpochStart {
            epoch,
            epochs: config.epochs,
            batches,
        });
        let start = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (b, indices) in order.chunks(config.batch_size).enumerate() {
            transform.batch(data, indices, &mut x, &mut y);
            let n = indices.len();
            let images = ArrayView4::from_shape((n, c, h, w), &x)
                .map_err(|e| Error::Other(format!("batch of {n} images: {e}")))?;
            let (loss, right) = grad.compute(net, images, &y)?;
            correct += right;
            if !loss.is_finite() {
                return Err(Error::Other(format!(
                    "training diverged: the loss is {loss} at epoch {epoch}, batch {}; \
                     try a lower learning rate",
                    b + 1
                )));
            }
            opt.set_lr(
                config
                    .schedule
                    .lr(base_lr, (epoch - 1) * batches + b, total_steps),
            );
            opt.step_slice(net.parameters_mut(), &grad.sum);
            grad.commit(net);
            loss_sum += loss as f64 * n as f64;
            seen += n;
            let secs = start.elapsed().as_secs_f64();
            observe(Event::Batch(&BatchStats {
                epoch,
                batch: b + 1,
                batches,
                loss,
                mean_loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
                images: seen,
                images_per_sec: seen as f64 / secs.max(1e-9),
            }));
        }
        let seconds = start.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch,
            mean_loss: loss_sum / seen as f64,
            accuracy: correct as f64 / seen as f64,
            images: seen,
            seconds,
            images_per_sec: seen as f64 / seconds.max(1e-9),
        };
        observe(Event::EpochEnd { stats: &stats, net });
        epochs.push(stats);
    }
    opt.set_lr(base_lr);
    Ok(epochs)
}

/// The mean loss and gradient of a batch, in a buffer kept from batch to
/// batch: computed as [`loss_and_grad`] computes them (so the result is
/// bit-identical to it), but without a network-sized value on the stack or
/// a fresh allocation per batch.
#[derive(Default)]
struct BatchGrad {
    sum: Vec<f32>,
    /// The running statistics and counters after the batch.
    buffers: Vec<f32>,
    counters: Vec<i64>,
}

impl BatchGrad {
    fn compute<N: Batched>(
        &mut self,
        net: &N,
        images: ArrayView4<'_, f32>,
        labels: &[usize],
    ) -> Result<(f32, usize), Error> {
        self.sum.resize(N::PARAM_COUNT, 0.0);
        self.buffers.clear();
        self.buffers.extend_from_slice(net.buffers());
        self.counters.clear();
        self.counters.extend_from_slice(net.counters());
        loss_grad_pass(
            net,
            images,
            labels,
            &mut self.sum,
            &mut self.buffers,
            &mut self.counters,
        )
    }

    /// Gives `net` the batch's training state: the running statistics, the
    /// counters, one more step.
    fn commit<N: Network>(&self, net: &mut N) {
        net.buffers_mut().copy_from_slice(&self.buffers);
        net.counters_mut().copy_from_slice(&self.counters);
        net.set_training_steps(net.training_steps() + 1);
    }
}

fn check_transform<N: Network>(data: &Dataset, transform: &Transform) -> Result<(), Error> {
    transform.check(data.rows, data.cols)?;
    let [c, h, w] = N::INPUT_SHAPE;
    if c != 1 || [transform.height, transform.width] != [h, w] {
        return Err(Error::InputShape {
            expected: N::INPUT_SHAPE,
            found: [0, 1, transform.height, transform.width],
        });
    }
    Ok(())
}

pub use crate::loss::argmax;

fn count_correct(logits: ArrayView2<'_, f32>, labels: &[usize]) -> usize {
    logits
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, &l)| argmax(row.as_slice().unwrap_or(&[])) == l)
        .count()
}

/// How a network does on a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Images classified correctly.
    pub correct: usize,
    /// Images evaluated.
    pub total: usize,
    /// Mean softmax cross-entropy.
    pub mean_loss: f64,
}

impl Evaluation {
    /// Fraction classified correctly.
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// Classifies every image of `data` with `forward_batch` (in chunks, so that
/// memory stays small) and counts the correct ones.
pub fn evaluate<N: Batched>(
    net: &N,
    data: &Dataset,
    transform: &Transform,
) -> Result<Evaluation, Error> {
    check_transform::<N>(data, transform)?;
    let [c, h, w] = N::INPUT_SHAPE;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let (mut correct, mut loss) = (0usize, 0.0f64);
    let all: Vec<usize> = (0..data.len()).collect();
    let mut dlogits = vec![0.0f32; N::OUTPUT_LEN];
    for indices in all.chunks(512) {
        transform.batch(data, indices, &mut x, &mut y);
        let images = ArrayView4::from_shape((indices.len(), c, h, w), &x)
            .map_err(|e| Error::Other(format!("evaluation batch: {e}")))?;
        let logits = forward_batch(net, images)?;
        correct += count_correct(logits.view(), &y);
        for (row, &l) in logits.rows().into_iter().zip(&y) {
            let row = row.to_vec();
            if l < row.len() {
                loss += crate::loss::softmax_cross_entropy(&row, l, 1.0, &mut dlogits) as f64;
            }
        }
    }
    let total = data.len();
    Ok(Evaluation {
        correct,
        total,
        mean_loss: if total == 0 { 0.0 } else { loss / total as f64 },
    })
}
