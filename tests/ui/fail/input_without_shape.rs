// `input` without its shape.
lenet::network! {
    pub struct Net {
        input,
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
