// Two commas with no argument between them.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, , 5),
    }
}

fn main() {}
