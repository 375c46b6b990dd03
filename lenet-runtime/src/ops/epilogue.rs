//! What a convolution's kernel does to output channel `o` as it stores it,
//! for inference: `t += bias[o]` (with a bias), then
//! `t = a[o] · (t + s[o]) + k[o]` (an evaluation-mode batch norm, in its own
//! arithmetic: `s = −running_mean`, `a = γ / √(running_var + eps)`,
//! `k = β`), then a clamp (`relu`, `relu6`). The batch norm and the
//! activation after a convolution then cost no pass of their own.
//!
//! [`Epilogue::apply`] is the specification; the kernels apply it to
//! vectors with [`Raw`] (the same operations in the same order, the
//! multiply-add fused as in the batch norm's kernels; the flat depthwise
//! kernel folds it into its weights instead, see `conv2d_general::flat`),
//! and [`apply_in_place`] is a pass over a finished map, for the kernels
//! that store otherwise.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::batch_norm::{eval_coefficients, EvalNorm};
use super::piecewise::Clamp;
#[cfg(target_arch = "x86_64")]
use crate::simd::vector::{Avx2, Avx512, Simd};
use crate::simd::{runnable, Level};

/// The epilogue of every output channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    pub norm: Option<[&'a [f32]; 3]>,
    pub clamp: Clamp,
}

impl<'a> Epilogue<'a> {
    /// Nothing: the sums as they are.
    pub const NONE: Epilogue<'static> = Epilogue {
        bias: None,
        norm: None,
        clamp: Clamp::None,
    };

    /// The epilogue of a convolution with `bias`, then the batch norm `norm`
    /// (its coefficients written to `s` and `a`, one per output channel),
    /// then `clamp`.
    ///
    /// # Panics
    /// If a slice of `norm` holds fewer floats than `s`.
    pub fn for_inference(
        bias: Option<&'a [f32]>,
        norm: Option<EvalNorm<'a>>,
        clamp: Clamp,
        s: &'a mut [f32],
        a: &'a mut [f32],
    ) -> Epilogue<'a> {
        let c = s.len();
        let norm = norm.map(|n| {
            eval_coefficients(n.running_mean, n.running_var, n.gamma, n.eps, s, a);
            [&*s, &*a, &n.beta[..c]]
        });
        Epilogue { bias, norm, clamp }
    }

    /// Whether every slice holds `m` floats.
    pub fn covers(&self, m: usize) -> bool {
        self.bias.is_none_or(|b| b.len() >= m)
            && self.norm.is_none_or(|n| n.iter().all(|v| v.len() >= m))
    }

    /// The specification, over the values `row` of output channel `o`.
    pub fn apply(&self, o: usize, row: &mut [f32]) {
        let (lo, hi) = self.clamp.bounds();
        for t in row {
            let mut v = *t;
            if let Some(b) = self.bias {
                v += b[o];
            }
            if let Some([s, a, k]) = self.norm {
                v = a[o] * (v + s[o]) + k[o];
            }
            *t = v.clamp(lo, hi);
        }
    }

    /// This epilogue without its bias (for a kernel that adds it itself).
    pub fn without_bias(self) -> Epilogue<'a> {
        Epilogue { bias: None, ..self }
    }

    /// Whether it changes nothing.
    pub fn is_none(&self) -> bool {
        self.bias.is_none() && self.norm.is_none() && self.clamp == Clamp::None
    }
}

/// An epilogue as the kernels read it: null pointers for what is absent.
#[derive(Clone, Copy)]
pub(crate) struct Raw {
    bias: *const f32,
    s: *const f32,
    a: *const f32,
    k: *const f32,
    lo: f32,
    hi: f32,
}

impl Raw {
    pub fn new(epi: &Epilogue) -> Raw {
        let null = core::ptr::null();
        let (lo, hi) = epi.clamp.bounds();
        let [s, a, k] = epi.norm.map_or([null; 3], |n| n.map(<[f32]>::as_ptr));
        Raw {
            bias: epi.bias.map_or(null, <[f32]>::as_ptr),
            s,
            a,
            k,
            lo,
            hi,
        }
    }

    /// The clamp's lower bound.
    pub fn lo(&self) -> f32 {
        self.lo
    }

    /// The clamp's upper bound.
    pub fn hi(&self) -> f32 {
        self.hi
    }

