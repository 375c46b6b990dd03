// A dilation of 0 puts every tap on one pixel.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 3, dilation = 0),
    }
}

fn main() {}
