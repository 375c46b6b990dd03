//! The `lenet` binary end to end: train, eval, predict, and one clear
//! `error:` line for every failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lenet::weights::safetensors::{
    from_safetensors, read_metadata, save_safetensors_with_metadata, Metadata,
};

fn lenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lenet"))
        .args(args)
        .output()
        .unwrap()
}

fn data() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Fails with exactly one line on stderr, `error: …`, containing `says`.
fn fails_with(args: &[&str], says: &str) {
    let o = lenet(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(says),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Trains briefly once and returns the weights and what `train` printed
/// (shared by the tests).
fn trained() -> &'static (tempfile::TempDir, PathBuf, String) {
    static ONCE: std::sync::OnceLock<(tempfile::TempDir, PathBuf, String)> =
        std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let o = lenet(&[
            "train",
            "--data",
            &data(),
            "--epochs",
            "2",
            "--limit",
            "256",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = stdout(&o);
        assert!(out.contains("Total params: 61,706"), "{out}");
        assert!(
            out.contains("epoch 1/2: loss") && out.contains("epoch 2/2: loss"),
            "{out}"
        );
        assert!(out.contains("test acc") && out.contains("img/s"), "{out}");
        assert!(
            out.contains(&format!("weights saved to {}", path.display())),
            "{out}"
        );
        (dir, path, out)
    })
}

/// Weights trained by `lenet train --seed 1 --out …` with the default
/// options on the bundled digits (98.65 % on their test set; the file says
/// so in its metadata).
fn weights() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lenet5-mnist10k.safetensors")
}

