//! A convolution declared with `bias = false` must give what the same layer
//! with a zero bias gives, forward and backward, and have no `bias` tensor
//! (both run as a matrix product, one with a bias in its epilogue).

use ndarray::Array4;

lenet::network! {
    struct WithoutBias {
        input: [2, 9, 9],
        conv1: Conv2d(2, 4, 3, stride = 2, padding = 1, bias = false),
        relu,
        conv2: Conv2d(4, 3, 1, bias = false),
        flatten,
        fc: Linear(3 * 5 * 5, 3),
    }
}

lenet::network! {
    struct WithBias {
        input: [2, 9, 9],
        conv1: Conv2d(2, 4, 3, stride = 2, padding = 1),
        relu,
        conv2: Conv2d(4, 3, 1),
        flatten,
        fc: Linear(3 * 5 * 5, 3),
    }
}

/// Equal up to rounding (the parameters lie at other offsets, which may
/// change the kernels' order of summation).
fn close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
            "{what}[{k}]: {x} vs {y}"
        );
    }
}

/// `WithBias` holding `net`'s weights and zero biases.
fn with_zero_bias(net: &WithoutBias) -> WithBias {
    let mut twin = WithBias::zeros();
    for (name, _, values) in net.named_parameters() {
        let spec = WithBias::PARAMS.iter().find(|p| p.name == name).unwrap();
        twin.parameters_mut()[spec.offset..spec.offset + spec.len].copy_from_slice(values);
    }
    twin
}

#[test]
fn bias_free_layers_have_no_bias_tensor() {
    let names: Vec<&str> = WithoutBias::PARAMS.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["conv1.weight", "conv2.weight", "fc.weight", "fc.bias"]
    );
    assert_eq!(WithoutBias::PARAM_COUNT, 72 + 12 + 75 * 3 + 3);
}

#[test]
fn a_bias_free_convolution_is_one_with_a_zero_bias() {
    let net = WithoutBias::new(7);
    let twin = with_zero_bias(&net);
    let x = Array4::from_shape_fn((5, 2, 9, 9), |(n, c, h, w)| {
        ((n * 7 + c * 5 + h * 3 + w) % 11) as f32 / 5.0 - 1.0
    });
    let single: &[f32; 162] = x.as_slice().unwrap()[..162].try_into().unwrap();
    close("forward", &net.forward(single), &twin.forward(single));
    close(
        "forward_batch",
        net.forward_batch(x.view()).unwrap().as_slice().unwrap(),
        twin.forward_batch(x.view()).unwrap().as_slice().unwrap(),
    );
    let labels = [0, 1, 2, 1, 0];
    let (loss, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
    let (twin_loss, twin_grads) = twin.loss_and_grad(x.view(), &labels).unwrap();
    close("loss", &[loss], &[twin_loss]);
    for (name, _, g) in grads.named_parameters() {
        close(name, g, twin_grads.parameter(name).unwrap());
    }
}
