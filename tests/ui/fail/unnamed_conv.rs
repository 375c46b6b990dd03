// A Conv2d without a name has no parameter prefix.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        Conv2d(1, 6, 5),
        flatten,
        fc1: Linear(6 * 28 * 28, 10),
    }
}

fn main() {}
