// fc2 expects 100 features, fc1 gives 120.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linear(16, 120),
        relu,
        fc2: Linear(100, 10),
    }
}

fn main() {}
