//! Helpers shared by the kernel tests: the levels to run, reported; a
//! seeded generator; comparisons with a tolerance scaled by the magnitude of
//! the terms summed.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::simd::{self, Level};

/// The operations whose levels were reported already.
static REPORTED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// Every level this CPU runs (from run-time detection, whatever
/// `LENET_FORCE_SCALAR` says), most capable first. The first time an
/// operation asks, prints the line `kernel levels exercised by OP: …` with
/// the levels' names, which `scripts/check-isa-levels.sh` compares with the
/// CPU's flags: a level the machine has and the tests skipped fails CI.
pub fn levels(op: &'static str) -> Vec<Level> {
    let mut levels: Vec<Level> = simd::available().collect();
    levels.reverse();
    let first = REPORTED.lock().map(|mut r| r.insert(op)).unwrap_or(true);
    if first {
        let names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
        println!("kernel levels exercised by {op}: {}", names.join(" "));
    }
    levels
}

/// SplitMix64, floats uniform in `[-1, 1)`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn float(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.float()).collect()
    }
}

pub fn abs(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| x.abs()).collect()
}

/// `got[j]` within `rel · bound[j] + 1e-6` of `want[j]`, where `bound[j]`
/// is the sum of the absolute values of the terms behind `want[j]`.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], bound: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (j, ((&g, &w), &b)) in got.iter().zip(want).zip(bound).enumerate() {
        let tol = rel * b.abs() + 1e-6;
        assert!(
            (g - w).abs() <= tol,
            "{what}[{j}]: got {g}, want {w} (tolerance {tol})"
        );
    }
}
