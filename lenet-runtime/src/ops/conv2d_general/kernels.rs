//! The direct kernels of the general and depthwise convolutions, compiled
//! once in this crate and reading the sizes at run time ([`ConvGeometry`]).
//! Each SIMD level's kernels are specialised per shape class ([`Class`]):
//! the kernel's size, stride and dilation are constants for the common
//! classes (3×3 with stride 1 or 2, any undilated kernel with stride 1 or
//! 2) so that the loops over the taps unroll and the phase arithmetic
//! folds; the other sizes (channels, image) are read from the geometry. The
//! portable level is the specification ([`super::scalar`]).
//!
//! Convolutions with one input channel per group (depthwise ones, and those
//! of a single input channel such as DS-CNN's first) copy each input
//! channel once into a zero-padded scratch plane split into its `SH·SW`
//! stride phases ([`Planes`]): there, output `(r, c)` is the point `q = r·WP
//! + c` of a stride-1, padding-free convolution, so a vector of consecutive
//! `q` spans several rows and every tap is one unmasked load at a fixed
//! offset ([`forward_planes`], [`backward_planes`]). Depthwise passes
//! with multiplier 1 on small planes (MobileNet's last 6×6 and 3×3)
//! vectorise across channels instead ([`forward_channels`],
//! [`backward_channels`]).
//!
//! The others run row by row: for each output row and each tap `(kr, kc)`
//! of the kernel, the columns whose tap falls inside the image are one run
//! `[lo, hi)` ([`ConvGeometry::columns`]), and the tap adds `w · x[row,
//! lo·SW + kc·DW − PW ..]` to `y[row, lo..hi]` (an axpy over contiguous
//! floats when `SW = 1`, with a stride otherwise). Backward, the same runs
//! give `dw` as dot products and `dx` as axpys. The zero padding is never
//! materialised: a tap outside the image is simply not in the run.
//!
//! The SIMD levels take their scratch from the thread's (`std`); without
//! `std` these layers run the portable level.
#![cfg_attr(not(feature = "std"), allow(dead_code, unused_imports))]

use super::{scalar, ConvGeometry};
#[cfg(target_arch = "x86_64")]
#[cfg(feature = "std")]
use crate::simd::scratch;
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// The even and the odd lanes of the `2·LANES` floats `a ‖ b` (stride-2
/// columns, for the kernel's vectors along a row and the stride phases).
#[cfg(target_arch = "x86_64")]
trait Evens: Simd {
    /// `[a0, a2, …, b0, b2, …]`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set.
    unsafe fn evens(a: Self::V, b: Self::V) -> Self::V;
    /// `[a1, a3, …, b1, b3, …]`.
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set.
    unsafe fn odds(a: Self::V, b: Self::V) -> Self::V;
    /// `[e0, o0, e1, o1, …]` as two vectors: the inverse of
    /// [`Evens::evens`] and [`Evens::odds`].
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set.
    unsafe fn interleave(e: Self::V, o: Self::V) -> (Self::V, Self::V);
    /// Lane `k` under `m` from `p[k·stride]`, zero elsewhere (`idx` from
    /// [`Evens::strides`]).
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; `p[k·stride]` is
    /// valid for every lane `k` under `m`.
    unsafe fn gather(p: *const f32, idx: Self::Idx, m: Self::Mask) -> Self::V;
    /// Stores lane `k` under `m` to `p[k·stride]` (`idx` from
    /// [`Evens::strides`]).
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; `p[k·stride]` is
    /// valid for every lane `k` under `m`.
    unsafe fn scatter(p: *mut f32, idx: Self::Idx, v: Self::V, m: Self::Mask);
    /// The lane offsets `k·stride` of [`Evens::gather`] and
    /// [`Evens::scatter`].
    ///
    /// # Safety
    /// The CPU runs this vector type's instruction set; `stride · LANES`
    /// fits an `i32`.
    unsafe fn strides(stride: usize) -> Self::Idx;
    /// The lane offsets' vector.
    type Idx: Copy;
}

#[cfg(target_arch = "x86_64")]
impl Evens for Avx512 {
    #[inline(always)]
    unsafe fn evens(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            _mm512_permutex2var_ps(a, even, b)
        }
    }
    #[inline(always)]
    unsafe fn odds(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            _mm512_permutex2var_ps(a, odd, b)
        }
    }
    #[inline(always)]
    unsafe fn interleave(e: __m512, o: __m512) -> (__m512, __m512) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            let hi =
                _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            (
                _mm512_permutex2var_ps(e, lo, o),
                _mm512_permutex2var_ps(e, hi, o),
            )
        }
    }
    type Idx = __m512i;
    #[inline(always)]
    unsafe fn strides(stride: usize) -> __m512i {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let k = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            _mm512_mullo_epi32(k, _mm512_set1_epi32(stride as i32))
        }
    }
    #[inline(always)]
    unsafe fn gather(p: *const f32, idx: __m512i, m: __mmask16) -> __m512 {
        // SAFETY: the caller keeps this function's contract (`# Safety`):
        // only the lanes under `m` are read.
        unsafe { _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), m, idx, p) }
    }
    #[inline(always)]
    unsafe fn scatter(p: *mut f32, idx: __m512i, v: __m512, m: __mmask16) {
        // SAFETY: the caller keeps this function's contract (`# Safety`):
        // only the lanes under `m` are written.
        unsafe { _mm512_mask_i32scatter_ps::<4>(p, m, idx, v) }
    }
}

#[cfg(target_arch = "x86_64")]
impl Evens for Avx2 {
    #[inline(always)]
    unsafe fn evens(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            // [a0 a2 b0 b2 | a4 a6 b4 b6] → 64-bit lanes 0, 2, 1, 3.
            let s = _mm256_shuffle_ps::<0b10_00_10_00>(a, b);
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(s)))
        }
    }
    #[inline(always)]
    unsafe fn odds(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            // [a1 a3 b1 b3 | a5 a7 b5 b7] → 64-bit lanes 0, 2, 1, 3.
            let s = _mm256_shuffle_ps::<0b11_01_11_01>(a, b);
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(s)))
        }
    }
    #[inline(always)]
    unsafe fn interleave(e: __m256, o: __m256) -> (__m256, __m256) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            // [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7].
            let (u, v) = (_mm256_unpacklo_ps(e, o), _mm256_unpackhi_ps(e, o));
            (
                _mm256_permute2f128_ps::<0x20>(u, v),
                _mm256_permute2f128_ps::<0x31>(u, v),
            )
        }
    }
    type Idx = __m256i;
    #[inline(always)]
    unsafe fn strides(stride: usize) -> __m256i {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let k = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_mullo_epi32(k, _mm256_set1_epi32(stride as i32))
        }
    }
    #[inline(always)]
    unsafe fn gather(p: *const f32, idx: __m256i, m: __m256i) -> __m256 {
        // SAFETY: the caller keeps this function's contract (`# Safety`):
        // only the lanes under `m` are read.
        unsafe {
            _mm256_mask_i32gather_ps::<4>(_mm256_setzero_ps(), p, idx, _mm256_castsi256_ps(m))
        }
    }
    #[inline(always)]
    unsafe fn scatter(p: *mut f32, idx: __m256i, v: __m256, m: __m256i) {
        // SAFETY: the caller keeps this function's contract (`# Safety`):
        // lane `k` is written to `p[idx[k]]` only when under `m`.
        unsafe {
            let (mut vs, mut is, mut ms) = ([0.0f32; 8], [0i32; 8], [0i32; 8]);
            _mm256_storeu_ps(vs.as_mut_ptr(), v);
            _mm256_storeu_si256(is.as_mut_ptr().cast(), idx);
            _mm256_storeu_si256(ms.as_mut_ptr().cast(), m);
            for k in 0..8 {
                if ms[k] != 0 {
                    *p.add(is[k] as usize) = vs[k];
                }
            }
        }
    }
}

