// PyTorch's class name ReLU instead of the bare word relu.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linear(16, 8),
        ReLU,
        fc2: Linear(8, 2),
    }
}

fn main() {}
