// `(2,)` is a tuple of one element, not a pair.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 3, stride = (2,)),
    }
}

fn main() {}
