//! `lenet eval`: test accuracy of saved weights.

use lenet::data::{MNIST_MEAN, MNIST_STD};
use lenet::train::{evaluate, transform_for};
use lenet::weights::safetensors::load_safetensors;

use super::args::EvalArgs;
use super::data::{self, thousands};
use super::model::LeNet5;
use super::CliError;

/// Loads the weights and the test set, prints the accuracy.
pub fn run(a: &EvalArgs) -> Result<(), CliError> {
    data::threads(a.threads)?;
    let net: LeNet5 = load_safetensors(&a.weights).map_err(|e| CliError::weights(&a.weights, e))?;
    let dir = data::resolve(a.data.as_deref())?;
    let split = data::load(&dir)?;
    let t = transform_for::<LeNet5>(&split.test, MNIST_MEAN, MNIST_STD)?;
    let e = evaluate(&net, &split.test, &t)?;
    println!(
        "test accuracy {:.2} % ({} / {} correct), mean loss {:.4}, on {}",
        100.0 * e.accuracy(),
        thousands(e.correct),
        thousands(e.total),
        e.mean_loss,
        dir.display()
    );
    Ok(())
}
