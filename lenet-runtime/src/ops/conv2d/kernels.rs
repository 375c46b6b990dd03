//! 2-D convolution (stride 1) as an implicit matrix product over the "wide"
//! output.
//!
//! With stride 1, output `(r, c)` reads input `(r + kr, c + kc)`. Number the
//! outputs by their position in the *input's* row pitch, `p = r·pitch + c`:
//! then for every tap `(i, kr, kc)` the inputs of consecutive `p` are
//! consecutive floats, `x[i·plane + kr·pitch + kc + p]`. One unaligned load
//! gives a vector of inputs for 16 outputs, with no copy (no im2col); the
//! kernel keeps `MR` output channels × `NV` vectors of `p` in registers and
//! runs over the `CI·K·K` taps, `K` a compile-time constant so the window
//! unrolls. The `p` whose column `c ≥ WO` are computed and dropped: the
//! valid lanes are compressed into the compact output, whose rows are
//! contiguous across row ends.
//!
//! - Forward: the kernel on `x` (on a zero-padded copy when `P > 0`); with
//!   AVX-512 and 16·k output channels, vectors of 16 output channels × a row
//!   of positions instead.
//! - `∂L/∂w[o, i, kr, kc] = Σ_p dy[o, p] · x[i, p + kr·pitch + kc]`: `dy` is
//!   laid out wide (zeros in the dropped columns), and `MR × K` vectors of
//!   partial sums run over a group of images before they are added to one
//!   accumulator vector per weight, whose lanes are summed at the end.
//! - `∂L/∂x`: per input channel, `cols = wᵀ · dy` over the wide positions
//!   (the register-blocked product of [`crate::ops::linear`]), then each vector
//!   of `dx` sums its taps' shifted rows of `cols` in registers.
//!
//! Strides other than 1 take the portable path: tiles of 4 output channels ×
//! 4 (or 5) outputs of a row in registers ([`portable`]; padded inputs run the
//! specification). The backward pass and padded inputs need scratch memory,
//! so they are vectorised with `std` only. The specification is
//! [`super::scalar`].

use super::scalar::{self, Pool2};
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::_CMP_NLT_UQ;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
use core::arch::x86_64::*;

/// Geometry of one wide convolution: `ci` planes of `plane` floats with rows
/// of `pitch`, giving `co` planes of `ho × wo` (compact).
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Wide {
    ci: usize,
    co: usize,
    plane: usize,
    pitch: usize,
    ho: usize,
    wo: usize,
    /// Whether `relu` is applied to every output as it is stored.
    relu: bool,
}

impl Wide {
    /// Number of wide positions `p` that hold an output.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn span(&self) -> usize {
        (self.ho - 1) * self.pitch + self.wo
    }
}

/// `y = conv(x) + b` for `n` images (`CI×H×W` in, `CO×HO×WO` out), with
/// `relu` applied to every output as it is stored when `relu` is set.
///
/// # Safety
/// The geometry holds: `K > 0`, `S > 0`, `H + 2·P ≥ K`, `W + 2·P ≥ K`,
/// `HO = (H + 2·P − K) / S + 1` and `WO = (W + 2·P − K) / S + 1` (the
/// kernels read the inputs of `HO × WO` outputs at these strides and
/// trust it; `Conv2dLayer::GEOMETRY` proves it at compile time).
///
/// # Panics
/// If a slice is shorter than the sizes require.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn forward<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    level: Level,
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    relu: bool,
) {
    let (inp, out) = (CI * H * W, CO * HO * WO);
    assert!(
        w.len() >= CO * CI * K * K && b.len() >= CO,
        "conv2d: {CO}×{CI}×{K}×{K} weights"
    );
    assert!(
        x.len() >= n * inp && y.len() >= n * out,
        "conv2d: {n} images of {CI}×{H}×{W}"
    );
    let level = runnable(level);
    let vectorised = level != Level::Portable && S == 1 && (P == 0 || cfg!(feature = "std"));
    if !vectorised {
        for s in 0..n {
            let (x, y) = (&x[s * inp..(s + 1) * inp], &mut y[s * out..(s + 1) * out]);
            if P == 0 {
                portable::<CI, CO, K, S, H, W, HO, WO>(w, b, x, y, relu);
            } else {
                scalar::forward::<CI, CO, K, S, P, H, W, HO, WO>(w, b, x, y);
                if relu {
                    scalar::relu_in_place(&mut y[..out]);
                }
            }
        }
        return;
    }
    let (hp, wp) = (H + 2 * P, W + 2 * P);
    let geo = Wide {
        ci: CI,
        co: CO,
        plane: hp * wp,
        pitch: wp,
        ho: HO,
        wo: WO,
        relu,
    };
    // With 16 lanes and a multiple of 16 output channels, vectors of output
    // channels waste no lanes (a row of 10 outputs fills 10 of 16 lanes of a
    // wide vector).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if level == Level::Avx512 && CO.is_multiple_of(16) && K <= 7 {
        by_channels::<K>(geo, n, (CI, H, W, P), w, b, x, y, None);
        return;
    }
    if P == 0 {
        for s in 0..n {
            // SAFETY: the slices hold image `s` (checked above), and with
            // stride 1 and no padding the kernel reads inside it.
            unsafe {
                wide::<K>(
                    level,
                    geo,
                    w.as_ptr(),
                    b.as_ptr(),
                    x[s * inp..].as_ptr(),
                    y[s * out..].as_mut_ptr(),
                )
            }
        }
    } else {
        #[cfg(feature = "std")]
        wide_images::<K>(level, geo, n, (CI, H, W, P), w, b, x, y, None);
    }
}

/// `y = pool(relu(conv(x) + b))` for `n` images (`CI×H×W` in, `CO×PH×PW`
/// out), the pooling 2×2 at stride 2 (`PH = HO / 2`, `PW = WO / 2`): only
/// the pooled map is written. The vectorised levels run the convolution
/// and `relu` of one image into a map in scratch (it stays in L1) and pool
/// it from there with the pooling layer's kernel; the portable level pools
/// tiles of two output rows in registers.
///
/// # Safety
/// The geometry holds, as for [`forward`], and `PH = HO / 2 > 0`,
/// `PW = WO / 2 > 0`.
///
/// # Panics
/// If a slice is shorter than the sizes require.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn forward_pooled<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const PH: usize,
    const PW: usize,
>(
    level: Level,
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    pool: Pool2,
) {
    let (inp, out) = (CI * H * W, CO * PH * PW);
    assert!(
        w.len() >= CO * CI * K * K && b.len() >= CO,
        "conv2d: {CO}×{CI}×{K}×{K} weights"
    );
    assert!(
        x.len() >= n * inp && y.len() >= n * out,
        "conv2d: {n} images of {CI}×{H}×{W}"
    );
    #[cfg_attr(not(feature = "std"), allow(unused_variables))]
    let level = runnable(level);
    #[cfg(feature = "std")]
    if level != Level::Portable && S == 1 {
        use crate::ops::{AvgPool2dLayer, Layer, MaxPool2dLayer};
        let geo = Wide {
            ci: CI,
            co: CO,
            plane: (H + 2 * P) * (W + 2 * P),
            pitch: W + 2 * P,
            ho: HO,
            wo: WO,
            relu: true,
        };
        let reduce = |map: &[f32], y: &mut [f32]| match pool {
            Pool2::Avg => {
                AvgPool2dLayer::<CO, 2, 2, HO, WO, PH, PW>::forward_at(level, &[], &[], map, y)
            }
            Pool2::Max => {
                MaxPool2dLayer::<CO, 2, 2, HO, WO, PH, PW>::forward_at(level, &[], &[], map, y)
            }
        };
        let pooled = Pooled {
            map: CO * HO * WO,
            out,
            reduce: &reduce,
        };
        #[cfg(target_arch = "x86_64")]
        if level == Level::Avx512 && CO.is_multiple_of(16) && K <= 7 {
            by_channels::<K>(geo, n, (CI, H, W, P), w, b, x, y, Some(pooled));
            return;
        }
        wide_images::<K>(level, geo, n, (CI, H, W, P), w, b, x, y, Some(pooled));
        return;
    }
    for s in 0..n {
        let (x, y) = (&x[s * inp..(s + 1) * inp], &mut y[s * out..(s + 1) * out]);
        if P == 0 {
            portable_pooled::<CI, CO, K, S, H, W, PH, PW>(w, b, x, y, pool);
        } else {
            scalar::forward_relu_pool::<CI, CO, K, S, P, H, W, PH, PW>(w, b, x, y, pool);
        }
    }
}

