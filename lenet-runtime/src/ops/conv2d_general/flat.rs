//! Depthwise forward for inference, stride 1 and the output as wide as the
//! input ("same" padding across: MobileNet's and DS-CNN's 3×3 layers), on
//! AVX-512, with the epilogue (bias, batch norm, clamp) applied before the
//! store.
//!
//! The output plane is read as one flat run of `ho·wo` positions: position
//! `q = r·wo + c` reads input `q + (kr·dh − ph)·w + kc·dw − pw` with tap
//! `(kr, kc)`, a constant offset per tap whatever the row, since `wo = w`.
//! So each vector of 16 positions, across rows, takes each tap as one
//! masked load and one fused multiply-add; a lane is masked off where its
//! row or column falls in the padding. The masks are a row mask per kernel
//! row and a column mask per kernel column for each vector, computed once
//! per call and shared by every channel and image.

use super::ConvGeometry;
use crate::ops::epilogue::{Epilogue, Raw};
use crate::simd::{runnable, Level};

/// The most vectors of a plane (4,096 positions).
const MAX_VECTORS: usize = 256;
/// The most rows or columns of a kernel.
const MAX_SIDE: usize = 8;

/// Whether the flat kernel takes this geometry.
fn applies(g: &ConvGeometry) -> bool {
    g.groups == g.ci
        && (g.sh, g.sw) == (1, 1)
        && g.wo == g.w
        && g.kh <= MAX_SIDE
        && g.kw <= MAX_SIDE
        && g.ho * g.wo <= MAX_VECTORS * 16
        && g.in_len() <= i32::MAX as usize
}

/// `y = epilogue(depthwise(x))` over `n` images without the bias (the
/// epilogue adds it), when the CPU runs AVX-512F and the geometry is one
/// the kernel takes; `false` (nothing written) otherwise.
///
/// # Panics
/// If `g` is not valid, or a slice is shorter than `n` images, the weights
/// or the epilogue need.
pub(super) fn forward(
    level: Level,
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
    epi: &Epilogue,
) -> bool {
    if runnable(level) != Level::Avx512 || !applies(g) {
        return false;
    }
    g.assert_valid();
    assert!(
        g.holds(n, w, x, y) && epi.covers(g.co),
        "conv2d: slices too short for {n} images"
    );
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the CPU runs AVX-512F (`runnable`); the geometry is valid
        // and one `applies` takes, the lengths are checked above.
        unsafe { forward_avx512(g, n, w, x, y, &Raw::new(epi)) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (n, w, x, y, epi);
        false
    }
}

/// # Safety
/// The CPU runs AVX-512F; `g` is valid and [`applies`]; the slices hold `n`
/// images, the weights, and `raw` covers `g.co` channels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
    raw: &Raw,
) {
    use crate::simd::vector::{Avx512, Simd};
    use core::arch::x86_64::*;
    let l = Avx512::LANES;
    let p = g.ho * g.wo;
    let vectors = p.div_ceil(l);
    // Per vector, the lanes whose input row is inside the image for each
    // kernel row, and whose input column is for each kernel column.
    let mut rows = [[0u16; MAX_SIDE]; MAX_VECTORS];
    let mut cols = [[0u16; MAX_SIDE]; MAX_VECTORS];
    // SAFETY: the CPU runs AVX-512F (this function's contract); the lane
    // counters stay below `ho` and `wo`, and the masks only ever select
    // lanes below `p`.
    unsafe {
        let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let wo = _mm512_set1_epi32(g.wo as i32);
        let (hv, wv) = (_mm512_set1_epi32(g.h as i32), _mm512_set1_epi32(g.w as i32));
        // Row and column of each lane's position, kept as counters: the
        // column advances by 16 a vector and carries into the row.
        let mut r = _mm512_setzero_si512();
        let mut c = lane;
        for j in 0..vectors {
            let mut wrap = _mm512_cmpge_epi32_mask(c, wo);
            while wrap != 0 {
                c = _mm512_mask_sub_epi32(c, wrap, c, wo);
                r = _mm512_mask_add_epi32(r, wrap, r, _mm512_set1_epi32(1));
                wrap = _mm512_cmpge_epi32_mask(c, wo);
            }
            let live = Avx512::first(p - j * l);
            for (kr, m) in rows[j].iter_mut().enumerate().take(g.kh) {
                let ir = _mm512_add_epi32(r, _mm512_set1_epi32((kr * g.dh) as i32 - g.ph as i32));
                *m = _mm512_mask_cmpge_epi32_mask(live, ir, _mm512_setzero_si512())
                    & _mm512_cmplt_epi32_mask(ir, hv);
            }
            for (kc, m) in cols[j].iter_mut().enumerate().take(g.kw) {
                let ic = _mm512_add_epi32(c, _mm512_set1_epi32((kc * g.dw) as i32 - g.pw as i32));
                *m = _mm512_cmpge_epi32_mask(ic, _mm512_setzero_si512())
                    & _mm512_cmplt_epi32_mask(ic, wv);
            }
            c = _mm512_add_epi32(c, _mm512_set1_epi32(l as i32));
        }
    }
    // The offset of each tap from the position, in the flat input plane.
    let mut offsets = [0isize; MAX_SIDE * MAX_SIDE];
    for kr in 0..g.kh {
        for kc in 0..g.kw {
            offsets[kr * g.kw + kc] = ((kr * g.dh) as isize - g.ph as isize) * g.w as isize
                + (kc * g.dw) as isize
                - g.pw as isize;
        }
    }
    let t = Tables {
        rows: &rows,
        cols: &cols,
        offsets: &offsets,
        vectors,
    };
    let (bias, norm) = raw.parts();
    // SAFETY: the CPU runs AVX-512F, and the rest of this function's
    // contract holds; the tables are those of `g`.
    unsafe {
        match (g.kh, g.kw, bias, norm) {
            (3, 3, false, false) => channels::<3, 3, false, false>(g, n, w, x, y, raw, &t),
            (3, 3, false, true) => channels::<3, 3, false, true>(g, n, w, x, y, raw, &t),
            (3, 3, true, false) => channels::<3, 3, true, false>(g, n, w, x, y, raw, &t),
            (3, 3, true, true) => channels::<3, 3, true, true>(g, n, w, x, y, raw, &t),
            (_, _, false, false) => channels::<0, 0, false, false>(g, n, w, x, y, raw, &t),
            (_, _, false, true) => channels::<0, 0, false, true>(g, n, w, x, y, raw, &t),
            (_, _, true, false) => channels::<0, 0, true, false>(g, n, w, x, y, raw, &t),
            (_, _, true, true) => channels::<0, 0, true, true>(g, n, w, x, y, raw, &t),
        }
    }
}

