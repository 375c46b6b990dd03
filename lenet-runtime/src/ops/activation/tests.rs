//! The activation kernels against their scalar specifications at every
//! level this CPU runs, including NaN, signed zeros and every tail length.

use proptest::prelude::*;

use super::{scalar, ReluLayer};
use crate::ops::layer::Layer;
use crate::ops::test_support::{levels, Rng};

fn check(seed: u64, len: usize) {
    let mut rng = Rng::new(seed);
    let mut x = rng.vec(len);
    for (j, v) in x.iter_mut().enumerate() {
        match j % 11 {
            3 => *v = 0.0,
            5 => *v = -0.0,
            7 => *v = f32::NAN,
            _ => {}
        }
    }
    let dy = rng.vec(len);
    let mut y = vec![0.0; len];
    scalar::relu(&x, &mut y);
    let mut dx = vec![0.0; len];
    scalar::relu_backward(&y, &dy, &mut dx);
    for level in levels("relu") {
        let mut got = vec![f32::NAN; len];
        <ReluLayer<1> as Layer>::forward_at(level, &[], &[], &x, &mut got);
        assert_eq!(bits(&got), bits(&y), "{level:?} relu of {len}");
        let mut got = vec![f32::NAN; len];
        <ReluLayer<1> as Layer>::backward_at(
            level,
            &[],
            &[],
            &y,
            &dy,
            Some(&mut got),
            &mut [],
            &mut [],
        );
        assert_eq!(bits(&got), bits(&dx), "{level:?} relu backward of {len}");
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #[test]
    fn relu_matches_the_specification(seed in any::<u64>(), len in 0usize..200) {
        check(seed, len);
    }
}

#[test]
fn relu_of_lenet_sizes() {
    for len in [4704, 1600, 120, 84, 64 * 4704] {
        check(len as u64, len);
    }
}
