// An input with two sizes.
lenet::network! {
    pub struct Net {
        input: [28, 28],
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
