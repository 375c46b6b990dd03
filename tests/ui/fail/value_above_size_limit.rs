// A size above lenet's limit of 2^31, though it fits in 64 bits.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 4294967296),
    }
}

fn main() {}
