//! Average pooling. Windows that tile the input (`K == S`, LeNet-5's
//! `AvgPool2d(2, 2)`) are summed as whole rows: `K` input rows are added
//! into one row, whose `K`-wide groups give the outputs; backward writes each
//! window's share to its `K` rows. These loops are compiled once per
//! instruction set (`#[target_feature]`), so the compiler vectorises them
//! with that instruction set's registers. Overlapping windows, and the
//! portable level, use the specification ([`super::scalar`]).

use super::scalar;
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};

/// Average pooling forward over `planes` planes of `H × W`.
///
/// # Safety
/// The geometry holds: `0 < K ≤ H`, `K ≤ W`, `S > 0`,
/// `HO = (H − K) / S + 1` and `WO = (W − K) / S + 1` (the vectorised
/// windows read at these strides and trust it; `AvgPool2dLayer::GEOMETRY`
/// proves it at compile time).
///
/// # Panics
/// If a slice is shorter than the sizes require.
pub(super) unsafe fn avg_forward<
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    level: Level,
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    assert!(
        x.len() >= planes * H * W && y.len() >= planes * HO * WO,
        "avg_pool2d: {planes} planes"
    );
    if K != S {
        return scalar::forward::<K, S, H, W, HO, WO>(planes, x, y);
    }
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise.
        Level::Avx512 => unsafe { avg_forward_avx512::<K, H, W, HO, WO>(planes, x, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are
        // checked above and the geometry is the caller's promise.
        Level::Avx2 => unsafe { avg_forward_avx2::<K, H, W, HO, WO>(planes, x, y) },
        _ => scalar::forward::<K, S, H, W, HO, WO>(planes, x, y),
    }
}

/// Average pooling backward over `planes` planes.
///
/// # Safety
/// The geometry holds, as for [`avg_forward`].
///
/// # Panics
/// If a slice is shorter than the sizes require.
pub(super) unsafe fn avg_backward<
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    level: Level,
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    assert!(
        dx.len() >= planes * H * W && dy.len() >= planes * HO * WO,
        "avg_pool2d: {planes} planes"
    );
    if K != S {
        return scalar::backward::<K, S, H, W, HO, WO>(planes, dy, dx);
    }
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the lengths are checked
        // above and the geometry is the caller's promise.
        Level::Avx512 => unsafe { avg_backward_avx512::<K, H, W, HO, WO>(planes, dy, dx) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the lengths are
        // checked above and the geometry is the caller's promise.
        Level::Avx2 => unsafe { avg_backward_avx2::<K, H, W, HO, WO>(planes, dy, dx) },
        _ => scalar::backward::<K, S, H, W, HO, WO>(planes, dy, dx),
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avg_forward_avx512<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K == 2 {
            avg2_forward::<Avx512, H, W, HO, WO>(planes, x.as_ptr(), y.as_mut_ptr())
        } else {
            avg_tiled_forward::<K, H, W, HO, WO>(planes, x, y)
        }
    }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avg_forward_avx2<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K == 2 {
            avg2_forward::<Avx2, H, W, HO, WO>(planes, x.as_ptr(), y.as_mut_ptr())
        } else {
            avg_tiled_forward::<K, H, W, HO, WO>(planes, x, y)
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avg_backward_avx512<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K == 2 {
            avg2_backward::<Avx512, H, W, HO, WO>(planes, dy, dx)
        } else {
            avg_tiled_backward::<K, H, W, HO, WO>(planes, dy, dx)
        }
    }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avg_backward_avx2<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K == 2 {
            avg2_backward::<Avx2, H, W, HO, WO>(planes, dy, dx)
        } else {
            avg_tiled_backward::<K, H, W, HO, WO>(planes, dy, dx)
        }
    }
}

/// `K == S`: the `K` rows of each output row summed, then `K`-wide groups.
#[inline(always)]
fn avg_tiled_forward<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    let scale = 1.0 / (K * K) as f32;
    for (xp, yp) in x
        .chunks_exact(H * W)
        .zip(y.chunks_exact_mut(HO * WO))
        .take(planes)
    {
        for (r, yr) in yp.chunks_exact_mut(WO).enumerate() {
            let mut rows = [0.0f32; W];
            for kr in 0..K {
                let xr = &xp[(r * K + kr) * W..][..W];
                for (s, &v) in rows.iter_mut().zip(xr) {
                    *s += v;
                }
            }
            for (c, y) in yr.iter_mut().enumerate() {
                let mut s = 0.0;
                for kc in 0..K {
                    s += rows[c * K + kc];
                }
                *y = s * scale;
            }
        }
    }
}

