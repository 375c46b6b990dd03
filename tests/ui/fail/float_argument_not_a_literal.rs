// Float arguments are literals.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        drop: Dropout(p = 1 / 2),
    }
}

fn main() {}
