//! The piecewise activations at every level against the specification,
//! bit for bit, with NaN, signed zeros, infinities, the kinks (0 and 6) and
//! every tail length; and PyTorch's results on the special values.

use proptest::prelude::*;

use super::{scalar, LeakyReluLayer, Relu6Layer};
use crate::ops::test_support::{levels, Rng};
use crate::ops::Layer;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn input(seed: u64, len: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut x: Vec<f32> = rng.vec(len).iter().map(|v| 8.0 * v).collect();
    for (j, v) in x.iter_mut().enumerate() {
        match j % 13 {
            1 => *v = 0.0,
            3 => *v = -0.0,
            5 => *v = f32::NAN,
            7 => *v = 6.0,
            9 => *v = f32::INFINITY,
            11 => *v = f32::NEG_INFINITY,
            _ => {}
        }
    }
    x
}

/// One layer `L` against the specification's `forward` and `backward`.
fn check<L: Layer>(
    op: &'static str,
    x: &[f32],
    dy: &[f32],
    forward: impl Fn(&[f32], &mut [f32]),
    backward: impl Fn(&[f32], &[f32], &[f32], &mut [f32]),
) {
    let mut y = vec![0.0; x.len()];
    forward(x, &mut y);
    let mut dx = vec![0.0; x.len()];
    backward(x, &y, dy, &mut dx);
    for level in levels(op) {
        let mut got = vec![f32::NAN; x.len()];
        L::forward_at(level, &[], &[], x, &mut got);
        assert_eq!(bits(&got), bits(&y), "{level:?} {op} of {}", x.len());
        let mut got = vec![f32::NAN; x.len()];
        L::backward_at(level, &[], x, &y, dy, Some(&mut got), &mut [], &mut []);
        assert_eq!(
            bits(&got),
            bits(&dx),
            "{level:?} {op} backward of {}",
            x.len()
        );
    }
}

fn check_all(seed: u64, len: usize) {
    let x = input(seed, len);
    let dy = Rng::new(!seed).vec(len);
    // 0.01, PyTorch's default; 0.2; and a negative slope (backward on x).
    check::<LeakyReluLayer<1, 0x3c23_d70a>>(
        "leaky_relu",
        &x,
        &dy,
        |x, y| scalar::leaky_relu(0.01, x, y),
        |x, _, dy, dx| scalar::leaky_relu_backward(0.01, x, dy, dx),
    );
    check::<LeakyReluLayer<1, 0x3e4c_cccd>>(
        "leaky_relu",
        &x,
        &dy,
        |x, y| scalar::leaky_relu(0.2, x, y),
        |x, _, dy, dx| scalar::leaky_relu_backward(0.2, x, dy, dx),
    );
    check::<LeakyReluLayer<1, 0xbf00_0000>>(
        "leaky_relu",
        &x,
        &dy,
        |x, y| scalar::leaky_relu(-0.5, x, y),
        |x, _, dy, dx| scalar::leaky_relu_backward(-0.5, x, dy, dx),
    );
    check::<Relu6Layer<1>>("relu6", &x, &dy, scalar::relu6, |_, y, dy, dx| {
        scalar::relu6_backward(y, dy, dx)
    });
}

proptest! {
    #[test]
    fn piecewise_activations_match_the_specification(seed in any::<u64>(), len in 0usize..200) {
        check_all(seed, len);
    }
}

#[test]
fn piecewise_activations_of_large_sizes() {
    for len in [4704, 1600, 64 * 1024 + 3] {
        check_all(len as u64, len);
    }
}

/// The values PyTorch 2 prints for
/// `[nan, -1, 0, 3, 6, 7, inf, -inf, -0.0]` (forward, and backward with
/// `dy = 1`).
#[test]
fn nan_and_kinks_as_pytorch() {
    let x = [
        f32::NAN,
        -1.0,
        0.0,
        3.0,
        6.0,
        7.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
    ];
    let dy = [1.0; 9];
    let (mut y, mut dx) = ([0.0; 9], [0.0; 9]);
    type Leaky = LeakyReluLayer<9, 0x3c23_d70a>;
    assert_eq!(Leaky::SLOPE, 0.01);
    Leaky::forward(&[], &[], &x, &mut y);
    Leaky::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    assert!(y[0].is_nan());
    assert_eq!(
        bits(&y[1..]),
        bits(&[
            -0.01,
            0.0,
            3.0,
            6.0,
            7.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0
        ])
    );
    assert_eq!(dx, [0.01, 0.01, 0.01, 1.0, 1.0, 1.0, 1.0, 0.01, 0.01]);

    Relu6Layer::<9>::forward(&[], &[], &x, &mut y);
    Relu6Layer::<9>::backward(&[], &x, &y, &dy, Some(&mut dx), &mut [], &mut []);
    assert!(y[0].is_nan());
    assert_eq!(
        bits(&y[1..]),
        bits(&[0.0, 0.0, 3.0, 6.0, 6.0, 6.0, 0.0, -0.0])
    );
    assert_eq!(dx, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}
