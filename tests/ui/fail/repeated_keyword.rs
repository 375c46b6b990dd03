// stride given twice by name.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, stride = 1, stride = 2),
    }
}

fn main() {}
