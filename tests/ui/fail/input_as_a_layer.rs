// `input` given a layer instead of a shape.
lenet::network! {
    pub struct Net {
        input: Conv2d(1, 6, 5),
        flatten,
        fc1: Linear(784, 10),
    }
}

fn main() {}
