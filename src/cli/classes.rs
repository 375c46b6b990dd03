//! Class names: those of the known data sets, and the class-names file a
//! data directory may hold beside its IDX files.
//!
//! The file is `classes.txt`, UTF-8 text, one name per line in the order of
//! the labels (the first line names label 0). Surrounding spaces are
//! trimmed; empty lines and lines starting with `#` are skipped, except
//! `# dataset: NAME`, which names the data set (the name weights remember
//! and `eval` compares). For example:
//!
//! ```text
//! # dataset: Kuzushiji-MNIST
//! o
//! ki
//! su
//! ```

use std::path::Path;

use super::CliError;

/// File name of the class names in a data directory.
pub const FILE: &str = "classes.txt";

/// The digits of MNIST.
pub const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Fashion-MNIST's classes, as its authors name them.
pub const FASHION: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// What a class-names file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFile {
    /// From `# dataset: NAME`, if given.
    pub dataset: Option<String>,
    /// One name per label.
    pub classes: Vec<String>,
}

/// Reads `dir/classes.txt` if there is one. `labels` are the labels the data
/// holds, `outputs` the network's number of classes: every label needs a
/// name, and there can be no more names than outputs.
pub fn read(dir: &Path, labels: &[u8], outputs: usize) -> Result<Option<ClassFile>, CliError> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let fail = |why: String| CliError::new(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let file = parse(&text).map_err(fail)?;
    let n = file.classes.len();
    if n > outputs {
        return Err(fail(format!(
            "{n} class names, but the network has {outputs} outputs"
        )));
    }
    if let Some(&max) = labels.iter().max() {
        if max as usize >= n {
            return Err(fail(format!(
                "{n} class names (labels 0 to {}), but the data holds label {max}",
                n.saturating_sub(1)
            )));
        }
    }
    Ok(Some(file))
}

/// Parses the text of a class-names file.
pub fn parse(text: &str) -> Result<ClassFile, String> {
    let mut file = ClassFile {
        dataset: None,
        classes: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(name) = comment.trim().strip_prefix("dataset:") {
                let name = name.trim();
                if name.is_empty() {
                    return Err(format!("line {}: `# dataset:` without a name", i + 1));
                }
                file.dataset = Some(name.to_string());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(j) = file.classes.iter().position(|c| c == line) {
            return Err(format!("line {}: `{line}` names label {j} already", i + 1));
        }
        file.classes.push(line.to_string());
    }
    if file.classes.is_empty() {
        return Err("no class names (one per line, label 0 first)".into());
    }
    Ok(file)
}

/// `names` as owned strings.
pub fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_label_order_with_comments_and_a_dataset_name() {
        let f = parse("# dataset: Shapes\n\n circle \n# a comment\nsquare\n").unwrap();
        assert_eq!(f.dataset.as_deref(), Some("Shapes"));
        assert_eq!(f.classes, ["circle", "square"]);
    }

    #[test]
    fn duplicates_and_empty_files_are_refused() {
        assert!(parse("a\nb\na\n").unwrap_err().contains("line 3"));
        assert!(parse("# only a comment\n").is_err());
        assert!(parse("# dataset:\na\n").is_err());
    }
}
