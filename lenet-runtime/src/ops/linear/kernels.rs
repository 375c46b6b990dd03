//! Fully connected layer `y = W·x + b` over a batch, as register-blocked
//! matrix products that read the weights and activations where they lie (no
//! packing, no scratch), so the same kernels serve one image and a batch.
//!
//! - forward, `Y[n×O] = X[n×I] · Wᵀ + b`: rows of `X` and `W` are both
//!   contiguous along `I`, so a tile of 4 images × 4 outputs (1 × 8 for a
//!   single image) accumulates 16 vectors of partial dot products and sums
//!   their lanes at the end;
//! - `dX[n×I] = dY[n×O] · W[O×I]` and `dW[O×I] += dYᵀ · X[n×I]`: both are
//!   `C += A·B` with `B` row-major along `I`, computed by a 12 × 32 tile
//!   (AVX-512; 6 × 16 with AVX2) that broadcasts `A` and streams rows of `B`.
//!
//! The specification is [`super::scalar`].

use super::scalar;
use crate::simd::{runnable, Level};

#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};

/// `y[s, o] = b[o] + Σ_i w[o, i] · x[s, i]` for `n` images, with `relu`
/// applied to each output as it is stored when `relu` is set.
///
/// # Panics
/// If a slice is shorter than the sizes require.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    level: Level,
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    relu: bool,
) {
    assert!(
        w.len() >= fan_out * fan_in && b.len() >= fan_out,
        "linear: {fan_out}×{fan_in} weights and {fan_out} biases expected"
    );
    assert!(
        x.len() >= n * fan_in && y.len() >= n * fan_out,
        "linear: {n} images of {fan_in} in, {fan_out} out"
    );
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: the CPU runs AVX-512F (`runnable`); lengths checked above.
            unsafe {
                forward_avx512(
                    (fan_in, fan_out),
                    n,
                    w.as_ptr(),
                    b.as_ptr(),
                    x.as_ptr(),
                    y.as_mut_ptr(),
                    relu,
                )
            }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: the CPU runs AVX2 and FMA (`runnable`); lengths checked above.
            unsafe {
                forward_avx2(
                    (fan_in, fan_out),
                    n,
                    w.as_ptr(),
                    b.as_ptr(),
                    x.as_ptr(),
                    y.as_mut_ptr(),
                    relu,
                )
            }
        }
        _ => portable((fan_in, fan_out), n, w, b, x, y, relu),
    }
}

/// The portable forward pass: per image, `MR` outputs at a time (4, then 2
/// and 1 for the outputs left over, chosen at compile time), so that each
/// input loaded serves `MR` weight rows. Each output sums its inputs in the
/// specification's order as `acc + w·x`: the specification's arithmetic.
///
/// Rust never contracts `acc + w·x` into a fused multiply-add on its own
/// (and `f32::mul_add` needs `std`, where without the hardware instruction
/// it calls the C library's software `fmaf`). A build that allows it — the
/// Cortex-M4F firmware, `examples/cortex-m4/.cargo/config.toml` — has LLVM
/// fuse these sums into `vfma.f32`, one rounding fewer; LLVM fuses only
/// where the target has the instruction. The kernel tests compare with the
/// specification within a rounding tolerance that covers both.
fn portable(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    relu: bool,
) {
    for s in 0..n {
        let (x, y) = (&x[s * fan_in..][..fan_in], &mut y[s * fan_out..][..fan_out]);
        let mut o = 0;
        for _ in 0..fan_out / 4 {
            rows::<4>(fan_in, &w[o * fan_in..], &b[o..], x, &mut y[o..], relu);
            o += 4;
        }
        if fan_out % 4 >= 2 {
            rows::<2>(fan_in, &w[o * fan_in..], &b[o..], x, &mut y[o..], relu);
            o += 2;
        }
        if fan_out % 2 == 1 {
            rows::<1>(fan_in, &w[o * fan_in..], &b[o..], x, &mut y[o..], relu);
        }
    }
}

