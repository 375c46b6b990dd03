// A layer with more than 2^31 parameters.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 1000000000),
    }
}

fn main() {}
