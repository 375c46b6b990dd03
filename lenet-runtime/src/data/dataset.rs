//! A labelled set of grey-scale images, and the conversion of its pixels to
//! the floats a network takes.

use std::path::{Path, PathBuf};

use crate::error::Error;

use super::idx;

/// Number of classes of MNIST and Fashion-MNIST: labels are `0..CLASSES`.
pub const CLASSES: usize = 10;

/// Mean pixel value of the MNIST training set (in `[0, 1]`), as in
/// torchvision's examples.
pub const MNIST_MEAN: f32 = 0.1307;
/// Standard deviation of the MNIST training pixels (in `[0, 1]`).
pub const MNIST_STD: f32 = 0.3081;

/// Labelled grey-scale images, `u8` pixels as stored in IDX files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// `len() · rows · cols` pixels, image after image, row-major,
    /// 0 = background.
    pub images: Vec<u8>,
    /// One label per image, each below [`CLASSES`].
    pub labels: Vec<u8>,
    /// Rows of one image.
    pub rows: usize,
    /// Columns of one image.
    pub cols: usize,
}

/// The training and test halves of a data set directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// `train-images` / `train-labels`.
    pub train: Dataset,
    /// `t10k-images` / `t10k-labels`.
    pub test: Dataset,
}

impl Dataset {
    /// Reads an IDX image file and its IDX label file (raw or gzip), and
    /// checks that they agree: one label per image, every label below
    /// [`CLASSES`].
    pub fn load(images: &Path, labels: &Path) -> Result<Self, Error> {
        let img = idx::read_images(images)?;
        let lab = idx::read_labels(labels)?;
        if img.count != lab.len() {
            return Err(Error::Idx {
                path: labels.to_path_buf(),
                reason: format!(
                    "{} labels, but {} holds {} images",
                    lab.len(),
                    images.display(),
                    img.count
                ),
            });
        }
        if let Some((i, &l)) = lab.iter().enumerate().find(|(_, &l)| l as usize >= CLASSES) {
            return Err(Error::Idx {
                path: labels.to_path_buf(),
                reason: format!("label {l} at index {i} is not a class 0–{}", CLASSES - 1),
            });
        }
        Ok(Self { images: img.pixels, labels: lab, rows: img.rows, cols: img.cols })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.images[i * n..(i + 1) * n]
    }

    /// Label of image `i`, as a class index.
    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// The first `n` images (all of them if there are fewer).
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.labels.truncate(n);
        self.images.truncate(n * self.rows * self.cols);
    }
}

/// Reads the four usual files of an MNIST-like directory (raw or gzip):
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each also accepted
/// with `.gz` and in the `train-images.idx3-ubyte` spelling.
pub fn load_dir(dir: &Path) -> Result<Split, Error> {
    if !dir.is_dir() {
        return Err(Error::Other(format!("{}: not a directory of IDX files", dir.display())));
    }
    let train = Dataset::load(&find(dir, "train", "images", 3)?, &find(dir, "train", "labels", 1)?)?;
    let test = Dataset::load(&find(dir, "t10k", "images", 3)?, &find(dir, "t10k", "labels", 1)?)?;
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(Error::Other(format!(
            "{}: training images are {}×{} but test images are {}×{}",
            dir.display(),
            train.rows,
            train.cols,
            test.rows,
            test.cols
        )));
    }
    Ok(Split { train, test })
}

/// The path of one of the four files, in whichever spelling is present.
fn find(dir: &Path, split: &str, what: &str, ndims: u8) -> Result<PathBuf, Error> {
    let names = [
        format!("{split}-{what}-idx{ndims}-ubyte"),
        format!("{split}-{what}.idx{ndims}-ubyte"),
    ];
    for name in &names {
        for ext in ["", ".gz"] {
            let p = dir.join(format!("{name}{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::Other(format!(
        "{}: no {split} {what}: looked for {}[.gz] and {}[.gz]",
        dir.display(),
        names[0],
        names[1]
    )))
}

/// How pixels become floats: `u8 / 255`, centred with zero padding in a
/// larger frame, then `(v − mean) / std`. The padding is a 0 pixel put
/// through the same normalisation, as torchvision's `Pad` followed by
/// `Normalize` gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Rows of the result.
    pub height: usize,
    /// Columns of the result.
    pub width: usize,
    /// Subtracted from every value in `[0, 1]`.
    pub mean: f32,
    /// Divides every value after the mean is subtracted.
    pub std: f32,
}

