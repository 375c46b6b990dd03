// relu takes no arguments.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        relu(0.1),
        fc1: Linear(16, 2),
    }
}

fn main() {}