/// Where fused pooling sends each image: its activated map (`map` floats,
/// in scratch) reduced by `reduce` into the image's `out` pooled floats.
#[cfg(feature = "std")]
#[derive(Clone, Copy)]
struct Pooled<'a> {
    map: usize,
    out: usize,
    reduce: &'a dyn Fn(&[f32], &mut [f32]),
}

/// The portable forward pass of one unpadded image, any stride: tiles of
/// `MR` output channels × `NR` consecutive outputs of a row (4 × 4, or
/// 4 × 5 when rows are 5·k long but not 4·k; then 2 and 1 for the channels
/// and columns left over, all chosen at compile time) in registers, so that each weight loaded serves `NR` outputs and each
/// input `MR` output channels. Each output sums its taps in the
/// specification's order (bias, then input channel, kernel row, kernel
/// column), as `acc + w·x`: the specification's arithmetic, which LLVM fuses
/// into multiply-adds where the build allows it (see [`crate::ops::linear`]'s
/// portable path).
fn portable<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    relu: bool,
) {
    let mut o = 0;
    for _ in 0..CO / 4 {
        channel_block::<CI, K, S, H, W, HO, WO, 4>(w, b, x, y, o, relu);
        o += 4;
    }
    if CO % 4 >= 2 {
        channel_block::<CI, K, S, H, W, HO, WO, 2>(w, b, x, y, o, relu);
        o += 2;
    }
    if CO % 2 == 1 {
        channel_block::<CI, K, S, H, W, HO, WO, 1>(w, b, x, y, o, relu);
    }
}

/// Output channels `o..o + MR`, every row by tiles of 4 columns, then 2 and
/// 1 for the columns left over (by tiles of 5 when that leaves none and 4
/// would not).
#[inline(always)]
fn channel_block<
    const CI: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const MR: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    o: usize,
    relu: bool,
) {
    for r in 0..HO {
        if !WO.is_multiple_of(4) && WO.is_multiple_of(5) {
            // Rows of 5·k outputs (LeNet-5's 10 after its first pooling) by
            // tiles of 5: no tile of 2 left over.
            for c in (0..WO).step_by(5) {
                tile::<CI, K, S, H, W, HO, WO, MR, 5>(w, b, x, y, At { o, r, c }, relu);
            }
            continue;
        }
        let mut c = 0;
        for _ in 0..WO / 4 {
            tile::<CI, K, S, H, W, HO, WO, MR, 4>(w, b, x, y, At { o, r, c }, relu);
            c += 4;
        }
        if WO % 4 >= 2 {
            tile::<CI, K, S, H, W, HO, WO, MR, 2>(w, b, x, y, At { o, r, c }, relu);
            c += 2;
        }
        if WO % 2 == 1 {
            tile::<CI, K, S, H, W, HO, WO, MR, 1>(w, b, x, y, At { o, r, c }, relu);
        }
    }
}

/// The first output channel, row and column of a tile.
#[derive(Clone, Copy)]
struct At {
    o: usize,
    r: usize,
    c: usize,
}

/// Output channels `o..o + MR` × columns `c..c + NR` of row `r`, over all
/// `CI·K·K` taps: per tap, `MR` weights and `NR` inputs loaded, `MR·NR`
/// multiply-adds.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<
    const CI: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const MR: usize,
    const NR: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    at: At,
    relu: bool,
) {
    let At { o, r, c } = at;
    let mut acc = tile_acc::<CI, K, S, H, W, MR, NR>(w, b, x, at);
    for (m, acc) in acc.iter_mut().enumerate() {
        if relu {
            scalar::relu_in_place(acc);
        }
        y[((o + m) * HO + r) * WO + c..][..NR].copy_from_slice(acc);
    }
}

/// The sums of a tile (see [`tile`]), in registers.
#[inline(always)]
fn tile_acc<
    const CI: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const MR: usize,
    const NR: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    At { o, r, c }: At,
) -> [[f32; NR]; MR] {
    let mut acc: [[f32; NR]; MR] = core::array::from_fn(|m| [b[o + m]; NR]);
    for i in 0..CI {
        // The `K × K` weights of input channel `i` for each output channel.
        let wi: [&[f32]; MR] = core::array::from_fn(|m| &w[((o + m) * CI + i) * K * K..][..K * K]);
        for kr in 0..K {
            // The inputs of kernel row `kr` under the tile's `NR` outputs.
            let xr = &x[(i * H + r * S + kr) * W + c * S..][..(NR - 1) * S + K];
            for kc in 0..K {
                let wv: [f32; MR] = core::array::from_fn(|m| wi[m][kr * K + kc]);
                for j in 0..NR {
                    let xv = xr[j * S + kc];
                    for (acc, &wv) in acc.iter_mut().zip(&wv) {
                        acc[j] += wv * xv;
                    }
                }
            }
        }
    }
    acc
}

/// The portable forward pass of one unpadded image fused with `relu` and a
/// 2×2, stride-2 `pool` into `PH × PW`: per pair of output rows, tiles of
/// `MR` channels × `NR` columns of both rows in registers, reduced to the
/// `NR / 2` pooled outputs they cover. The full-size map is never written.
fn portable_pooled<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    pool: Pool2,
) {
    let mut o = 0;
    for _ in 0..CO / 4 {
        pooled_block::<CI, K, S, H, W, PH, PW, 4>(w, b, x, y, o, pool);
        o += 4;
    }
    if CO % 4 >= 2 {
        pooled_block::<CI, K, S, H, W, PH, PW, 2>(w, b, x, y, o, pool);
        o += 2;
    }
    if CO % 2 == 1 {
        pooled_block::<CI, K, S, H, W, PH, PW, 1>(w, b, x, y, o, pool);
    }
}

/// Output channels `o..o + MR` of [`portable_pooled`]: pooled rows, each by
/// tiles of 4 columns (2 pooled outputs), then 2 for the columns left over.
#[inline(always)]
fn pooled_block<
    const CI: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
    const MR: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    o: usize,
    pool: Pool2,
) {
    for pr in 0..PH {
        let mut c = 0;
        while c + 4 <= 2 * PW {
            pooled_tile::<CI, K, S, H, W, PH, PW, MR, 4>(w, b, x, y, At { o, r: pr, c }, pool);
            c += 4;
        }
        if c < 2 * PW {
            pooled_tile::<CI, K, S, H, W, PH, PW, MR, 2>(w, b, x, y, At { o, r: pr, c }, pool);
        }
    }
}