    /// Channel `o`'s bias, `s`, `a` and `k` (0, 0, 1, 0 where absent).
    ///
    /// # Safety
    /// The epilogue this was made from covers channel `o`
    /// ([`Epilogue::covers`]) and is still borrowed.
    pub unsafe fn scalars(&self, o: usize) -> (f32, f32, f32, f32) {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let bias = if self.bias.is_null() {
                0.0
            } else {
                *self.bias.add(o)
            };
            if self.a.is_null() {
                (bias, 0.0, 1.0, 0.0)
            } else {
                (bias, *self.s.add(o), *self.a.add(o), *self.k.add(o))
            }
        }
    }

    /// Channel `o`'s epilogue in vectors.
    ///
    /// # Safety
    /// The CPU runs `S`'s instruction set; the epilogue this was made from
    /// covers channel `o` ([`Epilogue::covers`]) and is still borrowed.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub unsafe fn channel<S: Simd>(&self, o: usize) -> Channel<S> {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            Channel {
                bias: (!self.bias.is_null()).then(|| S::splat(*self.bias.add(o))),
                norm: (!self.a.is_null()).then(|| {
                    (
                        S::splat(*self.s.add(o)),
                        S::splat(*self.a.add(o)),
                        S::splat(*self.k.add(o)),
                    )
                }),
                lo: S::splat(self.lo),
                hi: S::splat(self.hi),
            }
        }
    }
}

/// One output channel's epilogue, in vectors.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Channel<S: Simd> {
    bias: Option<S::V>,
    norm: Option<(S::V, S::V, S::V)>,
    lo: S::V,
    hi: S::V,
}

#[cfg(target_arch = "x86_64")]
impl<S: Simd> Channel<S> {
    /// The epilogue of the sums `t`.
    ///
    /// # Safety
    /// The CPU runs `S`'s instruction set.
    #[inline(always)]
    pub unsafe fn apply(&self, t: S::V) -> S::V {
        // SAFETY: the caller keeps this function's contract (`# Safety`).
        unsafe {
            let mut t = t;
            if let Some(b) = self.bias {
                t = S::add(t, b);
            }
            if let Some((s, a, k)) = self.norm {
                t = S::fma(a, S::add(t, s), k);
            }
            S::min(self.hi, S::max(self.lo, t))
        }
    }
}

/// The epilogue over `y`, whole images of `c` channels of `hw` values, in
/// place, with the kernels of `level`.
///
/// # Panics
/// If `y` does not hold whole images or the epilogue holds fewer than `c`
/// floats.
pub(crate) fn apply_in_place(level: Level, epi: &Epilogue, c: usize, hw: usize, y: &mut [f32]) {
    assert!(
        c > 0 && hw > 0 && y.len().is_multiple_of(c * hw) && epi.covers(c),
        "epilogue: {} floats for {c} channels of {hw}",
        y.len()
    );
    if epi.is_none() {
        return;
    }
    let raw = Raw::new(epi);
    match runnable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX-512F (`runnable`); the sizes are checked above.
        Level::Avx512 => unsafe { in_place_avx512(&raw, c, hw, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU runs AVX2 and FMA (`runnable`); as above.
        Level::Avx2 => unsafe { in_place_avx2(&raw, c, hw, y) },
        _ => {
            for (j, plane) in y.chunks_exact_mut(hw).enumerate() {
                epi.apply(j % c, plane);
            }
        }
    }
}

/// # Safety
/// The CPU runs AVX-512F; `raw` covers `c` channels; `y` holds whole images.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn in_place_avx512(raw: &Raw, c: usize, hw: usize, y: &mut [f32]) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { in_place::<Avx512>(raw, c, hw, y) }
}

/// # Safety
/// The CPU runs AVX2 and FMA; `raw` covers `c` channels; `y` holds whole
/// images.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn in_place_avx2(raw: &Raw, c: usize, hw: usize, y: &mut [f32]) {
    // SAFETY: the caller keeps this function's contract (`# Safety`).
    unsafe { in_place::<Avx2>(raw, c, hw, y) }
}

/// # Safety
/// As [`in_place_avx512`], for `S`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn in_place<S: Simd>(raw: &Raw, c: usize, hw: usize, y: &mut [f32]) {
    // SAFETY: the caller keeps this function's contract (`# Safety`): plane
    // `j` is `hw` floats of `y`, each vector masked to it.
    unsafe {
        for (j, plane) in y.chunks_exact_mut(hw).enumerate() {
            let ch = raw.channel::<S>(j % c);
            let p = plane.as_mut_ptr();
            let mut q = 0;
            while q < hw {
                let m = S::first(hw - q);
                S::store_masked(p.add(q), ch.apply(S::load_masked(p.add(q), m)), m);
                q += S::LANES;
            }
        }
    }
}
