// Dropout's p is a probability in [0, 1).
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        Dropout(p = -0.2),
        fc1: Linear(784, 10),
    }
}

fn main() {}
