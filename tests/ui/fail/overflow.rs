// A literal larger than any size.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 99999999999999999999),
    }
}

fn main() {}