/// A shape class: the kernel size, stride and dilation `(KH, KW, SH, SW,
/// DH, DW)` that the SIMD kernels of a class read as constants (0: read
/// from the geometry). [`Class::of`] picks the class of a geometry.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// 3×3, stride 1, undilated: MobileNet's and DS-CNN's depthwise layers.
    K3S1,
    /// 3×3, stride 2, undilated: MobileNet's downsampling depthwise layers.
    K3S2,
    /// Any kernel, stride 1, undilated.
    S1,
    /// Any kernel, stride 2, undilated: DS-CNN's first convolution.
    S2,
    /// Everything else: every size read from the geometry.
    Any,
}

#[cfg(target_arch = "x86_64")]
impl Class {
    /// The class whose constants `g` has.
    fn of(g: &ConvGeometry) -> Class {
        match (g.kh, g.kw, g.sh, g.sw, g.dh, g.dw) {
            (3, 3, 1, 1, 1, 1) => Class::K3S1,
            (3, 3, 2, 2, 1, 1) => Class::K3S2,
            (_, _, 1, 1, 1, 1) => Class::S1,
            (_, _, 2, 2, 1, 1) => Class::S2,
            _ => Class::Any,
        }
    }
}

/// `g` with the kernel size, stride and dilation that are not 0 among
/// `KH, KW, SH, SW, DH, DW` replaced by those constants: the geometry a
/// kernel specialised for a class reads. The caller has checked that `g`
/// is of that class ([`Class::of`]), so the values are equal and only
/// become constants.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fixed<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
>(
    g: &ConvGeometry,
) -> ConvGeometry {
    let pick = |c: usize, v: usize| if c == 0 { v } else { c };
    debug_assert!(
        [
            (KH, g.kh),
            (KW, g.kw),
            (SH, g.sh),
            (SW, g.sw),
            (DH, g.dh),
            (DW, g.dw)
        ]
        .iter()
        .all(|&(c, v)| c == 0 || c == v),
        "conv2d: a geometry outside its class"
    );
    ConvGeometry {
        kh: pick(KH, g.kh),
        kw: pick(KW, g.kw),
        sh: pick(SH, g.sh),
        sw: pick(SW, g.sw),
        dh: pick(DH, g.dh),
        dw: pick(DW, g.dw),
        ..*g
    }
}

/// Calls `$f::<KH, KW, SH, SW, DH, DW>($args)` with the constants of
/// `$class`.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
macro_rules! by_class {
    ($class:expr, $f:ident($($args:expr),* $(,)?)) => {
        match $class {
            Class::K3S1 => $f::<3, 3, 1, 1, 1, 1>($($args),*),
            Class::K3S2 => $f::<3, 3, 2, 2, 1, 1>($($args),*),
            Class::S1 => $f::<0, 0, 1, 1, 1, 1>($($args),*),
            Class::S2 => $f::<0, 0, 2, 2, 1, 1>($($args),*),
            Class::Any => $f::<0, 0, 0, 0, 0, 0>($($args),*),
        }
    };
}

/// Forward over `n` images of geometry `g`.
///
/// # Safety
/// `g` is valid: [`ConvGeometry::assert_valid`] holds for it (the kernels
/// index channels by group and trust that `groups` divides both counts,
/// and the output sizes to follow from the input's).
///
/// # Panics
/// If a slice is shorter than `n` images, the weights or the biases need.
pub(super) unsafe fn forward(
    g: &ConvGeometry,
    level: Level,
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    assert!(
        g.holds(n, w, x, y) && b.len() >= g.biases(),
        "conv2d: slices too short for {n} images"
    );
    match runnable(level) {
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise, of its class
        // (`Class::of`); `buf` is the zeroed scratch the planes kernels ask
        // for.
        Level::Avx512 => scratch::with_zeroed(Planes::forward_scratch(g), |buf| unsafe {
            let (buf, wp, bp, xp, yp) = (
                buf.as_mut_ptr(),
                w.as_ptr(),
                b.as_ptr(),
                x.as_ptr(),
                y.as_mut_ptr(),
            );
            by_class!(Class::of(g), forward_avx512(g, n, wp, bp, xp, yp, buf))
        }),
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as for AVX-512.
        Level::Avx2 => scratch::with_zeroed(Planes::forward_scratch(g), |buf| unsafe {
            let (buf, wp, bp, xp, yp) = (
                buf.as_mut_ptr(),
                w.as_ptr(),
                b.as_ptr(),
                x.as_ptr(),
                y.as_mut_ptr(),
            );
            by_class!(Class::of(g), forward_avx2(g, n, wp, bp, xp, yp, buf))
        }),
        _ => {
            let (inl, outl) = (g.in_len(), g.out_len());
            for s in 0..n {
                scalar::forward(
                    g,
                    w,
                    b,
                    &x[s * inl..(s + 1) * inl],
                    &mut y[s * outl..(s + 1) * outl],
                );
            }
        }
    }
}

/// Backward over `n` images of geometry `g`: `dx` overwritten when given,
/// `dw` and `db` added to.
///
/// # Safety
/// `g` is valid, as for [`forward`].
///
/// # Panics
/// If a slice is shorter than `n` images, the weights or the biases need.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn backward(
    g: &ConvGeometry,
    level: Level,
    n: usize,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    assert!(
        g.holds(n, w, x, dy)
            && dx.as_ref().is_none_or(|dx| dx.len() >= n * g.in_len())
            && dw.len() >= g.weights()
            && db.len() >= g.biases(),
        "conv2d: slices too short for {n} images"
    );
    match runnable(level) {
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise, of its class
        // (`Class::of`); `buf` is the zeroed scratch the planes kernels ask
        // for.
        Level::Avx512 => scratch::with_zeroed(Planes::backward_scratch(g), |buf| unsafe {
            let (wp, xp, dyp) = (w.as_ptr(), x.as_ptr(), dy.as_ptr());
            let (dxp, dwp, dbp) = (dx.map(|d| d.as_mut_ptr()), dw.as_mut_ptr(), db.as_mut_ptr());
            let buf = buf.as_mut_ptr();
            by_class!(
                Class::of(g),
                backward_avx512(g, n, wp, xp, dyp, dxp, dwp, dbp, buf)
            )
        }),
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as for AVX-512.
        Level::Avx2 => scratch::with_zeroed(Planes::backward_scratch(g), |buf| unsafe {
            let (wp, xp, dyp) = (w.as_ptr(), x.as_ptr(), dy.as_ptr());
            let (dxp, dwp, dbp) = (dx.map(|d| d.as_mut_ptr()), dw.as_mut_ptr(), db.as_mut_ptr());
            let buf = buf.as_mut_ptr();
            by_class!(
                Class::of(g),
                backward_avx2(g, n, wp, xp, dyp, dxp, dwp, dbp, buf)
            )
        }),
        _ => {
            let (inl, outl) = (g.in_len(), g.out_len());
            for s in 0..n {
                let (xs, dys) = (&x[s * inl..(s + 1) * inl], &dy[s * outl..(s + 1) * outl]);
                scalar::backward_params(g, xs, dys, dw, db);
                if let Some(dx) = dx.as_deref_mut() {
                    scalar::backward_input(g, w, dys, &mut dx[s * inl..(s + 1) * inl]);
                }
            }
        }
    }
}

