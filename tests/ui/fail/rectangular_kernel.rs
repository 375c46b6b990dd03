// A rectangular kernel, `(h, w)`: checked, but not generated yet.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, (3, 5)),
    }
}

fn main() {}
