//! Pooling. Windows that tile the input (`K == S`, LeNet-5's
//! `AvgPool2d(2, 2)`) are summed as whole rows: `K` input rows are added
//! into one row, whose `K`-wide groups give the outputs; backward writes each
//! window's share to its `K` rows. These loops are compiled once per
//! instruction set (`#[target_feature]`), so the compiler vectorises them
//! with that instruction set's registers. Overlapping windows and max pooling
//! use the specifications in [`crate::layers::avg_pool2d::scalar`] and
//! [`crate::layers::max_pool2d::scalar`].

use super::{runnable, Level};
use crate::layers::{avg_pool2d, max_pool2d};

/// Average pooling forward over `planes` planes of `H × W`.
///
/// # Panics
/// If a slice is shorter than the sizes require.
pub fn avg_forward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    level: Level,
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    assert!(x.len() >= planes * H * W && y.len() >= planes * HO * WO, "avg_pool2d: {planes} planes");
    if K != S {
        return avg_pool2d::scalar::forward::<K, S, H, W, HO, WO>(planes, x, y);
    }
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the code is safe Rust.
        Level::Avx512 => unsafe { avg_forward_avx512::<K, H, W, HO, WO>(planes, x, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the code is safe Rust.
        Level::Avx2 => unsafe { avg_forward_avx2::<K, H, W, HO, WO>(planes, x, y) },
        _ => avg_pool2d::scalar::forward::<K, S, H, W, HO, WO>(planes, x, y),
    }
}

/// Average pooling backward over `planes` planes.
///
/// # Panics
/// If a slice is shorter than the sizes require.
pub fn avg_backward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    level: Level,
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    assert!(dx.len() >= planes * H * W && dy.len() >= planes * HO * WO, "avg_pool2d: {planes} planes");
    if K != S {
        return avg_pool2d::scalar::backward::<K, S, H, W, HO, WO>(planes, dy, dx);
    }
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the code is safe Rust.
        Level::Avx512 => unsafe { avg_backward_avx512::<K, H, W, HO, WO>(planes, dy, dx) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); the code is safe Rust.
        Level::Avx2 => unsafe { avg_backward_avx2::<K, H, W, HO, WO>(planes, dy, dx) },
        _ => avg_pool2d::scalar::backward::<K, S, H, W, HO, WO>(planes, dy, dx),
    }
}

/// Max pooling forward over `planes` planes.
pub fn max_forward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    max_pool2d::scalar::forward::<K, S, H, W, HO, WO>(planes, x, y)
}

/// Max pooling backward over `planes` planes: each window's gradient to its
/// first maximum.
pub fn max_backward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    max_pool2d::scalar::backward::<K, S, H, W, HO, WO>(planes, x, dy, dx)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avg_forward_avx512<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    avg_tiled_forward::<K, H, W, HO, WO>(planes, x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avg_forward_avx2<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    avg_tiled_forward::<K, H, W, HO, WO>(planes, x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avg_backward_avx512<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    avg_tiled_backward::<K, H, W, HO, WO>(planes, dy, dx)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avg_backward_avx2<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    avg_tiled_backward::<K, H, W, HO, WO>(planes, dy, dx)
}

/// `K == S`: the `K` rows of each output row summed, then `K`-wide groups.
#[inline(always)]
fn avg_tiled_forward<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    let scale = 1.0 / (K * K) as f32;
    for (xp, yp) in x.chunks_exact(H * W).zip(y.chunks_exact_mut(HO * WO)).take(planes) {
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
fn avg_tiled_backward<const K: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    let scale = 1.0 / (K * K) as f32;
    for (dyp, dxp) in dy.chunks_exact(HO * WO).zip(dx.chunks_exact_mut(H * W)).take(planes) {
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
