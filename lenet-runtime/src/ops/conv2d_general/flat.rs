//! Depthwise forward for inference, stride 1 and the output as wide as the
//! input ("same" padding across: MobileNet's and DS-CNN's 3×3 layers), on
//! AVX-512, with the epilogue (bias, batch norm, clamp) folded in.
//!
//! The output plane is read as one flat run of `ho·wo` positions: position
//! `q = r·wo + c` reads input `q + (kr·dh − ph)·w + kc·dw − pw` with tap
//! `(kr, kc)`, a constant offset per tap whatever the row, since `wo = w`.
//! So each vector of 16 positions, across rows, takes each tap as one
//! masked load and one fused multiply-add; a lane is masked off where its
//! row or column falls in the padding. The mask of each tap and vector is
//! computed once per call and shared by every channel and image.
//!
//! A 3×3 kernel with adjacent columns (the common case) runs two channels
//! at a time with their weights in registers, each tap one multiply-add
//! whose memory operand is masked (`fma_row3`): no separate load, no mask
//! arithmetic in the loop. Measured on DS-CNN's 64×25×5 layer, that is
//! about a quarter faster than a masked load and a multiply-add per tap.
//!
//! The epilogue is folded into the sum: with a batch norm `a·(t + s) + k`,
//! the weights are scaled by `a` and the sum starts at `a·(bias + s) + k`
//! (the same value, rounded in another order: within the tests' bound of
//! the specification), so that only the clamp follows it.

use super::ConvGeometry;
use crate::ops::epilogue::{Epilogue, Raw};
use crate::simd::{runnable, Level};
use core::mem::MaybeUninit;

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
    // kernel row, and whose input column is for each kernel column; then
    // their intersection for each tap, the only table the loops read.
    let mut rows = [0u16; MAX_SIDE];
    let mut cols = [0u16; MAX_SIDE];
    let mut masks = [[MaybeUninit::<u16>::uninit(); MAX_SIDE * MAX_SIDE]; MAX_VECTORS];
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
        for (j, tap_masks) in masks.iter_mut().enumerate().take(vectors) {
            let mut wrap = _mm512_cmpge_epi32_mask(c, wo);
            while wrap != 0 {
                c = _mm512_mask_sub_epi32(c, wrap, c, wo);
                r = _mm512_mask_add_epi32(r, wrap, r, _mm512_set1_epi32(1));
                wrap = _mm512_cmpge_epi32_mask(c, wo);
            }
            let live = Avx512::first(p - j * l);
            for (kr, m) in rows.iter_mut().enumerate().take(g.kh) {
                let ir = _mm512_add_epi32(r, _mm512_set1_epi32((kr * g.dh) as i32 - g.ph as i32));
                *m = _mm512_mask_cmpge_epi32_mask(live, ir, _mm512_setzero_si512())
                    & _mm512_cmplt_epi32_mask(ir, hv);
            }
            for (kc, m) in cols.iter_mut().enumerate().take(g.kw) {
                let ic = _mm512_add_epi32(c, _mm512_set1_epi32((kc * g.dw) as i32 - g.pw as i32));
                *m = _mm512_cmpge_epi32_mask(ic, _mm512_setzero_si512())
                    & _mm512_cmplt_epi32_mask(ic, wv);
            }
            for kr in 0..g.kh {
                for kc in 0..g.kw {
                    tap_masks[kr * g.kw + kc].write(rows[kr] & cols[kc]);
                }
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
        masks: &masks,
        offsets: &offsets,
        vectors,
    };
    // SAFETY: the CPU runs AVX-512F, and the rest of this function's
    // contract holds; the tables are those of `g`.
    unsafe {
        match (g.kh, g.kw) {
            (3, 3) => channels::<3, 3>(g, n, w, x, y, raw, &t),
            _ => channels::<0, 0>(g, n, w, x, y, raw, &t),
        }
    }
}

/// The masks and offsets of [`forward_avx512`], computed once per call:
/// `masks[j][k]` (written for every vector `j < vectors` and tap `k`) is
/// the lanes of vector `j` whose input for tap `k` is inside the image.
#[cfg(target_arch = "x86_64")]
struct Tables<'a> {
    masks: &'a [[MaybeUninit<u16>; MAX_SIDE * MAX_SIDE]; MAX_VECTORS],
    offsets: &'a [isize; MAX_SIDE * MAX_SIDE],
    vectors: usize,
}

/// Every channel of every image, with a `KH`×`KW` kernel (`0`: the
/// geometry's). A 3×3 kernel with adjacent columns runs two channels at a
/// time ([`block`]).
///
/// # Safety
/// As [`forward_avx512`]; `KH`, `KW` are 0 or the geometry's; `t` is the
/// tables of `g`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn channels<const KH: usize, const KW: usize>(
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
    raw: &Raw,
    t: &Tables,
) {
    let paired = if rows3::<KH, KW>(g) { g.co / 2 * 2 } else { 0 };
    // SAFETY: as this function's contract; every `o` below is a channel.
    unsafe {
        for s in 0..n {
            for o in (0..paired).step_by(2) {
                block::<2, KH, KW>(g, s, o, w, x, y, raw, t);
            }
            for o in paired..g.co {
                block::<1, KH, KW>(g, s, o, w, x, y, raw, t);
            }
        }
    }
}

/// Whether a `KH`×`KW` kernel (`0`: the geometry's) is 3×3 with adjacent
/// taps in a row: the case [`block`] runs two channels at a time, each
/// kernel row one [`fma_row3`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn rows3<const KH: usize, const KW: usize>(g: &ConvGeometry) -> bool {
    KH == 3 && KW == 3 && g.dw == 1
}

