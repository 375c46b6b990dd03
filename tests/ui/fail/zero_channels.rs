// A convolution to no channel.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 0, 5),
    }
}

fn main() {}
