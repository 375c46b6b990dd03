// Batch norm is checked, but its code is not generated yet: one error on it.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        bn1: BatchNorm2d(6),
        relu,
    }
}

fn main() {}
