// Two commas with no size between them in the input.
lenet::network! {
    pub struct Net {
        input: [1, , 28],
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
