//! Weights that know what they are: what `train` writes in the
//! `__metadata__` of a safetensors file besides the tensors, and what
//! `eval`, `predict` and `export` read back.
//!
//! | key | value |
//! | --- | --- |
//! | `network` | the struct's name, `LeNet5` |
//! | `network_fingerprint` | 16 hex digits: FNV-1a of the declaration's layers, shapes and tensors |
//! | `layers` | the declaration, `input [1, 32, 32]; conv1: Conv2d(1, 6, 5); relu; …` |
//! | `input_size` | the images trained on, `28x28` |
//! | `input_padding` | zero pixels added on each side, `2` |
//! | `input_mean`, `input_std` | the normalisation, `(pixel / 255 − mean) / std` |
//! | `dataset` | `MNIST`, `Fashion-MNIST`, or the name of a `--data` directory |
//! | `classes` | a JSON array of the class names, label 0 first |
//! | `epochs` | the epoch the weights are from (the best one with `--validation`) |
//! | `test_accuracy`, `validation_accuracy` | fractions, such as `0.9919` |
//! | `seed`, `augmentation` | how they were trained |
//!
//! A file without these keys (PyTorch's `save_file` writes only `format`)
//! loads with the defaults: 28×28 digits padded by 2, MNIST's mean and std.

use std::path::Path;

use lenet::data::{Dataset, Transform, MNIST_MEAN, MNIST_STD};
use lenet::weights::safetensors::{from_safetensors, read_metadata, Metadata};
use lenet::Network;

use super::hash::Fnv1a;
use super::CliError;

/// How raw pixels become the network's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preprocess {
    /// Rows and columns of the images, when known.
    pub image: Option<(usize, usize)>,
    /// Zero pixels added on each side.
    pub padding: usize,
    /// Subtracted from `pixel / 255`.
    pub mean: f32,
    /// Divides the result.
    pub std: f32,
}

impl Preprocess {
    /// For files without metadata: MNIST's 28×28 digits, padded by 2,
    /// normalised with MNIST's mean and std.
    pub const DEFAULT: Self = Self {
        image: None,
        padding: 2,
        mean: MNIST_MEAN,
        std: MNIST_STD,
    };

    /// The preprocessing of a training set for `N`: the images centred in
    /// `N`'s input, normalised with the mean and standard deviation of the
    /// set's pixels.
    pub fn of_training<N: Network>(data: &Dataset) -> Result<Self, CliError> {
        let [_, h, w] = N::INPUT_SHAPE;
        let (rows, cols) = (data.rows, data.cols);
        if rows > h || cols > w || h - rows != w - cols || (h - rows) % 2 != 0 {
            return Err(CliError::new(format!(
                "images of {rows}×{cols} do not centre in the network's {h}×{w} input"
            )));
        }
        let (mut sum, mut sq) = (0u64, 0u64);
        for &p in &data.images {
            sum += u64::from(p);
            sq += u64::from(p) * u64::from(p);
        }
        let n = data.images.len().max(1) as f64;
        let mean = sum as f64 / n / 255.0;
        let var = (sq as f64 / n / (255.0 * 255.0) - mean * mean).max(0.0);
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        Ok(Self {
            image: Some((rows, cols)),
            padding: (h - rows) / 2,
            mean: round4(mean),
            std: round4(std),
        })
    }

    /// The transform for images of `rows × cols` from `source` into `N`'s
    /// input; an error when they are not the images these weights know.
    pub fn transform<N: Network>(
        &self,
        rows: usize,
        cols: usize,
        source: &str,
    ) -> Result<Transform, CliError> {
        let [_, h, w] = N::INPUT_SHAPE;
        let pad = 2 * self.padding;
        let fits = |(r, c): (usize, usize)| r + pad == h && c + pad == w;
        let expected = self
            .image
            .or_else(|| Some((h.checked_sub(pad)?, w.checked_sub(pad)?)))
            .filter(|&size| fits(size));
        let Some((er, ec)) = expected else {
            return Err(CliError::new(format!(
                "the weights' metadata pads {} by {} on each side, which does not make \
                 {}'s {h}×{w} input",
                self.image
                    .map_or("the images".to_string(), |(r, c)| format!("{r}×{c} images")),
                self.padding,
                N::NAME
            )));
        };
        if (rows, cols) != (er, ec) {
            return Err(CliError::new(format!(
                "the weights take images of {er}×{ec} (padded by {} to {h}×{w}); \
                 {source} holds {rows}×{cols}",
                self.padding
            )));
        }
        let t = Transform::new(rows, cols)
            .pad_to(h, w)
            .normalize(self.mean, self.std);
        t.check(rows, cols)?;
        Ok(t)
    }
}

/// Four decimals are what torchvision's examples write (0.1307, 0.3081),
/// and keep the value the same when printed and read back.
fn round4(x: f64) -> f32 {
    ((x * 10_000.0).round() / 10_000.0) as f32
}

