// BatchNorm2d must be given the channels that arrive: conv1 gives 16.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 16, 5),
        bn1: BatchNorm2d(6),
        relu,
    }
}

fn main() {}
