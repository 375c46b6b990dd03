// Conv2d written without its arguments.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d,
    }
}

fn main() {}