/// The declaration of `N` in one line: `input [1, 32, 32]; conv1:
/// Conv2d(1, 6, 5); relu; …`.
pub fn layers<N: Network>() -> String {
    let mut steps = vec![format!("input {:?}", N::INPUT_SHAPE)];
    for l in N::LAYERS {
        let word = l.kind.split('(').next().unwrap_or(l.kind);
        if l.name.eq_ignore_ascii_case(word) || l.kind.eq_ignore_ascii_case(l.name) {
            steps.push(l.name.to_string());
        } else {
            steps.push(format!("{}: {}", l.name, l.kind));
        }
    }
    steps.join("; ")
}

/// 16 hex digits that change whenever `N`'s declaration does: FNV-1a of
/// every layer (name, kind, shapes, parameter count) and every tensor (name,
/// shape). The same on every machine and run.
pub fn fingerprint<N: Network>() -> String {
    let mut h = Fnv1a::default();
    h.write(format!("input {:?}\n", N::INPUT_SHAPE).as_bytes());
    for l in N::LAYERS {
        let line = format!(
            "{} {} {:?} {:?} {}\n",
            l.name, l.kind, l.input, l.output, l.params
        );
        h.write(line.as_bytes());
    }
    for p in N::PARAMS {
        h.write(format!("{} {:?}\n", p.name, p.shape).as_bytes());
    }
    format!("{:016x}", h.finish())
}

/// What a weights file says about itself (all optional: PyTorch's files
/// say nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct About {
    /// The input preprocessing (the default when the file has none).
    pub preprocess: Preprocess,
    /// The data set's name.
    pub dataset: Option<String>,
    /// One name per class.
    pub classes: Option<Vec<String>>,
    /// Epochs trained.
    pub epochs: Option<usize>,
    /// Test accuracy reached.
    pub test_accuracy: Option<f64>,
}

/// What `train` knows when it saves.
pub struct Record<'a> {
    /// The preprocessing trained with.
    pub preprocess: Preprocess,
    /// The data set's name.
    pub dataset: &'a str,
    /// Its class names, if known.
    pub classes: Option<&'a [String]>,
    /// The epoch the weights are from.
    pub epochs: usize,
    /// Test accuracy of these weights.
    pub test_accuracy: f64,
    /// Validation accuracy, when there was a validation split.
    pub validation_accuracy: Option<f64>,
    /// Seed of the run.
    pub seed: u64,
    /// The augmentation, in words (`none`, `shift 2 px, rotate 10°`).
    pub augmentation: String,
}

/// The metadata `train` writes.
pub fn metadata<N: Network>(r: &Record<'_>) -> Metadata {
    let mut m = Metadata::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_string(), v);
    };
    put("network", N::NAME.to_string());
    put("network_fingerprint", fingerprint::<N>());
    put("layers", layers::<N>());
    if let Some((rows, cols)) = r.preprocess.image {
        put("input_size", format!("{rows}x{cols}"));
    }
    put("input_padding", r.preprocess.padding.to_string());
    put("input_mean", r.preprocess.mean.to_string());
    put("input_std", r.preprocess.std.to_string());
    put("dataset", r.dataset.to_string());
    if let Some(c) = r.classes {
        put("classes", serde_json::Value::from(c.to_vec()).to_string());
    }
    put("epochs", r.epochs.to_string());
    put("test_accuracy", format!("{:.4}", r.test_accuracy));
    if let Some(v) = r.validation_accuracy {
        put("validation_accuracy", format!("{v:.4}"));
    }
    put("seed", r.seed.to_string());
    put("augmentation", r.augmentation.clone());
    m
}

