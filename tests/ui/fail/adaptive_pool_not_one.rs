// AdaptiveAvgPool2d(2) is not global pooling.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 4, 3),
        gap: AdaptiveAvgPool2d(2),
        flatten,
        fc1: Linear(16, 10),
    }
}

fn main() {}
