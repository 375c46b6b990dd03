//! The host's side of the Cortex-M4 firmware (`examples/cortex-m4/`): the
//! same network (the binary's declaration, `src/cli/model.rs`), the same
//! weights and the same test digits, classified here, and the firmware's
//! report checked against it. `scripts/cortex-m4.sh` runs both.
//!
//! ```text
//! cortex-m4-host predict N [WEIGHTS]     # host logits of the first N test digits
//! cortex-m4-host compare HOST FIRMWARE --flash F --statics S
//! cortex-m4-host diff HOST FIRMWARE
//! ```
//!
//! `predict` writes one line a digit, `digit i label l pred p logits …` with
//! the ten logits as f32 bits in hex, the firmware's format. `compare`
//! checks that every digit the firmware reports has the host's label and
//! predicted class, and logits within 1e-4 relative
//! (`|target − host| ≤ 1e-4 · max(|host|, 1)`, so logits near zero are held
//! to 1e-4 absolute); it prints the disagreements and the final line, and
//! exits with 1 if any digit disagrees. `diff HOST FIRMWARE` only says how
//! close the logits are (`LENET_FORCE_SCALAR=1` on the host runs the
//! portable kernels the target runs, and gives the very same bits).
//!
//! Instructions per inference: the firmware counts SysTick ticks around
//! `forward` under QEMU's `-icount shift=0`, and its `calibrate` line times a
//! loop of known length, which gives the instructions per tick (40 at
//! MPS2's 25 MHz core clock and one instruction per virtual nanosecond).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use lenet::data::{Dataset, Transform, MNIST_MEAN, MNIST_STD};

#[allow(dead_code)]
#[path = "../src/cli/model.rs"]
mod model;
use model::LeNet5;

/// Relative tolerance on the logits.
const TOLERANCE: f32 = 1e-4;

/// One digit as reported: label, predicted class, logits.
#[derive(Debug, Clone, PartialEq)]
struct Digit {
    label: usize,
    pred: usize,
    ticks: Option<u64>,
    logits: Vec<f32>,
}

/// Everything a report holds.
#[derive(Debug, Default)]
struct Report {
    digits: BTreeMap<usize, Digit>,
    calibrate: Option<(u64, u64)>,
    stack: Option<u64>,
    done: Option<usize>,
    errors: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("predict") => predict(&args[1..]),
        Some("compare") => compare(&args[1..]),
        Some("diff") => diff(&args[1..]),
        _ => Err("usage: cortex-m4-host predict N [WEIGHTS] | compare HOST FIRMWARE --flash F --statics S | diff HOST FIRMWARE".into()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cortex-m4-host: {e}");
            ExitCode::from(2)
        }
    }
}

fn predict(args: &[String]) -> Result<bool, String> {
    let n: usize = args
        .first()
        .and_then(|s| s.parse().ok())
        .ok_or("predict needs the number of digits")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let weights = args
        .get(1)
        .map(Into::into)
        .unwrap_or_else(|| root.join("examples/weights/lenet5-mnist10k.le"));
    let bytes = std::fs::read(&weights).map_err(|e| format!("{}: {e}", weights.display()))?;
    let net = LeNet5::from_le_bytes(&bytes).map_err(|e| format!("{}: {e}", weights.display()))?;
    let data = root.join("data");
    let test = Dataset::load(
        &data.join("t10k-images-idx3-ubyte.gz"),
        &data.join("t10k-labels-idx1-ubyte.gz"),
    )
    .map_err(|e| e.to_string())?;
    if test.len() < n {
        return Err(format!("only {} test digits", test.len()));
    }
    let t = Transform::new(28, 28)
        .pad_to(32, 32)
        .normalize(MNIST_MEAN, MNIST_STD);
    t.check(28, 28).map_err(|e| e.to_string())?;
    let mut x = [0.0f32; LeNet5::INPUT_LEN];
    for i in 0..n {
        t.apply(test.image(i), 28, 28, &mut x);
        let logits = net.forward(&x);
        let bits: Vec<String> = logits
            .iter()
            .map(|v| format!("{:08x}", v.to_bits()))
            .collect();
        println!(
            "digit {i} label {} pred {} logits {}",
            test.label(i),
            argmax(&logits),
            bits.join(" ")
        );
    }
    Ok(true)
}

/// The first class with the largest logit, as the firmware picks it.
fn argmax(logits: &[f32]) -> usize {
    let mut best = 0;
    for (k, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = k;
        }
    }
    best
}