/// Defines the entry points of one SIMD level, `$s` being its vector type
/// and the const parameters the shape class ([`fixed`]): forward and
/// backward.
#[cfg(target_arch = "x86_64")]
macro_rules! level_kernels {
    ($forward:ident, $backward:ident, $s:ty, $features:literal, $cpu:literal) => {
        #[doc = concat!("Forward at ", $cpu, " for the shape class `KH … DW`.")]
        ///
        /// # Safety
        #[doc = concat!("The CPU runs ", $cpu, ";")]
        /// `g` is valid and of the class (every non-zero constant equals its
        /// size); every pointer is valid for the floats `n` images of it
        /// imply (the entry points check the lengths), `buf` for the zeroed
        /// scratch of [`Planes`].
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $forward<
            const KH: usize,
            const KW: usize,
            const SH: usize,
            const SW: usize,
            const DH: usize,
            const DW: usize,
        >(
            g: &ConvGeometry,
            n: usize,
            w: *const f32,
            b: *const f32,
            x: *const f32,
            y: *mut f32,
            buf: *mut f32,
        ) {
            let g = &fixed::<KH, KW, SH, SW, DH, DW>(g);
            // SAFETY: the caller keeps this function's contract (`# Safety`);
            // `fixed` changes no size of a geometry of its class.
            unsafe { forward_any::<$s>(g, n, w, b, x, y, buf) }
        }

        #[doc = concat!("Backward at ", $cpu, " for the shape class `KH … DW`.")]
        ///
        /// # Safety
        #[doc = concat!("As for [`", stringify!($forward), "`].")]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $backward<
            const KH: usize,
            const KW: usize,
            const SH: usize,
            const SW: usize,
            const DH: usize,
            const DW: usize,
        >(
            g: &ConvGeometry,
            n: usize,
            w: *const f32,
            x: *const f32,
            dy: *const f32,
            dx: Option<*mut f32>,
            dw: *mut f32,
            db: *mut f32,
            buf: *mut f32,
        ) {
            let g = &fixed::<KH, KW, SH, SW, DH, DW>(g);
            // SAFETY: as in the forward entry point.
            unsafe { backward_any::<$s>(g, n, w, x, dy, dx, dw, db, buf) }
        }
    };
}

#[cfg(target_arch = "x86_64")]
level_kernels!(
    forward_avx512,
    backward_avx512,
    Avx512,
    "avx512f",
    "AVX-512F"
);
#[cfg(target_arch = "x86_64")]
level_kernels!(
    forward_avx2,
    backward_avx2,
    Avx2,
    "avx2,fma",
    "AVX2 and FMA"
);

/// The run `[lo, hi)` of every kernel column (`ConvGeometry::columns`),
/// computed once per call for the first 32.
#[cfg(target_arch = "x86_64")]
struct Runs {
    table: [(usize, usize); 32],
}

#[cfg(target_arch = "x86_64")]
impl Runs {
    #[inline(always)]
    fn new(g: &ConvGeometry) -> Runs {
        let mut table = [(0, 0); 32];
        for (kc, run) in table.iter_mut().enumerate().take(g.kw) {
            *run = g.columns(kc);
        }
        Runs { table }
    }

    #[inline(always)]
    fn get(&self, g: &ConvGeometry, kc: usize) -> (usize, usize) {
        match self.table.get(kc) {
            Some(&run) => run,
            None => g.columns(kc),
        }
    }
}

