//! The training loop and evaluation, on the bundled digits with a
//! hand-written softmax-regression network.

mod linear_model;

use std::path::Path;

use lenet_runtime::data::{load_dir, Dataset, Split, Transform, MNIST_MEAN, MNIST_STD};
use lenet_runtime::network::{init, Network};
use lenet_runtime::optim::{Adam, Sgd};
use lenet_runtime::train::{argmax, evaluate, train, transform_for, Event, Schedule, TrainConfig};
use linear_model::{Padded, Tiny};

fn digits() -> Split {
    load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")).unwrap()
}

fn small_train(split: &Split, n: usize) -> Dataset {
    let mut d = split.train.clone();
    d.truncate(n);
    d
}

#[test]
fn softmax_regression_learns_the_digits() {
    let split = digits();
    let data = small_train(&split, 3000);
    let t = transform_for::<Padded>(&data, MNIST_MEAN, MNIST_STD).unwrap();
    let mut net: Padded = init(1);
    let before = evaluate(&net, &split.test, &t).unwrap();
    let mut opt = Sgd::new(0.01).momentum(0.9);
    let config = TrainConfig {
        epochs: 2,
        batch_size: 32,
        seed: 7,
        schedule: Schedule::Cosine,
    };
    let epochs = train(&mut net, &mut opt, &data, &t, &config, |_| {}).unwrap();
    let after = evaluate(&net, &split.test, &t).unwrap();
    assert!(before.accuracy() < 0.3, "{before:?}");
    assert!(after.accuracy() > 0.85, "{after:?}");
    assert!(after.mean_loss < before.mean_loss);
    assert!(epochs[1].mean_loss < epochs[0].mean_loss, "{epochs:?}");
    assert!(epochs[1].accuracy > 0.85, "{epochs:?}");
}

