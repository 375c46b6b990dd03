// Linear on a 16×5×5 map: flatten is missing.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 10),
    }
}

fn main() {}
