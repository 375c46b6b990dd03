// BatchNorm2d normalises a feature map; after flatten it is BatchNorm1d.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 4, 5),
        flatten,
        bn1: BatchNorm2d(4 * 24 * 24),
        fc1: Linear(4 * 24 * 24, 10),
    }
}

fn main() {}