fn read_report(path: &str) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut r = Report::default();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let num = |k: usize| -> Result<u64, String> {
            w.get(k)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{path}: malformed line `{line}`"))
        };
        match w.first().copied() {
            Some("digit") => {
                let i = num(1)? as usize;
                let (label, pred) = (num(3)? as usize, num(5)? as usize);
                let (ticks, at) = match w.get(6).copied() {
                    Some("ticks") => (Some(num(7)?), 8),
                    _ => (None, 6),
                };
                if w.get(at).copied() != Some("logits") {
                    return Err(format!("{path}: malformed line `{line}`"));
                }
                let logits = w[at + 1..]
                    .iter()
                    .map(|h| u32::from_str_radix(h, 16).map(f32::from_bits))
                    .collect::<Result<Vec<f32>, _>>()
                    .map_err(|_| format!("{path}: malformed logits in `{line}`"))?;
                r.digits.insert(
                    i,
                    Digit {
                        label,
                        pred,
                        ticks,
                        logits,
                    },
                );
            }
            Some("calibrate") => r.calibrate = Some((num(1)?, num(2)?)),
            Some("stack") => r.stack = Some(num(1)?),
            Some("done") => r.done = Some(num(1)? as usize),
            Some("error:") => r.errors.push(line.to_string()),
            _ => {}
        }
    }
    Ok(r)
}

/// What the comparison of two reports found.
struct Checked {
    /// Digits whose label, class and logits agree.
    agree: usize,
    /// Digits whose logits are the same bits.
    identical: usize,
    /// Digits the target classifies right.
    correct: usize,
    /// SysTick ticks of the target's `forward`, summed.
    ticks: u64,
    /// The largest relative logit difference.
    worst: f32,
}

/// Compares the first `count` digits of two reports, printing each digit
/// that disagrees.
fn check(host: &Report, target: &Report, count: usize) -> Checked {
    let mut c = Checked {
        agree: 0,
        identical: 0,
        correct: 0,
        ticks: 0,
        worst: 0.0,
    };
    for i in 0..count {
        let (Some(h), Some(t)) = (host.digits.get(&i), target.digits.get(&i)) else {
            eprintln!("digit {i}: missing from the host's or the firmware's report");
            continue;
        };
        let mut ok = h.label == t.label && h.pred == t.pred && h.logits.len() == t.logits.len();
        for (a, b) in t.logits.iter().zip(&h.logits) {
            let rel = (a - b).abs() / b.abs().max(1.0);
            c.worst = c.worst.max(if rel.is_nan() { f32::INFINITY } else { rel });
            ok &= rel <= TOLERANCE;
        }
        if ok {
            c.agree += 1;
        } else {
            eprintln!(
                "digit {i}: host label {} pred {} logits {:?}\n         target label {} pred {} logits {:?}",
                h.label, h.pred, h.logits, t.label, t.pred, t.logits
            );
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        c.identical += usize::from(bits(&h.logits) == bits(&t.logits));
        c.correct += usize::from(t.pred == t.label);
        c.ticks += t.ticks.unwrap_or(0);
    }
    c
}

/// `diff HOST FIRMWARE`: how close the logits are, for information.
fn diff(args: &[String]) -> Result<bool, String> {
    let [h, t, ..] = args else {
        return Err("diff needs the host's and the firmware's reports".into());
    };
    let (host, target) = (read_report(h)?, read_report(t)?);
    let count = target.digits.len();
    let c = check(&host, &target, count);
    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .map_or(p.to_string(), |f| f.to_string_lossy().into_owned())
    };
    eprintln!(
        "{} vs {}: {}/{count} digits with bit-identical logits, largest relative logit difference {:.2e}",
        name(h),
        name(t),
        c.identical,
        c.worst
    );
    Ok(c.agree == count)
}

fn flag(args: &[String], name: &str) -> Result<u64, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|k| args.get(k + 1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("compare needs {name} BYTES"))
}

fn compare(args: &[String]) -> Result<bool, String> {
    let (host, target) = match args {
        [h, t, ..] => (read_report(h)?, read_report(t)?),
        _ => return Err("compare needs the host's and the firmware's reports".into()),
    };
    let (flash, statics) = (flag(args, "--flash")?, flag(args, "--statics")?);
    for e in &target.errors {
        eprintln!("firmware: {e}");
    }
    let Some(count) = target.done else {
        return Err("the firmware did not finish (no `done` line)".into());
    };
    let (Some((calib_insns, calib_ticks)), Some(stack)) = (target.calibrate, target.stack) else {
        return Err("the firmware's report lacks its calibration or stack lines".into());
    };
    if calib_ticks == 0 {
        return Err("SysTick did not count: run QEMU with -icount shift=0".into());
    }

    let c = check(&host, &target, count);
    let (agree, worst) = (c.agree, c.worst);
    let (correct, ticks) = (c.correct, c.ticks);
    let insns =
        (ticks as f64 * calib_insns as f64 / calib_ticks as f64 / count.max(1) as f64).round();
    eprintln!(
        "host vs target: largest relative logit difference {worst:.2e}; {:.1} instructions per SysTick tick; stack high-water {stack} bytes, statics {statics} bytes",
        calib_insns as f64 / calib_ticks as f64
    );
    println!(
        "cortex-m4: {agree}/{count} digits agree with the host, accuracy {:.2} %, {insns} instructions per inference, flash {flash} bytes, RAM {} bytes",
        100.0 * correct as f64 / count.max(1) as f64,
        statics + stack
    );
    Ok(agree == count && count > 0 && target.errors.is_empty())
}
