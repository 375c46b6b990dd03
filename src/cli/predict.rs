//! `lenet predict`: the 3 most likely classes of images or test images,
//! by name when the weights or the data set name them.

use lenet::loss::softmax;
use lenet::Batched;

use super::args::PredictArgs;
use super::data::{self, thousands};
use super::image::{load_digit, SIDE};
use super::meta;
use super::model::LeNet5;
use super::CliError;

/// One image to classify.
struct Input {
    /// How the output names it.
    what: String,
    /// Its pixels, row-major.
    pixels: Vec<u8>,
    rows: usize,
    cols: usize,
    /// Its label, for a test image.
    label: Option<usize>,
}

/// Classifies each image (or test image) and prints its top 3.
pub fn run(a: &PredictArgs) -> Result<(), CliError> {
    let (net, about) = meta::load::<LeNet5>(&a.weights)?;
    let side = SIDE as usize;
    let mut classes = about.classes.clone();
    // The test images' labels are named by their data set.
    let mut label_names = None;
    let mut inputs: Vec<Input> = Vec::new();
    let mut source = "the images".to_string();
    if a.index.is_empty() {
        for path in &a.images {
            inputs.push(Input {
                what: path.display().to_string(),
                pixels: load_digit(path)?,
                rows: side,
                cols: side,
                label: None,
            });
        }
    } else {
        let data = data::load(a.data.as_deref(), LeNet5::OUTPUT_LEN)?;
        data.warn_if_not(about.dataset.as_deref(), &a.weights);
        if classes.is_none() {
            classes.clone_from(&data.classes);
        }
        label_names = data.classes;
        source = data.source;
        let test = data.split.test;
        for &i in &a.index {
            if i >= test.len() {
                return Err(CliError::new(format!(
                    "--index {i}: the test set of {source} has {} images (0 to {})",
                    thousands(test.len()),
                    test.len().saturating_sub(1)
                )));
            }
            inputs.push(Input {
                what: format!("test image {i}"),
                pixels: test.image(i).to_vec(),
                rows: test.rows,
                cols: test.cols,
                label: Some(test.label(i)),
            });
        }
    }
    let named = |names: &Option<Vec<String>>, k: usize| -> String {
        names
            .as_ref()
            .and_then(|c| c.get(k))
            .cloned()
            .unwrap_or_else(|| k.to_string())
    };
    let mut x = vec![0.0f32; LeNet5::INPUT_LEN];
    let mut logits = vec![0.0f32; LeNet5::OUTPUT_LEN];
    let mut probs = vec![0.0f32; LeNet5::OUTPUT_LEN];
    for Input {
        what,
        pixels,
        rows,
        cols,
        label,
    } in inputs
    {
        let t = about.preprocess.transform::<LeNet5>(rows, cols, &source)?;
        t.apply(&pixels, rows, cols, &mut x);
        net.forward_slice(&x, &mut logits);
        softmax(&logits, &mut probs);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&i, &j| probs[j].total_cmp(&probs[i]));
        let top: Vec<String> = order
            .iter()
            .take(3)
            .map(|&k| format!("{} ({:.1} %)", named(&classes, k), 100.0 * probs[k]))
            .collect();
        let label = label.map_or(String::new(), |l| {
            format!(" (label {})", named(&label_names, l))
        });
        println!("{what}{label}: {}", top.join(", "));
    }
    Ok(())
}