/// Rows `2·r` and `2·r + 1`, columns `c..c + NR` of output channels
/// `o..o + MR`, activated and pooled into pooled row `r`.
#[inline(always)]
fn pooled_tile<
    const CI: usize,
    const K: usize,
    const S: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
    const MR: usize,
    const NR: usize,
>(
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    At { o, r, c }: At,
    pool: Pool2,
) {
    let top = tile_acc::<CI, K, S, H, W, MR, NR>(w, b, x, At { o, r: 2 * r, c });
    let bottom = tile_acc::<CI, K, S, H, W, MR, NR>(w, b, x, At { o, r: 2 * r + 1, c });
    for m in 0..MR {
        let row = &mut y[((o + m) * PH + r) * PW + c / 2..][..NR / 2];
        for (j, y) in row.iter_mut().enumerate() {
            *y = pool.reduce(
                [
                    top[m][2 * j],
                    top[m][2 * j + 1],
                    bottom[m][2 * j],
                    bottom[m][2 * j + 1],
                ]
                .map(scalar::relu),
            );
        }
    }
}

/// The wide forward pass of images in scratch: each padded into it first
/// when `p > 0`, and with `pooled`, each map written there and pooled into
/// `y`.
#[cfg(feature = "std")]
#[allow(clippy::too_many_arguments)]
fn wide_images<const K: usize>(
    level: Level,
    geo: Wide,
    n: usize,
    (ci, h, w_, p): (usize, usize, usize, usize),
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    pooled: Option<Pooled<'_>>,
) {
    let inp = ci * h * w_;
    let out = pooled.map_or(geo.co * geo.ho * geo.wo, |q| q.out);
    let padded = if p > 0 { ci * geo.plane } else { 0 };
    let map = pooled.map_or(0, |q| q.map);
    let body = |buf: &mut [f32]| {
        let (xp, m) = buf.split_at_mut(padded);
        for s in 0..n {
            let xs = &x[s * inp..(s + 1) * inp];
            let xs = if p > 0 {
                pad(xs, xp, ci, h, w_, p);
                &xp[..]
            } else {
                xs
            };
            let ys = &mut y[s * out..(s + 1) * out];
            let dst = if pooled.is_some() {
                m.as_mut_ptr()
            } else {
                ys.as_mut_ptr()
            };
            // SAFETY: `xs` is the (padded) image, `ci` planes of `hp × wp`;
            // `dst` holds `co · ho · wo` floats (the map, or image `s` of `y`,
            // checked by the caller).
            unsafe { wide::<K>(level, geo, w.as_ptr(), b.as_ptr(), xs.as_ptr(), dst) }
            if let Some(q) = pooled {
                (q.reduce)(m, ys);
            }
        }
    };
    // Only the border of a padded image must be zero; the map is
    // overwritten entirely.
    if p > 0 {
        crate::simd::scratch::with_zeroed(padded + map, body)
    } else {
        crate::simd::scratch::with_reused(map, body)
    }
}

/// The forward pass by vectors of 16 output channels (AVX-512, a multiple
/// of 16 channels): the weights transposed to `[tap][o]`, then
/// for every image (padded into scratch first when `P > 0`)
/// [`channels_avx512`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
fn by_channels<const K: usize>(
    geo: Wide,
    n: usize,
    (ci, h, w_, p): (usize, usize, usize, usize),
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    pooled: Option<Pooled<'_>>,
) {
    let taps = ci * K * K;
    let (inp, hw) = (ci * h * w_, geo.ho * geo.wo);
    let out = pooled.map_or(geo.co * hw, |q| q.out);
    let padded = if p > 0 { ci * geo.plane } else { 0 };
    let map = pooled.map_or(0, |q| q.map);
    // The transposed weights, the tile results and the map are overwritten
    // entirely; only the border of a padded image must be zero.
    let len = geo.co * taps + hw * 16 + map + padded;
    let body = |buf: &mut [f32]| {
        let (wt, rest) = buf.split_at_mut(geo.co * taps);
        let (tmp, rest) = rest.split_at_mut(hw * 16);
        let (m, xp) = rest.split_at_mut(map);
        // SAFETY: `w` holds `co` rows of `taps` weights (checked by the
        // caller), `wt` as many floats; `co` is a multiple of 16 and the CPU
        // runs AVX-512F (checked by the caller).
        unsafe { position_major(geo.co, taps, w.as_ptr(), core::ptr::null(), wt.as_mut_ptr()) };
        for s in 0..n {
            let xs = &x[s * inp..(s + 1) * inp];
            let xs = if p > 0 {
                pad(xs, xp, ci, h, w_, p);
                &xp[..]
            } else {
                xs
            };
            let ys = &mut y[s * out..(s + 1) * out];
            let dst = if pooled.is_some() {
                m.as_mut_ptr()
            } else {
                ys.as_mut_ptr()
            };
            // SAFETY: the level is AVX-512F (checked by the caller); `wt`
            // holds `co · ci · K · K` floats, `b` `co`, `xs` `ci` planes of
            // `plane` (padded), `tmp` `ho · wo · 16`, and `dst` `co · ho ·
            // wo` (the map, or image `s` of `y`).
            unsafe {
                channels_avx512::<K>(
                    geo,
                    wt.as_ptr(),
                    b.as_ptr(),
                    xs.as_ptr(),
                    tmp.as_mut_ptr(),
                    dst,
                )
            }
            if let Some(q) = pooled {
                (q.reduce)(m, ys);
            }
        }
    };
    if p > 0 {
        crate::simd::scratch::with_zeroed(len, body)
    } else {
        crate::simd::scratch::with_reused(len, body)
    }
}

/// Picks the number of output positions a tile keeps in registers: up to
/// 12, of one output row (the last tile of a row overlaps the one before).
///
/// # Safety
/// The CPU runs AVX-512F; `geo.co` is a multiple of 16; `wt` holds the
/// weights as `[tap][o]`, `b` `co` biases, `x` `ci` planes of
/// `plane ≥ (ho + K − 1) · pitch`, `tmp` `ho · wo · 16` floats, `y` `co`
/// planes of `ho · wo`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn channels_avx512<const K: usize>(
    geo: Wide,
    wt: *const f32,
    b: *const f32,
    x: *const f32,
    tmp: *mut f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        match geo.wo {
            12.. => channels::<K, 12>(geo, wt, b, x, tmp, y),
            10 | 11 => channels::<K, 10>(geo, wt, b, x, tmp, y),
            8 | 9 => channels::<K, 8>(geo, wt, b, x, tmp, y),
            4..=7 => channels::<K, 4>(geo, wt, b, x, tmp, y),
            _ => channels::<K, 1>(geo, wt, b, x, tmp, y),
        }
    }
}

