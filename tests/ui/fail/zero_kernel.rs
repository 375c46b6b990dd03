// A 0×0 kernel.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 0),
    }
}

fn main() {}
