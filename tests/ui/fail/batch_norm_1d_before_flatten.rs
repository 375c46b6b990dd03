// BatchNorm1d normalises a vector: before flatten it is BatchNorm2d.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 4, 5),
        bn1: BatchNorm1d(4),
        flatten,
        fc1: Linear(4 * 24 * 24, 10),
    }
}

fn main() {}
