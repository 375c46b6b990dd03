//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::CliError;

/// Train, evaluate and run LeNet-5 (ReLU, max pooling) on MNIST-like
/// digits. Without a subcommand: `train` with the options given.
#[derive(Debug, Parser)]
#[command(name = "lenet", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `train`, when no subcommand is given.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the network's layers, output shapes and parameter counts.
    Summary,
    /// Train on a directory of IDX files, report test accuracy after every
    /// epoch, save the weights.
    Train(TrainArgs),
    /// Test accuracy of saved weights.
    Eval(EvalArgs),
    /// The 3 most likely classes of images (PNG/JPEG) or of test digits.
    Predict(PredictArgs),
    /// Write saved weights in the raw little-endian form that
    /// `LeNet5::from_le_bytes` reads (for `include_bytes!`).
    Export(ExportArgs),
}

/// Which optimiser to train with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// SGD with momentum 0.9.
    Sgd,
    /// Adam with betas (0.9, 0.999).
    Adam,
}

/// How the learning rate changes over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleKind {
    /// The same rate throughout.
    Constant,
    /// Cosine annealing from --lr to 0 over all the steps.
    Cosine,
}

/// Options of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Directory with train-/t10k- images and labels (IDX, raw or gzip),
    /// and optionally `classes.txt` [default: the bundled digits]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Passes over the training set (at most, with --patience).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Images per mini-batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// Learning rate [default: 0.002 for adam, 0.02 for sgd]
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = ScheduleKind::Cosine)]
    pub schedule: ScheduleKind,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    #[arg(long, value_name = "WD", default_value_t = 5e-4)]
    pub weight_decay: f64,
    /// Augmentation: shift each training image by up to PX pixels along each
    /// axis, a new random draw every epoch (0: off).
    #[arg(long, value_name = "PX", default_value_t = 2.0)]
    pub shift: f32,
    /// Augmentation: rotate each training image by up to DEG degrees either
    /// way (0: off).
    #[arg(long, value_name = "DEG", default_value_t = 10.0)]
    pub rotate: f32,
    /// Hold out N training images, chosen by the seed, to pick the best
    /// epoch: the weights saved are those with the best validation accuracy.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub validation: usize,
    /// Stop when the validation accuracy has not improved for N epochs
    /// (needs --validation).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub patience: Option<u32>,
    /// Seed of the initialisation, the shuffle, the validation split and the
    /// augmentation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads [default: one per core]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Where to save the weights (safetensors, with what they are in the
    /// metadata).
    #[arg(long, value_name = "FILE", default_value = "lenet5.safetensors")]
    pub out: PathBuf,
    /// Use only the first N training and the first N test images (quick
    /// runs).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// Options of `eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Weights saved by `train` (or by PyTorch with the same names).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Directory with the t10k- images and labels (and optionally
    /// `classes.txt`) [default: the bundled digits]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Worker threads [default: one per core]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Evaluate the first N test images only.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// Options of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Weights saved by `train` (safetensors).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Where to write the raw little-endian f32 parameters.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Options of `predict`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["images", "index"])))]
pub struct PredictArgs {
    /// Weights saved by `train`.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Images (PNG or JPEG), any size, dark on light or light on dark,
    /// prepared as MNIST's digits were.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Classify test image N of the data set instead.
    #[arg(long, value_name = "N", conflicts_with = "images")]
    pub index: Vec<usize>,
    /// Directory of the test set for `--index` (and optionally
    /// `classes.txt`) [default: the bundled digits]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// Help and version go to stdout as clap prints them; a usage error becomes
/// one line.
pub fn usage_error(e: clap::Error) -> Result<(), CliError> {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{e}");
            Ok(())
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            Err(CliError::new(format!("{first} (see `lenet --help`)")))
        }
    }
}
