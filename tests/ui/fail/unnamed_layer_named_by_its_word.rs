// A mistake in an unnamed layer: the message names it by its word.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        MaxPool2d(2, 2, 0, 1),
        flatten,
        fc1: Linear(14 * 14, 10),
    }
}

fn main() {}
