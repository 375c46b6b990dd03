// Pooling after flatten.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        flatten,
        pool1: MaxPool2d(2),
    }
}

fn main() {}
