// conv4's 3×3 kernel does not fit the 1×1 map that conv3 leaves.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        pool1: AvgPool2d(2),
        conv2: Conv2d(6, 16, 5),
        pool2: AvgPool2d(2),
        conv3: Conv2d(16, 120, 5),
        conv4: Conv2d(120, 10, 3),
    }
}

fn main() {}
