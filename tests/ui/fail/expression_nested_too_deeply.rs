// More than 64 levels of parentheses.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(784, ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((10))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))),
    }
}

fn main() {}
