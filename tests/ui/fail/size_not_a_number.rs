// A size must be written out: a constant's name is not read.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, CLASSES),
    }
}

fn main() {}
