//! The element-wise passes of batch norm, each an affine map per channel
//! applied to the centred input (`x + s`, `s = −mean`, so that a large
//! `1/σ` does not cancel digits away),
//! vectorised: along the `HW` values of a channel's plane (`BatchNorm2d`,
//! coefficients broadcast), or across the channels when `HW = 1`
//! (`BatchNorm1d`, coefficients loaded as vectors). The portable level is a
//! plain loop.

use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};

/// [`scalar::eval_coefficients`](super::scalar::eval_coefficients), eight
/// channels at a time on AVX-512 (its square roots and divisions are
/// IEEE's, correctly rounded at any width: the same bits).
///
/// # Panics
/// If a slice is shorter than `s`.
pub(super) fn coefficients(
    level: Level,
    stats: (&[f32], &[f32], &[f32]),
    eps: f32,
    s: &mut [f32],
    a: &mut [f32],
) {
    let c = s.len();
    assert!(
        stats.0.len() >= c && stats.1.len() >= c && stats.2.len() >= c && a.len() >= c,
        "batch_norm: {c} channels"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`).
        Level::Avx512 => unsafe { coefficients_avx512(stats, eps, s, a) },
        _ => super::scalar::eval_coefficients(stats, eps, s, a),
    }
}

/// # Safety
/// The CPU runs AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn coefficients_avx512(
    stats: (&[f32], &[f32], &[f32]),
    eps: f32,
    s: &mut [f32],
    a: &mut [f32],
) {
    super::scalar::eval_coefficients(stats, eps, s, a)
}

/// `y[i, ch, p] = a[ch] · (x[i, ch, p] + s[ch]) + k[ch]` for every image `i`
/// of `x` (`a.len()` channels of `hw` values each).
///
/// # Panics
/// If `s` or `k` is shorter than `a`, `y` shorter than `x`, `hw` is 0 or `x`
/// does not hold whole images.
#[allow(clippy::too_many_arguments)]
pub(super) fn affine(
    level: Level,
    hw: usize,
    x: &[f32],
    s: &[f32],
    a: &[f32],
    k: &[f32],
    (lo, hi): (f32, f32),
    y: &mut [f32],
) {
    let c = a.len();
    assert!(
        hw > 0
            && c > 0
            && s.len() >= c
            && k.len() >= c
            && y.len() >= x.len()
            && x.len().is_multiple_of(c * hw),
        "batch_norm: {} floats for {c} channels of {hw}",
        x.len()
    );
    let images = x.len() / (c * hw);
    let coef = [s.as_ptr(), a.as_ptr(), k.as_ptr()];
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked above.
        Level::Avx512 => unsafe {
            affine_avx512(images, c, hw, x.as_ptr(), coef, (lo, hi), y.as_mut_ptr())
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are checked above.
        Level::Avx2 => unsafe {
            affine_avx2(images, c, hw, x.as_ptr(), coef, (lo, hi), y.as_mut_ptr())
        },
        _ => {
            for (j, (y, &x)) in y.iter_mut().zip(x).enumerate() {
                let ch = (j / hw) % c;
                *y = (a[ch] * (x + s[ch]) + k[ch]).clamp(lo, hi);
            }
        }
    }
}

/// [`affine`] over `xy` in place: `xy[i, ch, p] = a[ch] · (xy[i, ch, p] +
/// s[ch]) + k[ch]` (the same arithmetic, so the same bits).
///
/// # Panics
/// As [`affine`].
pub(super) fn affine_in_place(
    level: Level,
    hw: usize,
    xy: &mut [f32],
    s: &[f32],
    a: &[f32],
    k: &[f32],
    (lo, hi): (f32, f32),
) {
    let c = a.len();
    assert!(
        hw > 0 && c > 0 && s.len() >= c && k.len() >= c && xy.len().is_multiple_of(c * hw),
        "batch_norm: {} floats for {c} channels of {hw}",
        xy.len()
    );
    let images = xy.len() / (c * hw);
    let coef = [s.as_ptr(), a.as_ptr(), k.as_ptr()];
    let p = xy.as_mut_ptr();
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the length is checked
        // above; input and output are the same floats, and each vector is
        // loaded before it is stored at the same place.
        Level::Avx512 => unsafe { affine_avx512(images, c, hw, p.cast_const(), coef, (lo, hi), p) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, with AVX2 and FMA.
        Level::Avx2 => unsafe { affine_avx2(images, c, hw, p.cast_const(), coef, (lo, hi), p) },
        _ => {
            for (j, v) in xy.iter_mut().enumerate() {
                let ch = (j / hw) % c;
                *v = (a[ch] * (*v + s[ch]) + k[ch]).clamp(lo, hi);
            }
        }
    }
}

/// `dx[i, ch, p] = a[ch] · dy[i, ch, p] + b[ch] · (x[i, ch, p] + s[ch]) + k[ch]`.
///
/// # Panics
/// If `s`, `b` or `k` is shorter than `a`, `x` or `dx` shorter than `dy`, `hw` is
/// 0 or `dy` does not hold whole images.
#[allow(clippy::too_many_arguments)]
pub(super) fn affine2(
    level: Level,
    hw: usize,
    dy: &[f32],
    x: &[f32],
    s: &[f32],
    a: &[f32],
    b: &[f32],
    k: &[f32],
    dx: &mut [f32],
) {
    let c = a.len();
    assert!(
        hw > 0
            && c > 0
            && s.len() >= c
            && b.len() >= c
            && k.len() >= c
            && x.len() >= dy.len()
            && dx.len() >= dy.len()
            && dy.len().is_multiple_of(c * hw),
        "batch_norm: {} floats for {c} channels of {hw}",
        dy.len()
    );
    let images = dy.len() / (c * hw);
    let coef = [s.as_ptr(), a.as_ptr(), b.as_ptr(), k.as_ptr()];
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked above.
        Level::Avx512 => unsafe {
            affine2_avx512(
                images,
                c,
                hw,
                dy.as_ptr(),
                x.as_ptr(),
                coef,
                dx.as_mut_ptr(),
            )
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are checked above.
        Level::Avx2 => unsafe {
            affine2_avx2(
                images,
                c,
                hw,
                dy.as_ptr(),
                x.as_ptr(),
                coef,
                dx.as_mut_ptr(),
            )
        },
        _ => {
            for (j, ((dx, &dy), &x)) in dx.iter_mut().zip(dy).zip(x).enumerate() {
                let ch = (j / hw) % c;
                *dx = a[ch] * dy + b[ch] * (x + s[ch]) + k[ch];
            }
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; `x` and `y` are valid for `images · c · hw`
/// floats, the three coefficient pointers (`s`, `a`, `k`) for `c`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn affine_avx512(
    images: usize,
    c: usize,
    hw: usize,
    x: *const f32,
    coef: [*const f32; 3],
    bounds: (f32, f32),
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { affine_body::<Avx512>(images, c, hw, x, coef, bounds, y) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; `x` and `y` are valid for `images · c · hw`
/// floats, the three coefficient pointers (`s`, `a`, `k`) for `c`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn affine_avx2(
    images: usize,
    c: usize,
    hw: usize,
    x: *const f32,
    coef: [*const f32; 3],
    bounds: (f32, f32),
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { affine_body::<Avx2>(images, c, hw, x, coef, bounds, y) }
}

/// # Safety
/// The CPU runs AVX-512F; `dy`, `x` and `dx` are valid for `images · c · hw`
/// floats, the four coefficient pointers (`s`, `a`, `b`, `k`) for `c`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn affine2_avx512(
    images: usize,
    c: usize,
    hw: usize,
    dy: *const f32,
    x: *const f32,
    coef: [*const f32; 4],
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { affine2_body::<Avx512>(images, c, hw, dy, x, coef, dx) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; `dy`, `x` and `dx` are valid for
/// `images · c · hw` floats, the four coefficient pointers (`s`, `a`, `b`, `k`) for `c`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn affine2_avx2(
    images: usize,
    c: usize,
    hw: usize,
    dy: *const f32,
    x: *const f32,
    coef: [*const f32; 4],
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { affine2_body::<Avx2>(images, c, hw, dy, x, coef, dx) }
}

#[cfg(target_arch = "x86_64")]
/// Runs `f(start, len, coefficient offset, broadcast)` over the runs of one
/// batch: each channel's plane with broadcast coefficients when `hw > 1`,
/// each image's `c` features with loaded ones when `hw = 1`.
#[inline(always)]
fn runs(images: usize, c: usize, hw: usize, mut f: impl FnMut(usize, usize, usize, bool)) {
    // One call site, so that the kernel's body inlines into its
    // `#[target_feature]` entry (a body left out of line would call its
    // intrinsics as functions).
    let (per_image, len, broadcast) = if hw == 1 {
        (1, c, false)
    } else {
        (c, hw, true)
    };
    for i in 0..images {
        for q in 0..per_image {
            f(
                (i * per_image + q) * len,
                len,
                if broadcast { q } else { 0 },
                broadcast,
            );
        }
    }
}

/// The coefficients of the lanes `j..j + LANES` of a run: `p[ch]` broadcast,
/// or `p[j..]` loaded (masked by `m`).
///
/// # Safety
/// The CPU runs `S`'s instruction set; `p` is valid for `ch + 1` floats, or
/// for the lanes of `m` from `j`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn coefficient<S: Simd>(
    p: *const f32,
    ch: usize,
    broadcast: bool,
    j: usize,
    m: S::Mask,
) -> S::V {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if broadcast {
            S::splat(*p.add(ch))
        } else {
            S::load_masked(p.add(j), m)
        }
    }
}

/// # Safety
/// The CPU runs `S`'s instruction set; the pointers are valid as in
/// [`affine_avx512`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn affine_body<S: Simd>(
    images: usize,
    c: usize,
    hw: usize,
    x: *const f32,
    coef: [*const f32; 3],
    (lo, hi): (f32, f32),
    y: *mut f32,
) {
    let [s, a, k] = coef;
    // SAFETY: the CPU runs `S`'s instruction set (this function's contract).
    let (lo, hi) = unsafe { (S::splat(lo), S::splat(hi)) };
    runs(images, c, hw, |start, len, ch, broadcast| {
        // SAFETY: a run is `len` floats from `start` inside the batch; its
        // coefficients are `a[ch]`, or `a[0..len]` with `len = c`; every
        // vector is masked to the run.
        unsafe {
            let mut j = 0;
            while j < len {
                let m = S::first(len - j);
                let sv = coefficient::<S>(s, ch, broadcast, j, m);
                let av = coefficient::<S>(a, ch, broadcast, j, m);
                let kv = coefficient::<S>(k, ch, broadcast, j, m);
                let t = S::add(S::load_masked(x.add(start + j), m), sv);
                let v = S::min(hi, S::max(lo, S::fma(av, t, kv)));
                S::store_masked(y.add(start + j), v, m);
                j += S::LANES;
            }
        }
    });
}

/// # Safety
/// The CPU runs `S`'s instruction set; the pointers are valid as in
/// [`affine2_avx512`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn affine2_body<S: Simd>(
    images: usize,
    c: usize,
    hw: usize,
    dy: *const f32,
    x: *const f32,
    coef: [*const f32; 4],
    dx: *mut f32,
) {
    let [s, a, b, k] = coef;
    runs(images, c, hw, |start, len, ch, broadcast| {
        // SAFETY: as in `affine_body`.
        unsafe {
            let mut j = 0;
            while j < len {
                let m = S::first(len - j);
                let sv = coefficient::<S>(s, ch, broadcast, j, m);
                let av = coefficient::<S>(a, ch, broadcast, j, m);
                let bv = coefficient::<S>(b, ch, broadcast, j, m);
                let kv = coefficient::<S>(k, ch, broadcast, j, m);
                let t = S::add(S::load_masked(x.add(start + j), m), sv);
                let t = S::fma(bv, t, kv);
                let v = S::fma(av, S::load_masked(dy.add(start + j), m), t);
                S::store_masked(dx.add(start + j), v, m);
                j += S::LANES;
            }
        }
    });
}
