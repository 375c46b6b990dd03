// `%` is not one of the operators of a size.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 100 % 7),
    }
}

fn main() {}
