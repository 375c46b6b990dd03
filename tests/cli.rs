//! The `lenet` binary end to end: train, eval, predict, and one clear
//! `error:` line for every failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lenet")).args(args).output().unwrap()
}

fn data() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").display().to_string()
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
    assert!(err.starts_with("error: ") && err.contains(says), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Trains briefly once and returns the weights (shared by the tests).
fn weights() -> PathBuf {
    static ONCE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    let (_, path) = ONCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let o = lenet(&[
            "train", "--data", &data(), "--epochs", "2", "--limit", "1500", "--out", path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = stdout(&o);
        assert!(out.contains("Total params: 61,706"), "{out}");
        assert!(out.contains("epoch 1/2: loss") && out.contains("epoch 2/2: loss"), "{out}");
        assert!(out.contains("test acc") && out.contains("img/s"), "{out}");
        assert!(out.contains(&format!("weights saved to {}", path.display())), "{out}");
        (dir, path)
    });
    path.clone()
}

#[test]
fn summary_prints_the_table() {
    let o = lenet(&["summary"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("conv1 (Conv2d(1, 6, 5))") && out.contains("MaxPool2d") && out.contains("61,706"), "{out}");
}

#[test]
fn train_then_eval_agree() {
    let w = weights();
    let o = lenet(&["eval", "--weights", w.to_str().unwrap(), "--data", &data()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let pct: f64 = out
        .strip_prefix("test accuracy ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(pct > 90.0, "{out}");
    assert!(out.contains("/ 2,000 correct"), "{out}");
}

#[test]
fn predict_by_index_prints_the_top_three() {
    let w = weights();
    let o = lenet(&["predict", "--weights", w.to_str().unwrap(), "--data", &data(), "--index", "0", "--index", "7"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("test image 0 (label ") && lines[1].starts_with("test image 7 (label "));
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
    let mut args = vec!["predict".to_string(), "--weights".into(), w.display().to_string()];
    let ids: Vec<usize> = (0..12).collect();
    for &i in &ids {
        let src = split.test.image(i);
        let img = image::GrayImage::from_fn(112, 140, |x, y| {
            // 4× larger, off-centre, dark ink on white paper.
            let (sx, sy) = (x as i64 / 4 - 2, y as i64 / 4 - 4);
            let v = if (0..28).contains(&sx) && (0..28).contains(&sy) { src[sy as usize * 28 + sx as usize] } else { 0 };
            image::Luma([255 - v])
        });
        let p = dir.path().join(format!("{i}.png"));
        img.save(&p).unwrap();
        args.push(p.display().to_string());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_lenet")).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index_args: Vec<String> = ids.iter().flat_map(|i| ["--index".to_string(), i.to_string()]).collect();
    let mut a2 = vec!["predict", "--weights", w.to_str().unwrap(), "--data"];
    let d = data();
    a2.push(&d);
    a2.extend(index_args.iter().map(|s| s.as_str()));
    let o2 = lenet(&a2);
    let top = |s: &str| s.split(": ").nth(1).and_then(|t| t.split(' ').next()).map(str::to_string);
    let from_png: Vec<_> = stdout(&o).lines().map(top).collect();
    let from_idx: Vec<_> = stdout(&o2).lines().map(top).collect();
    assert_eq!(from_png.len(), 12);
    let agree = from_png.iter().zip(&from_idx).filter(|(a, b)| a == b).count();
    assert!(agree >= 10, "{from_png:?} vs {from_idx:?}");
}

#[test]
fn failures_are_one_line() {
    let w = weights();
    let w = w.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"definitely not a network").unwrap();
    let junk = junk.to_str().unwrap();
    fails_with(&["eval", "--weights", "/nonexistent/w.safetensors"], "/nonexistent/w.safetensors");
    fails_with(&["eval", "--weights", junk], "junk.bin: weights");
    fails_with(&["eval", "--weights", w, "--data", "/nonexistent"], "/nonexistent");
    fails_with(&["train", "--epochs", "many"], "many");
    fails_with(&["--batch-size", "0"], "0");
    fails_with(&["train", "--lr", "-1"], "learning rate");
    fails_with(&["predict", "--weights", w, "--data", &data(), "--index", "99999"], "2,000 images");
    fails_with(&["predict", "--weights", w, junk], "junk.bin");
    fails_with(&["predict", "--weights", w], "required");
    fails_with(&["frobnicate"], "frobnicate");
    fails_with(&["train", "--data", dir.path().to_str().unwrap()], "no train images");
}