/// Output channels `o .. o + G` of image `s`, vector by vector: the masks
/// of a vector's taps are loaded once for the `G` channels, whose
/// multiply-adds interleave (independent chains), and with a 3×3 kernel
/// the weights stay in registers.
///
/// # Safety
/// As [`channels`]; `s < n` and `o + G <= g.co`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const G: usize, const KH: usize, const KW: usize>(
    g: &ConvGeometry,
    s: usize,
    o: usize,
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
    // Three adjacent taps a row: the kernel rows as `fma_row3`, with the
    // weights in registers; otherwise one channel, tap by tap.
    let rows3 = rows3::<KH, KW>(g);
    debug_assert!(rows3 || G == 1);
    let m = g.co / g.ci;
    // SAFETY: the CPU runs AVX-512F. A lane of a tap's load is selected only
    // where its input row and column are inside the image (the masks), so
    // the address `q + offset` it reads is inside channel `(o + i) / m`'s
    // plane of image `s`; the pointer to the vector's first lane is formed
    // with wrapping arithmetic, as it may fall outside. Each store is masked
    // to the `p` positions of output channel `o + i` of image `s`, inside
    // `y`. Weights `(o + i)·taps ..` are inside `w`, and `raw` covers
    // channel `o + i`.
    unsafe {
        let lo = Avx512::splat(raw.lo());
        let hi = Avx512::splat(raw.hi());
        let mut xc = [x.as_ptr(); G];
        let mut yc = [y.as_mut_ptr(); G];
        let mut wc = [w.as_ptr(); G];
        // The epilogue folded into the sum: channel `c`'s weights scaled by
        // its batch norm's `a` (1 without), its sum started at
        // `a·(bias + s) + k`, so that only the clamp is left after it.
        let mut scale = [1.0f32; G];
        let mut start = [Avx512::zero(); G];
        let mut wk = [[Avx512::zero(); 9]; G];
        for i in 0..G {
            let c = o + i;
            // Depthwise (`m = 1`) needs no division.
            let ci = if m == 1 { c } else { c / m };
            xc[i] = x.as_ptr().add(s * g.in_len() + ci * plane);
            yc[i] = y.as_mut_ptr().add(s * g.out_len() + c * p);
            wc[i] = w.as_ptr().add(c * taps);
            let (bias, sv, av, kv) = raw.scalars(c);
            scale[i] = av;
            start[i] = Avx512::splat(av * (bias + sv) + kv);
            if rows3 {
                for (k, v) in wk[i].iter_mut().enumerate() {
                    *v = Avx512::splat(av * *wc[i].add(k));
                }
            }
        }
        for j in 0..t.vectors {
            let masks = &t.masks[j];
            // One sum per kernel row (up to 3) and channel, added at the
            // end: short chains of multiply-adds, not one long one.
            let mut sums = [[Avx512::zero(); 3]; G];
            for i in 0..G {
                sums[i][0] = start[i];
            }
            if rows3 {
                for kr in 0..3 {
                    let mk = [0, 1, 2].map(|kc| masks[3 * kr + kc].assume_init());
                    for i in 0..G {
                        let at = xc[i].wrapping_add(j * l);
                        let sum = &mut sums[i][kr];
                        *sum = fma_row3(*sum, &wk[i][3 * kr..], at, t.offsets[3 * kr], mk);
                    }
                }
            } else {
                for kr in 0..kh {
                    for kc in 0..kw {
                        let k = kr * kw + kc;
                        let mask = masks[k].assume_init();
                        let at = xc[0].wrapping_offset(t.offsets[k] + (j * l) as isize);
                        let v = _mm512_maskz_loadu_ps(mask, at);
                        let wv = Avx512::splat(scale[0] * *wc[0].add(k));
                        let sum = &mut sums[0][kr % 3];
                        *sum = Avx512::fma(wv, v, *sum);
                    }
                }
            }
            let live = Avx512::first(p - j * l);
            for i in 0..G {
                let acc = Avx512::add(Avx512::add(sums[i][0], sums[i][1]), sums[i][2]);
                let v = Avx512::min(hi, Avx512::max(lo, acc));
                Avx512::store_masked(yc[i].add(j * l), v, live);
            }
        }
    }
}

/// `acc + Σ_c w[c]·p[r + c ..][..16]` over `c` in `0..3`, in the lanes
/// of `masks[c]` for term `c`: one kernel row of three adjacent taps, as
/// multiply-adds with masked memory operands (a lane outside its mask is
/// neither loaded nor can it fault).
///
/// # Safety
/// The CPU runs AVX-512F; `p + r + c + i` is readable for every lane `i` of
/// `masks[c]`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn fma_row3(
    acc: core::arch::x86_64::__m512,
    w: &[core::arch::x86_64::__m512],
    p: *const f32,
    r: isize,
    masks: [u16; 3],
) -> core::arch::x86_64::__m512 {
    let mut acc = acc;
    // SAFETY: the CPU runs AVX-512F; a masked memory operand reads only the
    // lanes of its mask, which the caller guarantees readable. Nothing else
    // is touched.
    unsafe {
        core::arch::asm!(
            "vfmadd231ps {acc} {{{k0}}}, {w0}, zmmword ptr [{p} + 4*{r}]",
            "vfmadd231ps {acc} {{{k1}}}, {w1}, zmmword ptr [{p} + 4*{r} + 4]",
            "vfmadd231ps {acc} {{{k2}}}, {w2}, zmmword ptr [{p} + 4*{r} + 8]",
            acc = inout(zmm_reg) acc,
            w0 = in(zmm_reg) w[0],
            w1 = in(zmm_reg) w[1],
            w2 = in(zmm_reg) w[2],
            p = in(reg) p,
            r = in(reg) r,
            k0 = in(kreg) masks[0],
            k1 = in(kreg) masks[1],
            k2 = in(kreg) masks[2],
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    acc
}