/// `R` output positions of a row × 16 output channels in registers, over
/// all taps: one weight vector per tap, each input broadcast. The vectors,
/// position-major in `tmp`, are transposed into `y` per block of channels.
///
/// # Safety
/// The CPU runs this vector type's instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn channels<const K: usize, const R: usize>(
    geo: Wide,
    wt: *const f32,
    b: *const f32,
    x: *const f32,
    tmp: *mut f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        type S = Avx512;
        let hw = geo.ho * geo.wo;
        for ob in 0..geo.co / 16 {
            let wb = wt.add(ob * 16);
            let bias = S::load(b.add(ob * 16));
            for r in 0..geo.ho {
                let mut c0 = 0;
                while c0 < geo.wo {
                    let c = c0.min(geo.wo - R);
                    let mut acc = [bias; R];
                    for i in 0..geo.ci {
                        let xi = x.add(i * geo.plane + r * geo.pitch + c);
                        let wi = wb.add(i * K * K * geo.co);
                        for kr in 0..K {
                            for kc in 0..K {
                                let wv = S::load(wi.add((kr * K + kc) * geo.co));
                                let xp = xi.add(kr * geo.pitch + kc);
                                for (j, a) in acc.iter_mut().enumerate() {
                                    *a = S::fma(wv, S::splat(*xp.add(j)), *a);
                                }
                            }
                        }
                    }
                    for (j, &a) in acc.iter().enumerate() {
                        S::store(
                            tmp.add((r * geo.wo + c + j) * 16),
                            activate::<S>(geo.relu, a),
                        );
                    }
                    c0 += R;
                }
            }
            let yb = y.add(ob * 16 * hw);
            let blocks = hw / 16;
            for k in 0..blocks {
                let mut rows = [S::zero(); 16];
                for (j, r) in rows.iter_mut().enumerate() {
                    *r = S::load(tmp.add((k * 16 + j) * 16));
                }
                for (l, &col) in transpose16(rows).iter().enumerate() {
                    S::store(yb.add(l * hw + k * 16), col);
                }
            }
            for p in blocks * 16..hw {
                let v = tmp.add(p * 16);
                for l in 0..16 {
                    *yb.add(l * hw + p) = *v.add(l);
                }
            }
        }
    }
}

/// The 16 × 16 transpose: lane `j` of result `l` is lane `l` of `r[j]`.
///
/// # Safety
/// The CPU runs this vector type's instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn transpose16(r: [__m512; 16]) -> [__m512; 16] {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        // Pairs of rows interleaved within each 128-bit lane…
        let mut t = [_mm512_setzero_ps(); 16];
        for g in 0..8 {
            t[2 * g] = _mm512_unpacklo_ps(r[2 * g], r[2 * g + 1]);
            t[2 * g + 1] = _mm512_unpackhi_ps(r[2 * g], r[2 * g + 1]);
        }
        // …then quadruples: u[4q + e] holds, in 128-bit lane `L`, element
        // `4L + e` of rows `4q..4q + 4`…
        let mut u = [_mm512_setzero_ps(); 16];
        for q in 0..4 {
            let a = _mm512_castps_pd(t[4 * q]);
            let b = _mm512_castps_pd(t[4 * q + 1]);
            let c = _mm512_castps_pd(t[4 * q + 2]);
            let e = _mm512_castps_pd(t[4 * q + 3]);
            u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
            u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
        }
        // …then the 128-bit lanes gathered across rows 0–7 and 8–15…
        let mut v = [_mm512_setzero_ps(); 16];
        for e in 0..4 {
            v[e] = _mm512_shuffle_f32x4::<0x88>(u[e], u[4 + e]);
            v[4 + e] = _mm512_shuffle_f32x4::<0xdd>(u[e], u[4 + e]);
            v[8 + e] = _mm512_shuffle_f32x4::<0x88>(u[8 + e], u[12 + e]);
            v[12 + e] = _mm512_shuffle_f32x4::<0xdd>(u[8 + e], u[12 + e]);
        }
        // …and across the two halves.
        let mut out = [_mm512_setzero_ps(); 16];
        for e in 0..8 {
            out[e] = _mm512_shuffle_f32x4::<0x88>(v[e], v[8 + e]);
            out[8 + e] = _mm512_shuffle_f32x4::<0xdd>(v[e], v[8 + e]);
        }
        out
    }
}

/// Adds `∂L/∂w` and `∂L/∂b` of `n` images to `dw` and `db`, and writes
/// `∂L/∂x` to `dx` when given. With `gate` (the output of a fused `relu`,
/// `y`), the gradient reaching the convolution is `dy` where `y > 0` (or
/// NaN) and 0 elsewhere, applied as `dy` is read.
///
/// # Safety
/// The geometry holds, as for [`forward`].
///
/// # Panics
/// If a slice is shorter than the sizes require.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn backward<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    level: Level,
    n: usize,
    w: &[f32],
    x: &[f32],
    gate: Option<&[f32]>,
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    let (inp, out, taps) = (CI * H * W, CO * HO * WO, CI * K * K);
    assert!(
        w.len() >= CO * taps && dw.len() >= CO * taps && db.len() >= CO,
        "conv2d: weights"
    );
    assert!(
        x.len() >= n * inp && dy.len() >= n * out,
        "conv2d: {n} images of {CI}×{H}×{W}"
    );
    if let Some(dx) = &dx {
        assert!(
            dx.len() >= n * inp,
            "conv2d: dx holds {n} images of {CI}×{H}×{W}"
        );
    }
    if let Some(g) = gate {
        assert!(
            g.len() >= n * out,
            "conv2d: y holds {n} images of {CO}×{HO}×{WO}"
        );
    }
    let level = runnable(level);
    let vectorised = level != Level::Portable && S == 1 && P < K && cfg!(feature = "std");
    if !vectorised {
        for s in 0..n {
            let xs = &x[s * inp..(s + 1) * inp];
            let dys = &dy[s * out..(s + 1) * out];
            let gs = gate.map(|g| &g[s * out..(s + 1) * out]);
            scalar::backward_params::<CI, CO, K, S, P, H, W, HO, WO>(xs, gs, dys, dw, db);
            if let Some(dx) = dx.as_deref_mut() {
                let dxs = &mut dx[s * inp..(s + 1) * inp];
                scalar::backward_input::<CI, CO, K, S, P, H, W, HO, WO>(w, gs, dys, dxs);
            }
        }
    } else {
        #[cfg(feature = "std")]
        backward_wide::<CI, CO, K, P, H, W, HO, WO>(level, n, w, x, gate, dy, dx, dw, db);
    }
}

