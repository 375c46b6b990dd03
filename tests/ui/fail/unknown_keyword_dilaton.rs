// A misspelt keyword.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 3, dilaton = 2),
    }
}

fn main() {}
