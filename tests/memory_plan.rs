//! The planned passes on networks whose plans differ from LeNet-5's:
//! activations one after another (in place or not, as backward needs),
//! element-wise steps at the end (run in the caller's output), `flatten`
//! first. Gradients are checked against finite differences of the loss,
//! and the batch pass against the single-image one.

use ndarray::Array4;

lenet::network! {
    struct Chain {
        input: [2, 7, 7],
        conv1: Conv2d(2, 3, 3, padding = 1),
        relu,
        tanh,
        pool1: AvgPool2d(2),
        sigmoid,
        conv2: Conv2d(3, 4, 2),
        tanh,
        pool2: MaxPool2d(2),
        flatten,
        fc1: Linear(4, 6),
        sigmoid,
        relu,
        fc2: Linear(6, 5),
        tanh,
    }
}

lenet::network! {
    struct FlatFirst {
        input: [1, 3, 3],
        flatten,
        relu,
        fc: Linear(9, 4),
    }
}

fn images(n: usize, c: usize, h: usize, w: usize) -> Array4<f32> {
    Array4::from_shape_fn((n, c, h, w), |(i, c, y, x)| {
        ((i * 31 + c * 7 + y * 5 + x * 3) as f32 * 0.61).sin()
    })
}

fn check_gradient<N: lenet::Batched>(net: &N, grad: &[f32], loss: impl Fn(&N) -> f32) {
    for k in (0..N::PARAM_COUNT).step_by(3) {
        let h = 1e-2f32;
        let mut plus = net.clone();
        plus.parameters_mut()[k] += h;
        let mut minus = net.clone();
        minus.parameters_mut()[k] -= h;
        let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
        let tol = 2e-3 + 2e-2 * numeric.abs();
        assert!(
            (numeric - grad[k]).abs() <= tol,
            "parameter {k}: numeric {numeric}, backward {}",
            grad[k]
        );
    }
}

#[test]
fn chained_activations_train_and_infer_on_the_plan() {
    let net = Chain::new(11);
    let x = images(5, 2, 7, 7);
    let labels = [0, 4, 2, 1, 3];
    let (_, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
    check_gradient(&net, grads.parameters(), |n| {
        n.loss_and_grad(x.view(), &labels).unwrap().0
    });
    let batch = net.forward_batch(x.view()).unwrap();
    for (i, row) in batch.rows().into_iter().enumerate() {
        let image: [f32; 98] = x
            .slice(ndarray::s![i, .., .., ..])
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        assert_eq!(row.to_vec(), net.forward(&image).to_vec());
    }
}

#[test]
fn flatten_first_views_the_input() {
    let net = FlatFirst::new(2);
    let x = images(3, 1, 3, 3);
    let labels = [1, 0, 3];
    let (_, grads) = net.loss_and_grad(x.view(), &labels).unwrap();
    check_gradient(&net, grads.parameters(), |n| {
        n.loss_and_grad(x.view(), &labels).unwrap().0
    });
    let image: [f32; 9] = x
        .iter()
        .take(9)
        .copied()
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let y = net.forward(&image);
    assert_eq!(
        net.forward_batch(x.view()).unwrap().row(0).to_vec(),
        y.to_vec()
    );
}
