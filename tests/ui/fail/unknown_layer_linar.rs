// Linar instead of Linear.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linar(16, 2),
    }
}

fn main() {}
