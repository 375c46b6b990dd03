//! Where the data comes from (the bundled digits or `--data DIR`), what the
//! data set is called, and the names of its classes.

use std::path::Path;

use lenet::data::{load_dir, Dataset, Split};

use super::classes::{self, DIGITS, FASHION};
use super::hash::fnv1a;
use super::{bundled, CliError};

/// A data set ready to use.
pub struct Data {
    /// Training and test images.
    pub split: Split,
    /// The data set's name ("MNIST", "Fashion-MNIST", from `classes.txt`,
    /// or the directory's name), which weights remember.
    pub name: String,
    /// Where it was read from, for messages: a directory, or the bundled
    /// digits.
    pub source: String,
    /// One name per label, when known.
    pub classes: Option<Vec<String>>,
}

impl Data {
    /// Warns, on stderr, when weights trained on another data set are used
    /// on this one: their accuracy here means little.
    pub fn warn_if_not(&self, trained_on: Option<&str>, weights: &Path) {
        if let Some(theirs) = trained_on {
            if theirs != self.name {
                eprintln!(
                    "warning: {} was trained on {theirs}, but this is {} ({})",
                    weights.display(),
                    self.name,
                    self.source
                );
            }
        }
    }
}

/// Data sets recognised by their test labels (FNV-1a of the label bytes):
/// name and class names.
const KNOWN: [(u64, &str, &[&str; 10]); 3] = [
    // The official MNIST t10k set.
    (0xfca1_a11d_31bd_96bb, "MNIST", &DIGITS),
    // The 2,000 test digits of the bundled set (also in `data/`).
    (0x1b34_7f35_6375_feb3, "MNIST", &DIGITS),
    // Fashion-MNIST's t10k set.
    (0x25bd_f812_3f06_fac3, "Fashion-MNIST", &FASHION),
];

/// The data of `--data DIR`, or the bundled digits without it. `outputs` is
/// the network's number of classes (for `classes.txt`).
pub fn load(dir: Option<&Path>, outputs: usize) -> Result<Data, CliError> {
    let Some(dir) = dir else {
        return Ok(Data {
            split: bundled::split()?,
            name: "MNIST".into(),
            source: bundled::SOURCE.into(),
            classes: Some(classes::owned(&DIGITS)),
        });
    };
    let split = load_dir(dir)?;
    let source = dir.display().to_string();
    let mut labels = split.train.labels.clone();
    labels.extend_from_slice(&split.test.labels);
    let file = classes::read(dir, &labels, outputs)?;
    let known = identify(&split.test);
    let name = file
        .as_ref()
        .and_then(|f| f.dataset.clone())
        .or_else(|| known.map(|(name, _)| name.to_string()))
        .unwrap_or_else(|| dir_name(dir));
    let classes = match file {
        Some(f) => Some(f.classes),
        None => known.map(|(_, names)| classes::owned(names)),
    };
    Ok(Data {
        split,
        name,
        source,
        classes,
    })
}

/// Name and classes of a known data set, recognised by its test labels.
fn identify(test: &Dataset) -> Option<(&'static str, &'static [&'static str; 10])> {
    let h = fnv1a(&test.labels);
    KNOWN
        .iter()
        .find(|(k, _, _)| *k == h)
        .map(|&(_, name, names)| (name, names))
}

/// The last component of `dir` (of its absolute form for `.`).
fn dir_name(dir: &Path) -> String {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.components()
        .rfind(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The fingerprint of a set's labels, as [`KNOWN`] lists them.
#[cfg(test)]
pub fn label_fingerprint(d: &Dataset) -> u64 {
    fnv1a(&d.labels)
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_test_labels_are_known() {
        let s = super::bundled::split().unwrap();
        let h = super::label_fingerprint(&s.test);
        assert!(super::KNOWN.iter().any(|k| k.0 == h), "{h:#018x}");
    }
}
