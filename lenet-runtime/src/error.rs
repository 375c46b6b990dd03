//! The runtime's errors: what went wrong and where.

use core::fmt;

/// Everything the runtime can refuse, with enough context to act on it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An input array whose per-image shape is not the network's.
    InputShape {
        /// The network's `[C, H, W]`.
        expected: [usize; 3],
        /// The `[N, C, H, W]` that was given.
        found: [usize; 4],
    },
    /// A raw buffer whose length is not a whole number of images.
    InputLength {
        /// Floats per image.
        per_image: usize,
        /// Floats given.
        found: usize,
    },
    /// An output buffer whose length is not `N · OUTPUT_LEN`.
    OutputLength {
        /// Floats needed.
        expected: usize,
        /// Floats given.
        found: usize,
    },
    /// Labels and images disagree, or a label is out of range.
    Labels {
        /// What is wrong.
        reason: LabelFault,
    },
    /// A weights buffer or file that does not hold this network.
    Weights {
        /// The tensor at fault, when one is.
        tensor: Option<&'static str>,
        /// What is wrong with it.
        reason: WeightsFault,
    },
    /// An IDX data file that cannot be read.
    #[cfg(feature = "std")]
    Idx {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An operating-system error on a file.
    #[cfg(feature = "std")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Anything else, said in words.
    #[cfg(feature = "std")]
    Other(String),
}

/// What is wrong with the labels of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFault {
    /// Not one label per image.
    Count {
        /// Images in the batch.
        images: usize,
        /// Labels given.
        labels: usize,
    },
    /// A label not below the number of classes.
    OutOfRange {
        /// Position in the batch.
        index: usize,
        /// The label.
        label: usize,
        /// Number of classes (outputs of the network).
        classes: usize,
    },
    /// An empty batch: there is no mean loss.
    Empty,
}

/// What is wrong with a weights buffer or one of its tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsFault {
    /// The buffer or file ends early.
    Truncated {
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A tensor the network needs is absent.
    Missing,
    /// A tensor the network does not have.
    Unexpected {
        /// Its name in the file.
        #[cfg(feature = "std")]
        name: String,
    },
    /// A tensor of the wrong shape.
    Shape {
        /// The network's shape.
        expected: &'static [usize],
        /// The file's shape.
        #[cfg(feature = "std")]
        found: Vec<usize>,
    },
    /// A tensor not stored as little-endian f32.
    Dtype {
        /// The file's dtype.
        #[cfg(feature = "std")]
        found: String,
    },
    /// A value that is not a finite number (NaN or infinite).
    NotFinite {
        /// Its index in the flat parameters.
        index: usize,
    },
    /// Bytes not aligned to 4, so that they cannot be read as `f32` where
    /// they lie (wrap an `include_bytes!` in `lenet::include_weights!`).
    Misaligned {
        /// Their address.
        address: usize,
    },
    /// Little-endian weights viewed in place on a big-endian target.
    BigEndianTarget,
    /// A file that is not safetensors, or a header that does not parse.
    Format {
        /// What the parser said.
        #[cfg(feature = "std")]
        detail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InputShape { expected, found } => write!(
                f,
                "input shape: the network takes images of {}×{}×{} (C×H×W), \
                 but the batch is {}×{}×{}×{} (N×C×H×W)",
                expected[0], expected[1], expected[2], found[0], found[1], found[2], found[3]
            ),
            Error::InputLength { per_image, found } => write!(
                f,
                "input length: {found} floats is not a whole number of images of {per_image}"
            ),
            Error::OutputLength { expected, found } => write!(
                f,
                "output: {found} floats given for {expected} logits (images × outputs)"
            ),
            Error::Labels { reason } => match reason {
                LabelFault::Count { images, labels } => {
                    write!(f, "labels: {labels} labels for {images} images")
                }
                LabelFault::OutOfRange {
                    index,
                    label,
                    classes,
                } => write!(
                    f,
                    "labels: label {label} at position {index} is not below the {classes} classes"
                ),
                LabelFault::Empty => write!(f, "labels: the batch is empty"),
            },
            Error::Weights { tensor, reason } => {
                write!(f, "weights")?;
                if let Some(t) = tensor {
                    write!(f, ": tensor `{t}`")?;
                }
                write!(f, ": {reason}")
            }
            #[cfg(feature = "std")]
            Error::Idx { path, reason } => write!(f, "{}: {reason}", path.display()),
            #[cfg(feature = "std")]
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            #[cfg(feature = "std")]
            Error::Other(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for WeightsFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsFault::Truncated { expected, found } => {
                write!(f, "truncated: {expected} bytes needed, {found} present")
            }
            WeightsFault::Missing => write!(f, "missing from the file"),
            WeightsFault::NotFinite { index } => {
                write!(f, "parameter {index} is not a finite number")
            }
            WeightsFault::Misaligned { address } => write!(
                f,
                "the bytes at {address:#x} are not 4-byte aligned; use lenet::include_weights!"
            ),
            WeightsFault::BigEndianTarget => write!(
                f,
                "little-endian weights cannot be read in place on a big-endian target"
            ),
            #[cfg(feature = "std")]
            WeightsFault::Unexpected { name } => {
                write!(
                    f,
                    "the file holds `{name}`, which the network does not have"
                )
            }
            #[cfg(not(feature = "std"))]
            WeightsFault::Unexpected {} => write!(f, "a tensor the network does not have"),
            WeightsFault::Shape {
                expected,
                #[cfg(feature = "std")]
                found,
            } => {
                write!(f, "shape should be {expected:?}")?;
                #[cfg(feature = "std")]
                write!(f, ", the file has {found:?}")?;
                Ok(())
            }
            #[cfg(feature = "std")]
            WeightsFault::Dtype { found } => write!(f, "dtype should be F32, the file has {found}"),
            #[cfg(not(feature = "std"))]
            WeightsFault::Dtype {} => write!(f, "dtype should be F32"),
            #[cfg(feature = "std")]
            WeightsFault::Format { detail } => write!(f, "not a safetensors file: {detail}"),
            #[cfg(not(feature = "std"))]
            WeightsFault::Format {} => write!(f, "not a safetensors file"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
