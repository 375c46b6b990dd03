// eps keeps the division finite: it must be positive.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5),
        bn1: BatchNorm2d(6, eps = 0.0),
    }
}

fn main() {}
