//! `lenet train` (and `lenet` without a subcommand).

use lenet::optim::{Adam, Optimizer, Sgd};
use lenet::train::Schedule;
use lenet::weights::safetensors::save_safetensors_with_metadata;

use super::args::{OptimizerKind, ScheduleKind, TrainArgs};
use super::augment::Augment;
use super::data::{self, thousands};
use super::fit::{fit, hold_out, Event, Plan, Sets};
use super::meta::{self, Preprocess, Record};
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

fn optimizer(
    kind: OptimizerKind,
    lr: Option<f64>,
    wd: f64,
) -> Result<(AnyOptimizer, String), CliError> {
    if !(wd >= 0.0 && wd.is_finite()) {
        return Err(CliError::new(format!(
            "--weight-decay {wd}: give a number from 0 up"
        )));
    }
    let with_wd = if wd > 0.0 {
        format!(", weight decay {wd}")
    } else {
        String::new()
    };
    if let Some(lr) = lr {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(CliError::new(format!(
                "--lr {lr}: the learning rate must be a positive number"
            )));
        }
    }
    Ok(match kind {
        OptimizerKind::Sgd => {
            let lr = lr.unwrap_or(0.02);
            (
                AnyOptimizer::Sgd(Sgd::new(lr).momentum(0.9).weight_decay(wd)),
                format!("SGD lr {lr} momentum 0.9{with_wd}"),
            )
        }
        OptimizerKind::Adam => {
            let lr = lr.unwrap_or(2e-3);
            (
                AnyOptimizer::Adam(Adam::new(lr).weight_decay(wd)),
                format!("Adam lr {lr}{with_wd}"),
            )
        }
    })
}

/// Checks the options that clap cannot: an error names the option.
fn check(a: &TrainArgs) -> Result<(), CliError> {
    if a.epochs == 0 {
        return Err(CliError::new(
            "--epochs 0: nothing to train (give at least 1; the weights file is left as it is)",
        ));
    }
    if !(a.shift.is_finite() && (0.0..=8.0).contains(&a.shift)) {
        return Err(CliError::new(format!(
            "--shift {}: give a number of pixels from 0 to 8",
            a.shift
        )));
    }
    if !(a.rotate.is_finite() && (0.0..=45.0).contains(&a.rotate)) {
        return Err(CliError::new(format!(
            "--rotate {}: give a number of degrees from 0 to 45",
            a.rotate
        )));
    }
    if a.patience.is_some() && a.validation == 0 {
        return Err(CliError::new(
            "--patience needs a validation split to watch: give --validation N too",
        ));
    }
    Ok(())
}