/// Reads a weights file for `N`: an error naming both networks when the
/// file says it holds another declaration, then the tensors, then what the
/// metadata says.
pub fn load<N: Network>(path: &Path) -> Result<(N, About), CliError> {
    let bytes = std::fs::read(path).map_err(|source| {
        CliError::from(lenet::Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let meta = read_metadata(&bytes).map_err(|e| CliError::weights(path, e))?;
    check_network::<N>(path, &meta)?;
    let net = from_safetensors::<N>(&bytes).map_err(|e| CliError::weights(path, e))?;
    let about = about(&meta).map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
    Ok((net, about))
}

fn check_network<N: Network>(path: &Path, meta: &Metadata) -> Result<(), CliError> {
    let Some(theirs) = meta.get("network_fingerprint") else {
        return Ok(());
    };
    let ours = fingerprint::<N>();
    if *theirs == ours {
        return Ok(());
    }
    let name = meta.get("network").map_or("a network", String::as_str);
    let difference = match meta.get("layers") {
        Some(their_layers) => {
            let ours_l = layers::<N>();
            let (a, b): (Vec<&str>, Vec<&str>) = (
                their_layers.split("; ").collect(),
                ours_l.split("; ").collect(),
            );
            match (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
                Some(i) => format!(
                    ": step {i} is `{}` where {} has `{}`",
                    a.get(i).unwrap_or(&"(none)"),
                    N::NAME,
                    b.get(i).unwrap_or(&"(none)")
                ),
                None => String::new(),
            }
        }
        None => String::new(),
    };
    Err(CliError::new(format!(
        "{}: weights of another network, {name} (fingerprint {theirs}), not this binary's {} \
         ({ours}){difference}",
        path.display(),
        N::NAME
    )))
}

fn about(meta: &Metadata) -> Result<About, String> {
    let num = |key: &str| -> Result<Option<f64>, String> {
        meta.get(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("metadata `{key}`: `{v}` is not a number"))
            })
            .transpose()
    };
    let count = |key: &str| -> Result<Option<usize>, String> {
        meta.get(key)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("metadata `{key}`: `{v}` is not a whole number"))
            })
            .transpose()
    };
    let mut p = Preprocess::DEFAULT;
    if let Some(v) = meta.get("input_size") {
        let parsed = v
            .split_once('x')
            .and_then(|(r, c)| Some((r.trim().parse().ok()?, c.trim().parse().ok()?)));
        p.image = Some(parsed.ok_or_else(|| {
            format!("metadata `input_size`: `{v}` is not ROWSxCOLS, such as 28x28")
        })?);
    }
    if let Some(v) = count("input_padding")? {
        p.padding = v;
    }
    if let Some(v) = num("input_mean")? {
        p.mean = v as f32;
    }
    if let Some(v) = num("input_std")? {
        if v <= 0.0 {
            return Err(format!("metadata `input_std`: {v} is not positive"));
        }
        p.std = v as f32;
    }
    let classes = meta
        .get("classes")
        .map(|v| {
            serde_json::from_str::<Vec<String>>(v)
                .map_err(|_| format!("metadata `classes`: not a JSON array of names: {v}"))
        })
        .transpose()?;
    Ok(About {
        preprocess: p,
        dataset: meta.get("dataset").cloned(),
        classes,
        epochs: count("epochs")?,
        test_accuracy: num("test_accuracy")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::model::LeNet5;
    use super::*;

    lenet::network! {
        struct AvgNet {
            input: [1, 32, 32],
            conv1: Conv2d(1, 6, 5),
            relu,
            pool1: AvgPool2d(2, 2),
            conv2: Conv2d(6, 16, 5),
            relu,
            pool2: MaxPool2d(2, 2),
            flatten,
            fc1: Linear(16 * 5 * 5, 120),
            relu,
            fc2: Linear(120, 84),
            relu,
            fc3: Linear(84, 10),
        }
    }

    #[test]
    fn the_fingerprint_tells_declarations_apart() {
        assert_eq!(fingerprint::<LeNet5>(), fingerprint::<LeNet5>());
        assert_ne!(fingerprint::<LeNet5>(), fingerprint::<AvgNet>());
        assert!(layers::<LeNet5>().starts_with(
            "input [1, 32, 32]; conv1: Conv2d(1, 6, 5); relu; pool1: MaxPool2d(2, 2);"
        ));
    }

    #[test]
    fn what_train_writes_reads_back() {
        let classes: Vec<String> = ["a \"b\"", "c, d"].map(String::from).to_vec();
        let p = Preprocess {
            image: Some((28, 28)),
            padding: 2,
            mean: 0.2860,
            std: 0.353,
        };
        let m = metadata::<LeNet5>(&Record {
            preprocess: p,
            dataset: "Shapes",
            classes: Some(&classes),
            epochs: 3,
            test_accuracy: 0.98765,
            validation_accuracy: None,
            seed: 1,
            augmentation: "none".into(),
        });
        let a = about(&m).unwrap();
        assert_eq!(a.preprocess, p);
        assert_eq!(a.classes.as_deref(), Some(&classes[..]));
        assert_eq!((a.epochs, a.test_accuracy), (Some(3), Some(0.9877)));
        assert_eq!(
            about(&Metadata::new()).unwrap().preprocess,
            Preprocess::DEFAULT
        );
        // Padding that does not make the network's input is an error, not a
        // panic.
        for (image, padding) in [(None, 20), (Some((28, 28)), 6)] {
            let p = Preprocess {
                image,
                padding,
                ..Preprocess::DEFAULT
            };
            let e = p.transform::<LeNet5>(28, 28, "x").unwrap_err().to_string();
            assert!(e.contains("does not make LeNet5's 32×32 input"), "{e}");
        }
        let err = check_network::<AvgNet>(Path::new("w"), &m)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("LeNet5") && err.contains("AvgNet") && err.contains("step 3"),
            "{err}"
        );
    }
}