/// `y[m] = b[m] + Σ_i w[m, i] · x[i]` for the first `MR` rows of `w`.
#[inline(always)]
fn rows<const MR: usize>(
    fan_in: usize,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    y: &mut [f32],
    relu: bool,
) {
    let w: [&[f32]; MR] = core::array::from_fn(|m| &w[m * fan_in..][..fan_in]);
    let mut acc: [f32; MR] = core::array::from_fn(|m| b[m]);
    // Four inputs at a time: one address per row and group, the four
    // weights at fixed offsets from it.
    let (xs, rest) = x[..fan_in].as_chunks::<4>();
    for (g, xs) in xs.iter().enumerate() {
        for (acc, w) in acc.iter_mut().zip(&w) {
            let w = &w[4 * g..][..4];
            for (&w, &xv) in w.iter().zip(xs) {
                *acc += w * xv;
            }
        }
    }
    let done = fan_in - rest.len();
    for (i, &xv) in rest.iter().enumerate() {
        for (acc, w) in acc.iter_mut().zip(&w) {
            *acc += w[done + i] * xv;
        }
    }
    if relu {
        scalar::relu_in_place(&mut acc);
    }
    y[..MR].copy_from_slice(&acc);
}

/// Adds `∂L/∂W = dYᵀ·X` to `dw` and `Σ_s dY` to `db`, and writes
/// `∂L/∂X = dY·W` to `dx` when given. With `gate` (the output of a fused
/// `relu`, `y`), `dY` is `dy` where `y > 0` (or NaN) and 0 elsewhere,
/// applied as the kernels read `dy`.
///
/// # Panics
/// If a slice is shorter than the sizes require.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    level: Level,
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    x: &[f32],
    gate: Option<&[f32]>,
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) {
    assert!(
        w.len() >= fan_out * fan_in && dw.len() >= fan_out * fan_in && db.len() >= fan_out,
        "linear: {fan_out}×{fan_in} weights"
    );
    if let Some(g) = gate {
        assert!(
            g.len() >= n * fan_out,
            "linear: y holds {n} images of {fan_out}"
        );
    }
    assert!(
        x.len() >= n * fan_in && dy.len() >= n * fan_out,
        "linear: {n} images of {fan_in} in, {fan_out} out"
    );
    if let Some(dx) = &dx {
        assert!(
            dx.len() >= n * fan_in,
            "linear: dx holds {n} images of {fan_in}"
        );
    }
    let level = runnable(level);
    if level == Level::Portable {
        scalar::backward_params((fan_in, fan_out), n, x, gate, dy, dw, db);
        if let Some(dx) = dx {
            scalar::backward_input((fan_in, fan_out), n, w, gate, dy, dx);
        }
        return;
    }
    // With `std`, the mask is applied in the bias gradient's pass over `dy`,
    // which also writes the masked `dy` to scratch for both products;
    // without, the products read `dy` through the gate.
    #[cfg(feature = "std")]
    if let Some(y) = gate {
        crate::simd::scratch::with_reused(n * fan_out, |g| {
            for ((g, &y), &d) in g.iter_mut().zip(&y[..n * fan_out]).zip(&dy[..n * fan_out]) {
                *g = scalar::relu_grad(y, d);
            }
            for s in 0..n {
                for (d, g) in db[..fan_out]
                    .iter_mut()
                    .zip(&g[s * fan_out..(s + 1) * fan_out])
                {
                    *d += g;
                }
            }
            // SAFETY: `g` holds `n · O` floats, the lengths of the others were
            // checked above, and `level` runs on this CPU (`runnable`).
            unsafe {
                products(
                    level,
                    (fan_in, fan_out),
                    n,
                    w,
                    x,
                    core::ptr::null(),
                    g.as_ptr(),
                    dx,
                    dw,
                )
            }
        });
        return;
    }
    for s in 0..n {
        let dys = &dy[s * fan_out..(s + 1) * fan_out];
        match gate {
            None => {
                for (d, g) in db[..fan_out].iter_mut().zip(dys) {
                    *d += g;
                }
            }
            Some(y) => {
                for ((d, &g), &y) in db[..fan_out]
                    .iter_mut()
                    .zip(dys)
                    .zip(&y[s * fan_out..(s + 1) * fan_out])
                {
                    *d += scalar::relu_grad(y, g);
                }
            }
        }
    }
    let gate = gate.map_or(core::ptr::null(), |g| g.as_ptr());
    // SAFETY: the lengths were checked above (the gate's, when not null,
    // holds `n · O`), and `level` runs on this CPU (`runnable`).
    unsafe { products(level, (fan_in, fan_out), n, w, x, gate, dy.as_ptr(), dx, dw) }
}

