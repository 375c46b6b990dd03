//! `lenet predict`: the 3 most likely classes of images or test digits.

use lenet::data::{Transform, MNIST_MEAN, MNIST_STD};
use lenet::loss::softmax;
use lenet::weights::safetensors::load_safetensors;
use lenet::Batched;

use super::args::PredictArgs;
use super::data::{self, thousands};
use super::image::{load_digit, SIDE};
use super::model::LeNet5;
use super::CliError;

/// Classifies each image (or test digit) and prints its top 3.
pub fn run(a: &PredictArgs) -> Result<(), CliError> {
    let net: LeNet5 = load_safetensors(&a.weights).map_err(|e| CliError::weights(&a.weights, e))?;
    let [_, h, w] = LeNet5::INPUT_SHAPE;
    let side = SIDE as usize;
    let t = Transform::new(side, side)
        .pad_to(h, w)
        .normalize(MNIST_MEAN, MNIST_STD);
    t.check(side, side)?;
    let mut inputs: Vec<(String, Vec<u8>, usize, usize)> = Vec::new();
    if a.index.is_empty() {
        for path in &a.images {
            inputs.push((path.display().to_string(), load_digit(path)?, side, side));
        }
    } else {
        let dir = data::resolve(a.data.as_deref())?;
        let test = data::load(&dir)?.test;
        for &i in &a.index {
            if i >= test.len() {
                return Err(CliError::new(format!(
                    "--index {i}: the test set of {} has {} images (0 to {})",
                    dir.display(),
                    thousands(test.len()),
                    test.len().saturating_sub(1)
                )));
            }
            let what = format!("test image {i} (label {})", test.label(i));
            inputs.push((what, test.image(i).to_vec(), test.rows, test.cols));
        }
    }
    let mut x = vec![0.0f32; LeNet5::INPUT_LEN];
    let mut logits = vec![0.0f32; LeNet5::OUTPUT_LEN];
    let mut probs = vec![0.0f32; LeNet5::OUTPUT_LEN];
    for (what, pixels, rows, cols) in inputs {
        t.check(rows, cols)?;
        t.apply(&pixels, rows, cols, &mut x);
        net.forward_slice(&x, &mut logits);
        softmax(&logits, &mut probs);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&i, &j| probs[j].total_cmp(&probs[i]));
        let top: Vec<String> = order
            .iter()
            .take(3)
            .map(|&k| format!("{k} ({:.1} %)", 100.0 * probs[k]))
            .collect();
        println!("{what}: {}", top.join(", "));
    }
    Ok(())
}
