// MNIST's 28×28 digits: `padding = 2` on conv1 keeps the rest of the table.
lenet::network! {
    pub struct Mnist {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, padding = 2),
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

fn main() {
    assert_eq!(Mnist::PARAM_COUNT, 61_706);
    assert_eq!(Mnist::LAYERS[0].output, &[6, 28, 28]);
}
