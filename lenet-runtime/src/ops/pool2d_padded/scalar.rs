//! The specification, window by window, over `planes` independent `H`×`W`
//! planes.

/// Max pooling's one tie and NaN rule, shared with
/// [`crate::ops::MaxPool2dLayer`]: padding changes which pixels a window
/// holds, not which of them wins.
pub(super) use crate::ops::max_pool2d::scalar::takes_over;

/// The in-image pixels of output `(r, c)`'s window, in row-major order.
fn window<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
>(
    r: usize,
    c: usize,
) -> impl Iterator<Item = usize> {
    (0..KH).flat_map(move |kr| {
        (0..KW).filter_map(move |kc| {
            let xr = (r * SH + kr) as isize - PH as isize;
            let xc = (c * SW + kc) as isize - PW as isize;
            (xr >= 0 && xc >= 0 && xr < H as isize && xc < W as isize)
                .then(|| xr as usize * W + xc as usize)
        })
    })
}

/// Index in the plane of the first maximum of output `(r, c)`'s window
/// (the padding is −∞ and never wins).
fn argmax<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
>(
    x: &[f32],
    r: usize,
    c: usize,
) -> usize {
    let mut taps = window::<KH, KW, SH, SW, PH, PW, H, W>(r, c);
    let mut best = taps.next().expect("every window holds a pixel");
    for at in taps {
        if takes_over(x[best], x[at]) {
            best = at;
        }
    }
    best
}

/// `y[p, r, c] = max over the window of x[p]`, padding −∞.
pub fn max_forward<
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
        let xp = &x[p * H * W..(p + 1) * H * W];
        for r in 0..HO {
            for c in 0..WO {
                y[(p * HO + r) * WO + c] = xp[argmax::<KH, KW, SH, SW, PH, PW, H, W>(xp, r, c)];
            }
        }
    }
}

/// `dx` is zero but at each window's first maximum, which gets the window's
/// `dy` (added, as windows may overlap).
pub fn max_backward<
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
        let xp = &x[p * H * W..(p + 1) * H * W];
        for r in 0..HO {
            for c in 0..WO {
                let at = argmax::<KH, KW, SH, SW, PH, PW, H, W>(xp, r, c);
                dx[p * H * W + at] += dy[(p * HO + r) * WO + c];
            }
        }
    }
}

/// `y[p, r, c] = (Σ of the window's in-image pixels) / (KH·KW)`.
pub fn avg_forward<
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
        let xp = &x[p * H * W..(p + 1) * H * W];
        for r in 0..HO {
            for c in 0..WO {
                let s: f32 = window::<KH, KW, SH, SW, PH, PW, H, W>(r, c)
                    .map(|at| xp[at])
                    .sum();
                y[(p * HO + r) * WO + c] = s * scale;
            }
        }
    }
}

/// Each in-image pixel of a window gets the window's `dy / (KH·KW)`.
pub fn avg_backward<
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
    dy: &[f32],
    dx: &mut [f32],
) {
    let scale = 1.0 / (KH * KW) as f32;
    dx[..planes * H * W].fill(0.0);
    for p in 0..planes {
        for r in 0..HO {
            for c in 0..WO {
                let g = dy[(p * HO + r) * WO + c] * scale;
                for at in window::<KH, KW, SH, SW, PH, PW, H, W>(r, c) {
                    dx[p * H * W + at] += g;
                }
            }
        }
    }
}
