// stride given positionally and by name.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, 2, stride = 2),
    }
}

fn main() {}
