//! `lenet eval`: test accuracy of saved weights.

use lenet::train::evaluate;

use super::args::EvalArgs;
use super::data::{self, thousands};
use super::meta;
use super::model::LeNet5;
use super::CliError;

/// Loads the weights and the test set, prints the accuracy.
pub fn run(a: &EvalArgs) -> Result<(), CliError> {
    data::threads(a.threads)?;
    let (net, about) = meta::load::<LeNet5>(&a.weights)?;
    let data = data::load(a.data.as_deref(), LeNet5::OUTPUT_LEN)?;
    data.warn_if_not(about.dataset.as_deref(), &a.weights);
    let mut test = data.split.test;
    if let Some(n) = a.limit {
        test.truncate(n);
    }
    let t = about
        .preprocess
        .transform::<LeNet5>(test.rows, test.cols, &data.source)?;
    let e = evaluate(&net, &test, &t)?;
    println!(
        "test accuracy {:.2} % ({} / {} correct), mean loss {:.4}, on {} ({})",
        100.0 * e.accuracy(),
        thousands(e.correct),
        thousands(e.total),
        e.mean_loss,
        data.name,
        data.source
    );
    Ok(())
}
