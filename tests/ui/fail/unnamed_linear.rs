// A Linear without a name has no parameter prefix.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linear(16, 8),
        Linear(8, 2),
    }
}

fn main() {}
