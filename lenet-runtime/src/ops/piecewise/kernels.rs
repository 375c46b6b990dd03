//! The activations' loops compiled once per instruction set
//! (`#[target_feature]`), where the compiler vectorises the comparisons and
//! selects with that instruction set's registers; the loops are the
//! specification's own ([`super::scalar`]), so every level gives the same
//! bits. The portable level calls the specification directly.

use super::scalar;
use crate::simd::{runnable, Level};

/// Generates the dispatching entry `$name` for the specification function
/// of the same name, with its instances per instruction set.
macro_rules! dispatch {
    ($name:ident, ($($arg:ident: $t:ty),*), $check:expr) => {
        /// The specification's function of the same name, at `level`.
        ///
        /// # Panics
        /// If the slices differ in length.
        pub(super) fn $name(level: Level, $($arg: $t),*) {
            assert!($check, concat!(stringify!($name), ": slices differ in length"));
            match runnable(level) {
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => {
                    /// # Safety
                    /// The CPU runs AVX-512F.
                    #[target_feature(enable = "avx512f")]
                    unsafe fn run($($arg: $t),*) {
                        scalar::$name($($arg),*)
                    }
                    // SAFETY: the CPU runs AVX-512F (`runnable`).
                    unsafe { run($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => {
                    /// # Safety
                    /// The CPU runs AVX2 and FMA.
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn run($($arg: $t),*) {
                        scalar::$name($($arg),*)
                    }
                    // SAFETY: the CPU runs AVX2 and FMA (`runnable`).
                    unsafe { run($($arg),*) }
                }
                _ => scalar::$name($($arg),*),
            }
        }
    };
}

dispatch!(leaky_relu, (slope: f32, x: &[f32], y: &mut [f32]), y.len() >= x.len());
dispatch!(
    leaky_relu_backward,
    (slope: f32, gate: &[f32], dy: &[f32], dx: &mut [f32]),
    gate.len() == dy.len() && dx.len() >= dy.len()
);
dispatch!(relu6, (x: &[f32], y: &mut [f32]), y.len() >= x.len());
dispatch!(
    relu6_backward,
    (y: &[f32], dy: &[f32], dx: &mut [f32]),
    y.len() == dy.len() && dx.len() >= dy.len()
);
