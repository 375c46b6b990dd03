//! Finding and loading the data directory.

use std::path::{Path, PathBuf};

use lenet::data::{load_dir, Split};

use super::CliError;

/// `--data` if given; otherwise the bundled `data/` of the source tree, then
/// `./data`.
pub fn resolve(arg: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(dir) = arg {
        return Ok(dir.to_path_buf());
    }
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let local = PathBuf::from("data");
    for dir in [&bundled, &local] {
        if dir.is_dir() {
            return Ok(dir.clone());
        }
    }
    Err(CliError::new(format!(
        "no data directory: give --data DIR (looked in {} and ./data)",
        bundled.display()
    )))
}

/// Loads the training and test sets of `dir`.
pub fn load(dir: &Path) -> Result<Split, CliError> {
    Ok(load_dir(dir)?)
}

/// Sets the size of the worker pool, if asked.
pub fn threads(n: Option<u32>) -> Result<(), CliError> {
    if let Some(n) = n {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
            .map_err(|e| CliError::new(format!("--threads {n}: {e}")))?;
    }
    Ok(())
}

/// `8000` as `8,000`.
pub fn thousands(n: usize) -> lenet::summary::Thousands {
    lenet::summary::Thousands(n)
}