/// `K == S`: each output's share written to its window; the rows and
/// columns no window covers are zero.
#[inline(always)]
fn avg_tiled_backward<
    const K: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    let scale = 1.0 / (K * K) as f32;
    for (dyp, dxp) in dy
        .chunks_exact(HO * WO)
        .zip(dx.chunks_exact_mut(H * W))
        .take(planes)
    {
        if HO * K < H || WO * K < W {
            dxp.fill(0.0);
        }
        for (r, dyr) in dyp.chunks_exact(WO).enumerate() {
            let mut row = [0.0f32; W];
            for (c, &g) in dyr.iter().enumerate() {
                for kc in 0..K {
                    row[c * K + kc] = g * scale;
                }
            }
            for kr in 0..K {
                dxp[(r * K + kr) * W..][..WO * K].copy_from_slice(&row[..WO * K]);
            }
        }
    }
}

/// 2×2 windows, stride 2: the two rows added, then adjacent pairs, `LANES`
/// outputs per step.
///
/// # Safety
/// The CPU runs `S`; `x` holds `planes` planes of `H × W`, `y` of `HO × WO`,
/// with `HO = H / 2`, `WO = W / 2`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn avg2_forward<
    S: Simd,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let quarter = S::splat(0.25);
        for p in 0..planes {
            for r in 0..HO {
                let r0 = x.add((p * H + 2 * r) * W);
                let r1 = r0.add(W);
                let out = y.add((p * HO + r) * WO);
                let mut c = 0;
                while c < WO {
                    let at = 2 * c;
                    let (a, b) = if at + 2 * S::LANES <= 2 * WO {
                        (
                            S::add(S::load(r0.add(at)), S::load(r1.add(at))),
                            S::add(
                                S::load(r0.add(at + S::LANES)),
                                S::load(r1.add(at + S::LANES)),
                            ),
                        )
                    } else {
                        let (ma, mb) = (
                            S::first(2 * WO - at),
                            S::first((2 * WO - at).saturating_sub(S::LANES)),
                        );
                        (
                            S::add(
                                S::load_masked(r0.add(at), ma),
                                S::load_masked(r1.add(at), ma),
                            ),
                            S::add(
                                S::load_masked(r0.add(at + S::LANES), mb),
                                S::load_masked(r1.add(at + S::LANES), mb),
                            ),
                        )
                    };
                    let v = S::mul(S::pair_sums(a, b), quarter);
                    if c + S::LANES <= WO {
                        S::store(out.add(c), v);
                    } else {
                        S::store_masked(out.add(c), v, S::first(WO - c));
                    }
                    c += S::LANES;
                }
            }
        }
    }
}

/// 2×2 windows, stride 2, backward: each `dy / 4` written twice along the
/// row, to both rows of its window; what no window covers is zero.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn avg2_backward<
    S: Simd,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let quarter = S::splat(0.25);
        for (dyp, dxp) in dy
            .chunks_exact(HO * WO)
            .zip(dx.chunks_exact_mut(H * W))
            .take(planes)
        {
            if 2 * HO < H || 2 * WO < W {
                dxp.fill(0.0);
            }
            let (g, d) = (dyp.as_ptr(), dxp.as_mut_ptr());
            for r in 0..HO {
                let (src, d0) = (g.add(r * WO), d.add(2 * r * W));
                let d1 = d0.add(W);
                let mut c = 0;
                while c < WO {
                    let full = c + S::LANES <= WO;
                    let v = if full {
                        S::load(src.add(c))
                    } else {
                        S::load_masked(src.add(c), S::first(WO - c))
                    };
                    let (lo, hi) = S::twice(S::mul(v, quarter));
                    let at = 2 * c;
                    if full {
                        S::store(d0.add(at), lo);
                        S::store(d0.add(at + S::LANES), hi);
                        S::store(d1.add(at), lo);
                        S::store(d1.add(at + S::LANES), hi);
                    } else {
                        let (ma, mb) = (
                            S::first(2 * WO - at),
                            S::first((2 * WO - at).saturating_sub(S::LANES)),
                        );
                        S::store_masked(d0.add(at), lo, ma);
                        S::store_masked(d0.add(at + S::LANES), hi, mb);
                        S::store_masked(d1.add(at), lo, ma);
                        S::store_masked(d1.add(at + S::LANES), hi, mb);
                    }
                    c += S::LANES;
                }
            }
        }
    }
}
