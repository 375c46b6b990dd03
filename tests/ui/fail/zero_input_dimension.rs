// An image of height 0.
lenet::network! {
    pub struct Net {
        input: [1, 0, 28],
        flatten,
        fc1: Linear(28, 2),
    }
}

fn main() {}
