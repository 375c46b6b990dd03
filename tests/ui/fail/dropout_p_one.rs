// Dropout's p is a probability in [0, 1): 1 would drop everything.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 120),
        drop: Dropout(1.0),
        fc2: Linear(120, 10),
    }
}

fn main() {}
