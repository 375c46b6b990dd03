//! The mask's loop compiled once per instruction set (`#[target_feature]`),
//! where the compiler vectorises the 32-bit hash and the select; it is the
//! specification's own loop ([`super::scalar::apply`]), so every level gives
//! the same bits.

use super::scalar;
use crate::simd::{runnable, Level};

/// [`scalar::apply`] at `level`.
///
/// # Panics
/// If `y` is shorter than `x`.
pub(super) fn apply(level: Level, p: f32, key: u32, x: &[f32], y: &mut [f32]) {
    assert!(y.len() >= x.len(), "dropout: y shorter than x");
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`).
        Level::Avx512 => unsafe { apply_avx512(p, key, x, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`).
        Level::Avx2 => unsafe { apply_avx2(p, key, x, y) },
        _ => scalar::apply(p, key, x, y),
    }
}

/// # Safety
/// The CPU runs AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn apply_avx512(p: f32, key: u32, x: &[f32], y: &mut [f32]) {
    scalar::apply(p, key, x, y)
}

/// # Safety
/// The CPU runs AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2(p: f32, key: u32, x: &[f32], y: &mut [f32]) {
    scalar::apply(p, key, x, y)
}
