//! Padded pooling, vectorised over the output columns of a row: for each
//! tap `(kr, kc)` of the window, the output columns whose tap falls inside
//! the image are one run `[lo, hi)` (as in the general convolution), and the
//! tap updates that run of the output row at once (a running maximum, or a
//! sum). The padding is never read. The loops index slices (no `unsafe`
//! inside); they are compiled once per instruction set
//! (`#[target_feature]`), where the compiler vectorises them with that
//! instruction set's registers. The portable level is the specification
//! ([`super::scalar`]).

use super::scalar::{self, takes_over};
use super::{columns, input_row};
use crate::simd::{runnable, Level};

/// Generates, for a kernel body `$rows`, the dispatching entry `$name` and
/// its instances per instruction set.
macro_rules! dispatch {
    ($name:ident, $rows:ident, $($spec:ident)::+, ($($arg:ident: $t:ty),*), $check:expr) => {
        /// The kernel at `level` over `planes` planes (see the module's
        /// documentation).
        ///
        /// # Panics
        /// If a slice is shorter than `planes` planes need.
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name<
            const KH: usize,
            const KW: usize,
            const SH: usize,
            const SW: usize,
            const PH: usize,
            const PW: usize,
            const H: usize,
            const W: usize,
            const HO: usize,
            const WO: usize,
        >(
            level: Level,
            planes: usize,
            $($arg: $t),*
        ) {
            assert!($check(planes), "pool2d: slices too short for {planes} planes");
            match runnable(level) {
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => {
                    /// # Safety
                    /// The CPU runs AVX-512F.
                    #[target_feature(enable = "avx512f")]
                    unsafe fn run<
                        const KH: usize,
                        const KW: usize,
                        const SH: usize,
                        const SW: usize,
                        const PH: usize,
                        const PW: usize,
                        const H: usize,
                        const W: usize,
                        const HO: usize,
                        const WO: usize,
                    >(planes: usize, $($arg: $t),*) {
                        $rows::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, $($arg),*)
                    }
                    // SAFETY: the CPU runs AVX-512F (`runnable`).
                    unsafe { run::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, $($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => {
                    /// # Safety
                    /// The CPU runs AVX2 and FMA.
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn run<
                        const KH: usize,
                        const KW: usize,
                        const SH: usize,
                        const SW: usize,
                        const PH: usize,
                        const PW: usize,
                        const H: usize,
                        const W: usize,
                        const HO: usize,
                        const WO: usize,
                    >(planes: usize, $($arg: $t),*) {
                        $rows::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, $($arg),*)
                    }
                    // SAFETY: the CPU runs AVX2 and FMA (`runnable`).
                    unsafe { run::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, $($arg),*) }
                }
                _ => $($spec)::+::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, $($arg),*),
            }
        }
    };
}

dispatch!(max_forward, max_forward_rows, scalar::max_forward, (x: &[f32], y: &mut [f32]),
    |planes: usize| x.len() >= planes * H * W && y.len() >= planes * HO * WO);
dispatch!(max_backward, max_backward_rows, scalar::max_backward, (x: &[f32], dy: &[f32], dx: &mut [f32]),
    |planes: usize| x.len() >= planes * H * W && dx.len() >= planes * H * W && dy.len() >= planes * HO * WO);
dispatch!(avg_forward, avg_forward_rows, scalar::avg_forward, (x: &[f32], y: &mut [f32]),
    |planes: usize| x.len() >= planes * H * W && y.len() >= planes * HO * WO);
dispatch!(avg_backward, avg_backward_rows, avg_backward_spec, (x: &[f32], dy: &[f32], dx: &mut [f32]),
    |planes: usize| dx.len() >= planes * H * W && dy.len() >= planes * HO * WO);

/// [`scalar::avg_backward`], which needs no `x`, in the kernels' signature.
#[allow(clippy::too_many_arguments)]
fn avg_backward_spec<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    _x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    scalar::avg_backward::<KH, KW, SH, SW, PH, PW, H, W, HO, WO>(planes, dy, dx)
}

