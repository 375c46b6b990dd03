// The elements of a pair are integers.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, (3, 2.5)),
    }
}

fn main() {}
