//! Element-wise activations. `relu` forward and backward are vectorised;
//! `tanh` and `sigmoid` use the portable specification (they are not on
//! LeNet-5's path). The specification is
//! [`super::scalar`].

use super::scalar;
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{_CMP_NLE_UQ, _CMP_NLT_UQ};

/// `y = max(x, 0)` as PyTorch: `x` where `!(x < 0)`, so NaN and −0 pass
/// through (as the specification).
///
/// # Panics
/// If `y` is shorter than `x`.
pub(super) fn relu(level: Level, x: &[f32], y: &mut [f32]) {
    assert!(
        y.len() >= x.len(),
        "relu: {} outputs for {} inputs",
        y.len(),
        x.len()
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: the CPU runs AVX-512F; `y` holds `x.len()` floats.
            unsafe { relu_avx512::<_CMP_NLT_UQ>(x.len(), x.as_ptr(), x.as_ptr(), y.as_mut_ptr()) }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: the CPU runs AVX2; `y` holds `x.len()` floats.
            unsafe { relu_avx2::<_CMP_NLT_UQ>(x.len(), x.as_ptr(), x.as_ptr(), y.as_mut_ptr()) }
        }
        _ => scalar::relu(x, y),
    }
}

/// `dx = dy · [y > 0]` as PyTorch's `threshold_backward`: `0` where
/// `y <= 0`, `dy` elsewhere (also where `y` is NaN).
///
/// # Panics
/// If the slices differ in length.
pub(super) fn relu_backward(level: Level, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert!(
        y.len() == dy.len() && dx.len() >= y.len(),
        "relu: y, dy and dx differ in length"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: the CPU runs AVX-512F; the three slices hold `y.len()` floats.
            unsafe { relu_avx512::<_CMP_NLE_UQ>(y.len(), dy.as_ptr(), y.as_ptr(), dx.as_mut_ptr()) }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: the CPU runs AVX2; the three slices hold `y.len()` floats.
            unsafe { relu_avx2::<_CMP_NLE_UQ>(y.len(), dy.as_ptr(), y.as_ptr(), dx.as_mut_ptr()) }
        }
        _ => scalar::relu_backward(y, dy, dx),
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn relu_avx512<const P: i32>(n: usize, a: *const f32, gate: *const f32, out: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { gated::<Avx512, P>(n, a, gate, out) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn relu_avx2<const P: i32>(n: usize, a: *const f32, gate: *const f32, out: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { gated::<Avx2, P>(n, a, gate, out) }
}

/// `out[j] = a[j]` where `gate[j]` compares true against 0 with the
/// `_CMP_*` predicate `P`, else 0: forward with `a = gate = x` and "not
/// less than" (`_CMP_NLT_UQ`, true for NaN), backward with `a = dy`,
/// `gate = y` and "not less than or equal" (`_CMP_NLE_UQ`, true for NaN).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn gated<S: Simd, const P: i32>(n: usize, a: *const f32, gate: *const f32, out: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut j = 0;
        while j + S::LANES <= n {
            let v = S::keep_where::<P>(S::load(a.add(j)), S::load(gate.add(j)));
            S::store(out.add(j), v);
            j += S::LANES;
        }
        if j < n {
            let m = S::first(n - j);
            let v = S::keep_where::<P>(S::load_masked(a.add(j), m), S::load_masked(gate.add(j), m));
            S::store_masked(out.add(j), v, m);
        }
    }
}
