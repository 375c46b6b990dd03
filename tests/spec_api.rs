//! The SPEC's LeNet-5, used exactly as the SPEC shows it: nothing imported
//! but `lenet`, every generated item reached as an inherent item.

use ndarray::Array4;

lenet::network! {
    /// LeNet-5 as in LeCun et al. 1998.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

fn digits(n: usize) -> (Array4<f32>, Vec<usize>) {
    let x = Array4::from_shape_fn((n, 1, 32, 32), |(i, _, r, c)| {
        ((i * 7 + r * 3 + c) % 11) as f32 / 11.0
    });
    (x, (0..n).map(|i| i % 10).collect())
}

#[test]
fn constants_and_forward() {
    assert_eq!(LeNet5::PARAM_COUNT, 61_706);
    assert_eq!(LeNet5::INPUT_SHAPE, [1, 32, 32]);
    assert_eq!(LeNet5::OUTPUT_SHAPE, [10]);
    let c5 = LeNet5::LAYERS.iter().find(|l| l.name == "fc1").unwrap();
    assert_eq!(c5.params, 48_120);
    let logits = LeNet5::new(0).forward(&[0.5; 32 * 32]);
    assert_eq!(logits.len(), 10);
    assert!(logits.iter().all(|v| v.is_finite()));
}

#[test]
fn a_wrong_batch_shape_is_an_error_not_a_panic() {
    let net = LeNet5::new(0);
    let err = net
        .forward_batch(Array4::zeros((2, 1, 28, 28)).view())
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("1×32×32") && msg.contains("28"), "{msg}");
    let (x, _) = digits(3);
    assert!(net.loss_and_grad(x.view(), &[1, 2]).is_err());
    assert!(net.loss_and_grad(x.view(), &[1, 2, 10]).is_err());
}

#[test]
fn training_step_with_sgd_and_adam_as_the_spec_writes_it() {
    let (x, labels) = digits(16);
    let mut net = LeNet5::new(0);
    let (loss0, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
    let names: Vec<_> = grads
        .named_parameters()
        .map(|(n, s, _)| (n, s.to_vec()))
        .collect();
    assert_eq!(names[0], ("conv1.weight", vec![6, 1, 5, 5]));
    assert_eq!(names[9], ("fc3.bias", vec![10]));

    let mut opt = lenet::optim::Sgd::new(0.01)
        .momentum(0.9)
        .weight_decay(5e-4);
    opt.step(&mut net, &grads);
    let mut adam = lenet::optim::Adam::new(1e-3);
    for _ in 0..20 {
        let (_, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
        adam.step(&mut net, &grads);
    }
    let (loss1, _) = net.loss_and_grad(x.view(), &labels).unwrap();
    assert!(loss1 < loss0, "{loss0} → {loss1}");
}

#[test]
fn weights_round_trip_both_forms() {
    let net = LeNet5::new(4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lenet5.safetensors");
    net.save_safetensors(&path).unwrap();
    assert!(LeNet5::load_safetensors(&path).unwrap() == net);
    let bytes = std::fs::read(&path).unwrap();
    assert!(LeNet5::from_safetensors(&bytes).unwrap() == net);
    // The file's last tensor, in the format's order (by name), is fc3.weight.
    let err = LeNet5::from_safetensors(&bytes[..bytes.len() - 10]).unwrap_err();
    assert!(err.to_string().contains("fc3.weight"), "{err}");

    let raw = net.to_le_bytes();
    assert_eq!(raw.len(), LeNet5::LE_BYTES);
    assert!(LeNet5::from_le_bytes(&raw).unwrap() == net);
}
