// A pooling window that does not move.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        pool1: MaxPool2d(2, stride = 0),
    }
}

fn main() {}
