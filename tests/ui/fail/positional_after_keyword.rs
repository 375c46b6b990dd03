// A positional argument after a keyword argument.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, kernel_size = 5, 2),
    }
}

fn main() {}
