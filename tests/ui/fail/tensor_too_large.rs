// An activation of more than 2^31 floats.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 1, 1, padding = 100000),
    }
}

fn main() {}
