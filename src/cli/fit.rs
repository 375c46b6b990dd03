//! The binary's training loop: seeded shuffles, mini-batches augmented on
//! the fly, the gradient computed one contiguous chunk per thread and summed
//! in order (so a run depends only on its seed and the thread count), an
//! optimiser step after each batch, and after each epoch the validation and
//! test accuracy, the best epoch kept and early stopping.

use std::time::Instant;

use lenet::data::{Dataset, Transform};
use lenet::init::SplitMix64;
use lenet::model::Pass;
use lenet::optim::Optimizer;
use lenet::train::{evaluate, Evaluation, Schedule};
use lenet::Batched;
use rayon::prelude::*;

use super::augment::Augment;
use super::CliError;

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Most passes over the training set.
    pub epochs: usize,
    /// Images per mini-batch.
    pub batch_size: usize,
    /// Seed of the shuffles (and of the augmentation's draws).
    pub seed: u64,
    /// The learning rate over the run.
    pub schedule: Schedule,
    /// Shifts and rotations of the training images.
    pub augment: Augment,
    /// Stop after this many epochs without a better validation accuracy.
    pub patience: Option<usize>,
}

/// After each mini-batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress {
    /// Batch within the epoch, from 1.
    pub batch: usize,
    /// Mean loss over the epoch so far.
    pub mean_loss: f64,
    /// Fraction of the epoch's images so far classified right.
    pub accuracy: f64,
    /// Training throughput over the epoch so far.
    pub images_per_sec: f64,
}

/// After each epoch.
#[derive(Debug, Clone, Copy)]
pub struct EpochReport {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub mean_loss: f64,
    /// Training accuracy (from the forward pass of each batch).
    pub accuracy: f64,
    /// Seconds spent training this epoch (evaluation not included).
    pub seconds: f64,
    /// Training throughput.
    pub images_per_sec: f64,
    /// On the validation split, if there is one.
    pub validation: Option<Evaluation>,
    /// On the test set.
    pub test: Evaluation,
    /// Whether these are the best weights so far (by validation accuracy;
    /// without validation, the latest).
    pub best: bool,
}

/// The result of a run.
pub struct Outcome<N> {
    /// The weights kept: the best epoch's.
    pub net: N,
    /// That epoch's report.
    pub best: EpochReport,
    /// Epochs run.
    pub epochs_run: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Seconds spent training, all epochs (evaluation not included).
    pub train_seconds: f64,
}

/// The data of a run.
#[derive(Clone, Copy)]
pub struct Sets<'a> {
    /// Trained on.
    pub train: &'a Dataset,
    /// Picks the best epoch, if given.
    pub validation: Option<&'a Dataset>,
    /// Reported after every epoch.
    pub test: &'a Dataset,
}

