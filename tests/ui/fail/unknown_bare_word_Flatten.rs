// Flatten instead of flatten.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        Flatten,
        fc1: Linear(16, 2),
    }
}

fn main() {}
