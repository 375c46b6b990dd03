// A kernel is one size or a pair (h, w), not three.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, (3, 3, 3)),
    }
}

fn main() {}
