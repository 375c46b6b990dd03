//! A network of MobileNetV1-0.25's size (about 214k parameters) builds,
//! runs `forward` and trains a step on a thread with a 2 MiB stack: the
//! parameters live on the heap and no value of their size moves through
//! the stack (`new`, `zeros`, `clone`, `from_safetensors`, `loss_and_grad`).

use lenet::optim::Sgd;
use ndarray::Array4;

lenet::network! {
    /// About MobileNetV1-0.25's parameter count on 96×96×3, from the
    /// layers the DSL has: a few convolutions and one large `Linear`.
    struct Large {
        input: [3, 96, 96],
        conv1: Conv2d(3, 8, 3, stride = 2, padding = 1),
        relu,
        conv2: Conv2d(8, 16, 3, stride = 2, padding = 1),
        relu,
        conv3: Conv2d(16, 32, 3, stride = 2, padding = 1),
        relu,
        pool: MaxPool2d(2),
        flatten,
        fc1: Linear(32 * 6 * 6, 180),
        relu,
        fc2: Linear(180, 10),
    }
}

fn run() {
    assert_eq!(Large::PARAM_COUNT, 215_382);
    let mut net = Large::new(3);
    let copy = net.clone();
    assert_eq!(copy, net);
    let zeros = Large::zeros();
    assert!(zeros.parameters().iter().all(|&v| v == 0.0));

    let x = [0.25f32; 3 * 96 * 96];
    let y = net.forward(&x);
    assert!(y.iter().all(|v| v.is_finite()));
    // The view over the same parameters gives the same bits.
    let view = Large::view(net.parameters().try_into().unwrap());
    assert_eq!(view.forward(&x), y);

    let images = Array4::from_shape_fn((4, 3, 96, 96), |(i, c, h, w)| {
        ((i + c * 3 + h * 5 + w) % 13) as f32 / 13.0 - 0.5
    });
    let labels = [1, 2, 3, 4];
    let (loss, grads) = net.loss_and_grad(images.view(), &labels).unwrap();
    assert!(loss.is_finite());
    let mut sgd = Sgd::new(0.01);
    sgd.step(&mut net, &grads);
    let mut grads = grads;
    net.loss_and_grad_into(images.view(), &labels, &mut grads)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.safetensors");
    net.save_safetensors(&path).unwrap();
    let back = Large::from_safetensors(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(back, net);
}

#[test]
fn a_214k_parameter_network_on_a_2_mib_stack() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
