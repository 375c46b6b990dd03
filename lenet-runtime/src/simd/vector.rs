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
pub(crate) trait Simd: Copy {
    /// Floats per vector.
    const LANES: usize;
    /// A vector of `LANES` floats.
    type V: Copy;
    /// Which lanes a masked load or store touches.
    type Mask: Copy;

    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// All lanes `v`.
    unsafe fn splat(v: f32) -> Self::V;
    /// Lanes `p[0..LANES]`, unaligned.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Stores all lanes, unaligned.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// The mask of the first `n` lanes (`n` ≥ `LANES` means all).
    unsafe fn first(n: usize) -> Self::Mask;
    /// Lanes under `m` from `p`, zero elsewhere; other addresses untouched.
    unsafe fn load_masked(p: *const f32, m: Self::Mask) -> Self::V;
    /// Stores the lanes under `m`; other addresses untouched.
    unsafe fn store_masked(p: *mut f32, v: Self::V, m: Self::Mask);
    /// `a · b + c`, fused.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// Lanes of `a` where `gate > 0`, zero elsewhere (and where `gate` is NaN).
    unsafe fn keep_positive(a: Self::V, gate: Self::V) -> Self::V;
    /// Sum of the lanes.
    unsafe fn sum(v: Self::V) -> f32;
    /// Writes the lanes whose bit is set in `bits` to `p[0..]`, one after
    /// another, and returns how many it wrote.
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
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m512 {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v)
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
        _mm512_maskz_loadu_ps(m, p)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m512, m: __mmask16) {
        _mm512_mask_storeu_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn keep_positive(a: __m512, gate: __m512) -> __m512 {
        let m = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(gate, _mm512_setzero_ps());
        _mm512_maskz_mov_ps(m, a)
    }
    #[inline(always)]
    unsafe fn sum(v: __m512) -> f32 {
        _mm512_reduce_add_ps(v)
    }
    #[inline(always)]
    unsafe fn store_compressed(p: *mut f32, v: __m512, bits: u32) -> usize {
        let m = bits as __mmask16;
        let packed = _mm512_maskz_compress_ps(m, v);
        let n = m.count_ones() as usize;
        _mm512_mask_storeu_ps(p, Self::first(n), packed);
        n
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
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn first(n: usize) -> __m256i {
        let n = n.min(8) as i32;
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __m256i) -> __m256 {
        _mm256_maskload_ps(p, m)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m256, m: __m256i) {
        _mm256_maskstore_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn keep_positive(a: __m256, gate: __m256) -> __m256 {
        let m = _mm256_cmp_ps::<_CMP_GT_OQ>(gate, _mm256_setzero_ps());
        _mm256_and_ps(m, a)
    }
    #[inline(always)]
    unsafe fn sum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
    #[inline(always)]
    unsafe fn store_compressed(p: *mut f32, v: __m256, bits: u32) -> usize {
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