/// The masks and offsets of [`forward_avx512`], computed once per call.
#[cfg(target_arch = "x86_64")]
struct Tables<'a> {
    rows: &'a [[u16; MAX_SIDE]; MAX_VECTORS],
    cols: &'a [[u16; MAX_SIDE]; MAX_VECTORS],
    offsets: &'a [isize; MAX_SIDE * MAX_SIDE],
    vectors: usize,
}

/// Every channel of every image, with a `KH`×`KW` kernel (`0`: the
/// geometry's), a bias when `BIAS`, a batch norm when `NORM` (the
/// epilogue's parts as constants, so that no branch is left in the loop).
///
/// # Safety
/// As [`forward_avx512`]; `KH`, `KW` are 0 or the geometry's; `BIAS` and
/// `NORM` are what `raw` holds; `t` is the tables of `g`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn channels<const KH: usize, const KW: usize, const BIAS: bool, const NORM: bool>(
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
    raw: &Raw,
    t: &Tables,
) {
    use crate::simd::vector::{Avx512, Simd};
    use core::arch::x86_64::*;
    let l = Avx512::LANES;
    let (kh, kw) = if KH == 0 { (g.kh, g.kw) } else { (KH, KW) };
    let (p, plane, taps) = (g.ho * g.wo, g.h * g.w, kh * kw);
    let m = g.co / g.ci;
    // SAFETY: the CPU runs AVX-512F. A lane of a tap's load is selected only
    // where its input row and column are inside the image (the masks), so
    // the address `q + offset` it reads is inside channel `o / m`'s plane of
    // image `s`; the pointer to the vector's first lane is formed with
    // wrapping arithmetic, as it may fall outside. Each store is masked to
    // the `p` positions of output channel `o` of image `s`, inside `y`.
    // Weights `o·taps ..` are inside `w`, and `raw` covers channel `o`.
    unsafe {
        let lo = Avx512::splat(raw.lo());
        let hi = Avx512::splat(raw.hi());
        for s in 0..n {
            for o in 0..g.co {
                let xc = x.as_ptr().add(s * g.in_len() + (o / m) * plane);
                let yc = y.as_mut_ptr().add(s * g.out_len() + o * p);
                let wc = w.as_ptr().add(o * taps);
                let (bias, sv, av, kv) = raw.scalars(o);
                let (bias, sv, av, kv) = (
                    Avx512::splat(bias),
                    Avx512::splat(sv),
                    Avx512::splat(av),
                    Avx512::splat(kv),
                );
                for j in 0..t.vectors {
                    let at = xc.wrapping_add(j * l);
                    let (rows, cols) = (&t.rows[j], &t.cols[j]);
                    // One sum per kernel row (up to 3), added at the end:
                    // three short chains of multiply-adds, not one long one.
                    let mut sums = [Avx512::zero(); 3];
                    for (kr, &rm) in rows.iter().enumerate().take(kh) {
                        let sum = &mut sums[kr % 3];
                        for (kc, &cm) in cols.iter().enumerate().take(kw) {
                            let k = kr * kw + kc;
                            let v =
                                _mm512_maskz_loadu_ps(rm & cm, at.wrapping_offset(t.offsets[k]));
                            *sum = Avx512::fma(Avx512::splat(*wc.add(k)), v, *sum);
                        }
                    }
                    let mut acc = Avx512::add(Avx512::add(sums[0], sums[1]), sums[2]);
                    if BIAS {
                        acc = Avx512::add(acc, bias);
                    }
                    if NORM {
                        acc = Avx512::fma(av, Avx512::add(acc, sv), kv);
                    }
                    let v = Avx512::min(hi, Avx512::max(lo, acc));
                    Avx512::store_masked(yc.add(j * l), v, Avx512::first(p - j * l));
                }
            }
        }
    }
}
