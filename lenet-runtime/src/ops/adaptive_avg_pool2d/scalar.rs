//! The specification, over `planes` independent `H`×`W` planes.

/// `y[p] = mean of x[p]`: the plane summed in 16 interleaved partial sums
/// (element `i` into sum `i mod 16`, which the compiler vectorises), the
/// partial sums added pairwise (`s[i] += s[i + 8]`, then 4, 2, 1), divided
/// by `H·W`.
pub fn forward<const H: usize, const W: usize>(planes: usize, x: &[f32], y: &mut [f32]) {
    for p in 0..planes {
        let plane = &x[p * H * W..(p + 1) * H * W];
        let mut acc = [0.0f32; 16];
        let chunks = plane.chunks_exact(16);
        let rest = chunks.remainder();
        for c in chunks {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a += v;
            }
        }
        // The rest as a last chunk of 16, padded with +0: a partial sum
        // starts at +0 and so is never −0, and `s + 0 = s` (the same bits
        // as adding only the rest, in vectors).
        let mut last = [0.0f32; 16];
        last[..rest.len()].copy_from_slice(rest);
        for (a, &v) in acc.iter_mut().zip(&last) {
            *a += v;
        }
        for half in [8, 4, 2, 1] {
            for i in 0..half {
                acc[i] += acc[i + half];
            }
        }
        y[p] = acc[0] / (H * W) as f32;
    }
}

/// `dx[p, ·] = dy[p] / (H·W)`.
pub fn backward<const H: usize, const W: usize>(planes: usize, dy: &[f32], dx: &mut [f32]) {
    for p in 0..planes {
        dx[p * H * W..(p + 1) * H * W].fill(dy[p] / (H * W) as f32);
    }
}
