// A name and arguments, but no layer between them.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: (1, 6, 5),
    }
}

fn main() {}