/// Forward. With stride 1 or 2 along the row, the columns where every tap
/// is inside the image (`[lo of the first tap, hi of the last)`) are
/// computed by vectors kept in registers over all the taps of the output
/// (`CI/G · KH · KW` multiply-adds, one load each, or two and a shuffle to
/// take every other column with stride 2), and the few edge columns one by
/// one; with a larger stride, row by row, tap by tap (see the module's
/// documentation).
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid; every pointer is valid
/// for the floats `n` images of `g` imply.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn forward_rows<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    let (cig, cog) = (g.ci_per_group(), g.co_per_group());
    let (inl, outl, plane) = (g.in_len(), g.out_len(), g.h * g.w);
    let runs = Runs::new(g);
    // Runs shrink as the tap moves right: the interior is inside all.
    let (cl, cr) = (runs.get(g, 0).0, runs.get(g, g.kw - 1).1);
    let blocked = g.sw <= 2 && cl < cr;
    // SAFETY: every offset stays inside its image: channels by `groups`
    // dividing both counts (`g` is valid), rows by `input_row`, columns by
    // `columns` (`[lo, hi)` ⊂ `[0, wo)` and its taps inside `[0, w)`); the
    // interior `[cl, cr)` lies inside every tap's run, and its vectors are
    // masked to it (with stride 2, to the `2·cnt − 1` floats from a tap's
    // first column to its last).
    unsafe {
        for s in 0..n {
            let (xs, ys) = (x.add(s * inl), y.add(s * outl));
            for o in 0..g.co {
                let i0 = (o / cog) * cig;
                let bias = if g.bias { *b.add(o) } else { 0.0 };
                let wo_ = w.add(o * cig * g.kh * g.kw);
                for r in 0..g.ho {
                    let yrow = ys.add((o * g.ho + r) * g.wo);
                    if blocked {
                        let mut j0 = cl;
                        while j0 < cr {
                            let m = S::first(cr - j0);
                            let mut acc = S::splat(bias);
                            for j in 0..cig {
                                let xp = xs.add((i0 + j) * plane);
                                for kr in 0..g.kh {
                                    let Some(xr) = g.input_row(r, kr) else {
                                        continue;
                                    };
                                    let src = xp.add(xr * g.w + j0 * g.sw - g.pw);
                                    let wrow = wo_.add((j * g.kh + kr) * g.kw);
                                    for kc in 0..g.kw {
                                        let v = if g.sw == 1 {
                                            S::load_masked(src.add(kc * g.dw), m)
                                        } else {
                                            // Columns 2·l of the `2·cnt − 1`
                                            // floats from the tap's first.
                                            let p = src.add(kc * g.dw);
                                            let span = 2 * (cr - j0).min(S::LANES) - 1;
                                            let a = S::load_masked(p, S::first(span));
                                            let rest = span.saturating_sub(S::LANES);
                                            let b = S::load_masked(p.add(S::LANES), S::first(rest));
                                            S::evens(a, b)
                                        };
                                        acc = S::fma(S::splat(*wrow.add(kc)), v, acc);
                                    }
                                }
                            }
                            S::store_masked(yrow.add(j0), acc, m);
                            j0 += S::LANES;
                        }
                        for c in (0..cl).chain(cr..g.wo) {
                            let mut acc = bias;
                            for j in 0..cig {
                                let xp = xs.add((i0 + j) * plane);
                                for kr in 0..g.kh {
                                    let Some(xr) = g.input_row(r, kr) else {
                                        continue;
                                    };
                                    let wrow = wo_.add((j * g.kh + kr) * g.kw);
                                    for kc in 0..g.kw {
                                        let (lo, hi) = runs.get(g, kc);
                                        if lo <= c && c < hi {
                                            let at = xr * g.w + c * g.sw + kc * g.dw - g.pw;
                                            acc += *wrow.add(kc) * *xp.add(at);
                                        }
                                    }
                                }
                            }
                            *yrow.add(c) = acc;
                        }
                        continue;
                    }
                    fill::<S>(g.wo, bias, yrow);
                    for j in 0..cig {
                        let xp = xs.add((i0 + j) * plane);
                        for kr in 0..g.kh {
                            let Some(xr) = g.input_row(r, kr) else {
                                continue;
                            };
                            let xrow = xp.add(xr * g.w);
                            let wrow = wo_.add((j * g.kh + kr) * g.kw);
                            for kc in 0..g.kw {
                                let (lo, hi) = runs.get(g, kc);
                                if lo >= hi {
                                    continue;
                                }
                                let src = xrow.add(lo * g.sw + kc * g.dw - g.pw);
                                axpy::<S>(hi - lo, *wrow.add(kc), src, g.sw, yrow.add(lo));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The zero-padded plane of one input channel, split into its `SH·SW`
/// stride phases: phase `(a, b)` holds the padded pixels `(i·SH + a, j·SW +
/// b)` at `(i, j)` of an `HP2`×`WP2` plane, `HP2 = ⌈HP / SH⌉`, `WP2 = ⌈WP /
/// SW⌉` (`HP = H + 2·PH`, `WP = W + 2·PW`), the phases one after another.
/// Output `(r, c)` is the point `q = r·WP2 + c` and its tap `(kr, kc)` the
/// float at `q` plus [`Planes::tap`]; the points `c ≥ WO` of each row are
/// computed and dropped. `UNROLL·MAX_LANES` zero floats follow the phases,
/// so that [`UNROLL`] whole vectors from any `q < q_end` stay inside.
#[derive(Clone, Copy)]
struct Planes {
    /// Floats per phase, `HP2·WP2`.
    plane: usize,
    /// Columns per phase row, `WP2`.
    wp2: usize,
    /// One past the last output point, `(HO − 1)·WP2 + WO`.
    q_end: usize,
    /// `q_end` rounded up to [`UNROLL`] whole vectors.
    q_len: usize,
    /// Floats of the phases and the zeros after them.
    len: usize,
}

/// The widest vector of any level, in floats.
const MAX_LANES: usize = 16;

/// Vectors of output points that [`planes_block`] computes together for
/// one output channel.
const UNROLL: usize = 4;

impl Planes {
    #[inline(always)]
    fn new(g: &ConvGeometry) -> Planes {
        let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
        let (hp2, wp2) = (hp.div_ceil(g.sh), wp.div_ceil(g.sw));
        let plane = hp2 * wp2;
        let q_end = (g.ho - 1) * wp2 + g.wo;
        Planes {
            plane,
            wp2,
            q_end,
            q_len: q_end.div_ceil(UNROLL * MAX_LANES) * UNROLL * MAX_LANES,
            len: g.sh * g.sw * plane + UNROLL * MAX_LANES,
        }
    }

    /// The scratch floats of [`forward_planes`] or [`forward_channels`]
    /// (`g` with one input channel per group; 0 for the others, which need
    /// none).
    fn forward_scratch(g: &ConvGeometry) -> usize {
        if channels_apply(g) {
            let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
            (hp * wp + g.kh * g.kw) * MAX_LANES
        } else if g.ci_per_group() == 1 {
            let pl = Planes::new(g);
            pl.len + 4 * pl.q_len
        } else {
            0
        }
    }

    /// The scratch floats of [`backward_planes`], likewise.
    fn backward_scratch(g: &ConvGeometry) -> usize {
        if backward_channels_apply(g) {
            let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
            (2 * hp * wp + 2 * g.kh * g.kw + g.ho * g.wo) * MAX_LANES
        } else if g.ci_per_group() == 1 {
            let pl = Planes::new(g);
            2 * pl.len + pl.q_len
        } else {
            0
        }
    }

    /// The offset of tap `(kr, kc)` from an output point: padded row
    /// `r·SH + kr·DH` is phase `(kr·DH) % SH`, row `r + (kr·DH) / SH`,
    /// and likewise for the columns. Every tap of an output point `q < q_end`
    /// is inside its phase (the output sizes follow from the padded ones).
    #[inline(always)]
    fn tap(&self, g: &ConvGeometry, kr: usize, kc: usize) -> usize {
        let (vr, vc) = (kr * g.dh, kc * g.dw);
        ((vr % g.sh) * g.sw + vc % g.sw) * self.plane + (vr / g.sh) * self.wp2 + vc / g.sw
    }

    /// Where input row `xr` lies: its phase `(a, 0)` and row there, as an
    /// offset from the first phase.
    #[inline(always)]
    fn row(&self, g: &ConvGeometry, xr: usize) -> usize {
        let pr = xr + g.ph;
        (pr % g.sh) * g.sw * self.plane + (pr / g.sh) * self.wp2
    }
    /// Where input column `xc` lies inside an input row's offset
    /// ([`Planes::row`]): its phase `(·, b)` and column there.
    #[inline(always)]
    fn col(&self, g: &ConvGeometry, xc: usize) -> usize {
        let pc = xc + g.pw;
        (pc % g.sw) * self.plane + pc / g.sw
    }
}

/// The offsets from an output point of the first 64 taps (row-major in
/// the kernel; [`Planes::tap`]), computed once per call.
struct Taps {
    table: [usize; 64],
}

impl Taps {
    #[inline(always)]
    fn new(g: &ConvGeometry, pl: &Planes) -> Taps {
        let mut table = [0; 64];
        for (k, t) in table.iter_mut().enumerate().take(g.kh * g.kw) {
            *t = pl.tap(g, k / g.kw, k % g.kw);
        }
        Taps { table }
    }

    /// The offset of tap `k`.
    #[inline(always)]
    fn get(&self, g: &ConvGeometry, pl: &Planes, k: usize) -> usize {
        match self.table.get(k) {
            Some(&t) => t,
            None => pl.tap(g, k / g.kw, k % g.kw),
        }
    }
}

/// A run of `len` floats as whole vectors and a masked tail, its masks
/// computed once for the many rows of a plane.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Span<S: Simd> {
    /// Floats.
    len: usize,
    /// The floats of the whole vectors, `len` rounded down to `LANES`.
    full: usize,
    /// The tail's mask, `first(len − full)`.
    tail: S::Mask,
}

#[cfg(target_arch = "x86_64")]
impl<S: Simd> Span<S> {
    /// # Safety
    /// The CPU runs `S`'s instruction set.
    #[inline(always)]
    unsafe fn new(len: usize) -> Span<S> {
        let full = len / S::LANES * S::LANES;
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        let tail = unsafe { S::first(len - full) };
        Span { len, full, tail }
    }

    /// `dst[0..len] = src[0..len]`.
    ///
    /// # Safety
    /// The CPU runs `S`'s instruction set; `src` and `dst` are valid for
    /// `len` floats.
    #[inline(always)]
    unsafe fn copy(&self, src: *const f32, dst: *mut f32) {
        // SAFETY: the caller keeps this function's contract (`# Safety`);
        // the whole vectors end at `full`, the masked one touches the rest.
        unsafe {
            let mut j = 0;
            while j < self.full {
                S::store(dst.add(j), S::load(src.add(j)));
                j += S::LANES;
            }
            if self.full < self.len {
                let v = S::load_masked(src.add(j), self.tail);
                S::store_masked(dst.add(j), v, self.tail);
            }
        }
    }
}

/// A stride-2 row of `W` floats split into its `⌈W/2⌉` even and `⌊W/2⌋`
/// odd columns, by chunks of `2·LANES` floats: `full` whole chunks, then
/// the `rest` floats under the masks `a` and `b` (the row's two vectors)
/// and `e` and `o` (the even and odd columns').
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Split<S: Simd> {
    full: usize,
    rest: usize,
    a: S::Mask,
    b: S::Mask,
    e: S::Mask,
    o: S::Mask,
}

#[cfg(target_arch = "x86_64")]
impl<S: Simd> Split<S> {
    /// The chunks and masks of rows of `w` floats.
    ///
    /// # Safety
    /// The CPU runs `S`'s instruction set.
    #[inline(always)]
    unsafe fn new(w: usize) -> Split<S> {
        let (full, rest) = (w / (2 * S::LANES), w % (2 * S::LANES));
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            Split {
                full,
                rest,
                a: S::first(rest),
                b: S::first(rest.saturating_sub(S::LANES)),
                e: S::first(rest.div_ceil(2)),
                o: S::first(rest / 2),
            }
        }
    }
}

/// Copies input channel `xc` (`H`×`W`) into the phases at `pp`, leaving
/// the padding as it is: one row copy with stride 1, even and odd columns
/// split by vectors with stride 2, pixel by pixel otherwise.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid; `xc` is valid for
/// `H·W` floats and `pp` for `pl.len`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn fill_planes<S: Evens>(g: &ConvGeometry, pl: &Planes, xc: *const f32, pp: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); every
    // input pixel lands at its place inside the phases (`Planes::row`,
    // `Planes::col`); the stride-2 vectors read the input row's `W` floats
    // and write its `⌈W/2⌉` even and `⌊W/2⌋` odd columns, masked to them.
    unsafe {
        let span = Span::<S>::new(g.w);
        let m = Split::<S>::new(g.w);
        for xr in 0..g.h {
            let src = xc.add(xr * g.w);
            let dst = pp.add(pl.row(g, xr));
            if g.sw == 1 {
                span.copy(src, dst.add(g.pw));
            } else if g.sw == 2 {
                let even = dst.add(pl.col(g, 0));
                // Column 1 exists when there are odd columns.
                let odd = dst.wrapping_add(pl.col(g, 1));
                let mut t = 0;
                for _ in 0..m.full {
                    let (a, b) = (S::load(src.add(2 * t)), S::load(src.add(2 * t + S::LANES)));
                    S::store(even.add(t), S::evens(a, b));
                    S::store(odd.add(t), S::odds(a, b));
                    t += S::LANES;
                }
                if m.rest > 0 {
                    let a = S::load_masked(src.add(2 * t), m.a);
                    let b = S::load_masked(src.wrapping_add(2 * t + S::LANES), m.b);
                    S::store_masked(even.add(t), S::evens(a, b), m.e);
                    S::store_masked(odd.wrapping_add(t), S::odds(a, b), m.o);
                }
            } else {
                for c in 0..g.w {
                    *dst.add(pl.col(g, c)) = *src.add(c);
                }
            }
        }
    }
}

/// Writes the phases at `pp`'s pixels inside the image to input channel
/// `dx` (`H`×`W`): the inverse of [`fill_planes`].
///
/// # Safety
/// As for [`fill_planes`], with `dx` valid for `H·W` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn unfill_planes<S: Evens>(g: &ConvGeometry, pl: &Planes, pp: *const f32, dx: *mut f32) {
    // SAFETY: the places of `fill_planes`, read instead of written.
    unsafe {
        let span = Span::<S>::new(g.w);
        let m = Split::<S>::new(g.w);
        for xr in 0..g.h {
            let src = pp.add(pl.row(g, xr));
            let dst = dx.add(xr * g.w);
            if g.sw == 1 {
                span.copy(src.add(g.pw), dst);
            } else if g.sw == 2 {
                let even = src.add(pl.col(g, 0));
                let odd = src.wrapping_add(pl.col(g, 1));
                let mut t = 0;
                for _ in 0..m.full {
                    let (lo, hi) = S::interleave(S::load(even.add(t)), S::load(odd.add(t)));
                    S::store(dst.add(2 * t), lo);
                    S::store(dst.add(2 * t + S::LANES), hi);
                    t += S::LANES;
                }
                if m.rest > 0 {
                    let e = S::load_masked(even.add(t), m.e);
                    let o = S::load_masked(odd.wrapping_add(t), m.o);
                    let (lo, hi) = S::interleave(e, o);
                    S::store_masked(dst.add(2 * t), lo, m.a);
                    S::store_masked(dst.wrapping_add(2 * t + S::LANES), hi, m.b);
                }
            } else {
                for c in 0..g.w {
                    *dst.add(c) = *src.add(pl.col(g, c));
                }
            }
        }
    }
}

/// Forward: depthwise with multiplier 1 on small planes through
/// [`forward_channels`], the rest with one input channel per group through
/// [`forward_planes`], the others through [`forward_rows`].
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid; every pointer is valid
/// for the floats `n` images of `g` imply, `buf` for the zeroed scratch of
/// [`Planes::forward_scratch`] (or of [`Planes::backward_scratch`] for
/// [`backward_any`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn forward_any<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    buf: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if channels_apply(g) {
            forward_channels::<S>(g, n, w, b, x, y, buf)
        } else if g.ci_per_group() == 1 {
            forward_planes::<S>(g, n, w, b, x, y, buf)
        } else {
            forward_rows::<S>(g, n, w, b, x, y)
        }
    }
}

