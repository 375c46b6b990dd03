//! The shared SIMD vocabulary: the instruction-set [`Level`]s, the one
//! place that picks one for this CPU, and (inside the crate) the vector
//! trait the kernels are written in and the per-thread scratch memory.
//!
//! The CPU is examined once and the answer cached: AVX-512F, else AVX2 with
//! FMA, else the portable path (each operation's scalar specification, which
//! the compiler vectorises for the baseline target). With `std` the features
//! are detected at run time and the environment variable
//! `LENET_FORCE_SCALAR=1` forces the portable path (read once); without
//! `std` the choice follows the features the crate is compiled for
//! (`-C target-feature=+avx512f`, or `-C target-cpu=native`).
//!
//! Every kernel is written once, generic over the vector type (`Simd`), and
//! instantiated inside a `#[target_feature]` function per instruction set.
//! The kernels live with their operation (`crate::ops::<op>::kernels`) and
//! are private: the layer types are the only way in.

use core::sync::atomic::{AtomicU8, Ordering};

#[cfg(feature = "std")]
pub(crate) mod scratch;
#[allow(unsafe_code)]
pub(crate) mod vector;

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

    /// The name kernel tests report: `scalar`, `avx2+fma` or `avx512f`
    /// (the `/proc/cpuinfo` flags the level needs).
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "scalar",
            Level::Avx2 => "avx2+fma",
            Level::Avx512 => "avx512f",
        }
    }

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
/// (read once, with `std`) chose the portable one.
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

/// The levels this CPU runs, from the least capable.
pub fn available() -> impl Iterator<Item = Level> {
    let top = supported();
    Level::ALL.into_iter().filter(move |&l| l <= top)
}

/// `level`, lowered to what the CPU supports: kernels are entered only
/// through this.
#[inline]
pub(crate) fn runnable(level: Level) -> Level {
    level.min(supported())
}