/// Calls `f(lo, hi, start)` for every tap of window row `kr` that falls
/// inside the image for some output column: `[lo, hi)` the columns, `start`
/// the input column of the first.
#[inline(always)]
fn taps<const KW: usize, const SW: usize, const PW: usize, const W: usize, const WO: usize>(
    mut f: impl FnMut(usize, usize, usize),
) {
    for kc in 0..KW {
        let (lo, hi) = columns::<SW, PW, W, WO>(kc);
        if lo < hi {
            f(lo, hi, lo * SW + kc - PW);
        }
    }
}

#[inline(always)]
fn max_forward_rows<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    for p in 0..planes {
        let xp = &x[p * H * W..][..H * W];
        for r in 0..HO {
            let yr = &mut y[(p * HO + r) * WO..][..WO];
            yr.fill(f32::NEG_INFINITY);
            for kr in 0..KH {
                let Some(xr) = input_row::<SH, PH, H>(r, kr) else {
                    continue;
                };
                let row = &xp[xr * W..][..W];
                taps::<KW, SW, PW, W, WO>(|lo, hi, start| {
                    let src = row[start..].iter().step_by(SW);
                    for (m, &v) in yr[lo..hi].iter_mut().zip(src) {
                        *m = if takes_over(*m, v) { v } else { *m };
                    }
                });
            }
        }
    }
}

#[inline(always)]
fn max_backward_rows<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    dx[..planes * H * W].fill(0.0);
    for p in 0..planes {
        let xp = &x[p * H * W..][..H * W];
        let dxp = &mut dx[p * H * W..][..H * W];
        for r in 0..HO {
            // The running maximum of each window of the row and where it is
            // (`usize::MAX` before the first in-image tap).
            let mut best = [f32::NEG_INFINITY; WO];
            let mut at = [usize::MAX; WO];
            for kr in 0..KH {
                let Some(xr) = input_row::<SH, PH, H>(r, kr) else {
                    continue;
                };
                let row = &xp[xr * W..][..W];
                taps::<KW, SW, PW, W, WO>(|lo, hi, start| {
                    for (j, c) in (lo..hi).enumerate() {
                        let i = start + j * SW;
                        let v = row[i];
                        if at[c] == usize::MAX || takes_over(best[c], v) {
                            best[c] = v;
                            at[c] = xr * W + i;
                        }
                    }
                });
            }
            for (&at, &g) in at.iter().zip(&dy[(p * HO + r) * WO..][..WO]) {
                dxp[at] += g;
            }
        }
    }
}

#[inline(always)]
fn avg_forward_rows<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    let scale = 1.0 / (KH * KW) as f32;
    for p in 0..planes {
        let xp = &x[p * H * W..][..H * W];
        for r in 0..HO {
            let yr = &mut y[(p * HO + r) * WO..][..WO];
            yr.fill(0.0);
            for kr in 0..KH {
                let Some(xr) = input_row::<SH, PH, H>(r, kr) else {
                    continue;
                };
                let row = &xp[xr * W..][..W];
                taps::<KW, SW, PW, W, WO>(|lo, hi, start| {
                    let src = row[start..].iter().step_by(SW);
                    for (s, &v) in yr[lo..hi].iter_mut().zip(src) {
                        *s += v;
                    }
                });
            }
            for s in yr.iter_mut() {
                *s *= scale;
            }
        }
    }
}

#[inline(always)]
fn avg_backward_rows<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    planes: usize,
    _x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    let scale = 1.0 / (KH * KW) as f32;
    dx[..planes * H * W].fill(0.0);
    for p in 0..planes {
        let dxp = &mut dx[p * H * W..][..H * W];
        for r in 0..HO {
            let mut g = [0.0f32; WO];
            for (g, &d) in g.iter_mut().zip(&dy[(p * HO + r) * WO..][..WO]) {
                *g = d * scale;
            }
            for kr in 0..KH {
                let Some(xr) = input_row::<SH, PH, H>(r, kr) else {
                    continue;
                };
                let row = &mut dxp[xr * W..][..W];
                taps::<KW, SW, PW, W, WO>(|lo, hi, start| {
                    let dst = row[start..].iter_mut().step_by(SW);
                    for (d, &g) in dst.zip(&g[lo..hi]) {
                        *d += g;
                    }
                });
            }
        }
    }
}