impl Transform {
    /// Pixels to `[0, 1]`, no padding, no normalisation.
    pub fn new(rows: usize, cols: usize) -> Self {
        Self { height: rows, width: cols, mean: 0.0, std: 1.0 }
    }

    /// Zero-pads to `height × width`, centred (LeNet-5 pads MNIST's 28×28
    /// to 32×32).
    pub fn pad_to(self, height: usize, width: usize) -> Self {
        Self { height, width, ..self }
    }

    /// Normalises with `mean` and `std` (of pixels in `[0, 1]`).
    pub fn normalize(self, mean: f32, std: f32) -> Self {
        Self { mean, std, ..self }
    }

    /// Floats per converted image.
    pub fn len(&self) -> usize {
        self.height * self.width
    }

    /// Whether a converted image has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that images of `rows × cols` fit in the frame and that `std`
    /// is a positive number.
    pub fn check(&self, rows: usize, cols: usize) -> Result<(), Error> {
        if rows > self.height || cols > self.width {
            return Err(Error::Other(format!(
                "images of {rows}×{cols} do not fit the network's {}×{} input",
                self.height, self.width
            )));
        }
        if !(self.std > 0.0 && self.std.is_finite() && self.mean.is_finite()) {
            return Err(Error::Other(format!(
                "normalisation needs a finite mean and a positive std, got mean {} std {}",
                self.mean, self.std
            )));
        }
        Ok(())
    }

    /// Converts one image of `rows × cols` pixels into `out`
    /// (`height · width` floats). Call [`Transform::check`] first.
    pub fn apply(&self, pixels: &[u8], rows: usize, cols: usize, out: &mut [f32]) {
        let inv = 1.0 / self.std;
        let background = (0.0 - self.mean) * inv;
        out.fill(background);
        let top = (self.height - rows) / 2;
        let left = (self.width - cols) / 2;
        for (r, src) in pixels.chunks_exact(cols).take(rows).enumerate() {
            let row = &mut out[(top + r) * self.width + left..][..cols];
            for (o, &p) in row.iter_mut().zip(src) {
                *o = (p as f32 * (1.0 / 255.0) - self.mean) * inv;
            }
        }
    }

    /// Converts the images `indices` of `data` into `images` (one
    /// [`Transform::len`] block each) and their labels into `labels`. Both
    /// are cleared first.
    pub fn batch(&self, data: &Dataset, indices: &[usize], images: &mut Vec<f32>, labels: &mut Vec<usize>) {
        let n = self.len();
        images.clear();
        images.resize(indices.len() * n, 0.0);
        labels.clear();
        for (&i, out) in indices.iter().zip(images.chunks_exact_mut(n)) {
            self.apply(data.image(i), data.rows, data.cols, out);
            labels.push(data.label(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_centred_and_normalises() {
        let t = Transform::new(2, 2).pad_to(4, 4).normalize(0.5, 0.5);
        t.check(2, 2).unwrap();
        let mut out = [0.0; 16];
        t.apply(&[255, 0, 0, 255], 2, 2, &mut out);
        #[rustfmt::skip]
        let want = [
            -1.0, -1.0, -1.0, -1.0,
            -1.0,  1.0, -1.0, -1.0,
            -1.0, -1.0,  1.0, -1.0,
            -1.0, -1.0, -1.0, -1.0,
        ];
        assert_eq!(out, want);
        assert!(t.check(5, 4).is_err());
        assert!(Transform::new(2, 2).normalize(0.0, 0.0).check(2, 2).is_err());
    }
}
