// A size divided by zero.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 10 / (2 - 2)),
    }
}

fn main() {}