/// Trains LeNet-5, evaluating after every epoch, and saves the best
/// weights with what they are in the metadata.
pub fn run(a: &TrainArgs) -> Result<(), CliError> {
    check(a)?;
    data::threads(a.threads)?;
    let (mut opt, opt_desc) = optimizer(a.optimizer, a.lr, a.weight_decay)?;
    let data = data::load(a.data.as_deref(), LeNet5::OUTPUT_LEN)?;
    let mut split = data.split;
    if let Some(n) = a.limit {
        split.train.truncate(n);
        split.test.truncate(n);
    }
    if a.validation > 0 && a.validation >= split.train.len() {
        return Err(CliError::new(format!(
            "--validation {}: the training set has {} images; hold out fewer",
            a.validation,
            thousands(split.train.len())
        )));
    }
    let (train_set, validation) = if a.validation > 0 {
        let (t, v) = hold_out(&split.train, a.validation, a.seed);
        (t, Some(v))
    } else {
        (split.train, None)
    };
    let pre = Preprocess::of_training::<LeNet5>(&train_set)?;
    let t = pre.transform::<LeNet5>(train_set.rows, train_set.cols, &data.source)?;
    if (split.test.rows, split.test.cols) != (train_set.rows, train_set.cols) {
        return Err(CliError::new(format!(
            "{}: training images are {}×{} but test images are {}×{}",
            data.source, train_set.rows, train_set.cols, split.test.rows, split.test.cols
        )));
    }
    let augment = Augment {
        shift: a.shift,
        rotate: a.rotate,
        seed: a.seed,
    };
    println!("{}", LeNet5::summary());
    let [_, h, w] = LeNet5::INPUT_SHAPE;
    println!(
        "data: {} from {} ({} training{} / {} test images of {}×{}, padded to {h}×{w}, \
         mean {} std {})",
        data.name,
        data.source,
        thousands(train_set.len()),
        match &validation {
            Some(v) => format!(" / {} validation", thousands(v.len())),
            None => String::new(),
        },
        thousands(split.test.len()),
        train_set.rows,
        train_set.cols,
        pre.mean,
        pre.std
    );
    println!(
        "training: {} epochs{}, batch {}, {opt_desc}, {:?} schedule, augmentation {}, seed {}, \
         {} threads",
        a.epochs,
        match a.patience {
            Some(p) => format!(" at most (patience {p})"),
            None => String::new(),
        },
        a.batch_size,
        a.schedule,
        augment.describe(),
        a.seed,
        rayon::current_num_threads()
    );
    let plan = Plan {
        epochs: a.epochs,
        batch_size: a.batch_size as usize,
        seed: a.seed,
        schedule: match a.schedule {
            ScheduleKind::Constant => Schedule::Constant,
            ScheduleKind::Cosine => Schedule::Cosine,
        },
        augment,
        patience: a.patience.map(|p| p as usize),
    };
    let mut bar = None;
    let out = fit(
        LeNet5::new(a.seed),
        &mut opt,
        Sets {
            train: &train_set,
            validation: validation.as_ref(),
            test: &split.test,
        },
        &t,
        &plan,
        |event| match event {
            Event::Start(epoch, batches) => {
                bar = Some(progress::epoch_bar(epoch, a.epochs, batches))
            }
            Event::Batch(p) => {
                if let Some(b) = &bar {
                    progress::update(b, p);
                }
            }
            Event::End(r) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                let val = match r.validation {
                    Some(v) => format!("val acc {:.2} %, ", 100.0 * v.accuracy()),
                    None => String::new(),
                };
                println!(
                    "epoch {}/{}: loss {:.4}, train acc {:.2} %, {val}test acc {:.2} % ({}/{}), \
                 {:.0} img/s, {:.1} s{}",
                    r.epoch,
                    a.epochs,
                    r.mean_loss,
                    100.0 * r.accuracy,
                    100.0 * r.test.accuracy(),
                    r.test.correct,
                    r.test.total,
                    r.images_per_sec,
                    r.seconds,
                    if r.best && validation.is_some() {
                        " (best so far)"
                    } else {
                        ""
                    }
                );
            }
        },
    )?;
    let best = &out.best;
    let record = Record {
        preprocess: pre,
        dataset: &data.name,
        classes: data.classes.as_deref(),
        epochs: best.epoch,
        test_accuracy: best.test.accuracy(),
        validation_accuracy: best.validation.map(|v| v.accuracy()),
        seed: a.seed,
        augmentation: augment.describe(),
    };
    save_safetensors_with_metadata(&out.net, &a.out, &meta::metadata::<LeNet5>(&record))?;
    if out.stopped_early {
        println!(
            "stopped early: no better validation accuracy for {} epochs",
            a.patience.unwrap_or(0)
        );
    }
    let which = match best.validation {
        Some(v) => format!(
            " (epoch {}, the best on validation: {:.2} %)",
            best.epoch,
            100.0 * v.accuracy()
        ),
        None => String::new(),
    };
    println!(
        "test accuracy {:.2} %{which} after {} epoch{} in {:.1} s of training; \
         weights saved to {}",
        100.0 * best.test.accuracy(),
        out.epochs_run,
        if out.epochs_run == 1 { "" } else { "s" },
        out.train_seconds,
        a.out.display()
    );
    Ok(())
}