/// Backward: depthwise with multiplier 1 on small planes through
/// [`backward_channels`], the rest with one input channel per group through
/// [`backward_planes`], the others through [`backward_rows`].
///
/// # Safety
/// As for [`forward_any`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_any<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
    buf: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if backward_channels_apply(g) {
            backward_channels::<S>(g, n, w, x, dy, dx, dw, db, buf)
        } else if g.ci_per_group() == 1 {
            backward_planes::<S>(g, n, w, x, dy, dx, dw, db, buf)
        } else {
            backward_rows::<S>(g, n, w, x, dy, dx, dw, db)
        }
    }
}

/// Output planes of at most this many pixels take [`forward_channels`].
const CHANNELS_MAX_PIXELS: usize = 64;

/// Whether [`forward_channels`] takes `g`: depthwise with multiplier 1
/// (`CI = CO = G`) and small output planes.
#[inline(always)]
fn channels_apply(g: &ConvGeometry) -> bool {
    g.ci == g.groups
        && g.co == g.groups
        && g.ho * g.wo <= CHANNELS_MAX_PIXELS
        && (g.h * g.w).max(g.kh * g.kw) * MAX_LANES <= i32::MAX as usize
}

/// Whether [`backward_channels`] takes `g`: [`channels_apply`], with small
/// input planes too (the gathers and scatters of `x` and `dx` cost more
/// than the planes kernels on larger ones).
#[inline(always)]
fn backward_channels_apply(g: &ConvGeometry) -> bool {
    channels_apply(g) && g.h * g.w <= CHANNELS_MAX_PIXELS
}