/// The vectorised backward pass (stride 1, `P < K`), in one scratch buffer:
/// padded images, `dy` laid out wide, one padded `dy` image, flipped weights.
#[cfg(feature = "std")]
#[allow(clippy::too_many_arguments)]
fn backward_wide<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const P: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
>(
    level: Level,
    n: usize,
    w: &[f32],
    x: &[f32],
    gate: Option<&[f32]>,
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    let (inp, out, kk) = (CI * H * W, CO * HO * WO, K * K);
    // Through a fused relu, the bias gradient is summed as `dy` is masked
    // and laid out wide, below.
    if gate.is_none() {
        for s in 0..n {
            for (o, db) in db[..CO].iter_mut().enumerate() {
                *db += sum(&dy[s * out + o * HO * WO..s * out + (o + 1) * HO * WO]);
            }
        }
    }
    let (hp, wp) = (H + 2 * P, W + 2 * P);
    let geo = Wide {
        ci: CI,
        co: CO,
        plane: hp * wp,
        pitch: wp,
        ho: HO,
        wo: WO,
        relu: false,
    };
    // Each plane of `dy` is laid out wide (pitch `wp`, zero in the dropped
    // columns and past the last position, with 16 floats to spare).
    let row = hp * wp + 16;
    let taps = CI * kk;
    // Images are taken in groups that fit in about 48 KiB of scratch (the
    // padded images and the wide `dy`), so that they stay in L1/L2.
    let per_image = (if P > 0 { CI * hp * wp } else { 0 } + CO * row) * 4;
    let group = (48 * 1024 / per_image).clamp(1, n.max(1));
    let padded_len = if P > 0 { group * CI * hp * wp } else { 0 };
    let dy_len = group * CO * row;
    let acc_len = CO * taps * 16;
    // With 16 lanes and a multiple of 16 output channels, the weight
    // gradient runs over vectors of output channels instead (no dropped
    // columns): it needs `dy` transposed, position-major.
    let by_channels = level == Level::Avx512 && CO.is_multiple_of(16) && K <= 5;
    let dyt_len = if by_channels { group * HO * WO * CO } else { 0 };
    let cols_len = cols_row::<K>(geo).1;
    let dx_len = match (&dx, P) {
        (None, _) => 0,
        (Some(_), 0) => kk * cols_len,
        (Some(_), _) => kk * cols_len + CI * hp * wp,
    };
    crate::simd::scratch::with_zeroed(padded_len + dy_len + acc_len + dyt_len + dx_len, |buf| {
        let (xpad, rest) = buf.split_at_mut(padded_len);
        let (dyw, rest) = rest.split_at_mut(dy_len);
        let (dyt, rest) = rest.split_at_mut(dyt_len);
        let (accv, rest) = rest.split_at_mut(acc_len);
        let (cols, dxpad) = rest.split_at_mut(if dx.is_some() { kk * cols_len } else { 0 });
        let mut dx = dx;
        let mut s0 = 0;
        while s0 < n {
            let s1 = n.min(s0 + group);
            let xs: &[f32] = if P > 0 {
                for s in s0..s1 {
                    let dst = &mut xpad[(s - s0) * CI * hp * wp..(s - s0 + 1) * CI * hp * wp];
                    pad(&x[s * inp..(s + 1) * inp], dst, CI, H, W, P);
                }
                xpad
            } else {
                &x[s0 * inp..s1 * inp]
            };
            // Only the kept columns are written: the rest stays zero.
            for s in s0..s1 {
                for o in 0..CO {
                    let src = &dy[s * out + o * HO * WO..];
                    let dst = &mut dyw[((s - s0) * CO + o) * row..];
                    match gate {
                        None => {
                            for r in 0..HO {
                                dst[r * wp..r * wp + WO]
                                    .copy_from_slice(&src[r * WO..(r + 1) * WO]);
                            }
                        }
                        Some(g) => {
                            let g = &g[s * out + o * HO * WO..][..HO * WO];
                            let (src, dst) = (&src[..HO * WO], &mut dst[..(HO - 1) * wp + WO]);
                            // SAFETY: `src` and `g` hold `HO` rows of `WO`,
                            // `dst` `HO` rows at pitch `wp ≥ WO`; `level` runs
                            // on this CPU (`runnable`).
                            db[o] += unsafe {
                                gated_rows(
                                    level,
                                    (HO, WO, wp),
                                    src.as_ptr(),
                                    g.as_ptr(),
                                    dst.as_mut_ptr(),
                                )
                            };
                        }
                    }
                }
            }
            if by_channels {
                let hw = HO * WO;
                for s in s0..s1 {
                    let t = &mut dyt[(s - s0) * hw * CO..(s - s0 + 1) * hw * CO];
                    let d = &dy[s * out..(s + 1) * out];
                    let g = gate.map_or(core::ptr::null(), |g| g[s * out..(s + 1) * out].as_ptr());
                    // SAFETY: `d` (and `g`, unless null) holds `CO` planes of
                    // `hw`, `t` as many floats; `CO` is a multiple of 16 and
                    // the CPU runs AVX-512F (`by_channels`).
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        position_major(CO, hw, d.as_ptr(), g, t.as_mut_ptr())
                    };
                }
                // SAFETY: `xs` holds `s1 − s0` images of `CI` planes of
                // `hp × wp`, `dyt` as many of `HO · WO · CO` floats, `accv`
                // 16 floats per weight; the CPU runs AVX-512F.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    weights_grad_channels::<K>(
                        s1 - s0,
                        geo,
                        xs.as_ptr(),
                        dyt.as_ptr(),
                        accv.as_mut_ptr(),
                    )
                };
            } else {
                // SAFETY: `xs` holds `s1 − s0` images of `CI` planes of
                // `hp × wp`; `dyw` as many times `CO` rows of `row` floats, each
                // the wide plane (zero past `span`, with 16 floats to spare);
                // `accv` 16 floats per weight.
                unsafe {
                    weights_grad::<K>(
                        level,
                        s1 - s0,
                        geo,
                        xs.as_ptr(),
                        dyw.as_ptr(),
                        row,
                        accv.as_mut_ptr(),
                    )
                };
            }
            if let Some(dx) = dx.as_deref_mut() {
                for s in s0..s1 {
                    let src = dyw[(s - s0) * CO * row..].as_ptr();
                    let dst = if P == 0 {
                        &mut dx[s * inp..(s + 1) * inp]
                    } else {
                        &mut dxpad[..]
                    };
                    // SAFETY: `w` holds `CO · CI · K · K` floats, `src` `CO`
                    // wide planes of `row ≥ span` floats (zero in the dropped
                    // columns), `cols` `K · K` rows of `cols_len` floats,
                    // never written outside `[margin, margin + span)` and so
                    // zero there, and `dst` `CI` planes of `hp × wp`.
                    unsafe {
                        input_grad::<K>(
                            level,
                            geo,
                            w.as_ptr(),
                            src,
                            row,
                            cols.as_mut_ptr(),
                            dst.as_mut_ptr(),
                        )
                    };
                    if P > 0 {
                        for i in 0..CI {
                            for r in 0..H {
                                let from = &dxpad[(i * hp + r + P) * wp + P..][..W];
                                dx[s * inp + (i * H + r) * W..][..W].copy_from_slice(from);
                            }
                        }
                    }
                }
            }
            s0 = s1;
        }
        if by_channels {
            // accv[o / 16][tap][o % 16]
            for (o, d) in dw[..CO * taps].chunks_exact_mut(taps).enumerate() {
                for (t, d) in d.iter_mut().enumerate() {
                    *d += accv[((o / 16) * taps + t) * 16 + o % 16];
                }
            }
        } else {
            for (d, lanes) in dw[..CO * taps].iter_mut().zip(accv.chunks_exact(16)) {
                *d += lanes.iter().sum::<f32>();
            }
        }
    });
}

