// Sizes are constant expressions: literals, `+ - * /` and parentheses.
lenet::network! {
    struct Exprs {
        input: [1, 4 * 7, (30 - 2)],
        conv1: Conv2d(1, 2 * 3, (2 + 3), padding = 4 / 2),
        pool1: MaxPool2d(1 + 1),
        flatten,
        fc1: Linear(6 * (28 / 2) * (28 / 2), (100 + 20) / 12),
    }
}

fn main() {
    assert_eq!(Exprs::INPUT_SHAPE, [1, 28, 28]);
    assert_eq!(Exprs::OUTPUT_SHAPE, [10]);
}