/// Forward of a depthwise convolution with multiplier 1 on small planes,
/// vectorised across channels: each block of `LANES` channels is gathered
/// into a zero-padded `HP`×`WP` scratch holding one vector of channels per
/// pixel, each output pixel is `KH·KW` vector multiply-adds of a pixel of
/// channels by the taps' weights of those channels, scattered to the
/// output planes.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid and
/// [`channels_apply`]; every pointer is valid for the floats `n` images of
/// `g` imply, `buf` for the zeroed scratch of [`Planes::forward_scratch`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn forward_channels<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    buf: *mut f32,
) {
    let l = S::LANES;
    let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
    let taps = g.kh * g.kw;
    let (inl, outl) = (g.in_len(), g.out_len());
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    // SAFETY: the scratch holds `HP·WP` and `KH·KW` vectors of at most
    // `MAX_LANES` floats (`Planes::forward_scratch`); channels `c0 + k < C`
    // (the lanes under `m`) and pixels inside their planes are read and
    // written, and `plane·LANES` fits an `i32` (`channels_apply`); the
    // padded pixels `(r·SH + kr·DH, c·SW + kc·DW)` of an output are inside
    // the padded plane (`g` is valid). The lanes past `cnt` of the last
    // block are zero and never written out.
    unsafe {
        let xt = buf;
        let wt = xt.add(hp * wp * MAX_LANES);
        let (idx_in, idx_out) = (S::strides(plane_in), S::strides(plane_out));
        let mut c0 = 0;
        while c0 < g.co {
            let cnt = (g.co - c0).min(l);
            let m = S::first(cnt);
            for t in 0..taps {
                S::store(
                    wt.add(t * l),
                    S::gather(w.add(c0 * taps + t), S::strides(taps), m),
                );
            }
            let bias = if g.bias {
                S::load_masked(b.add(c0), m)
            } else {
                S::zero()
            };
            for s in 0..n {
                let xc = x.add(s * inl + c0 * plane_in);
                for r in 0..g.h {
                    let row = xt.add(((r + g.ph) * wp + g.pw) * l);
                    for c in 0..g.w {
                        S::store(row.add(c * l), S::gather(xc.add(r * g.w + c), idx_in, m));
                    }
                }
                let yc = y.add(s * outl + c0 * plane_out);
                for r in 0..g.ho {
                    for c in 0..g.wo {
                        let mut acc = bias;
                        for kr in 0..g.kh {
                            let at = ((r * g.sh + kr * g.dh) * wp + c * g.sw) * l;
                            for kc in 0..g.kw {
                                let v = S::load(xt.add(at + kc * g.dw * l));
                                acc = S::fma(S::load(wt.add((kr * g.kw + kc) * l)), v, acc);
                            }
                        }
                        S::scatter(yc.add(r * g.wo + c), idx_out, acc, m);
                    }
                }
            }
            c0 += l;
        }
    }
}

/// Backward of [`forward_channels`], vectorised across channels likewise:
/// each block of `LANES` channels of `x` and `dy` is gathered into
/// scratches of one vector of channels per pixel; tap `t`'s weight
/// gradient is `Σ_p dy[p] · x[p + t]` as one vector of channels, and `dx`
/// is accumulated in a zero-padded scratch by `w_t · dy[p]` at `p + t`,
/// then scattered to its planes.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid and
/// [`backward_channels_apply`]; every pointer is valid for the floats `n`
/// images of `g` imply, `buf` for the zeroed scratch of
/// [`Planes::backward_scratch`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_channels<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
    buf: *mut f32,
) {
    let l = S::LANES;
    let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
    let taps = g.kh * g.kw;
    let (inl, outl) = (g.in_len(), g.out_len());
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    // SAFETY: the scratch holds `HP·WP` vectors for `x` and for `dx`,
    // `KH·KW` for the weights and for their gradients and `HO·WO` for `dy`,
    // of at most `MAX_LANES` floats each (`Planes::backward_scratch`);
    // channels `c0 + k < C` (the lanes under `m`) and pixels inside their
    // planes are read and written, and `plane·LANES` and `KH·KW·LANES` fit
    // an `i32` (`channels_apply`); the padded pixels of every tap of an
    // output are inside the padded plane (`g` is valid), whose padding in
    // `xt` is never written and stays zero.
    unsafe {
        let xt = buf;
        let dxt = xt.add(hp * wp * MAX_LANES);
        let wt = dxt.add(hp * wp * MAX_LANES);
        let dwt = wt.add(taps * MAX_LANES);
        let dyt = dwt.add(taps * MAX_LANES);
        let (idx_in, idx_out, idx_w) = (
            S::strides(plane_in),
            S::strides(plane_out),
            S::strides(taps),
        );
        let mut c0 = 0;
        while c0 < g.co {
            let cnt = (g.co - c0).min(l);
            let m = S::first(cnt);
            for t in 0..taps {
                S::store(wt.add(t * l), S::gather(w.add(c0 * taps + t), idx_w, m));
                S::store(dwt.add(t * l), S::zero());
            }
            let mut dbv = S::zero();
            for s in 0..n {
                let xc = x.add(s * inl + c0 * plane_in);
                for r in 0..g.h {
                    let row = xt.add(((r + g.ph) * wp + g.pw) * l);
                    for c in 0..g.w {
                        S::store(row.add(c * l), S::gather(xc.add(r * g.w + c), idx_in, m));
                    }
                }
                let dyc = dy.add(s * outl + c0 * plane_out);
                for p in 0..plane_out {
                    let d = S::gather(dyc.add(p), idx_out, m);
                    dbv = S::add(dbv, d);
                    S::store(dyt.add(p * l), d);
                }
                for kr in 0..g.kh {
                    for kc in 0..g.kw {
                        let t = kr * g.kw + kc;
                        let toff = (kr * g.dh * wp + kc * g.dw) * l;
                        let mut acc = S::load(dwt.add(t * l));
                        for r in 0..g.ho {
                            for c in 0..g.wo {
                                let at = (r * g.sh * wp + c * g.sw) * l + toff;
                                let d = S::load(dyt.add((r * g.wo + c) * l));
                                acc = S::fma(d, S::load(xt.add(at)), acc);
                            }
                        }
                        S::store(dwt.add(t * l), acc);
                    }
                }
                if let Some(dx) = dx {
                    for p in 0..hp * wp {
                        S::store(dxt.add(p * l), S::zero());
                    }
                    for kr in 0..g.kh {
                        for kc in 0..g.kw {
                            let wv = S::load(wt.add((kr * g.kw + kc) * l));
                            let toff = (kr * g.dh * wp + kc * g.dw) * l;
                            for r in 0..g.ho {
                                for c in 0..g.wo {
                                    let at = dxt.add((r * g.sh * wp + c * g.sw) * l + toff);
                                    let d = S::load(dyt.add((r * g.wo + c) * l));
                                    S::store(at, S::fma(wv, d, S::load(at)));
                                }
                            }
                        }
                    }
                    let dxc = dx.add(s * inl + c0 * plane_in);
                    for r in 0..g.h {
                        let row = dxt.add(((r + g.ph) * wp + g.pw) * l);
                        for c in 0..g.w {
                            S::scatter(dxc.add(r * g.w + c), idx_in, S::load(row.add(c * l)), m);
                        }
                    }
                }
            }
            for t in 0..taps {
                let p = dw.add(c0 * taps + t);
                let v = S::add(S::gather(p, idx_w, m), S::load(dwt.add(t * l)));
                S::scatter(p, idx_w, v, m);
            }
            if g.bias {
                let v = S::add(S::load_masked(db.add(c0), m), dbv);
                S::store_masked(db.add(c0), v, m);
            }
            c0 += l;
        }
    }
}