/// `dst[r · pitch + c] = dy[r · wo + c]` where `y[r · wo + c] > 0` (or NaN),
/// else 0, for `rows` rows: `dy` through a fused `relu`'s mask, laid out
/// wide as it is read. Returns the sum of the masked values (the bias
/// gradient of the plane).
///
/// # Safety
/// `level` runs on this CPU; `dy` and `y` hold `rows · wo` floats, `dst`
/// `(rows − 1) · pitch + wo`.
#[cfg(feature = "std")]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
unsafe fn gated_rows(
    level: Level,
    (rows, wo, pitch): (usize, usize, usize),
    dy: *const f32,
    y: *const f32,
    dst: *mut f32,
) -> f32 {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        match level {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => gated_rows_avx512((rows, wo, pitch), dy, y, dst),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => gated_rows_avx2((rows, wo, pitch), dy, y, dst),
            _ => {
                let mut sum = 0.0;
                for r in 0..rows {
                    for c in 0..wo {
                        let g = scalar::relu_grad(*y.add(r * wo + c), *dy.add(r * wo + c));
                        *dst.add(r * pitch + c) = g;
                        sum += g;
                    }
                }
                sum
            }
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; as [`gated_rows`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn gated_rows_avx512(
    geo: (usize, usize, usize),
    dy: *const f32,
    y: *const f32,
    dst: *mut f32,
) -> f32 {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { gated_rows_with::<Avx512>(geo, dy, y, dst) }
}

/// # Safety
/// The CPU runs AVX2; as [`gated_rows`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn gated_rows_avx2(
    geo: (usize, usize, usize),
    dy: *const f32,
    y: *const f32,
    dst: *mut f32,
) -> f32 {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { gated_rows_with::<Avx2>(geo, dy, y, dst) }
}

/// # Safety
/// The CPU runs `S`'s instruction set; as [`gated_rows`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn gated_rows_with<S: Simd>(
    (rows, wo, pitch): (usize, usize, usize),
    dy: *const f32,
    y: *const f32,
    dst: *mut f32,
) -> f32 {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let last = S::first(wo % S::LANES);
        let full = wo - wo % S::LANES;
        let mut sum = S::zero();
        for r in 0..rows {
            let (a, g, d) = (dy.add(r * wo), y.add(r * wo), dst.add(r * pitch));
            let mut c = 0;
            while c < full {
                let v = S::keep_where::<_CMP_NLE_UQ>(S::load(a.add(c)), S::load(g.add(c)));
                S::store(d.add(c), v);
                sum = S::add(sum, v);
                c += S::LANES;
            }
            if c < wo {
                let v = S::keep_where::<_CMP_NLE_UQ>(
                    S::load_masked(a.add(c), last),
                    S::load_masked(g.add(c), last),
                );
                S::store_masked(d.add(c), v, last);
                sum = S::add(sum, v);
            }
        }
        S::sum(sum)
    }
}

/// `dyt[p · co + o] = dy[o · hw + p]` (one image), by 16 × 16 blocks; with
/// a `gate` (not null), `dy` where `gate > 0` (or NaN) and 0 elsewhere.
///
/// # Safety
/// The CPU runs AVX-512F; `co` is a multiple of 16; `dy`, `dyt` and `gate`
/// (unless null) hold `co · hw` floats.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn position_major(co: usize, hw: usize, dy: *const f32, gate: *const f32, dyt: *mut f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        type S = Avx512;
        let blocks = hw / 16;
        for ob in 0..co / 16 {
            let d = dy.add(ob * 16 * hw);
            let g = if gate.is_null() {
                gate
            } else {
                gate.add(ob * 16 * hw)
            };
            for k in 0..blocks {
                let mut rows = [S::zero(); 16];
                for (j, r) in rows.iter_mut().enumerate() {
                    *r = S::load(d.add(j * hw + k * 16));
                    if !g.is_null() {
                        *r = S::keep_where::<_CMP_NLE_UQ>(*r, S::load(g.add(j * hw + k * 16)));
                    }
                }
                for (l, &v) in transpose16(rows).iter().enumerate() {
                    S::store(dyt.add((k * 16 + l) * co + ob * 16), v);
                }
            }
            for p in blocks * 16..hw {
                for j in 0..16 {
                    let v = *d.add(j * hw + p);
                    *dyt.add(p * co + ob * 16 + j) = if g.is_null() {
                        v
                    } else {
                        scalar::relu_grad(*g.add(j * hw + p), v)
                    };
                }
            }
        }
    }
}

/// `∂L/∂w` by vectors of 16 output channels: for every kept position `p`
/// of every image, the vector `dy[o..o + 16, p]` times each tap's input,
/// broadcast; one accumulator per tap of an input channel (`K × K ≤ 25`
/// registers) over all images, added to `accv[o / 16][tap]`.
///
/// # Safety
/// The CPU runs AVX-512F; `geo.co` is a multiple of 16 and `K ≤ 5`; `x`
/// holds `n` images of `geo.ci` planes of `geo.plane`, `dyt` `n` images of
/// `ho · wo` positions × `co` channels; `accv` 16 floats per weight.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn weights_grad_channels<const K: usize>(
    n: usize,
    geo: Wide,
    x: *const f32,
    dyt: *const f32,
    accv: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        type S = Avx512;
        let taps = geo.ci * K * K;
        let hw = geo.ho * geo.wo;
        for ob in 0..geo.co / 16 {
            for i in 0..geo.ci {
                let a = accv.add((ob * taps + i * K * K) * 16);
                let mut acc = [[S::zero(); K]; K];
                for s in 0..n {
                    let xs = x.add((s * geo.ci + i) * geo.plane);
                    let ds = dyt.add(s * hw * geo.co + ob * 16);
                    for r in 0..geo.ho {
                        for c in 0..geo.wo {
                            let d = S::load(ds.add((r * geo.wo + c) * geo.co));
                            let base = xs.add(r * geo.pitch + c);
                            for (kr, acc) in acc.iter_mut().enumerate() {
                                for (kc, acc) in acc.iter_mut().enumerate() {
                                    *acc =
                                        S::fma(d, S::splat(*base.add(kr * geo.pitch + kc)), *acc);
                                }
                            }
                        }
                    }
                }
                for (kr, acc) in acc.iter().enumerate() {
                    for (kc, &v) in acc.iter().enumerate() {
                        let p = a.add((kr * K + kc) * 16);
                        S::store(p, S::add(S::load(p), v));
                    }
                }
            }
        }
    }
}

/// Floats of one row of `cols` (one tap's products over the wide
/// positions) in [`input_grad`]: `margin` zeros, the `span` products, then
/// zeros up to `margin + plane` rounded up to a whole vector, 16 to spare.
#[cfg(feature = "std")]
fn cols_row<const K: usize>(geo: Wide) -> (usize, usize) {
    let margin = (K - 1) * geo.pitch + K - 1;
    (margin, margin + geo.plane.next_multiple_of(16) + 16)
}

/// `∂L/∂x` of one image, an input channel at a time: `cols = wᵀ · dy` for
/// the channel's `K × K` taps (a matrix product over the output channels,
/// into rows of [`cols_row`] floats whose margins stay zero), then every
/// vector of `dx` positions `q` gathers, in registers,
/// `Σ_taps cols[tap, q − kr·pitch − kc]` and is stored once. Positions
/// outside a tap's reach read the zero margins or a dropped (zero) column,
/// so nothing is added to memory twice.
///
/// # Safety
/// `level` runs on this CPU; `w` holds `co · ci · K · K` floats, `dyw` `co`
/// rows of `stride ≥ span` floats (zero in the dropped columns), `cols`
/// `K · K` rows of [`cols_row`] floats, zero outside `[margin, margin +
/// span)`, `dx` `ci` planes of `geo.plane` (overwritten).
#[cfg(feature = "std")]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
unsafe fn input_grad<const K: usize>(
    level: Level,
    geo: Wide,
    w: *const f32,
    dyw: *const f32,
    stride: usize,
    cols: *mut f32,
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        match level {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => input_grad_avx512::<K>(geo, w, dyw, stride, cols, dx),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => input_grad_avx2::<K>(geo, w, dyw, stride, cols, dx),
            _ => {}
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn input_grad_avx512<const K: usize>(
    geo: Wide,
    w: *const f32,
    dyw: *const f32,
    stride: usize,
    cols: *mut f32,
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K <= 7 {
            gather_taps::<Avx512, K, K, 3>(geo, w, dyw, stride, cols, dx)
        } else {
            gather_taps::<Avx512, K, 12, 2>(geo, w, dyw, stride, cols, dx)
        }
    }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn input_grad_avx2<const K: usize>(
    geo: Wide,
    w: *const f32,
    dyw: *const f32,
    stride: usize,
    cols: *mut f32,
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if K <= 6 {
            gather_taps::<Avx2, K, K, 2>(geo, w, dyw, stride, cols, dx)
        } else {
            gather_taps::<Avx2, K, 6, 2>(geo, w, dyw, stride, cols, dx)
        }
    }
}

/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn gather_taps<S: Simd, const K: usize, const MR: usize, const NV: usize>(
    geo: Wide,
    w: *const f32,
    dyw: *const f32,
    stride: usize,
    cols: *mut f32,
    dx: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let (kk, taps) = (K * K, geo.ci * K * K);
        let span = geo.span();
        let (margin, len) = cols_row::<K>(geo);
        let full = geo.plane / S::LANES;
        let rest = geo.plane % S::LANES;
        let last = S::first(rest);
        for i in 0..geo.ci {
            // cols[t, p] = Σ_o w[o, i·K·K + t] · dyw[o, p]
            crate::ops::linear::kernels::gemm::<S, MR, NV>(
                kk,
                span,
                geo.co,
                (w.add(i * kk), core::ptr::null()),
                1,
                taps,
                dyw,
                stride,
                cols.add(margin),
                len,
                false,
            );
            let dst = dx.add(i * geo.plane);
            let rows = cols.add(margin);
            for v in 0..full {
                let q = v * S::LANES;
                S::store(dst.add(q), gather::<S, K, false>(geo, rows, len, q, last));
            }
            if rest > 0 {
                let q = full * S::LANES;
                S::store_masked(
                    dst.add(q),
                    gather::<S, K, true>(geo, rows, len, q, last),
                    last,
                );
            }
        }
    }
}

