// The SPEC's LeNet-5 on MNIST's 28×28 without padding: pool2 ends at 16×4×4.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
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

fn main() {}
