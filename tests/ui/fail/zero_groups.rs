// A convolution has at least one group.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 3, groups = 0),
    }
}

fn main() {}