/// `Σ_taps rows[tap · len + q − kr·pitch − kc ..]`, one vector (the lanes
/// under `last` only when `MASKED`).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn gather<S: Simd, const K: usize, const MASKED: bool>(
    geo: Wide,
    rows: *const f32,
    len: usize,
    q: usize,
    last: S::Mask,
) -> S::V {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut acc = [S::zero(); K];
        for (kr, acc) in acc.iter_mut().enumerate() {
            for kc in 0..K {
                let src = rows.add((kr * K + kc) * len + q).sub(kr * geo.pitch + kc);
                let v = if MASKED {
                    S::load_masked(src, last)
                } else {
                    S::load(src)
                };
                *acc = S::add(*acc, v);
            }
        }
        let mut sum = acc[0];
        for &a in &acc[1..] {
            sum = S::add(sum, a);
        }
        sum
    }
}

/// Sum of `v` in 16 independent lanes (a single running sum would wait on
/// each addition in turn).
#[cfg(feature = "std")]
fn sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = v.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// Copies `c` planes of `h × w` into the middle of planes of
/// `(h + 2p) × (w + 2p)` whose border is already zero.
#[cfg(feature = "std")]
fn pad(x: &[f32], dst: &mut [f32], c: usize, h: usize, w: usize, p: usize) {
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    for i in 0..c {
        for r in 0..h {
            dst[(i * hp + r + p) * wp + p..][..w].copy_from_slice(&x[(i * h + r) * w..][..w]);
        }
    }
}

/// Runs the wide convolution at `level`. `b` may be null (no bias).
///
/// # Safety
/// `level` runs on this CPU (or is `Portable`, which does nothing here);
/// `w` holds `co · ci · K · K` floats, `b` `co` (unless null), `x` `ci`
/// planes of `plane ≥ (ho + K − 1) · pitch` floats with `pitch ≥ wo + K − 1`,
/// and `y` `co · ho · wo`.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
unsafe fn wide<const K: usize>(
    level: Level,
    geo: Wide,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        match level {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => wide_avx512::<K>(geo, w, b, x, y),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => wide_avx2::<K>(geo, w, b, x, y),
            _ => {}
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn wide_avx512<const K: usize>(
    geo: Wide,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { wide_conv::<Avx512, K, 3>(geo, w, b, x, y) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn wide_avx2<const K: usize>(
    geo: Wide,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { wide_conv::<Avx2, K, 2>(geo, w, b, x, y) }
}

/// Groups of `NV` vectors of wide positions, each run through the output
/// channels `MR` at a time (8 with 16 lanes, else 6, then 4, 2, 1).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn wide_conv<S: Simd, const K: usize, const NV: usize>(
    geo: Wide,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let span = geo.span();
        let group = NV * S::LANES;
        // Row and column of the current wide position, kept without division.
        let (mut row, mut col) = (0, 0);
        let mut p0 = 0;
        while p0 < span {
            let mut loads = [S::first(S::LANES); NV];
            let mut keep = [0u32; NV];
            let mut dst = [0usize; NV];
            for v in 0..NV {
                let start = p0 + v * S::LANES;
                loads[v] = S::first(span.saturating_sub(start));
                dst[v] = row * geo.wo + col.min(geo.wo);
                keep[v] = keep_bits(geo, col, S::LANES.min(span.saturating_sub(start)));
                col += S::LANES;
                while col >= geo.pitch {
                    col -= geo.pitch;
                    row += 1;
                }
            }
            let tail = p0 + group > span;
            let mut o = 0;
            while o < geo.co {
                let rem = geo.co - o;
                let (wo_, bo, yo) = (
                    w.add(o * geo.ci * K * K),
                    if b.is_null() { b } else { b.add(o) },
                    y.add(o * geo.ho * geo.wo),
                );
                let xo = x.add(p0);
                let t = Tile {
                    geo,
                    w: wo_,
                    b: bo,
                    x: xo,
                    y: yo,
                };
                let step = if S::LANES == 16 && rem >= 8 {
                    8
                } else if rem >= 6 {
                    6
                } else if rem >= 4 {
                    4
                } else if rem >= 2 {
                    2
                } else {
                    1
                };
                match (step, tail) {
                    (8, false) => wide_tile::<S, K, 8, NV, false>(t, &loads, &keep, &dst),
                    (8, true) => wide_tile::<S, K, 8, NV, true>(t, &loads, &keep, &dst),
                    (6, false) => wide_tile::<S, K, 6, NV, false>(t, &loads, &keep, &dst),
                    (6, true) => wide_tile::<S, K, 6, NV, true>(t, &loads, &keep, &dst),
                    (4, false) => wide_tile::<S, K, 4, NV, false>(t, &loads, &keep, &dst),
                    (4, true) => wide_tile::<S, K, 4, NV, true>(t, &loads, &keep, &dst),
                    (2, false) => wide_tile::<S, K, 2, NV, false>(t, &loads, &keep, &dst),
                    (2, true) => wide_tile::<S, K, 2, NV, true>(t, &loads, &keep, &dst),
                    (_, false) => wide_tile::<S, K, 1, NV, false>(t, &loads, &keep, &dst),
                    (_, true) => wide_tile::<S, K, 1, NV, true>(t, &loads, &keep, &dst),
                }
                o += step;
            }
            p0 += group;
        }
    }
}

/// `v`, or `relu(v)` as the specification computes it (`v` where
/// `!(v < 0)`, so NaN and −0 pass) when `relu` is set.
///
/// # Safety
/// The CPU runs `S`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn activate<S: Simd>(relu: bool, v: S::V) -> S::V {
    if relu {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe { S::keep_where::<_CMP_NLT_UQ>(v, v) }
    } else {
        v
    }
}

/// Bit `l` set for each of the first `lanes` wide positions from column
/// `col` (`< pitch`) that is kept (its column below `wo`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn keep_bits(geo: Wide, col: usize, lanes: usize) -> u32 {
    let span = |from: usize, to: usize| -> u32 {
        let to = to.min(lanes);
        if from >= to {
            0
        } else {
            ((1u64 << to) - (1u64 << from)) as u32
        }
    };
    if geo.pitch >= lanes {
        // At most one row end among the lanes.
        let wrap = geo.pitch - col;
        span(0, geo.wo.saturating_sub(col)) | span(wrap, wrap + geo.wo)
    } else {
        let mut bits = 0;
        let mut c = col;
        for l in 0..lanes {
            if c < geo.wo {
                bits |= 1 << l;
            }
            c += 1;
            if c == geo.pitch {
                c = 0;
            }
        }
        bits
    }
}

