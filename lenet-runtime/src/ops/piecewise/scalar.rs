//! The specification, as PyTorch's CPU kernels write it. Always inlined:
//! the kernels compile these very loops per instruction set.

/// `y = x` where `x > 0`, else `x · slope`.
#[inline(always)]
pub fn leaky_relu(slope: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = if x > 0.0 { x } else { x * slope };
    }
}

/// `dx = dy` where `gate > 0`, else `dy · slope` (`gate` is `x`, or `y` when
/// the slope is not negative: the same cases).
#[inline(always)]
pub fn leaky_relu_backward(slope: f32, gate: &[f32], dy: &[f32], dx: &mut [f32]) {
    for ((dx, &g), &dy) in dx.iter_mut().zip(gate).zip(dy) {
        *dx = if g > 0.0 { dy } else { dy * slope };
    }
}

/// `y = 0` where `x < 0`, `6` where `x > 6`, else `x` (NaN and `−0` pass).
#[inline(always)]
pub fn relu6(x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        // `clamp` is `x < 0 ? 0 : x > 6 ? 6 : x`, NaN and −0 passing through.
        *y = x.clamp(0.0, 6.0);
    }
}

/// `dx = 0` where `y ≤ 0` or `y ≥ 6`, else `dy` (NaN passes `dy`).
#[inline(always)]
pub fn relu6_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
        *dx = if y <= 0.0 || y >= 6.0 { 0.0 } else { dy };
    }
}
