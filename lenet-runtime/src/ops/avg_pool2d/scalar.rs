//! The specification, over `planes` independent `H`×`W` planes.

/// `y[p, r, c] = mean over the K×K window of x[p]`.
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
    let scale = 1.0 / (K * K) as f32;
    for p in 0..planes {
        for r in 0..HO {
            for c in 0..WO {
                let mut acc = 0.0;
                for kr in 0..K {
                    for kc in 0..K {
                        acc += x[(p * H + r * S + kr) * W + c * S + kc];
                    }
                }
                y[(p * HO + r) * WO + c] = acc * scale;
            }
        }
    }
}

/// Each window spreads `dy / K²` over its inputs.
pub fn backward<
    const K: usize,
    const S: usize,
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
    dx[..planes * H * W].fill(0.0);
    for p in 0..planes {
        for r in 0..HO {
            for c in 0..WO {
                let g = dy[(p * HO + r) * WO + c] * scale;
                for kr in 0..K {
                    for kc in 0..K {
                        dx[(p * H + r * S + kr) * W + c * S + kc] += g;
                    }
                }
            }
        }
    }
}