#[test]
fn same_seed_same_network_other_seed_other_network() {
    let split = digits();
    let data = small_train(&split, 500);
    let t = transform_for::<Padded>(&data, MNIST_MEAN, MNIST_STD).unwrap();
    let run = |seed| {
        let mut net: Padded = init(3);
        let config = TrainConfig {
            epochs: 2,
            batch_size: 50,
            seed,
            ..TrainConfig::default()
        };
        train(&mut net, &mut Adam::new(1e-3), &data, &t, &config, |_| {}).unwrap();
        net
    };
    let (a, b, c) = (run(11), run(11), run(12));
    assert!(a
        .p
        .iter()
        .zip(&b.p)
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_ne!(a, c);
}

#[test]
fn events_come_in_order_with_consistent_counts() {
    let split = digits();
    let data = small_train(&split, 100);
    let t = transform_for::<Padded>(&data, 0.0, 1.0).unwrap();
    let mut net: Padded = init(0);
    let config = TrainConfig {
        epochs: 2,
        batch_size: 32,
        seed: 0,
        ..TrainConfig::default()
    };
    let mut log = Vec::new();
    train(&mut net, &mut Sgd::new(0.01), &data, &t, &config, |e| {
        log.push(match e {
            Event::EpochStart {
                epoch,
                epochs,
                batches,
            } => format!("start {epoch}/{epochs} {batches}"),
            Event::Batch(s) => {
                assert!(s.images_per_sec > 0.0 && (0.0..=1.0).contains(&s.accuracy));
                format!("batch {}.{}/{} {}", s.epoch, s.batch, s.batches, s.images)
            }
            Event::EpochEnd { stats, net } => {
                assert_eq!(net.parameters().len(), Padded::PARAM_COUNT);
                format!("end {} {}", stats.epoch, stats.images)
            }
        })
    })
    .unwrap();
    let want = [
        "start 1/2 4",
        "batch 1.1/4 32",
        "batch 1.2/4 64",
        "batch 1.3/4 96",
        "batch 1.4/4 100",
        "end 1 100",
        "start 2/2 4",
        "batch 2.1/4 32",
        "batch 2.2/4 64",
        "batch 2.3/4 96",
        "batch 2.4/4 100",
        "end 2 100",
    ];
    assert_eq!(log, want);
}

#[test]
fn a_zero_network_predicts_class_zero_with_loss_ln_10() {
    let split = digits();
    let t = transform_for::<Padded>(&split.test, MNIST_MEAN, MNIST_STD).unwrap();
    let e = evaluate(&Padded::zeros(), &split.test, &t).unwrap();
    assert_eq!((e.correct, e.total), (200, 2000));
    assert!((e.mean_loss - 10f64.ln()).abs() < 1e-5, "{e:?}");
}

#[test]
fn misfits_are_errors_not_panics() {
    let split = digits();
    let data = small_train(&split, 10);
    let e = transform_for::<Tiny>(&data, 0.0, 1.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("28×28") && e.contains("1×3"), "{e}");
    let t = Transform::new(28, 28).pad_to(32, 32);
    let mut net: Padded = init(0);
    let zero = TrainConfig {
        batch_size: 0,
        ..TrainConfig::default()
    };
    let e = train(&mut net, &mut Sgd::new(0.1), &data, &t, &zero, |_| {}).unwrap_err();
    assert!(e.to_string().contains("batch size"), "{e}");
    let wrong = Transform::new(28, 28);
    assert!(evaluate(&net, &data, &wrong).is_err());
    let mut empty = data.clone();
    empty.truncate(0);
    assert!(train(
        &mut net,
        &mut Sgd::new(0.1),
        &empty,
        &t,
        &TrainConfig::default(),
        |_| {}
    )
    .is_err());
}

#[test]
fn divergence_is_reported() {
    let split = digits();
    let data = small_train(&split, 64);
    let t = transform_for::<Padded>(&data, 0.0, 1.0).unwrap();
    let mut net: Padded = init(0);
    let config = TrainConfig {
        epochs: 5,
        batch_size: 8,
        seed: 0,
        ..TrainConfig::default()
    };
    let e = train(&mut net, &mut Sgd::new(1e38), &data, &t, &config, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("diverged") && e.contains("lower learning rate"),
        "{e}"
    );
}

#[test]
fn cosine_schedule_anneals_to_zero_and_restores_the_rate() {
    let s = Schedule::Cosine;
    assert_eq!(s.lr(0.1, 0, 100), 0.1);
    assert!((s.lr(0.1, 50, 100) - 0.05).abs() < 1e-12);
    assert!(s.lr(0.1, 99, 100) < 1e-4);
    assert_eq!(Schedule::Constant.lr(0.1, 99, 100), 0.1);
    // The loop applies it step by step and leaves the optimiser's rate as found.
    let split = digits();
    let data = small_train(&split, 64);
    let t = transform_for::<Padded>(&data, 0.0, 1.0).unwrap();
    let mut net: Padded = init(0);
    let mut opt = Sgd::new(0.05);
    let config = TrainConfig {
        epochs: 1,
        batch_size: 32,
        seed: 0,
        schedule: Schedule::Cosine,
    };
    train(&mut net, &mut opt, &data, &t, &config, |_| {}).unwrap();
    assert_eq!(lenet_runtime::optim::Optimizer::lr(&opt), 0.05);
}

#[test]
fn one_full_batch_step_is_loss_and_grad_then_sgd() {
    let split = digits();
    let data = small_train(&split, 64);
    let t = transform_for::<Padded>(&data, MNIST_MEAN, MNIST_STD).unwrap();
    let start: Padded = init(4);
    let mut net = start.clone();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 64,
        ..TrainConfig::default()
    };
    let stats = train(&mut net, &mut Sgd::new(0.5), &data, &t, &config, |_| {}).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    t.batch(&data, &(0..64).collect::<Vec<_>>(), &mut x, &mut y);
    let images = ndarray::ArrayView4::from_shape((64, 1, 32, 32), &x).unwrap();
    let (loss, grads) = lenet_runtime::batch::loss_and_grad(&start, images, &y).unwrap();
    // The loop shuffles the batch, so sums differ only by rounding.
    assert!(
        (stats[0].mean_loss - loss as f64).abs() < 1e-5,
        "{stats:?} vs {loss}"
    );
    for ((p, p0), g) in net.p.iter().zip(&start.p).zip(&grads.p) {
        assert!((p - (p0 - 0.5 * g)).abs() < 1e-5, "{p} vs {p0} - 0.5·{g}");
    }
    assert_ne!(net, start);
}

#[test]
fn argmax_takes_the_first_maximum() {
    assert_eq!(argmax(&[0.0, 3.0, 3.0, 1.0]), 1);
    assert_eq!(argmax(&[-1.0]), 0);
}
