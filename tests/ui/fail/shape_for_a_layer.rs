// A layer written like the input, with a shape in brackets.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: [1, 6, 5],
    }
}

fn main() {}
