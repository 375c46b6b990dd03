//! DropoutLayer's mask: the same bits at every level and for every cut of the
//! batch, the rate `p`, the scale, backward's mask equal to forward's, and
//! the identity in evaluation.

use proptest::prelude::*;

use super::{scalar, DropoutLayer};
use crate::ops::test_support::{levels, Rng};
use crate::ops::Layer;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

const N: usize = 37;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn mask_is_the_same_at_every_level_and_for_every_chunking(
        seed in any::<u64>(), n in 1usize..12, p in 0.0f32..0.95, chunk in 1usize..12,
    ) {
        let x = Rng::new(seed).vec(n * N);
        // The specification, image by image.
        let mut want = vec![0.0; x.len()];
        for i in 0..n {
            let key = scalar::image_key(seed, i);
            scalar::apply(p, key, &x[i * N..(i + 1) * N], &mut want[i * N..(i + 1) * N]);
        }
        for level in levels("dropout") {
            let mut got = vec![f32::NAN; x.len()];
            for (k, (xc, yc)) in x.chunks(chunk * N).zip(got.chunks_mut(chunk * N)).enumerate() {
                DropoutLayer::<N>::forward_train_at(level, p, seed, k * chunk, xc, yc);
            }
            prop_assert_eq!(bits(&got), bits(&want), "{:?}, chunks of {}", level, chunk);
            // Backward applies the same mask.
            let dy = Rng::new(!seed).vec(x.len());
            let mut dx = vec![f32::NAN; x.len()];
            DropoutLayer::<N>::backward_train_at(level, p, seed, 0, &dy, &mut dx);
            for j in 0..x.len() {
                let kept = DropoutLayer::<N>::keeps(p, seed, j / N, j % N);
                if x[j] != 0.0 {
                    prop_assert_eq!(kept, want[j] != 0.0);
                }
                let m = if kept { scalar::scale(p) } else { 0.0 };
                prop_assert_eq!(dx[j].to_bits(), (dy[j] * m).to_bits());
            }
        }
    }
}

#[test]
fn drops_at_rate_p_and_scales_the_rest() {
    let x = vec![1.0f32; 1 << 16];
    for p in [0.0f32, 0.1, 0.25, 0.5, 0.8] {
        let mut y = vec![0.0; x.len()];
        DropoutLayer::<{ 1 << 12 }>::forward_train(p, 42, 0, &x, &mut y);
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        // 4.5 standard deviations of a binomial proportion.
        let sd = (p as f64 * (1.0 - p as f64) / y.len() as f64).sqrt();
        assert!(
            (kept - (1.0 - p as f64)).abs() <= 4.5 * sd + 1e-12,
            "p = {p}: kept {kept}"
        );
        assert!(
            y.iter().all(|&v| v == 0.0 || v == 1.0 / (1.0 - p)),
            "p = {p}"
        );
    }
}

#[test]
fn seeds_differ_by_layer_and_step_and_masks_by_seed() {
    let s = DropoutLayer::<8>::seed(1, 0, 0);
    assert_ne!(s, DropoutLayer::<8>::seed(1, 0, 1));
    assert_ne!(s, DropoutLayer::<8>::seed(1, 1, 0));
    assert_ne!(s, DropoutLayer::<8>::seed(2, 0, 0));
    let x = vec![1.0f32; 256];
    let (mut a, mut b) = (vec![0.0; 256], vec![0.0; 256]);
    DropoutLayer::<256>::forward_train(0.5, s, 0, &x, &mut a);
    DropoutLayer::<256>::forward_train(0.5, DropoutLayer::<8>::seed(1, 1, 0), 0, &x, &mut b);
    assert_ne!(a, b);
    // Images of a batch get different masks.
    DropoutLayer::<128>::forward_train(0.5, s, 0, &x, &mut a);
    assert_ne!(a[..128], a[128..]);
}

#[test]
fn identity_in_evaluation_and_nan_as_pytorch() {
    let x = [1.0, f32::NAN, -3.0];
    let mut y = [0.0; 3];
    DropoutLayer::<3>::forward(&[], &[], &x, &mut y);
    assert_eq!(bits(&y), bits(&x));
    // A dropped NaN stays NaN (x · 0), as `input * mask` in PyTorch.
    let x = vec![f32::NAN; 64];
    let mut y = vec![0.0; 64];
    DropoutLayer::<64>::forward_train(0.5, 3, 0, &x, &mut y);
    assert!(y.iter().all(|v| v.is_nan()));
}
