//! Puts `memory.x` where the linker finds it and turns the first `DIGITS`
//! bundled test digits (`data/t10k-*.gz`) into `digits.rs`: u8 pixels and
//! labels, 785 bytes a digit, kept in flash. `LENET_FW_WEIGHTS` names
//! another weights blob to embed (scripts/cortex-m4.sh uses it to check that
//! a bad blob is reported).

use std::env;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How many test digits the firmware classifies.
const DIGITS: usize = 256;
const SIDE: usize = 28;

fn main() {
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = here.join("../..");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    fs::copy(here.join("memory.x"), out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    let images = gunzip(&root.join("data/t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(&root.join("data/t10k-labels-idx1-ubyte.gz"));
    assert_eq!(be32(&images, 0), 0x0803, "t10k images: not an IDX3 u8 file");
    assert_eq!(be32(&labels, 0), 0x0801, "t10k labels: not an IDX1 u8 file");
    let n = be32(&images, 4) as usize;
    assert!(
        n >= DIGITS && be32(&labels, 4) as usize == n,
        "t10k: fewer than {DIGITS} digits"
    );
    assert_eq!(
        (be32(&images, 8) as usize, be32(&images, 12) as usize),
        (SIDE, SIDE)
    );
    fs::write(
        out.join("pixels.bin"),
        &images[16..16 + DIGITS * SIDE * SIDE],
    )
    .unwrap();
    fs::write(out.join("labels.bin"), &labels[8..8 + DIGITS]).unwrap();
    fs::write(
        out.join("digits.rs"),
        format!(
            "/// Test digits stored.\npub const COUNT: usize = {DIGITS};\n\
             /// 28×28 u8 pixels of each digit, row-major, 0 = background.\n\
             pub static PIXELS: [u8; COUNT * 784] = *include_bytes!(\"pixels.bin\");\n\
             /// The label of each digit.\n\
             pub static LABELS: [u8; COUNT] = *include_bytes!(\"labels.bin\");\n"
        ),
    )
    .unwrap();
    println!("cargo:rerun-if-changed=../../data/t10k-images-idx3-ubyte.gz");
    println!("cargo:rerun-if-changed=../../data/t10k-labels-idx1-ubyte.gz");

    println!("cargo:rerun-if-env-changed=LENET_FW_WEIGHTS");
    let weights = match env::var_os("LENET_FW_WEIGHTS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => root.join("examples/weights/lenet5-mnist10k.le"),
    };
    let weights = weights
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", weights.display()));
    println!("cargo:rerun-if-changed={}", weights.display());
    println!(
        "cargo:rustc-env=LENET_FW_WEIGHTS_FILE={}",
        weights.display()
    );
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    flate2::read::GzDecoder::new(
        File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .read_to_end(&mut v)
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
