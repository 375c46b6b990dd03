//! The direct kernel of the general and depthwise convolutions, vectorised
//! over the output columns of a row: for each output row and each tap
//! `(kr, kc)` of the kernel, the columns whose tap falls inside the image are
//! one run `[lo, hi)` ([`ConvGeometry::columns`]), and the tap adds
//! `w · x[row, lo·SW + kc·DW − PW ..]` to `y[row, lo..hi]` (an axpy over
//! contiguous floats when `SW = 1`, with a stride otherwise). Backward, the
//! same runs give `dw` as dot products and `dx` as axpys. The zero padding is
//! never materialised: a tap outside the image is simply not in the run.
//! The portable level is the specification ([`super::scalar`]).

use super::{scalar, ConvGeometry};
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// The even lanes of the `2·LANES` floats `a ‖ b`: `[a0, a2, …, b0, b2, …]`
/// (stride-2 columns, for the kernel's vectors along a row).
#[cfg(target_arch = "x86_64")]
trait Evens: Simd {
    /// # Safety
    /// The CPU runs this vector type's instruction set.
    unsafe fn evens(a: Self::V, b: Self::V) -> Self::V;
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
}

/// Forward over `n` images.
///
/// # Safety
/// `g` is valid: [`ConvGeometry::assert_valid`] holds for it (the kernels
/// index channels by group and trust that `groups` divides both counts).
///
/// # Panics
/// If a slice is shorter than `n` images, the weights or the biases need.
pub(super) unsafe fn forward(
    level: Level,
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    assert!(
        x.len() >= n * g.in_len()
            && y.len() >= n * g.out_len()
            && w.len() >= g.weights()
            && b.len() >= g.biases(),
        "conv2d: slices too short for {n} images"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise.
        Level::Avx512 => unsafe {
            forward_avx512(g, n, w.as_ptr(), b.as_ptr(), x.as_ptr(), y.as_mut_ptr())
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are
        // checked above and the geometry is the caller's promise.
        Level::Avx2 => unsafe {
            forward_avx2(g, n, w.as_ptr(), b.as_ptr(), x.as_ptr(), y.as_mut_ptr())
        },
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

/// Backward over `n` images: `dx` overwritten when given, `dw` and `db`
/// added to.
///
/// # Safety
/// `g` is valid, as for [`forward`].
///
/// # Panics
/// If a slice is shorter than `n` images, the weights or the biases need.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn backward(
    level: Level,
    g: &ConvGeometry,
    n: usize,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    assert!(
        x.len() >= n * g.in_len()
            && dy.len() >= n * g.out_len()
            && dx.as_ref().is_none_or(|dx| dx.len() >= n * g.in_len())
            && w.len() >= g.weights()
            && dw.len() >= g.weights()
            && db.len() >= g.biases(),
        "conv2d: slices too short for {n} images"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise.
        Level::Avx512 => unsafe {
            backward_avx512(
                g,
                n,
                w.as_ptr(),
                x.as_ptr(),
                dy.as_ptr(),
                dx.map(|d| d.as_mut_ptr()),
                dw.as_mut_ptr(),
                db.as_mut_ptr(),
            )
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are
        // checked above and the geometry is the caller's promise.
        Level::Avx2 => unsafe {
            backward_avx2(
                g,
                n,
                w.as_ptr(),
                x.as_ptr(),
                dy.as_ptr(),
                dx.map(|d| d.as_mut_ptr()),
                dw.as_mut_ptr(),
                db.as_mut_ptr(),
            )
        },
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

/// # Safety
/// The CPU runs AVX-512F; `g` is valid; every pointer is valid for the
/// floats `n` images of `g` imply (the entry points check the lengths).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { forward_rows::<Avx512>(g, n, w, b, x, y) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; `g` is valid; every pointer is valid for the
/// floats `n` images of `g` imply (the entry points check the lengths).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { forward_rows::<Avx2>(g, n, w, b, x, y) }
}

/// # Safety
/// The CPU runs AVX-512F; `g` is valid; every pointer is valid for the
/// floats `n` images of `g` imply (the entry points check the lengths).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_avx512(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { backward_rows::<Avx512>(g, n, w, x, dy, dx, dw, db) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; `g` is valid; every pointer is valid for the
/// floats `n` images of `g` imply (the entry points check the lengths).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_avx2(
    g: &ConvGeometry,
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: *const f32,
    dx: Option<*mut f32>,
    dw: *mut f32,
    db: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { backward_rows::<Avx2>(g, n, w, x, dy, dx, dw, db) }
}

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
        let narrow = narrow_applies::<S>(g);
        for s in 0..n {
            let (xs, ys) = (x.add(s * inl), y.add(s * outl));
            if narrow {
                forward_narrow::<S>(g, w, b, xs, ys);
                continue;
            }
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

/// Floats of the zero-padded plane that [`forward_narrow`] keeps on the
/// stack (4 KiB).
#[cfg(target_arch = "x86_64")]
const NARROW_FLOATS: usize = 1024;

/// Whether [`forward_narrow`] takes `g`: one input channel per output
/// (depthwise), stride 1, output rows narrower than two vectors, and the
/// padded plane within [`NARROW_FLOATS`] and 64 columns.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn narrow_applies<S: Simd>(g: &ConvGeometry) -> bool {
    let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
    g.ci_per_group() == 1
        && g.sh == 1
        && g.sw == 1
        && g.wo < 2 * S::LANES
        && wp <= 64
        && hp * wp <= NARROW_FLOATS
}

/// Forward of one image for planes with narrow rows (DS-CNN's 25×5,
/// MobileNet's last 6×6 and 3×3): each input channel is copied once into a
/// zero-padded plane of width `WP = W + 2·PW`, where a stride-1 convolution
/// is a 1-D one over `q = r·WP + c` (tap `(kr, kc)` at `q + kr·DH·WP +
/// kc·DW`). Vectors of consecutive `q` span several rows, so every lane
/// works whatever `WO`; the lanes of the `(KW − 1)·DW` columns past `WO` in
/// each row are dropped by a compressing store, whose kept lanes land on
/// consecutive outputs.
///
/// # Safety
/// The CPU runs `S`'s instruction set; `g` is valid and
/// [`narrow_applies`]; `xs` and `ys` are valid for one image of `g`, `w`
/// and `b` for its weights and biases.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn forward_narrow<S: Simd>(
    g: &ConvGeometry,
    w: *const f32,
    b: *const f32,
    xs: *const f32,
    ys: *mut f32,
) {
    let wp = g.w + 2 * g.pw;
    // The last output is at q = (HO − 1)·WP + WO − 1; with stride 1 its last
    // tap is the plane's last float, HP·WP − 1 (`g` is valid).
    let q_end = (g.ho - 1) * wp + g.wo;
    // Which lanes of a vector starting at a q of each phase q % WP are
    // outputs (c < WO).
    let mut phase_bits = [0u32; 64];
    for (ph, bits) in phase_bits.iter_mut().enumerate().take(wp) {
        for l in 0..S::LANES {
            if (ph + l) % wp < g.wo {
                *bits |= 1 << l;
            }
        }
    }
    // Borders are never written: they stay zero for every channel.
    let mut pad = [0.0f32; NARROW_FLOATS];
    let cog = g.co_per_group();
    // SAFETY: the padded plane holds `HP·WP ≤ NARROW_FLOATS` floats and each
    // input row is copied inside it; the vectors read `q + kr·DH·WP + kc·DW
    // < HP·WP` (masked to `q < q_end`); each compressed store writes the
    // outputs of its kept lanes, consecutive and inside the output plane.
    unsafe {
        let pp = pad.as_mut_ptr();
        for i in 0..g.ci {
            for r in 0..g.h {
                core::ptr::copy_nonoverlapping(
                    xs.add((i * g.h + r) * g.w),
                    pp.add((r + g.ph) * wp + g.pw),
                    g.w,
                );
            }
            for m in 0..cog {
                let o = i * cog + m;
                let bias = S::splat(if g.bias { *b.add(o) } else { 0.0 });
                let wk = w.add(o * g.kh * g.kw);
                let yp = ys.add(o * g.ho * g.wo);
                let mut q0 = 0;
                while q0 < q_end {
                    let cnt = (q_end - q0).min(S::LANES);
                    let mask = S::first(cnt);
                    let mut acc = bias;
                    for kr in 0..g.kh {
                        let row = pp.add(q0 + kr * g.dh * wp);
                        for kc in 0..g.kw {
                            let v = S::load_masked(row.add(kc * g.dw), mask);
                            acc = S::fma(S::splat(*wk.add(kr * g.kw + kc)), v, acc);
                        }
                    }
                    let bits = phase_bits[q0 % wp] & (u32::MAX >> (32 - cnt));
                    if bits != 0 {
                        let q = q0 + bits.trailing_zeros() as usize;
                        S::store_compressed(yp.add((q / wp) * g.wo + q % wp), acc, bits);
                    }
                    q0 += S::LANES;
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
