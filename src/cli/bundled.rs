//! The 10,000 bundled MNIST digits (8,000 training, 2,000 test; see
//! `data/README.md`), compiled into the binary so that `lenet` trains,
//! evaluates and predicts from any directory, installed or not.

use std::path::Path;

use lenet::data::idx::{parse_images, parse_labels};
use lenet::data::{Dataset, Split, CLASSES};

use super::CliError;

const TRAIN_IMAGES: &[u8] = include_bytes!("../../data/train-images-idx3-ubyte.gz");
const TRAIN_LABELS: &[u8] = include_bytes!("../../data/train-labels-idx1-ubyte.gz");
const TEST_IMAGES: &[u8] = include_bytes!("../../data/t10k-images-idx3-ubyte.gz");
const TEST_LABELS: &[u8] = include_bytes!("../../data/t10k-labels-idx1-ubyte.gz");

/// How the bundled digits are named in messages.
pub const SOURCE: &str = "the bundled digits";

/// Decompresses and parses the bundled training and test sets.
pub fn split() -> Result<Split, CliError> {
    Ok(Split {
        train: dataset(TRAIN_IMAGES, TRAIN_LABELS, "train")?,
        test: dataset(TEST_IMAGES, TEST_LABELS, "t10k")?,
    })
}

fn dataset(images: &[u8], labels: &[u8], part: &str) -> Result<Dataset, CliError> {
    let name = |what: &str, n: u8| format!("{SOURCE}: {part}-{what}-idx{n}-ubyte.gz");
    let img = parse_images(images, Path::new(&name("images", 3)))?;
    let labels = parse_labels(labels, Path::new(&name("labels", 1)))?;
    if img.count != labels.len() || labels.iter().any(|&l| l as usize >= CLASSES) {
        return Err(CliError::new(format!(
            "{}: {} labels for {} images, or a label above {}",
            name("labels", 1),
            labels.len(),
            img.count,
            CLASSES - 1
        )));
    }
    Ok(Dataset {
        images: img.pixels,
        labels,
        rows: img.rows,
        cols: img.cols,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_digits_are_8000_and_2000() {
        let s = super::split().unwrap();
        assert_eq!((s.train.len(), s.test.len()), (8000, 2000));
        assert_eq!((s.train.rows, s.train.cols), (28, 28));
    }
}
