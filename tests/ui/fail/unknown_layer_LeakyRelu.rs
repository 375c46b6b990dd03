// PyTorch spells it LeakyReLU.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        act: LeakyRelu(0.1),
    }
}

fn main() {}
