//! Max pooling. Windows that tile the input (`K == S`) are safe code
//! written so that the compiler vectorises it (running maxima over whole
//! output rows); overlapping windows, and the portable level, use the
//! specification ([`super::scalar`]).

use super::scalar::{self, takes_over};
use crate::simd::{runnable, Level};

/// Max pooling forward over `planes` planes. Tiling windows (`K == S`) take
/// [`max_forward_tiled`]; overlapping ones, and the portable level, the
/// specification.
pub(super) fn max_forward<
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
    if K == S && runnable(level) != Level::Portable {
        max_forward_tiled::<K, H, W, HO, WO>(planes, x, y)
    } else {
        scalar::forward::<K, S, H, W, HO, WO>(planes, x, y)
    }
}

/// Max pooling backward over `planes` planes: each window's gradient to its
/// first maximum. Tiling windows take [`max_backward_tiled`].
pub(super) fn max_backward<
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
    dy: &[f32],
    dx: &mut [f32],
) {
    if K == S && runnable(level) != Level::Portable {
        max_backward_tiled::<K, H, W, HO, WO>(planes, x, dy, dx)
    } else {
        scalar::backward::<K, S, H, W, HO, WO>(planes, x, dy, dx)
    }
}

/// Max pooling whose `K × K` windows tile the input (stride `K`): for each
/// output row, the window's `K · K` taps are visited as whole rows of
/// outputs, so the inner loop runs over `WO` independent maxima with
/// constant strides, which the compiler vectorises.
fn max_forward_tiled<
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
    for (x, y) in x
        .chunks_exact(H * W)
        .zip(y.chunks_exact_mut(HO * WO))
        .take(planes)
    {
        for (r, out) in y.chunks_exact_mut(WO).enumerate() {
            let rows = &x[r * K * W..(r * K + K) * W];
            for (c, o) in out.iter_mut().enumerate() {
                *o = rows[c * K];
            }
            for kr in 0..K {
                for kc in 0..K {
                    if kr == 0 && kc == 0 {
                        continue;
                    }
                    let row = &rows[kr * W + kc..];
                    for (c, o) in out.iter_mut().enumerate() {
                        let v = row[c * K];
                        *o = if takes_over(*o, v) { v } else { *o };
                    }
                }
            }
        }
    }
}

/// Backward of [`max_forward_tiled`]: windows do not overlap, so every input
/// is written once — `dy` at its window's first maximum, 0 elsewhere — with
/// no clearing pass and no accumulation.
fn max_backward_tiled<
    const K: usize,
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
    for ((x, dy), dx) in x
        .chunks_exact(H * W)
        .zip(dy.chunks_exact(HO * WO))
        .zip(dx.chunks_exact_mut(H * W))
        .take(planes)
    {
        if HO * K != H || WO * K != W {
            // Rows and columns past the last window get no gradient.
            dx.fill(0.0);
        }
        for r in 0..HO {
            let rows = &x[r * K * W..(r * K + K) * W];
            let g = &dy[r * WO..(r + 1) * WO];
            // Running maximum and the row-major tap (`kr · K + kc`) it came
            // from, for every window of this output row at once.
            let mut m = [0.0f32; WO];
            let mut tap = [0u32; WO];
            for (c, m) in m.iter_mut().enumerate() {
                *m = rows[c * K];
            }
            for kr in 0..K {
                for kc in 0..K {
                    let row = &rows[kr * W + kc..];
                    for c in 0..WO {
                        let v = row[c * K];
                        let take = takes_over(m[c], v);
                        m[c] = if take { v } else { m[c] };
                        tap[c] = if take { (kr * K + kc) as u32 } else { tap[c] };
                    }
                }
            }
            for kr in 0..K {
                let out = &mut dx[(r * K + kr) * W..][..WO * K];
                for ((window, &t), &g) in out.chunks_exact_mut(K).zip(&tap).zip(g) {
                    for (kc, v) in window.iter_mut().enumerate() {
                        // All ones where this is the window's tap, else 0:
                        // `g` or +0.0 by a mask, without a branch.
                        let mask = u32::from(t == (kr * K + kc) as u32).wrapping_neg();
                        *v = f32::from_bits(g.to_bits() & mask);
                    }
                }
            }
        }
    }
}
