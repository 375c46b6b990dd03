// The bare words are lower case: relu6.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        ReLU6,
    }
}

fn main() {}
