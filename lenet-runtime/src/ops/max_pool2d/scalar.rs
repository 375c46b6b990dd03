//! The specification, over `planes` independent `H`×`W` planes.

/// Whether `b` replaces the running maximum `m`: when it is larger, or
/// when it is the first NaN. With taps visited in row-major order, the
/// first maximum wins and NaN propagates, as in PyTorch. (`|` and `&`
/// rather than `||` and `&&`, so that vectorised callers get no branch.)
#[inline(always)]
pub fn takes_over(m: f32, b: f32) -> bool {
    (b > m) | (b.is_nan() & !m.is_nan())
}

/// Row-major index within the window of its first maximum.
fn argmax<const K: usize, const S: usize, const H: usize, const W: usize>(
    x: &[f32],
    r: usize,
    c: usize,
) -> usize {
    let mut best = (r * S) * W + c * S;
    for kr in 0..K {
        for kc in 0..K {
            let at = (r * S + kr) * W + c * S + kc;
            if takes_over(x[best], x[at]) {
                best = at;
            }
        }
    }
    best
}

/// `y[p, r, c] = max over the window of x[p]`.
pub fn forward<
    const K: usize,
    const S: usize,
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
        let x = &x[p * H * W..(p + 1) * H * W];
        for r in 0..HO {
            for c in 0..WO {
                y[(p * HO + r) * WO + c] = x[argmax::<K, S, H, W>(x, r, c)];
            }
        }
    }
}

/// `dx` is zero but at each window's first maximum, which gets the
/// window's `dy` (added, as windows may overlap).
pub fn backward<
    const K: usize,
    const S: usize,
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
        let xp = &x[p * H * W..(p + 1) * H * W];
        for r in 0..HO {
            for c in 0..WO {
                let at = argmax::<K, S, H, W>(xp, r, c);
                dx[p * H * W + at] += dy[(p * HO + r) * WO + c];
            }
        }
    }
}
