// A 3×3 kernel with dilation 3 spans 7×7, more than the 5×5 input.
lenet::network! {
    pub struct Net {
        input: [1, 5, 5],
        conv1: Conv2d(1, 6, 3, dilation = 3),
    }
}

fn main() {}
