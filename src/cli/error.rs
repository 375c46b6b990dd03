//! The binary's error: one line saying what failed and where.

use std::fmt;
use std::path::Path;

/// A failure to report to the user as `error: <message>`.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error in words.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }

    /// A runtime error about the weights file `path`: weights errors do not
    /// carry the file name, I/O errors already do.
    pub fn weights(path: &Path, e: lenet::Error) -> Self {
        match e {
            lenet::Error::Io { .. } => e.into(),
            e => Self(format!("{}: {e}", path.display())),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<lenet::Error> for CliError {
    fn from(e: lenet::Error) -> Self {
        Self(e.to_string())
    }
}
