//! Training on real digits: the loss falls and the accuracy rises.

use std::path::Path;

use lenet::data::{load_dir, MNIST_MEAN, MNIST_STD};
use lenet::optim::Adam;
use lenet::train::{evaluate, train, transform_for, TrainConfig};

lenet::network! {
    /// LeNet-5 with max pooling, as the binary trains it.
    struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: MaxPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

#[test]
fn loss_falls_and_accuracy_rises_on_bundled_digits() {
    let mut split = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    split.train.truncate(400);
    split.test.truncate(400);
    let transform = transform_for::<LeNet5>(&split.train, MNIST_MEAN, MNIST_STD).unwrap();

    let mut net = LeNet5::new(1);
    let before = evaluate(&net, &split.test, &transform).unwrap().accuracy();
    let mut opt = Adam::new(2e-3);
    let config = TrainConfig {
        epochs: 4,
        batch_size: 16,
        seed: 5,
        ..TrainConfig::default()
    };
    let epochs = train(
        &mut net,
        &mut opt,
        &split.train,
        &transform,
        &config,
        |_| {},
    )
    .unwrap();
    let after = evaluate(&net, &split.test, &transform).unwrap().accuracy();

    let first = epochs.first().unwrap().mean_loss;
    let last = epochs.last().unwrap().mean_loss;
    assert!(
        last < 0.5 * first,
        "mean training loss went from {first} to {last}"
    );
    assert!(
        before < 0.3,
        "an untrained network is at chance, not {before}"
    );
    assert!(
        after > 0.8,
        "400 digits × 4 epochs should reach 80 % on held-out digits, got {after}"
    );
}

#[test]
fn same_seed_and_threads_give_bit_identical_weights() {
    let mut split = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    split.train.truncate(96);
    let transform = transform_for::<LeNet5>(&split.train, MNIST_MEAN, MNIST_STD).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut net = LeNet5::new(9);
            let mut opt = lenet::optim::Sgd::new(0.05)
                .momentum(0.9)
                .weight_decay(5e-4);
            let config = TrainConfig {
                epochs: 1,
                batch_size: 32,
                seed: 11,
                ..TrainConfig::default()
            };
            train(
                &mut net,
                &mut opt,
                &split.train,
                &transform,
                &config,
                |_| {},
            )
            .unwrap();
            net.parameters().to_vec()
        })
    };
    let a = run(2);
    let b = run(2);
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    let c = run(1);
    let d = run(1);
    assert!(c.iter().zip(&d).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(a.iter().all(|v| v.is_finite()));
    assert!(
        a != LeNet5::new(9).parameters(),
        "training changed the weights"
    );
}
