// A network with generic parameters.
lenet::network! {
    pub struct Net<const N: usize> {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
