// The macro takes a struct declaration.
lenet::network! {
    pub enum Net {
        A,
    }
}

fn main() {}
