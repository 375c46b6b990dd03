//! The vector operations the kernels are written in, once, for every
//! instruction set: each kernel is an `#[inline(always)]` function generic
//! over [`Simd`], instantiated inside a `#[target_feature]` entry point so
//! that the intrinsics inline with the right instructions.
//!
//! Every method is `unsafe`: the caller promises that the CPU supports the
//! instruction set of the implementation, and that pointers are valid for the
//! lanes read or written (masked lanes are never touched).

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// One instruction set: a vector of `LANES` floats and its operations.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) trait Simd: Copy {
    /// Floats per vector.
    const LANES: usize;
    /// A vector of `LANES` floats.
    type V: Copy;
    /// Which lanes a masked load or store touches.
    type Mask: Copy;

    /// All lanes zero.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn zero() -> Self::V;
    /// All lanes `v`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn splat(v: f32) -> Self::V;
    /// Lanes `p[0..LANES]`, unaligned.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn load(p: *const f32) -> Self::V;
    /// Stores all lanes, unaligned.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn store(p: *mut f32, v: Self::V);
    /// The mask of the first `n` lanes (`n` ≥ `LANES` means all).
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn first(n: usize) -> Self::Mask;
    /// Lanes under `m` from `p`, zero elsewhere; other addresses untouched.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn load_masked(p: *const f32, m: Self::Mask) -> Self::V;
    /// Stores the lanes under `m`; other addresses untouched.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn store_masked(p: *mut f32, v: Self::V, m: Self::Mask);
    /// `a · b + c`, fused.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// Lanes of `a` where `gate` compares true against zero with the
    /// `_CMP_*` predicate `P`, zero elsewhere.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn keep_where<const P: i32>(a: Self::V, gate: Self::V) -> Self::V;
    /// `a > b ? a : b` lane by lane: `b` where either is NaN, and where
    /// both are zeros of either sign (`max(lo, x)` clamps `x` from below and
    /// lets NaN and −0 through).
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// `a < b ? a : b` lane by lane: `b` where either is NaN, and where both
    /// are zeros of either sign.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn min(a: Self::V, b: Self::V) -> Self::V;
    /// Sum of the lanes.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn sum(v: Self::V) -> f32;
    /// `a · b` lane by lane.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// Sums of adjacent pairs of the `2·LANES` floats `a ‖ b`:
    /// `[a0 + a1, a2 + a3, …, b0 + b1, …]`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn pair_sums(a: Self::V, b: Self::V) -> Self::V;
    /// Every lane twice: `([v0, v0, v1, v1, …], […, v(L−1), v(L−1)])`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn twice(v: Self::V) -> (Self::V, Self::V);
    /// Writes the lanes whose bit is set in `bits` to `p[0..]`, one after
    /// another, and returns how many it wrote.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; every pointer is
    /// valid for the lanes read or written (masked lanes are never touched).
    unsafe fn store_compressed(p: *mut f32, v: Self::V, bits: u32) -> usize;
}

/// AVX-512F: 16 lanes, mask registers.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    const LANES: usize = 16;
    type V = __m512;
    type Mask = __mmask16;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn first(n: usize) -> __mmask16 {
        if n >= 16 {
            0xffff
        } else {
            ((1u32 << n) - 1) as __mmask16
        }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __mmask16) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_maskz_loadu_ps(m, p) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m512, m: __mmask16) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_mask_storeu_ps(p, m, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn keep_where<const P: i32>(a: __m512, gate: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let m = _mm512_cmp_ps_mask::<P>(gate, _mm512_setzero_ps());
            _mm512_maskz_mov_ps(m, a)
        }
    }
    #[inline(always)]
    unsafe fn sum(v: __m512) -> f32 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_reduce_add_ps(v) }
    }
    #[inline(always)]
    unsafe fn max(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn min(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn pair_sums(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            _mm512_add_ps(
                _mm512_permutex2var_ps(a, even, b),
                _mm512_permutex2var_ps(a, odd, b),
            )
        }
    }
    #[inline(always)]
    unsafe fn twice(v: __m512) -> (__m512, __m512) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
            let hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
            (_mm512_permutexvar_ps(lo, v), _mm512_permutexvar_ps(hi, v))
        }
    }
    #[inline(always)]
    unsafe fn store_compressed(p: *mut f32, v: __m512, bits: u32) -> usize {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let m = bits as __mmask16;
            let packed = _mm512_maskz_compress_ps(m, v);
            let n = m.count_ones() as usize;
            _mm512_mask_storeu_ps(p, Self::first(n), packed);
            n
        }
    }
}

/// AVX2 with FMA: 8 lanes, masks as vectors.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    const LANES: usize = 8;
    type V = __m256;
    type Mask = __m256i;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn first(n: usize) -> __m256i {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let n = n.min(8) as i32;
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes)
        }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __m256i) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_maskload_ps(p, m) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m256, m: __m256i) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_maskstore_ps(p, m, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn keep_where<const P: i32>(a: __m256, gate: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let m = _mm256_cmp_ps::<P>(gate, _mm256_setzero_ps());
            _mm256_and_ps(m, a)
        }
    }
    #[inline(always)]
    unsafe fn sum(v: __m256) -> f32 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        }
    }
    #[inline(always)]
    unsafe fn max(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn min(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn pair_sums(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            // [a01, a23, b01, b23 | a45, a67, b45, b67] → 64-bit lanes 0, 2, 1, 3.
            let h = _mm256_hadd_ps(a, b);
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(h)))
        }
    }
    #[inline(always)]
    unsafe fn twice(v: __m256) -> (__m256, __m256) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let lo = _mm256_unpacklo_ps(v, v); // v0 v0 v1 v1 | v4 v4 v5 v5
            let hi = _mm256_unpackhi_ps(v, v); // v2 v2 v3 v3 | v6 v6 v7 v7
            (
                _mm256_permute2f128_ps::<0x20>(lo, hi),
                _mm256_permute2f128_ps::<0x31>(lo, hi),
            )
        }
    }
    #[inline(always)]
    unsafe fn store_compressed(p: *mut f32, v: __m256, bits: u32) -> usize {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let mut lanes = [0.0f32; 8];
            _mm256_storeu_ps(lanes.as_mut_ptr(), v);
            let mut n = 0;
            for (l, &x) in lanes.iter().enumerate() {
                if bits & (1 << l) != 0 {
                    *p.add(n) = x;
                    n += 1;
                }
            }
            n
        }
    }
}
