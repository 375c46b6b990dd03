// Linear takes two arguments: the message names the layer, fc1.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        flatten,
        fc1: Linear(16, 8, 2),
    }
}

fn main() {}
