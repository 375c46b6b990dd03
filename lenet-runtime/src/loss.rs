//! Softmax cross-entropy, as PyTorch's `F.cross_entropy(logits, labels)`.

use crate::math;

/// Loss of one sample, `−log softmax(logits)[label]`, and its gradient
/// `softmax(logits) − onehot(label)` times `scale`, written to `dlogits`.
///
/// Computed in f64 with the maximum subtracted, so large logits neither
/// overflow nor lose the small probabilities.
pub fn softmax_cross_entropy(logits: &[f32], label: usize, scale: f32, dlogits: &mut [f32]) -> f32 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let mut sum = 0.0f64;
    for (d, &z) in dlogits.iter_mut().zip(logits) {
        let e = math::exp_f64(z as f64 - max);
        *d = e as f32;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (k, d) in dlogits.iter_mut().enumerate() {
        let p = *d as f64 * inv;
        let t = if k == label { 1.0 } else { 0.0 };
        *d = ((p - t) * scale as f64) as f32;
    }
    // The two large terms first: `max + ln(sum)` would lose `ln(sum)` when
    // the logits are large (1e30 + ln 2 == 1e30), as PyTorch does not.
    ((max - logits[label] as f64) + math::ln_f64(sum)) as f32
}

/// Index of the largest logit; the first one on ties (a NaN never wins).
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

/// Softmax probabilities of one set of logits.
pub fn softmax(logits: &[f32], probs: &mut [f32]) {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let mut sum = 0.0f64;
    for (p, &z) in probs.iter_mut().zip(logits) {
        let e = math::exp_f64(z as f64 - max);
        *p = e as f32;
        sum += e;
    }
    for p in probs.iter_mut() {
        *p = (*p as f64 / sum) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition_and_its_gradient() {
        let z = [1.0f32, -2.0, 0.5, 3.0];
        let mut d = [0.0; 4];
        let loss = softmax_cross_entropy(&z, 2, 1.0, &mut d);
        let sum: f64 = z.iter().map(|&v| (v as f64).exp()).sum();
        let want = -((z[2] as f64).exp() / sum).ln();
        assert!((loss as f64 - want).abs() < 1e-6);
        // Finite differences of the loss.
        for k in 0..4 {
            let mut zp = z;
            zp[k] += 1e-3;
            let mut zm = z;
            zm[k] -= 1e-3;
            let mut tmp = [0.0; 4];
            let fd = (softmax_cross_entropy(&zp, 2, 1.0, &mut tmp)
                - softmax_cross_entropy(&zm, 2, 1.0, &mut tmp))
                / 2e-3;
            assert!((fd - d[k]).abs() < 1e-3, "{k}: {fd} vs {}", d[k]);
        }
        // Huge logits stay finite.
        let loss = softmax_cross_entropy(&[1e4, 0.0], 1, 1.0, &mut [0.0; 2]);
        assert!((loss - 1e4).abs() < 1.0);
    }
}
