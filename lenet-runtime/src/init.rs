//! PyTorch's default initialisation with a small deterministic generator.
//!
//! `nn.Conv2d` and `nn.Linear` initialise their weight with
//! `kaiming_uniform_(a = √5)`, which is `U(−1/√fan_in, 1/√fan_in)`, and their
//! bias with the same bound. The numbers drawn here are not PyTorch's stream
//! (that would need its Mersenne Twister and call order) but follow the same
//! distributions, and the same seed always gives the same network.

use core::ops::Range;

/// SplitMix64: a tiny, fast, statistically good 64-bit generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in `0..n` (`n > 0`), without modulo bias worth noticing for
    /// the sizes used here (n ≪ 2⁶⁴).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher–Yates: `i` from the last index down to 1, swapped with a
    /// uniform index in `0..=i`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Fills `params` as PyTorch's default initialisation would: each tensor,
/// given as its range in `params` and its `fan_in`, drawn in turn from
/// `U(−1/√fan_in, 1/√fan_in)`.
pub fn pytorch_default(
    params: &mut [f32],
    tensors: impl IntoIterator<Item = (Range<usize>, usize)>,
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed);
    for (range, fan_in) in tensors {
        let bound = 1.0 / sqrt(fan_in as f32);
        for v in &mut params[range] {
            *v = (rng.next_f32() * 2.0 - 1.0) * bound;
        }
    }
}

/// `√x` for `x ≥ 0` without `std` (Newton's method from the exponent).
fn sqrt(x: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut y = f32::from_bits((x.to_bits() >> 1) + (127 << 22));
    for _ in 0..6 {
        y = 0.5 * (y + x / y);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_is_exact_enough() {
        for &x in &[1.0f32, 2.0, 25.0, 150.0, 400.0, 1e6, 3.7e-3] {
            assert!((sqrt(x) - x.sqrt()).abs() <= x.sqrt() * 1e-6, "{x}");
        }
    }

    #[test]
    fn draws_within_bounds_and_are_deterministic() {
        let specs = || [(0..100, 25)];
        let mut a = [0.0; 100];
        let mut b = [0.0; 100];
        pytorch_default(&mut a, specs(), 7);
        pytorch_default(&mut b, specs(), 7);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| v.abs() <= 0.2));
        let mut c = [0.0; 100];
        pytorch_default(&mut c, specs(), 8);
        assert_ne!(a, c);
        // Roughly uniform: about a quarter of the draws in each quarter.
        let low = a.iter().filter(|v| **v < -0.1).count();
        assert!((10..=40).contains(&low), "{low}");
    }
}
