// Two steps without a comma between them.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4]
        flatten,
        fc1: Linear(16, 2),
    }
}

fn main() {}
