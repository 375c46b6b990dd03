// The input after the first layer.
lenet::network! {
    pub struct Net {
        conv1: Conv2d(1, 6, 5),
        input: [1, 28, 28],
        flatten,
        fc1: Linear(6 * 24 * 24, 10),
    }
}

fn main() {}
