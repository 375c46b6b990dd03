//! Vectorised kernels and the one place that picks them for this CPU.
//!
//! The CPU is examined once and the answer cached: AVX-512F, else AVX2 with
//! FMA, else the portable path (the scalar specifications in
//! [`crate::layers`], which the compiler vectorises for the baseline target).
//! With `std` the features are detected at run time and the environment
//! variable `LENET_FORCE_SCALAR=1` forces the portable path (read once);
//! without `std` the choice follows the features the crate is compiled for
//! (`-C target-feature=+avx512f`, or `-C target-cpu=native`).
//!
//! Every kernel is written once, generic over the vector type
//! (`vector::Simd`), and instantiated inside a `#[target_feature]`
//! function per instruction set. Each operation's entry point takes the
//! [`Level`] to use, so that tests can run every level side by side; the
//! layers pass [`level()`].
//!
//! This is the only module of the crate where `unsafe` is allowed. Every
//! entry point checks the lengths of its slices before it enters a kernel,
//! and enters a kernel only for a level the CPU supports.

#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{AtomicU8, Ordering};

pub mod activation;
pub mod conv2d;
pub mod linear;
pub mod pool;
#[cfg(feature = "std")]
mod scratch;
mod vector;

/// An instruction set the kernels are compiled for, from the least to the
/// most capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Safe Rust, vectorised by the compiler for the baseline target.
    Portable = 1,
    /// 256-bit AVX2 with fused multiply-add.
    Avx2 = 2,
    /// 512-bit AVX-512F.
    Avx512 = 3,
}

impl Level {
    /// Every level, from the least capable.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

    fn from_u8(v: u8) -> Option<Level> {
        match v {
            1 => Some(Level::Portable),
            2 => Some(Level::Avx2),
            3 => Some(Level::Avx512),
            _ => None,
        }
    }
}

/// 0 until detected, then a `Level as u8`.
static SUPPORTED: AtomicU8 = AtomicU8::new(0);
/// 0 until chosen, then a `Level as u8`.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// The most capable level this CPU runs, detected once.
pub fn supported() -> Level {
    if let Some(l) = Level::from_u8(SUPPORTED.load(Ordering::Relaxed)) {
        return l;
    }
    let l = detect();
    SUPPORTED.store(l as u8, Ordering::Relaxed);
    l
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn detect() -> Level {
    if std::is_x86_feature_detected!("avx512f") {
        Level::Avx512
    } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        Level::Avx2
    } else {
        Level::Portable
    }
}

#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
fn detect() -> Level {
    if cfg!(target_feature = "avx512f") {
        Level::Avx512
    } else if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
        Level::Avx2
    } else {
        Level::Portable
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Level {
    Level::Portable
}

/// The level the layers use: [`supported()`], unless `LENET_FORCE_SCALAR=1`
/// (read once, with `std`) or [`force`] chose a lower one.
pub fn level() -> Level {
    if let Some(l) = Level::from_u8(CHOSEN.load(Ordering::Relaxed)) {
        return l;
    }
    let l = if forced_scalar() {
        Level::Portable
    } else {
        supported()
    };
    CHOSEN.store(l as u8, Ordering::Relaxed);
    l
}

#[cfg(feature = "std")]
fn forced_scalar() -> bool {
    std::env::var_os("LENET_FORCE_SCALAR").is_some_and(|v| v == "1")
}

#[cfg(not(feature = "std"))]
fn forced_scalar() -> bool {
    false
}

/// Makes the layers use `level`, or the most capable level below it that the
/// CPU supports; returns the level now in use. For benchmarks and tests.
pub fn force(level: Level) -> Level {
    let l = level.min(supported());
    CHOSEN.store(l as u8, Ordering::Relaxed);
    l
}

/// The levels this CPU runs, from the least capable.
pub fn available() -> impl Iterator<Item = Level> {
    let top = supported();
    Level::ALL.into_iter().filter(move |&l| l <= top)
}

/// `level`, lowered to what the CPU supports: kernels are entered only
/// through this.
#[inline]
fn runnable(level: Level) -> Level {
    level.min(supported())
}
