// Several independent mistakes, all reported in one build: a misspelt
// layer, a wrong in_channels, an unnamed Linear whose in_features is wrong,
// a duplicate name and a zero size.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2D(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(3, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        fc2: Linear(84, 0),
    }
}

fn main() {}
