// Python's False is written false.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, bias = False),
    }
}

fn main() {}
