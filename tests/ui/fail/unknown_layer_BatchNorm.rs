// PyTorch has no plain BatchNorm: BatchNorm2d for feature maps.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        bn1: BatchNorm(6),
    }
}

fn main() {}
