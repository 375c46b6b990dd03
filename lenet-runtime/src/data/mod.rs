//! Data sets: IDX files (MNIST, Fashion-MNIST), raw or gzip, and their
//! conversion to network inputs.

mod dataset;
pub mod idx;

pub use dataset::{load_dir, Dataset, Split, Transform, CLASSES, MNIST_MEAN, MNIST_STD};