#[test]
fn summary_prints_the_table() {
    let o = lenet(&["summary"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("conv1 (Conv2d(1, 6, 5))")
            && out.contains("MaxPool2d")
            && out.contains("61,706"),
        "{out}"
    );
}

/// The number after `key` in `text`, up to the next space.
fn number_after(text: &str, key: &str) -> f64 {
    text.split(key)
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no `{key}` in {text}"))
}

#[test]
fn train_reports_every_epoch_and_saves_weights_eval_can_read() {
    let (_, w, out) = trained();
    let last_epoch = out.lines().rfind(|l| l.starts_with("epoch ")).unwrap();
    let final_line = out.lines().last().unwrap();
    assert_eq!(
        number_after(last_epoch, "test acc "),
        number_after(final_line, "test accuracy "),
        "{out}"
    );
    // Evaluated again on the same 256 test digits, the saved weights score
    // exactly what training reported.
    let o = lenet(&[
        "eval",
        "--weights",
        w.to_str().unwrap(),
        "--data",
        &data(),
        "--limit",
        "256",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let eval = stdout(&o);
    assert!(eval.contains("/ 256 correct"), "{eval}");
    assert_eq!(
        number_after(&eval, "test accuracy "),
        number_after(final_line, "test accuracy "),
        "{out}\n{eval}"
    );
}

#[test]
fn eval_of_the_default_run_reaches_the_target() {
    let o = lenet(&[
        "eval",
        "--weights",
        weights().to_str().unwrap(),
        "--data",
        &data(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert!(out.contains("/ 2,000 correct"), "{out}");
    assert!(number_after(&out, "test accuracy ") >= 98.5, "{out}");
    let m = metadata_of(&weights());
    assert_eq!(
        (m["epochs"].as_str(), m["test_accuracy"].as_str()),
        ("20", "0.9865")
    );
}

#[test]
fn predict_by_index_prints_the_top_three() {
    let w = weights();
    let o = lenet(&[
        "predict",
        "--weights",
        w.to_str().unwrap(),
        "--data",
        &data(),
        "--index",
        "0",
        "--index",
        "7",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("test image 0 (label ")
            && lines[1].starts_with("test image 7 (label ")
    );
    assert_eq!(lines[0].matches(" %)").count(), 3, "{out}");
}

/// Test digits saved as large black-on-white PNGs are classified as the
/// digits themselves are: inversion, cropping, scaling and centring undo
/// the rendering.
#[test]
fn predict_reads_drawings_like_the_test_digits() {
    let w = weights();
    let split = lenet::data::load_dir(Path::new(&data())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "predict".to_string(),
        "--weights".into(),
        w.display().to_string(),
    ];
    let ids: Vec<usize> = (0..12).collect();
    for &i in &ids {
        let src = split.test.image(i);
        let img = image::GrayImage::from_fn(112, 140, |x, y| {
            // 4× larger, off-centre, dark ink on white paper.
            let (sx, sy) = (x as i64 / 4 - 2, y as i64 / 4 - 4);
            let v = if (0..28).contains(&sx) && (0..28).contains(&sy) {
                src[sy as usize * 28 + sx as usize]
            } else {
                0
            };
            image::Luma([255 - v])
        });
        let p = dir.path().join(format!("{i}.png"));
        img.save(&p).unwrap();
        args.push(p.display().to_string());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_lenet"))
        .args(&args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index_args: Vec<String> = ids
        .iter()
        .flat_map(|i| ["--index".to_string(), i.to_string()])
        .collect();
    let mut a2 = vec!["predict", "--weights", w.to_str().unwrap(), "--data"];
    let d = data();
    a2.push(&d);
    a2.extend(index_args.iter().map(|s| s.as_str()));
    let o2 = lenet(&a2);
    let top = |s: &str| {
        s.split(": ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .map(str::to_string)
    };
    let from_png: Vec<_> = stdout(&o).lines().map(top).collect();
    let from_idx: Vec<_> = stdout(&o2).lines().map(top).collect();
    assert_eq!(from_png.len(), 12);
    let agree = from_png
        .iter()
        .zip(&from_idx)
        .filter(|(a, b)| a == b)
        .count();
    assert!(agree >= 10, "{from_png:?} vs {from_idx:?}");
}

/// Weights PyTorch wrote with `safetensors.torch.save_file` (see
/// `scripts/make_fixtures.py`) load in the binary.
#[test]
fn eval_reads_weights_written_by_pytorch() {
    let w =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lenet5_max.weights.safetensors");
    let o = lenet(&[
        "eval",
        "--weights",
        w.to_str().unwrap(),
        "--data",
        &data(),
        "--limit",
        "100",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("/ 100 correct"), "{}", stdout(&o));
}

#[test]
fn failures_are_one_line() {
    let w = weights();
    let w = w.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"definitely not a network").unwrap();
    let junk = junk.to_str().unwrap();
    fails_with(
        &["eval", "--weights", "/nonexistent/w.safetensors"],
        "/nonexistent/w.safetensors",
    );
    fails_with(&["eval", "--weights", junk], "junk.bin: weights");
    let not_weights =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lenet5_avg.io.safetensors");
    fails_with(
        &["eval", "--weights", not_weights.to_str().unwrap()],
        "tensor `conv1.weight`: missing",
    );
    fails_with(
        &["eval", "--weights", w, "--data", "/nonexistent"],
        "/nonexistent",
    );
    fails_with(&["train", "--epochs", "many"], "many");
    fails_with(&["--batch-size", "0"], "0");
    fails_with(&["train", "--lr=-1"], "learning rate");
    fails_with(
        &[
            "predict",
            "--weights",
            w,
            "--data",
            &data(),
            "--index",
            "99999",
        ],
        "2,000 images",
    );
    fails_with(&["predict", "--weights", w, junk], "junk.bin");
    fails_with(&["predict", "--weights", w], "required");
    fails_with(&["frobnicate"], "frobnicate");
    fails_with(
        &["train", "--data", dir.path().to_str().unwrap()],
        "no train images",
    );
}

lenet::network! {
    /// The binary's network, to rewrite its weights files.
    struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2, 2),
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

fn metadata_of(path: &Path) -> Metadata {
    read_metadata(&std::fs::read(path).unwrap()).unwrap()
}

/// The weights of the default run, saved in `dir` with the metadata that
/// `train` writes changed by `edit`.
fn rewritten(dir: &Path, edit: impl FnOnce(&mut Metadata)) -> PathBuf {
    let net: LeNet5 = from_safetensors(&std::fs::read(weights()).unwrap()).unwrap();
    let mut meta = metadata_of(&trained().1);
    edit(&mut meta);
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("edited-{n}.safetensors"));
    save_safetensors_with_metadata(&net, &path, &meta).unwrap();
    path
}

/// A copy of the bundled digits in a directory of its own, with
/// `classes.txt` holding `classes` (if given).
fn digits_dir(classes: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(data()).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "gz") {
            std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        }
    }
    if let Some(text) = classes {
        std::fs::write(dir.path().join("classes.txt"), text).unwrap();
    }
    dir
}

/// Installed elsewhere and run from an empty directory, the binary trains,
/// evaluates and predicts on the digits compiled into it.
#[test]
fn the_bundled_digits_are_inside_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("lenet");
    std::fs::copy(env!("CARGO_BIN_EXE_lenet"), &bin).unwrap();
    let run = |args: &[&str]| {
        Command::new(&bin)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&[
        "train",
        "--epochs",
        "1",
        "--limit",
        "64",
        "--out",
        "w.safetensors",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("data: MNIST from the bundled digits (64 training / 64 test"),
        "{}",
        stdout(&o)
    );
    let o = run(&["eval", "--weights", "w.safetensors"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("/ 2,000 correct") && stdout(&o).contains("the bundled digits"),
        "{}",
        stdout(&o)
    );
    let o = run(&["predict", "--weights", "w.safetensors", "--index", "1999"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("test image 1999 (label "),
        "{}",
        stdout(&o)
    );
}

#[test]
fn saved_weights_say_what_they_are() {
    let (_, w, out) = trained();
    let m = metadata_of(w);
    let get = |k: &str| {
        m.get(k)
            .unwrap_or_else(|| panic!("no `{k}` in {m:?}"))
            .as_str()
    };
    assert_eq!(get("format"), "pt");
    assert_eq!(get("network"), "LeNet5");
    let fp = get("network_fingerprint");
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "{fp}"
    );
    assert!(get("layers")
        .starts_with("input [1, 32, 32]; conv1: Conv2d(1, 6, 5); relu; pool1: MaxPool2d(2, 2);"));
    assert_eq!(get("input_size"), "28x28");
    assert_eq!(get("input_padding"), "2");
    let mean: f64 = get("input_mean").parse().unwrap();
    let std: f64 = get("input_std").parse().unwrap();
    assert!(
        (0.1..0.16).contains(&mean) && (0.28..0.34).contains(&std),
        "{m:?}"
    );
    assert_eq!(get("dataset"), "MNIST");
    assert_eq!(
        get("classes"),
        r#"["0","1","2","3","4","5","6","7","8","9"]"#
    );
    assert_eq!(get("epochs"), "2");
    let acc: f64 = get("test_accuracy").parse().unwrap();
    let final_line = out.lines().last().unwrap();
    assert!((100.0 * acc - number_after(final_line, "test accuracy ")).abs() < 0.01);
    // Another run of the same declaration has the same fingerprint.
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again.safetensors");
    let o = lenet(&[
        "train",
        "--epochs",
        "1",
        "--limit",
        "32",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(metadata_of(&again)["network_fingerprint"], fp);
}

#[test]
fn weights_of_another_declaration_are_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let other = rewritten(dir.path(), |m| {
        m.insert("network".into(), "LeNet5Avg".into());
        m.insert("network_fingerprint".into(), "0123456789abcdef".into());
        let layers = m["layers"].replace("MaxPool2d", "AvgPool2d");
        m.insert("layers".into(), layers);
    });
    let other = other.to_str().unwrap();
    for cmd in ["eval", "export"] {
        let mut args = vec![cmd, "--weights", other];
        if cmd == "export" {
            args.extend(["--out", "/nonexistent/never-written"]);
        }
        fails_with(
            &args,
            "weights of another network, LeNet5Avg (fingerprint 0123456789abcdef)",
        );
        fails_with(
            &args,
            "step 3 is `pool1: AvgPool2d(2, 2)` where LeNet5 has `pool1: MaxPool2d(2, 2)`",
        );
    }
    fails_with(
        &["predict", "--weights", other, "--index", "0"],
        "LeNet5Avg",
    );
}

#[test]
fn eval_and_predict_use_the_stored_preprocessing() {
    let dir = tempfile::tempdir().unwrap();
    // Weights that take 20×20 images do not take the 28×28 digits.
    let small = rewritten(dir.path(), |m| {
        m.insert("input_size".into(), "20x20".into());
        m.insert("input_padding".into(), "6".into());
    });
    fails_with(
        &["eval", "--weights", small.to_str().unwrap()],
        "the weights take images of 20×20 (padded by 6 to 32×32); the bundled digits holds 28×28",
    );
    // The stored normalisation is the one applied: MNIST's gives what the
    // defaults give (the file has none), another gives something else.
    let with = |mean: &str, std: &str| {
        let w = rewritten(dir.path(), |m| {
            m.insert("input_mean".into(), mean.into());
            m.insert("input_std".into(), std.into());
        });
        let o = lenet(&["eval", "--weights", w.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        number_after(&stdout(&o), "test accuracy ")
    };
    let o = lenet(&["eval", "--weights", weights().to_str().unwrap()]);
    let defaults = number_after(&stdout(&o), "test accuracy ");
    assert_eq!(with("0.1307", "0.3081"), defaults);
    let other = with("0.9", "0.05");
    assert!(other < defaults - 1.0, "{other} vs {defaults}");
    let bad = rewritten(dir.path(), |m| {
        m.insert("input_std".into(), "-1".into());
    });
    fails_with(
        &["eval", "--weights", bad.to_str().unwrap()],
        "metadata `input_std`: -1 is not positive",
    );
}

#[test]
fn another_dataset_than_the_one_trained_on_is_a_warning_naming_both() {
    let (_, w, _) = trained();
    let names =
        "# dataset: Digits in words\nzero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
    let dir = digits_dir(Some(names));
    let d = dir.path().to_str().unwrap();
    let o = lenet(&["eval", "--weights", w.to_str().unwrap(), "--data", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("warning: ")
            && err.contains("trained on MNIST")
            && err.contains("this is Digits in words"),
        "{err}"
    );
    assert!(stdout(&o).contains("on Digits in words"), "{}", stdout(&o));
    // The same data set: no warning.
    let o = lenet(&["eval", "--weights", w.to_str().unwrap(), "--data", &data()]);
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
}

/// `predict` names the classes: from the weights, else from the data's
/// `classes.txt`; PyTorch's weights (no metadata) load with the defaults.
#[test]
fn predict_prints_class_names() {
    let names = "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
    let dir = digits_dir(Some(names));
    let d = dir.path().to_str().unwrap();
    let torch =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lenet5_max.weights.safetensors");
    let o = lenet(&[
        "predict",
        "--weights",
        torch.to_str().unwrap(),
        "--data",
        d,
        "--index",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let words: Vec<&str> = names.lines().collect();
    let line = stdout(&o);
    let label = line
        .strip_prefix("test image 0 (label ")
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(words.contains(&label), "{line}");
    let top: Vec<&str> = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split(", ")
        .map(|p| p.split(" (").next().unwrap())
        .collect();
    assert!(
        top.len() == 3 && top.iter().all(|t| words.contains(t)),
        "{line}"
    );
    // Weights that know their classes (digits) name their predictions so;
    // the test image's label is named by its data set.
    let (_, w, _) = trained();
    let o = lenet(&[
        "predict",
        "--weights",
        w.to_str().unwrap(),
        "--data",
        d,
        "--index",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    assert!(
        line.starts_with(&format!("test image 0 (label {label}): ")),
        "{line}"
    );
    let top = line.split(": ").nth(1).unwrap();
    assert!(
        top.split(", ")
            .all(|p| p.as_bytes()[0].is_ascii_digit() && p.as_bytes()[1] == b' '),
        "{line}"
    );
    // Digits in another directory, recognised by their labels: no warning.
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn epochs_zero_is_an_error_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.safetensors");
    std::fs::write(&out, b"previous weights").unwrap();
    fails_with(
        &["train", "--epochs", "0", "--out", out.to_str().unwrap()],
        "--epochs 0: nothing to train",
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"previous weights");
}

#[test]
fn new_failures_are_one_line() {
    let (_, w, _) = trained();
    let w = w.to_str().unwrap();
    fails_with(
        &["train", "--patience", "2"],
        "--patience needs a validation split",
    );
    fails_with(
        &["train", "--validation", "8000"],
        "--validation 8000: the training set has 8,000 images",
    );
    fails_with(
        &["train", "--shift", "20"],
        "--shift 20: give a number of pixels from 0 to 8",
    );
    fails_with(
        &["train", "--rotate=-5"],
        "--rotate -5: give a number of degrees from 0 to 45",
    );
    fails_with(&["train", "--rotate", "many"], "many");
    fails_with(&["train", "--limit", "0"], "the training set is empty");
    fails_with(
        &["train", "--weight-decay=-1"],
        "--weight-decay -1: give a number from 0 up",
    );
    let dir = digits_dir(Some("zero\none\ntwo\n"));
    fails_with(
        &[
            "eval",
            "--weights",
            w,
            "--data",
            dir.path().to_str().unwrap(),
        ],
        "classes.txt: 3 class names (labels 0 to 2), but the data holds label 9",
    );
    let dir = digits_dir(Some("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"));
    fails_with(
        &["train", "--data", dir.path().to_str().unwrap()],
        "classes.txt: 11 class names, but the network has 10 outputs",
    );
    let dir = digits_dir(Some("a\nb\na\n"));
    fails_with(
        &[
            "predict",
            "--weights",
            w,
            "--data",
            dir.path().to_str().unwrap(),
            "--index",
            "0",
        ],
        "classes.txt: line 3: `a` names label 0 already",
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = rewritten(dir.path(), |m| {
        m.insert("classes".into(), "zero, one".into());
    });
    fails_with(
        &[
            "predict",
            "--weights",
            bad.to_str().unwrap(),
            "--index",
            "0",
        ],
        "metadata `classes`: not a JSON array",
    );
}

/// With a validation split the weights saved are the best epoch's, and
/// early stopping ends the run once validation stops improving.
#[test]
fn validation_keeps_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.safetensors");
    let o = lenet(&[
        "train",
        "--limit",
        "512",
        "--validation",
        "128",
        "--epochs",
        "6",
        "--patience",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("384 training / 128 validation / 512 test"),
        "{text}"
    );
    let best = text
        .lines()
        .rfind(|l| l.starts_with("epoch ") && l.ends_with("(best so far)"))
        .unwrap_or_else(|| panic!("{text}"));
    let epoch = best.split(['/', ' ']).nth(1).unwrap();
    let m = metadata_of(&out);
    assert_eq!(m["epochs"], epoch, "{text}");
    let val = number_after(best, "val acc ");
    let saved: f64 = m["validation_accuracy"].parse().unwrap();
    assert!((100.0 * saved - val).abs() < 0.01, "{text}");
    let final_line = text.lines().last().unwrap();
    assert!(
        final_line.contains(&format!("(epoch {epoch}, the best on validation")),
        "{text}"
    );
    assert_eq!(
        number_after(final_line, "test accuracy "),
        number_after(best, "test acc ")
    );
}

/// Augmented training is the same run twice for a seed and thread count,
/// and another run for another seed.
#[test]
fn augmentation_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let o = lenet(&[
            "train",
            "--limit",
            "256",
            "--epochs",
            "1",
            "--shift",
            "2",
            "--rotate",
            "10",
            "--threads",
            "2",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("augmentation shift ±2 px, rotate ±10°"),
            "{}",
            stdout(&o)
        );
        std::fs::read(out).unwrap()
    };
    assert_eq!(run("a", "3"), run("b", "3"));
    assert_ne!(run("c", "3"), run("d", "4"));
}
