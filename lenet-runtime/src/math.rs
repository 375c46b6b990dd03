//! `exp`, `tanh` and `sigmoid` without `std`, accurate to f32 rounding.
//!
//! The single-image path is `no_std`, where `f32::exp` does not exist; these
//! compute in f64 by range reduction (`e^x = 2^k · e^r`, `|r| ≤ ln 2 / 2`) and
//! a Taylor polynomial whose truncation error is below 1e-16.

const LN2: f64 = core::f64::consts::LN_2;

/// `e^x` in f64, for `x` in the range where f32 results are finite or zero.
pub fn exp_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    let k = round(x / LN2);
    let r = x - k * LN2;
    // Taylor series to r^13 / 13!: |r| ≤ 0.347, so the remainder < 1e-17.
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut i = 1.0;
    while i < 14.0 {
        term *= r / i;
        sum += term;
        i += 1.0;
    }
    sum * pow2(k as i32)
}

fn round(x: f64) -> f64 {
    let t = x as i64 as f64;
    let d = x - t;
    if d >= 0.5 {
        t + 1.0
    } else if d <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// `2^k` for `k` in `-1100..=1100`, built from the exponent field.
fn pow2(k: i32) -> f64 {
    let mut k = k;
    let mut scale = 1.0;
    while k > 1000 {
        scale *= f64::from_bits(((1023 + 1000) as u64) << 52);
        k -= 1000;
    }
    while k < -1000 {
        scale *= f64::from_bits(((1023 - 1000) as u64) << 52);
        k += 1000;
    }
    scale * f64::from_bits(((1023 + k) as u64) << 52)
}

/// `e^x`.
pub fn exp(x: f32) -> f32 {
    exp_f64(x as f64) as f32
}

/// `tanh(x)`.
pub fn tanh(x: f32) -> f32 {
    let x = x as f64;
    if x.is_nan() {
        return f32::NAN;
    }
    if x.abs() > 20.0 {
        return if x > 0.0 { 1.0 } else { -1.0 };
    }
    if x.abs() < 1e-4 {
        // tanh x = x − x³/3 + …, exact to f32 here.
        return (x - x * x * x / 3.0) as f32;
    }
    let e = exp_f64(2.0 * x);
    ((e - 1.0) / (e + 1.0)) as f32
}

/// `1 / (1 + e^(−x))`.
pub fn sigmoid(x: f32) -> f32 {
    (1.0 / (1.0 + exp_f64(-(x as f64)))) as f32
}

/// Natural logarithm in f64 for `x > 0` (the loss), by `ln x = k ln 2 + ln m`
/// and the series of `atanh`.
pub fn ln_f64(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let bits = x.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if k == -1023 {
        // Subnormal: renormalise.
        let y = x * pow2(100);
        return ln_f64(y) - 100.0 * LN2;
    }
    if m > core::f64::consts::SQRT_2 {
        m /= 2.0;
        k += 1;
    }
    // ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut n = 1.0;
    while n < 40.0 {
        sum += term / n;
        term *= s2;
        n += 2.0;
    }
    2.0 * sum + k as f64 * LN2
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn exp_tanh_sigmoid_ln_match_std() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let e = (x as f64).exp();
            assert!(((exp(x) as f64) - e).abs() <= e * 1e-7, "exp {x}");
            assert!((tanh(x) - x.tanh()).abs() <= 2e-7, "tanh {x}");
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!(((sigmoid(x) as f64) - s).abs() <= 1e-7, "sigmoid {x}");
            x += 0.0173;
        }
        for &v in &[1e-30, 1e-5, 0.3, 1.0, 2.0, 7.5, 1e10, 1e300] {
            let want = f64::ln(v);
            assert!(
                (ln_f64(v) - want).abs() <= 1e-13 * want.abs().max(1.0),
                "ln {v}"
            );
        }
        assert!(ln_f64(5e-320).is_finite());
    }
}