/// Forward with one input channel per group (`CI / G = 1`): each input
/// channel is copied once into the phases ([`Planes`], [`fill_planes`]);
/// its `CO / G` output channels are computed four at a time (each tap's
/// load feeds four accumulators), the rest one at a time over [`UNROLL`]
/// vectors of output points, into a scratch laid out as the points, whose
/// rows' first `WO` floats are then copied to the output.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid with `CI / G = 1`;
/// every pointer is valid for the floats `n` images of `g` imply, `buf`
/// for the zeroed scratch of [`Planes::forward_scratch`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn forward_planes<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    buf: *mut f32,
) {
    let pl = Planes::new(g);
    let offs = Taps::new(g, &pl);
    let cog = g.co_per_group();
    let (inl, outl) = (g.in_len(), g.out_len());
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    // SAFETY: the scratch holds the phases (`pl.len` floats) and four
    // output planes of `q_len` floats; with one input channel per group,
    // input channel `i` feeds outputs `i·CO/G ..` (`g` is valid), each
    // inside its image.
    unsafe {
        {
            let pp = buf;
            let oq = pp.add(pl.len);
            for s in 0..n {
                for i in 0..g.ci {
                    fill_planes::<S>(g, &pl, x.add(s * inl + i * plane_in), pp);
                    let o0 = i * cog;
                    let yo = y.add(s * outl + o0 * plane_out);
                    let mut m = 0;
                    while m + 4 <= cog {
                        let ym = yo.add(m * plane_out);
                        planes_block::<S, 4, 1>(g, &pl, &offs, w, b, o0 + m, pp, oq, ym);
                        m += 4;
                    }
                    while m < cog {
                        let ym = yo.add(m * plane_out);
                        planes_block::<S, 1, UNROLL>(g, &pl, &offs, w, b, o0 + m, pp, oq, ym);
                        m += 1;
                    }
                }
            }
        }
    }
}

/// Output channels `o .. o + U` of [`forward_planes`] from the phases at
/// `pp`, `V` vectors of points at a time (each tap's load feeds `U`
/// accumulators, each weight `V`), through the scratch `oq` into `yo`
/// (their first output plane).
///
/// # Safety
/// As for [`forward_planes`]: `pp` holds the phases of the input channel
/// of outputs `o .. o + U`, `oq` is valid for `U·q_len` floats, `yo` for
/// `U` output planes, `w` and `b` for the layer's weights and biases;
/// `V ≤ UNROLL`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn planes_block<S: Simd, const U: usize, const V: usize>(
    g: &ConvGeometry,
    pl: &Planes,
    offs: &Taps,
    w: *const f32,
    b: *const f32,
    o: usize,
    pp: *const f32,
    oq: *mut f32,
    yo: *mut f32,
) {
    let taps = g.kh * g.kw;
    // SAFETY: `V ≤ UNROLL` whole vectors from `q0 < q_end` plus a tap's
    // offset stay inside the phases and the zeros after them, and inside
    // the `q_len` floats of each output's scratch (`Planes`); the copies
    // read each row's first `WO` points and write the output rows.
    unsafe {
        let wk = w.add(o * taps);
        let mut bias = [S::zero(); U];
        if g.bias {
            for (u, v) in bias.iter_mut().enumerate() {
                *v = S::splat(*b.add(o + u));
            }
        }
        let mut q0 = 0;
        while q0 < pl.q_end {
            let mut acc = [[S::zero(); V]; U];
            for (a, bv) in acc.iter_mut().zip(bias) {
                *a = [bv; V];
            }
            for t in 0..taps {
                let src = pp.add(offs.get(g, pl, t) + q0);
                let mut xv = [S::zero(); V];
                for (k, v) in xv.iter_mut().enumerate() {
                    *v = S::load(src.add(k * S::LANES));
                }
                for (u, a) in acc.iter_mut().enumerate() {
                    let wv = S::splat(*wk.add(u * taps + t));
                    for (ak, v) in a.iter_mut().zip(xv) {
                        *ak = S::fma(wv, v, *ak);
                    }
                }
            }
            for (u, a) in acc.iter().enumerate() {
                for (k, v) in a.iter().enumerate() {
                    S::store(oq.add(u * pl.q_len + q0 + k * S::LANES), *v);
                }
            }
            q0 += V * S::LANES;
        }
        let span = Span::<S>::new(g.wo);
        for u in 0..U {
            for r in 0..g.ho {
                span.copy(
                    oq.add(u * pl.q_len + r * pl.wp2),
                    yo.add((u * g.ho + r) * g.wo),
                );
            }
        }
    }
}

