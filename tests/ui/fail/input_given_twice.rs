// Two input lines.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        input: [1, 32, 32],
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
