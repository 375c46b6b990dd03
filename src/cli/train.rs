//! `lenet train` (and `lenet` without a subcommand).

use std::time::Instant;

use lenet::data::{MNIST_MEAN, MNIST_STD};
use lenet::optim::{Adam, Optimizer, Sgd};
use lenet::summary::Summary;
use lenet::train::{evaluate, train, transform_for, Event, Schedule, TrainConfig};
use lenet::weights::safetensors::save_safetensors;

use super::args::{OptimizerKind, ScheduleKind, TrainArgs};
use super::data::{self, thousands};
use super::model::LeNet5;
use super::progress;
use super::CliError;

/// The optimiser chosen on the command line.
enum AnyOptimizer {
    Sgd(Sgd),
    Adam(Adam),
}

impl Optimizer for AnyOptimizer {
    fn step_slice(&mut self, params: &mut [f32], grads: &[f32]) {
        match self {
            AnyOptimizer::Sgd(o) => o.step_slice(params, grads),
            AnyOptimizer::Adam(o) => o.step_slice(params, grads),
        }
    }
    fn lr(&self) -> f64 {
        match self {
            AnyOptimizer::Sgd(o) => o.lr(),
            AnyOptimizer::Adam(o) => o.lr(),
        }
    }
    fn set_lr(&mut self, lr: f64) {
        match self {
            AnyOptimizer::Sgd(o) => o.set_lr(lr),
            AnyOptimizer::Adam(o) => o.set_lr(lr),
        }
    }
}

fn optimizer(kind: OptimizerKind, lr: Option<f64>) -> Result<(AnyOptimizer, String), CliError> {
    if let Some(lr) = lr {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(CliError::new(format!("--lr {lr}: the learning rate must be a positive number")));
        }
    }
    Ok(match kind {
        OptimizerKind::Sgd => {
            let lr = lr.unwrap_or(0.02);
            (AnyOptimizer::Sgd(Sgd::new(lr).momentum(0.9)), format!("SGD lr {lr} momentum 0.9"))
        }
        OptimizerKind::Adam => {
            let lr = lr.unwrap_or(2e-3);
            (AnyOptimizer::Adam(Adam::new(lr)), format!("Adam lr {lr}"))
        }
    })
}

/// Trains LeNet-5, evaluating on the test set after every epoch, and saves
/// the weights.
pub fn run(a: &TrainArgs) -> Result<(), CliError> {
    data::threads(a.threads)?;
    let (mut opt, opt_desc) = optimizer(a.optimizer, a.lr)?;
    let dir = data::resolve(a.data.as_deref())?;
    let mut split = data::load(&dir)?;
    if let Some(n) = a.limit {
        split.train.truncate(n);
    }
    let t = transform_for::<LeNet5>(&split.train, MNIST_MEAN, MNIST_STD)?;
    println!("{}", Summary::of::<LeNet5>());
    println!(
        "data: {} ({} training / {} test images of {}×{}, padded to 32×32)",
        dir.display(),
        thousands(split.train.len()),
        thousands(split.test.len()),
        split.train.rows,
        split.train.cols
    );
    println!(
        "training: {} epochs, batch {}, {opt_desc}, {:?} schedule, seed {}, {} threads",
        a.epochs,
        a.batch_size,
        a.schedule,
        a.seed,
        rayon::current_num_threads()
    );
    let mut net = LeNet5::new(a.seed);
    let schedule = match a.schedule {
        ScheduleKind::Constant => Schedule::Constant,
        ScheduleKind::Cosine => Schedule::Cosine,
    };
    let config = TrainConfig { epochs: a.epochs, batch_size: a.batch_size as usize, seed: a.seed, schedule };
    let start = Instant::now();
    let mut bar = None;
    let mut failure = None;
    let mut last_test = None;
    train(&mut net, &mut opt, &split.train, &t, &config, |e| match e {
        Event::EpochStart { epoch, epochs, batches } => bar = Some(progress::epoch_bar(epoch, epochs, batches)),
        Event::Batch(s) => {
            if let Some(b) = &bar {
                progress::update(b, s);
            }
        }
        Event::EpochEnd { stats, net } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            match evaluate(net, &split.test, &t) {
                Ok(test) => {
                    println!(
                        "epoch {}/{}: loss {:.4}, train acc {:.2} %, test acc {:.2} % ({}/{}), \
                         {:.0} img/s, {:.1} s",
                        stats.epoch,
                        config.epochs,
                        stats.mean_loss,
                        100.0 * stats.accuracy,
                        100.0 * test.accuracy(),
                        test.correct,
                        test.total,
                        stats.images_per_sec,
                        stats.seconds
                    );
                    last_test = Some(test);
                }
                Err(e) => failure = Some(e),
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    let secs = start.elapsed().as_secs_f64();
    save_safetensors(&net, &a.out)?;
    match last_test {
        Some(test) => println!(
            "test accuracy {:.2} % after {} epochs in {secs:.1} s; weights saved to {}",
            100.0 * test.accuracy(),
            a.epochs,
            a.out.display()
        ),
        None => println!("no epochs trained; initial weights saved to {}", a.out.display()),
    }
    Ok(())
}
