// Two layers named conv1.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        conv1: Conv2d(6, 16, 5),
        flatten,
        fc1: Linear(16 * 24 * 24, 10),
    }
}

fn main() {}
