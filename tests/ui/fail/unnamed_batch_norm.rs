// BatchNorm2d has parameters and buffers: it needs a name.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        BatchNorm2d(6),
    }
}

fn main() {}
