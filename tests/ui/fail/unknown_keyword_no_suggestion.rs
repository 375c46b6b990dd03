// A keyword of another library (Keras calls out_channels `filters`).
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, filters = 6),
    }
}

fn main() {}
