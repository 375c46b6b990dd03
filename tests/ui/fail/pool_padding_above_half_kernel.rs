// PyTorch pads a pooling window by at most half its size.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        pool1: MaxPool2d(3, stride = 2, padding = 2),
    }
}

fn main() {}
