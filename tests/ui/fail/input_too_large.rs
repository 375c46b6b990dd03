// An image of more than 2^31 floats.
lenet::network! {
    pub struct Net {
        input: [2000, 2000, 2000],
        flatten,
    }
}

fn main() {}
