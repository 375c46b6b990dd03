// A linear layer with no output.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linear(16, 5 - 5),
    }
}

fn main() {}
