// A convolution after flatten.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        conv1: Conv2d(1, 6, 5),
    }
}

fn main() {}
