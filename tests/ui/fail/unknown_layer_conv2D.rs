// Conv2D instead of Conv2d.
lenet::network! {
    pub struct Net {
        input: [1, 32, 32],
        conv1: Conv2D(1, 6, 5),
        flatten,
        fc1: Linear(6 * 28 * 28, 10),
    }
}

fn main() {}
