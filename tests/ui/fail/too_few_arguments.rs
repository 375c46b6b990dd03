// Conv2d needs in_channels, out_channels and kernel_size.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6),
    }
}

fn main() {}