/// Where one tile reads and writes: weights of its first output channel,
/// its biases (or null), the inputs of its first wide position, the output
/// plane of its first channel.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Tile {
    geo: Wide,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
}

/// `MR` output channels × `NV` vectors of wide positions, over all taps.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn wide_tile<S: Simd, const K: usize, const MR: usize, const NV: usize, const TAIL: bool>(
    t: Tile,
    loads: &[S::Mask; NV],
    keep: &[u32; NV],
    dst: &[usize; NV],
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let Tile { geo, w, b, x, y } = t;
        let row = geo.ci * K * K;
        let mut acc = [[S::zero(); NV]; MR];
        if !b.is_null() {
            for (m, acc) in acc.iter_mut().enumerate() {
                *acc = [S::splat(*b.add(m)); NV];
            }
        }
        for i in 0..geo.ci {
            let xi = x.add(i * geo.plane);
            let wi = w.add(i * K * K);
            for kr in 0..K {
                for kc in 0..K {
                    let xp = xi.add(kr * geo.pitch + kc);
                    let mut xv = [S::zero(); NV];
                    for (v, xv) in xv.iter_mut().enumerate() {
                        *xv = if TAIL {
                            S::load_masked(xp.add(v * S::LANES), loads[v])
                        } else {
                            S::load(xp.add(v * S::LANES))
                        };
                    }
                    let tap = kr * K + kc;
                    for (m, acc) in acc.iter_mut().enumerate() {
                        let wv = S::splat(*wi.add(m * row + tap));
                        for (a, &xv) in acc.iter_mut().zip(&xv) {
                            *a = S::fma(wv, xv, *a);
                        }
                    }
                }
            }
        }
        for (m, acc) in acc.iter().enumerate() {
            let ym = y.add(m * geo.ho * geo.wo);
            for v in 0..NV {
                if keep[v] != 0 {
                    S::store_compressed(ym.add(dst[v]), activate::<S>(geo.relu, acc[v]), keep[v]);
                }
            }
        }
    }
}

/// Adds `Σ_images Σ_p dyw[o, p] · x[i, p + kr·pitch + kc]` to
/// `dw[o, i, kr, kc]`.
///
/// Every tile of `MR` output channels × `K` taps sums vectors over the
/// images in registers and adds them to `accv` (16 floats per weight), whose
/// lanes the caller sums once at the end.
///
/// # Safety
/// `level` runs on this CPU; `x` holds `n` images of `geo.ci` planes of
/// `geo.plane`, `dyw` `n · geo.co` rows of `stride` floats, each the wide
/// plane, zero in the dropped columns and past `span` up to the next multiple
/// of 16; `accv` 16 floats per weight.
#[cfg(feature = "std")]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
unsafe fn weights_grad<const K: usize>(
    level: Level,
    n: usize,
    geo: Wide,
    x: *const f32,
    dyw: *const f32,
    stride: usize,
    accv: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let a = Acc {
            x,
            dyw,
            stride,
            accv,
        };
        match level {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => weights_grad_avx512::<K>(n, geo, a),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => weights_grad_avx2::<K>(n, geo, a),
            _ => {}
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn weights_grad_avx512<const K: usize>(n: usize, geo: Wide, a: Acc) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if 4 * K <= 24 {
            dw_rows::<Avx512, K, 4>(n, geo, a)
        } else if 2 * K <= 24 {
            dw_rows::<Avx512, K, 2>(n, geo, a)
        } else {
            dw_rows::<Avx512, K, 1>(n, geo, a)
        }
    }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn weights_grad_avx2<const K: usize>(n: usize, geo: Wide, a: Acc) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if 2 * K <= 12 {
            dw_rows::<Avx2, K, 2>(n, geo, a)
        } else {
            dw_rows::<Avx2, K, 1>(n, geo, a)
        }
    }
}

/// The operands of the weight gradient (see [`weights_grad`]).
#[cfg(feature = "std")]
#[derive(Clone, Copy)]
struct Acc {
    x: *const f32,
    dyw: *const f32,
    stride: usize,
    accv: *mut f32,
}

/// Output channels `MR` at a time (then two, then one: a single channel's
/// `K` sums would wait on each other), each input channel and kernel row.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn dw_rows<S: Simd, const K: usize, const MR: usize>(n: usize, geo: Wide, a: Acc) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut o = 0;
        while o < geo.co {
            let mr = match geo.co - o {
                r if r >= MR => MR,
                r if r >= 2 && MR > 2 => 2,
                _ => 1,
            };
            for i in 0..geo.ci {
                for kr in 0..K {
                    match mr {
                        1 => dw_tile::<S, K, 1>(0..n, geo, a, o, i, kr),
                        2 if MR > 2 => dw_tile::<S, K, 2>(0..n, geo, a, o, i, kr),
                        _ => dw_tile::<S, K, MR>(0..n, geo, a, o, i, kr),
                    }
                }
            }
            o += mr;
        }
    }
}

/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn dw_tile<S: Simd, const K: usize, const MR: usize>(
    images: core::ops::Range<usize>,
    geo: Wide,
    a: Acc,
    o: usize,
    i: usize,
    kr: usize,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let Acc {
            x,
            dyw,
            stride,
            accv,
            ..
        } = a;
        let span = geo.span();
        let full = span / S::LANES;
        let rest = span % S::LANES;
        let last = S::first(rest);
        let mut acc = [[S::zero(); K]; MR];
        for s in images {
            let xs = x.add((s * geo.ci + i) * geo.plane + kr * geo.pitch);
            let ds = dyw.add((s * geo.co + o) * stride);
            for v in 0..full {
                let off = v * S::LANES;
                let mut dv = [S::zero(); MR];
                for (m, dv) in dv.iter_mut().enumerate() {
                    *dv = S::load(ds.add(m * stride + off));
                }
                for kc in 0..K {
                    let xv = S::load(xs.add(off + kc));
                    for (acc, &dv) in acc.iter_mut().zip(&dv) {
                        acc[kc] = S::fma(dv, xv, acc[kc]);
                    }
                }
            }
            if rest > 0 {
                let off = full * S::LANES;
                let mut dv = [S::zero(); MR];
                for (m, dv) in dv.iter_mut().enumerate() {
                    *dv = S::load(ds.add(m * stride + off));
                }
                for kc in 0..K {
                    let xv = S::load_masked(xs.add(off + kc), last);
                    for (acc, &dv) in acc.iter_mut().zip(&dv) {
                        acc[kc] = S::fma(dv, xv, acc[kc]);
                    }
                }
            }
        }
        let taps = geo.ci * K * K;
        for (m, acc) in acc.iter().enumerate() {
            let d = accv.add(((o + m) * taps + i * K * K + kr * K) * 16);
            for (kc, &v) in acc.iter().enumerate() {
                let p = d.add(kc * 16);
                S::store(p, S::add(S::load(p), v));
            }
        }
    }
}
