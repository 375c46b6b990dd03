// Two commas with no step between them.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,,
        fc1: Linear(784, 10),
    }
}

fn main() {}
