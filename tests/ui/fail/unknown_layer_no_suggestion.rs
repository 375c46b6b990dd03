// A layer lenet does not have.
lenet::network! {
    pub struct Net {
        input: [1, 4, 4],
        attn: Transformer(4),
        flatten,
        fc1: Linear(16, 2),
    }
}

fn main() {}
