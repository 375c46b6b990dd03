// momentum is a fraction in [0, 1].
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        bn1: BatchNorm2d(6, momentum = 1.5),
    }
}

fn main() {}
