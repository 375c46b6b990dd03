// pading instead of padding.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, pading = 2),
        flatten,
        fc1: Linear(6 * 28 * 28, 10),
    }
}

fn main() {}