/// Backward with one input channel per group, over the phases of
/// [`forward_planes`]: each output channel's `dy` is laid out as the points
/// (zero at the dropped ones); tap `t` adds `Σ_q dy[q] · x[q + t]` to its
/// weight and `w_t · dy[q]` to the phases of `dx` at `q + t`, which are
/// then written to `dx`'s image.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid with `CI / G = 1`;
/// every pointer is valid for the floats `n` images of `g` imply, `buf`
/// for the zeroed scratch of [`Planes::backward_scratch`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_planes<S: Evens>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
    buf: *mut f32,
) {
    let pl = Planes::new(g);
    let cog = g.co_per_group();
    let taps = g.kh * g.kw;
    // The offset of tap `k` (row-major in the kernel).
    let tap = |k: usize| pl.tap(g, k / g.kw, k % g.kw);
    let (inl, outl) = (g.in_len(), g.out_len());
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    // SAFETY: the scratch holds the phases of `x` and of `dx` (`pl.len`
    // floats each) and `dy` as points (`q_len`); the offsets are those
    // of `forward_planes`, whose whole vectors stay inside the phases;
    // only the points `c < WO` of `dq` are ever written, so the others
    // stay zero and add nothing.
    unsafe {
        {
            let xp = buf;
            let dxp = xp.add(pl.len);
            let span = Span::<S>::new(g.wo);
            let dq = dxp.add(pl.len);
            for s in 0..n {
                for i in 0..g.ci {
                    fill_planes::<S>(g, &pl, x.add(s * inl + i * plane_in), xp);
                    if dx.is_some() {
                        fill::<S>(pl.len, 0.0, dxp);
                    }
                    for m in 0..cog {
                        let o = i * cog + m;
                        let dyo = dy.add(s * outl + o * plane_out);
                        if g.bias {
                            *db.add(o) += sum::<S>(plane_out, dyo);
                        }
                        for r in 0..g.ho {
                            span.copy(dyo.add(r * g.wo), dq.add(r * pl.wp2));
                        }
                        // `dw`: four taps at a time, each load of `dy`
                        // feeding four accumulators.
                        let mut k = 0;
                        while k + 4 <= taps {
                            let off: [usize; 4] = core::array::from_fn(|j| tap(k + j));
                            let mut acc = [S::zero(); 4];
                            let mut q0 = 0;
                            while q0 < pl.q_end {
                                let d = S::load(dq.add(q0));
                                for (a, &off) in acc.iter_mut().zip(&off) {
                                    *a = S::fma(d, S::load(xp.add(off + q0)), *a);
                                }
                                q0 += S::LANES;
                            }
                            for (j, a) in acc.iter().enumerate() {
                                *dw.add(o * taps + k + j) += S::sum(*a);
                            }
                            k += 4;
                        }
                        while k < taps {
                            let off = tap(k);
                            let mut acc = S::zero();
                            let mut q0 = 0;
                            while q0 < pl.q_end {
                                let d = S::load(dq.add(q0));
                                acc = S::fma(d, S::load(xp.add(off + q0)), acc);
                                q0 += S::LANES;
                            }
                            *dw.add(o * taps + k) += S::sum(acc);
                            k += 1;
                        }
                        if dx.is_some() {
                            for k in 0..taps {
                                let off = tap(k);
                                let wv = S::splat(*w.add(o * taps + k));
                                let mut q0 = 0;
                                while q0 < pl.q_end {
                                    let p = dxp.add(off + q0);
                                    S::store(p, S::fma(wv, S::load(dq.add(q0)), S::load(p)));
                                    q0 += S::LANES;
                                }
                            }
                        }
                    }
                    if let Some(dx) = dx {
                        unfill_planes::<S>(g, &pl, dxp, dx.add(s * inl + i * plane_in));
                    }
                }
            }
        }
    }
}

/// Backward, over the same runs as [`forward_rows`].
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid; every pointer is valid
/// for the floats `n` images of `g` imply.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_rows<S: Simd>(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
) {
    let (cig, cog) = (g.ci_per_group(), g.co_per_group());
    let (inl, outl, plane) = (g.in_len(), g.out_len(), g.h * g.w);
    let runs = Runs::new(g);
    // SAFETY: the offsets are those of `forward_rows`, with `dx` laid out as
    // `x`, `dy` as `y`, `dw` as `w` and `db` holding `co` floats with bias.
    unsafe {
        for s in 0..n {
            let (xs, dys) = (x.add(s * inl), dy.add(s * outl));
            let dxs = dx.map(|d| d.add(s * inl));
            if let Some(dxs) = dxs {
                fill::<S>(inl, 0.0, dxs);
            }
            for o in 0..g.co {
                let i0 = (o / cog) * cig;
                for r in 0..g.ho {
                    let dyrow = dys.add((o * g.ho + r) * g.wo);
                    if g.bias {
                        *db.add(o) += sum::<S>(g.wo, dyrow);
                    }
                    for j in 0..cig {
                        let channel = (i0 + j) * plane;
                        for kr in 0..g.kh {
                            let Some(xr) = g.input_row(r, kr) else {
                                continue;
                            };
                            let at = channel + xr * g.w;
                            let widx = ((o * cig + j) * g.kh + kr) * g.kw;
                            for kc in 0..g.kw {
                                let (lo, hi) = runs.get(g, kc);
                                if lo >= hi {
                                    continue;
                                }
                                let col = lo * g.sw + kc * g.dw - g.pw;
                                let d = dyrow.add(lo);
                                *dw.add(widx + kc) += dot::<S>(hi - lo, d, xs.add(at + col), g.sw);
                                if let Some(dxs) = dxs {
                                    scatter::<S>(
                                        hi - lo,
                                        *w.add(widx + kc),
                                        d,
                                        dxs.add(at + col),
                                        g.sw,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `p[0..len] = v`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `p` is valid for `len` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn fill<S: Simd>(len: usize, v: f32, p: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); the
    // full vectors end at or before `len`, the masked one touches the rest.
    unsafe {
        let vv = S::splat(v);
        let mut j = 0;
        while j + S::LANES <= len {
            S::store(p.add(j), vv);
            j += S::LANES;
        }
        if j < len {
            S::store_masked(p.add(j), vv, S::first(len - j));
        }
    }
}

/// `Σ p[0..len]`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `p` is valid for `len` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sum<S: Simd>(len: usize, p: *const f32) -> f32 {
    // SAFETY: as in `fill`.
    unsafe {
        let mut acc = S::zero();
        let mut j = 0;
        while j + S::LANES <= len {
            acc = S::add(acc, S::load(p.add(j)));
            j += S::LANES;
        }
        if j < len {
            acc = S::add(acc, S::load_masked(p.add(j), S::first(len - j)));
        }
        S::sum(acc)
    }
}

/// `y[j] += a · x[j·stride]` for `j < len`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `y` is valid for `len` floats and
/// `x` for `(len − 1)·stride + 1`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn axpy<S: Simd>(len: usize, a: f32, x: *const f32, stride: usize, y: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`); the
    // contiguous case reads `x[0..len]` only, by full and masked vectors.
    unsafe {
        if stride == 1 {
            let av = S::splat(a);
            let mut j = 0;
            while j + S::LANES <= len {
                S::store(y.add(j), S::fma(av, S::load(x.add(j)), S::load(y.add(j))));
                j += S::LANES;
            }
            if j < len {
                let m = S::first(len - j);
                let v = S::fma(av, S::load_masked(x.add(j), m), S::load_masked(y.add(j), m));
                S::store_masked(y.add(j), v, m);
            }
        } else {
            for j in 0..len {
                *y.add(j) += a * *x.add(j * stride);
            }
        }
    }
}

/// `Σ_j d[j] · x[j·stride]` for `j < len`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `d` is valid for `len` floats and
/// `x` for `(len − 1)·stride + 1`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot<S: Simd>(len: usize, d: *const f32, x: *const f32, stride: usize) -> f32 {
    // SAFETY: as in `axpy`.
    unsafe {
        if stride == 1 {
            let mut acc = S::zero();
            let mut j = 0;
            while j + S::LANES <= len {
                acc = S::fma(S::load(d.add(j)), S::load(x.add(j)), acc);
                j += S::LANES;
            }
            if j < len {
                let m = S::first(len - j);
                acc = S::fma(
                    S::load_masked(d.add(j), m),
                    S::load_masked(x.add(j), m),
                    acc,
                );
            }
            S::sum(acc)
        } else {
            let mut acc = 0.0f32;
            for j in 0..len {
                acc += *d.add(j) * *x.add(j * stride);
            }
            acc
        }
    }
}

/// `dx[j·stride] += a · d[j]` for `j < len`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `d` is valid for `len` floats and
/// `dx` for `(len − 1)·stride + 1`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn scatter<S: Simd>(len: usize, a: f32, d: *const f32, dx: *mut f32, stride: usize) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if stride == 1 {
            axpy::<S>(len, a, d, 1, dx);
        } else {
            for j in 0..len {
                let p = dx.add(j * stride);
                *p += a * *d.add(j);
            }
        }
    }
}