/// `dW += dYᵀ·X` and, when `dx` is given, `dX = dY·W`, `dY` read through
/// `gate` when it is not null.
///
/// # Safety
/// `level` runs on this CPU and is not `Portable`; `w`, `x`, `dw` and `dx`
/// hold the floats [`backward`] checks, `dy` and `gate` (unless null)
/// `n · O` floats.
#[allow(clippy::too_many_arguments)]
unsafe fn products(
    level: Level,
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: &[f32],
    x: &[f32],
    gate: *const f32,
    dy: *const f32,
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
) {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: the caller keeps this function's contract (`# Safety`).
            unsafe {
                let dx = dx.map_or(core::ptr::null_mut(), |d| d.as_mut_ptr());
                backward_avx512(
                    (fan_in, fan_out),
                    n,
                    w.as_ptr(),
                    x.as_ptr(),
                    gate,
                    dy,
                    dx,
                    dw.as_mut_ptr(),
                )
            }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: the caller keeps this function's contract (`# Safety`).
            unsafe {
                let dx = dx.map_or(core::ptr::null_mut(), |d| d.as_mut_ptr());
                backward_avx2(
                    (fan_in, fan_out),
                    n,
                    w.as_ptr(),
                    x.as_ptr(),
                    gate,
                    dy,
                    dx,
                    dw.as_mut_ptr(),
                )
            }
        }
        _ => unreachable!("the portable level returned above"),
    }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    relu: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { dot::<Avx512>((fan_in, fan_out), n, w, b, x, y, relu) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    relu: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { dot::<Avx2>((fan_in, fan_out), n, w, b, x, y, relu) }
}

/// # Safety
/// The CPU runs AVX-512F; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_avx512(
    fans: (usize, usize),
    n: usize,
    w: *const f32,
    x: *const f32,
    gate: *const f32,
    dy: *const f32,
    dx: *mut f32,
    dw: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { products_with::<Avx512, 12>(fans, n, w, x, (dy, gate), dx, dw) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_avx2(
    fans: (usize, usize),
    n: usize,
    w: *const f32,
    x: *const f32,
    gate: *const f32,
    dy: *const f32,
    dx: *mut f32,
    dw: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { products_with::<Avx2, 6>(fans, n, w, x, (dy, gate), dx, dw) }
}

/// `dW[O×I] += dYᵀ[O×n] · X[n×I]` and, unless `dx` is null,
/// `dX[n×I] = dY[n×O] · W[O×I]`, in tiles of `MR` rows.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn products_with<S: Simd, const MR: usize>(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: *const f32,
    x: *const f32,
    dy: (*const f32, *const f32),
    dx: *mut f32,
    dw: *mut f32,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        gemm::<S, MR, 2>(
            fan_out, fan_in, n, dy, 1, fan_out, x, fan_in, dw, fan_in, true,
        );
        if !dx.is_null() {
            gemm::<S, MR, 2>(
                n, fan_in, fan_out, dy, fan_out, 1, w, fan_in, dx, fan_in, false,
            );
        }
    }
}

/// `y[n×O] = x[n×I] · wᵀ + b` (then `relu` when set), in tiles of 4
/// images × 4 outputs (single images: 1 × 8). Each tile of 4 weight rows
/// runs over every group of 4 images before the next is read, so that the
/// weights are streamed once per block of images (the block's inputs stay
/// in L1).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot<S: Simd>(
    (fan_in, fan_out): (usize, usize),
    n: usize,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    relu: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let groups = n / 4;
        let mut o = 0;
        while o + 4 <= fan_out {
            for g in 0..groups {
                let (x, y) = (x.add(4 * g * fan_in), y.add(4 * g * fan_out + o));
                dot_tile::<S, 4, 4>((fan_in, fan_out), w.add(o * fan_in), b.add(o), x, y, relu);
            }
            o += 4;
        }
        while o < fan_out {
            for g in 0..groups {
                let (x, y) = (x.add(4 * g * fan_in), y.add(4 * g * fan_out + o));
                dot_tile::<S, 4, 1>((fan_in, fan_out), w.add(o * fan_in), b.add(o), x, y, relu);
            }
            o += 1;
        }
        let mut s = 4 * groups;
        while s < n {
            dot_rows::<S, 1, 8>(
                (fan_in, fan_out),
                w,
                b,
                x.add(s * fan_in),
                y.add(s * fan_out),
                relu,
            );
            s += 1;
        }
    }
}

