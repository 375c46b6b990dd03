// conv2 expects 3 channels; pool1 gives 6.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(3, 16, 5),
        relu,
        flatten,
        fc1: Linear(16 * 10 * 10, 10),
    }
}

fn main() {}
