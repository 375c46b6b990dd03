//! The specification, over `planes` independent `H`×`W` planes.

/// `y[p] = mean of x[p]`.
pub fn forward<const H: usize, const W: usize>(planes: usize, x: &[f32], y: &mut [f32]) {
    for p in 0..planes {
        let sum: f32 = x[p * H * W..(p + 1) * H * W].iter().sum();
        y[p] = sum / (H * W) as f32;
    }
}

/// `dx[p, ·] = dy[p] / (H·W)`.
pub fn backward<const H: usize, const W: usize>(planes: usize, dy: &[f32], dx: &mut [f32]) {
    for p in 0..planes {
        dx[p * H * W..(p + 1) * H * W].fill(dy[p] / (H * W) as f32);
    }
}
