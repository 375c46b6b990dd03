// An RGB convolution on a grey image.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(3, 6, 5),
        flatten,
        fc1: Linear(6 * 24 * 24, 10),
    }
}

fn main() {}