/// All `O` outputs of `MS` images, `MO` outputs at a time.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot_rows<S: Simd, const MS: usize, const MO: usize>(
    (fan_in, fan_out): (usize, usize),
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    relu: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut o = 0;
        while o + MO <= fan_out {
            dot_tile::<S, MS, MO>(
                (fan_in, fan_out),
                w.add(o * fan_in),
                b.add(o),
                x,
                y.add(o),
                relu,
            );
            o += MO;
        }
        while o < fan_out {
            dot_tile::<S, MS, 1>(
                (fan_in, fan_out),
                w.add(o * fan_in),
                b.add(o),
                x,
                y.add(o),
                relu,
            );
            o += 1;
        }
    }
}

/// `MS × MO` outputs: `MS` rows of `x` against `MO` rows of `w`.
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot_tile<S: Simd, const MS: usize, const MO: usize>(
    (fan_in, fan_out): (usize, usize),
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    relu: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let act = |v: f32| if relu && v < 0.0 { 0.0 } else { v };
        let mut acc = [[S::zero(); MO]; MS];
        let full = fan_in / S::LANES;
        for v in 0..full {
            let off = v * S::LANES;
            let mut wv = [S::zero(); MO];
            for (o, wv) in wv.iter_mut().enumerate() {
                *wv = S::load(w.add(o * fan_in + off));
            }
            for (s, acc) in acc.iter_mut().enumerate() {
                let xv = S::load(x.add(s * fan_in + off));
                for (a, &wv) in acc.iter_mut().zip(&wv) {
                    *a = S::fma(xv, wv, *a);
                }
            }
        }
        let tail = fan_in % S::LANES;
        if tail > 0 {
            let off = full * S::LANES;
            let m = S::first(tail);
            let mut wv = [S::zero(); MO];
            for (o, wv) in wv.iter_mut().enumerate() {
                *wv = S::load_masked(w.add(o * fan_in + off), m);
            }
            for (s, acc) in acc.iter_mut().enumerate() {
                let xv = S::load_masked(x.add(s * fan_in + off), m);
                for (a, &wv) in acc.iter_mut().zip(&wv) {
                    *a = S::fma(xv, wv, *a);
                }
            }
        }
        if MS * MO <= S::LANES && (MS * MO).is_power_of_two() {
            let sums = lane_sums::<S, MS, MO>(&acc);
            for s in 0..MS {
                for o in 0..MO {
                    *y.add(s * fan_out + o) = act(sums[s * MO + o] + *b.add(o));
                }
            }
        } else {
            for (s, acc) in acc.iter().enumerate() {
                for (o, &a) in acc.iter().enumerate() {
                    *y.add(s * fan_out + o) = act(S::sum(a) + *b.add(o));
                }
            }
        }
    }
}

/// The sums of the lanes of the `MS · MO` vectors (a power of two, at most
/// `LANES`), row-major: halving trees of [`Simd::pair_sums`], whose every
/// step serves all vectors at once (one horizontal sum per vector would
/// cost about as much each).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn lane_sums<S: Simd, const MS: usize, const MO: usize>(
    acc: &[[S::V; MO]; MS],
) -> [f32; 16] {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut v = [S::zero(); 16];
        for (s, acc) in acc.iter().enumerate() {
            v[s * MO..(s + 1) * MO].copy_from_slice(acc);
        }
        // Each vector holds `count` groups of `LANES / count` lanes in turn.
        let mut count = MS * MO;
        while count > 1 {
            for j in 0..count / 2 {
                v[j] = S::pair_sums(v[2 * j], v[2 * j + 1]);
            }
            count /= 2;
        }
        let mut per = S::LANES / (MS * MO);
        while per > 1 {
            v[0] = S::pair_sums(v[0], v[0]);
            per /= 2;
        }
        let mut out = [0.0f32; 16];
        S::store(out.as_mut_ptr(), v[0]);
        out
    }
}

/// `C[m×cols] (+)= A[m×k] · B[k×cols]` with `A(i, p) = a[i·rsa + p·csa]`,
/// `B` and `C` row-major (row strides `ldb`, `ldc`): tiles of `MR` rows ×
/// `NV` vectors, then 4 and 1 rows for the rest. `a` comes with a gate
/// (null for none) laid out as `a`: `A(i, p)` is then 0 where the gate's
/// element is `<= 0` (a fused `relu`'s mask, applied as `A` is read).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn gemm<S: Simd, const MR: usize, const NV: usize>(
    m: usize,
    cols: usize,
    k: usize,
    (a, gate): (*const f32, *const f32),
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        if gate.is_null() {
            gemm_gated::<S, MR, NV, false>(
                m,
                cols,
                k,
                (a, gate),
                rsa,
                csa,
                b,
                ldb,
                c,
                ldc,
                accumulate,
            )
        } else {
            gemm_gated::<S, MR, NV, true>(
                m,
                cols,
                k,
                (a, gate),
                rsa,
                csa,
                b,
                ldb,
                c,
                ldc,
                accumulate,
            )
        }
    }
}

