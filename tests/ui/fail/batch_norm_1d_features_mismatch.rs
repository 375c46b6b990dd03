// BatchNorm1d must be given the features that arrive: fc1 gives 120.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 120),
        bn1: BatchNorm1d(84),
        fc2: Linear(120, 10),
    }
}

fn main() {}
