// groups must divide both channel counts: 4 does not divide 6.
lenet::network! {
    pub struct Net {
        input: [6, 28, 28],
        conv1: Conv2d(6, 8, 3, groups = 4),
    }
}

fn main() {}