/// [`gemm`], the gate read when `GATED`.
///
/// # Safety
/// As [`gemm`].
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn gemm_gated<S: Simd, const MR: usize, const NV: usize, const GATED: bool>(
    m: usize,
    cols: usize,
    k: usize,
    (a, gate): (*const f32, *const f32),
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let nr = NV * S::LANES;
        let mut j = 0;
        while j < cols {
            let w = (cols - j).min(nr);
            let (b, c) = (b.add(j), c.add(j));
            let mut i = 0;
            while i + MR <= m {
                let (a, c) = (gated::<GATED>(a, gate, i * rsa), c.add(i * ldc));
                if w == nr {
                    tile::<S, MR, NV, false, GATED>(k, a, rsa, csa, b, ldb, c, ldc, w, accumulate);
                } else {
                    tile::<S, MR, NV, true, GATED>(k, a, rsa, csa, b, ldb, c, ldc, w, accumulate);
                }
                i += MR;
            }
            while i + 4 <= m {
                let (a, c) = (gated::<GATED>(a, gate, i * rsa), c.add(i * ldc));
                tile::<S, 4, NV, true, GATED>(k, a, rsa, csa, b, ldb, c, ldc, w, accumulate);
                i += 4;
            }
            while i < m {
                let (a, c) = (gated::<GATED>(a, gate, i * rsa), c.add(i * ldc));
                tile::<S, 1, NV, true, GATED>(k, a, rsa, csa, b, ldb, c, ldc, w, accumulate);
                i += 1;
            }
            j += nr;
        }
    }
}

/// `a` and its gate moved on by `by` elements (the gate left null unless
/// `GATED`).
///
/// # Safety
/// Both pointers stay within their buffers.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn gated<const GATED: bool>(
    a: *const f32,
    gate: *const f32,
    by: usize,
) -> (*const f32, *const f32) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { (a.add(by), if GATED { gate.add(by) } else { gate }) }
}

/// One `MR × NV·LANES` tile of `C` (the first `w` columns of it when
/// `MASKED`; `A` through its gate when `GATED`).
///
/// # Safety
/// The CPU runs `S`'s instruction set; every pointer is valid
/// for the floats its sizes imply (the entry points of this module
/// check the lengths, and the layer type proves the geometry).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile<S: Simd, const MR: usize, const NV: usize, const MASKED: bool, const GATED: bool>(
    k: usize,
    (a, gate): (*const f32, *const f32),
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    w: usize,
    accumulate: bool,
) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe {
        let mut masks = [S::first(S::LANES); NV];
        if MASKED {
            for (v, m) in masks.iter_mut().enumerate() {
                *m = S::first(w.saturating_sub(v * S::LANES));
            }
        }
        let mut acc = [[S::zero(); NV]; MR];
        for p in 0..k {
            let bp = b.add(p * ldb);
            let mut bv = [S::zero(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                *bv = if MASKED {
                    S::load_masked(bp.add(v * S::LANES), masks[v])
                } else {
                    S::load(bp.add(v * S::LANES))
                };
            }
            let ap = a.add(p * csa);
            for (i, acc) in acc.iter_mut().enumerate() {
                let mut av = *ap.add(i * rsa);
                if GATED {
                    av = scalar::relu_grad(*gate.add(p * csa + i * rsa), av);
                }
                let av = S::splat(av);
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc = S::fma(av, bv, *acc);
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let cp = c.add(i * ldc);
            for (v, &acc) in acc.iter().enumerate() {
                let p = cp.add(v * S::LANES);
                if MASKED {
                    let val = if accumulate {
                        S::add(S::load_masked(p, masks[v]), acc)
                    } else {
                        acc
                    };
                    S::store_masked(p, val, masks[v]);
                } else {
                    let val = if accumulate {
                        S::add(S::load(p), acc)
                    } else {
                        acc
                    };
                    S::store(p, val);
                }
            }
        }
    }
}