/// What the loop reports, in order: for each epoch one `Start`, one
/// `Batch` per mini-batch, one `End`.
pub enum Event<'a> {
    /// An epoch begins: its number (from 1) and its number of batches.
    Start(usize, usize),
    /// A mini-batch was trained on.
    Batch(&'a BatchProgress),
    /// An epoch ended, and was evaluated.
    End(&'a EpochReport),
}

/// Trains `net`, reporting to `observe`, and returns the best epoch's
/// weights.
pub fn fit<N: Batched, O: Optimizer>(
    mut net: N,
    opt: &mut O,
    sets: Sets<'_>,
    t: &Transform,
    plan: &Plan,
    mut observe: impl FnMut(Event<'_>),
) -> Result<Outcome<N>, CliError> {
    let Sets {
        train,
        validation,
        test,
    } = sets;
    if train.is_empty() {
        return Err(CliError::new("the training set is empty"));
    }
    if let Some(l) = train.labels.iter().find(|&&l| l as usize >= N::OUTPUT_LEN) {
        return Err(CliError::new(format!(
            "label {l} in the training set, but the network has {} outputs",
            N::OUTPUT_LEN
        )));
    }
    let batch_size = plan.batch_size.max(1);
    let batches = train.len().div_ceil(batch_size);
    let total_steps = batches * plan.epochs;
    let base_lr = opt.lr();
    let mut rng = SplitMix64::new(plan.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut y = Vec::new();
    let mut grad = BatchGrad::default();
    let mut best: Option<(N, EpochReport)> = None;
    let (mut train_seconds, mut epochs_run, mut stopped_early) = (0.0, 0, false);
    for epoch in 1..=plan.epochs {
        rng.shuffle(&mut order);
        observe(Event::Start(epoch, batches));
        let start = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (b, indices) in order.chunks(batch_size).enumerate() {
            let n = indices.len();
            y.clear();
            y.extend(indices.iter().map(|&i| train.label(i)));
            let (loss, right) = grad.compute(&net, indices, &y, |i, out| {
                plan.augment.apply(t, train, i, epoch, out)
            });
            if !loss.is_finite() {
                return Err(CliError::new(format!(
                    "training diverged: the loss is {loss} at epoch {epoch}, batch {}; \
                     try a lower learning rate",
                    b + 1
                )));
            }
            let step = (epoch - 1) * batches + b;
            opt.set_lr(plan.schedule.lr(base_lr, step, total_steps));
            opt.step_slice(net.parameters_mut(), &grad.sum);
            loss_sum += f64::from(loss) * n as f64;
            correct += right;
            seen += n;
            observe(Event::Batch(&BatchProgress {
                batch: b + 1,
                mean_loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
                images_per_sec: seen as f64 / start.elapsed().as_secs_f64().max(1e-9),
            }));
        }
        let seconds = start.elapsed().as_secs_f64();
        train_seconds += seconds;
        epochs_run = epoch;
        let validation = validation.map(|v| evaluate(&net, v, t)).transpose()?;
        let test = evaluate(&net, test, t)?;
        let better = match (&best, validation) {
            (Some((_, b)), Some(v)) => v.correct > b.validation.map_or(0, |e| e.correct),
            _ => true,
        };
        let report = EpochReport {
            epoch,
            mean_loss: loss_sum / seen as f64,
            accuracy: correct as f64 / seen as f64,
            seconds,
            images_per_sec: seen as f64 / seconds.max(1e-9),
            validation,
            test,
            best: better,
        };
        observe(Event::End(&report));
        if better {
            best = Some((net.clone(), report));
        }
        if let (Some(p), Some((_, b))) = (plan.patience, &best) {
            if epoch - b.epoch >= p && epoch < plan.epochs {
                stopped_early = true;
                break;
            }
        }
    }
    opt.set_lr(base_lr);
    let (net, best) = best.ok_or_else(|| CliError::new("no epoch was trained"))?;
    Ok(Outcome {
        net,
        best,
        epochs_run,
        stopped_early,
        train_seconds,
    })
}

/// The mean loss and gradient of a batch, in buffers kept from batch to
/// batch: one contiguous chunk of the batch per thread, which prepares its
/// own images and computes their gradient; the chunks' gradients summed in
/// order.
#[derive(Default)]
struct BatchGrad {
    parts: Vec<Part>,
    sum: Vec<f32>,
}

#[derive(Default)]
struct Part {
    pass: Pass,
    grads: Vec<f32>,
    images: Vec<f32>,
}

impl BatchGrad {
    /// Mean loss and number classified right of the images `indices`
    /// (labels `labels`), each written by `fill(index, input)`; the gradient
    /// is left in `sum`.
    fn compute<N: Batched>(
        &mut self,
        net: &N,
        indices: &[usize],
        labels: &[usize],
        fill: impl Fn(usize, &mut [f32]) + Sync,
    ) -> (f32, usize) {
        let n = labels.len();
        let scale = 1.0 / n as f32;
        let chunk = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
        let chunks = n.div_ceil(chunk);
        if self.parts.len() < chunks {
            self.parts.resize_with(chunks, Part::default);
        }
        self.parts[..chunks]
            .par_iter_mut()
            .zip(indices.par_chunks(chunk))
            .zip(labels.par_chunks(chunk))
            .enumerate()
            .for_each(|(k, ((part, indices), labels))| {
                part.images.resize(indices.len() * N::INPUT_LEN, 0.0);
                for (&i, out) in indices
                    .iter()
                    .zip(part.images.chunks_exact_mut(N::INPUT_LEN))
                {
                    fill(i, out);
                }
                part.grads.clear();
                part.grads.resize(N::PARAM_COUNT, 0.0);
                let block = lenet::model::TrainBlock {
                    scale,
                    first_image: k * chunk,
                    buffers: &mut [],
                    counters: &mut [],
                };
                part.pass = net.loss_grad_slice(&part.images, labels, block, &mut part.grads);
            });
        self.sum.clear();
        self.sum.resize(N::PARAM_COUNT, 0.0);
        let (mut loss, mut correct) = (0.0f64, 0);
        for part in &self.parts[..chunks] {
            loss += f64::from(part.pass.loss);
            correct += part.pass.correct;
            for (acc, v) in self.sum.iter_mut().zip(&part.grads) {
                *acc += v;
            }
        }
        ((loss / n as f64) as f32, correct)
    }
}

/// `n` images of `data` chosen by `seed` as a validation split: returns the
/// rest and the split, each in the original order.
pub fn hold_out(data: &Dataset, n: usize, seed: u64) -> (Dataset, Dataset) {
    let mut order: Vec<usize> = (0..data.len()).collect();
    SplitMix64::new(seed ^ 0x7a11_da7e_5eed_0001).shuffle(&mut order);
    let mut held = vec![false; data.len()];
    for &i in &order[..n.min(data.len())] {
        held[i] = true;
    }
    let pick = |keep: bool| {
        let size = data.rows * data.cols;
        let mut d = Dataset {
            images: Vec::new(),
            labels: Vec::new(),
            rows: data.rows,
            cols: data.cols,
        };
        for i in (0..data.len()).filter(|&i| held[i] == keep) {
            d.images
                .extend_from_slice(&data.images[i * size..(i + 1) * size]);
            d.labels.push(data.labels[i]);
        }
        d
    };
    (pick(false), pick(true))
}
