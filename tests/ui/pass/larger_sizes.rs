// Sizes above 1024 take typenum's binary form inside the proof.
lenet::network! {
    pub struct Big {
        input: [3, 40, 40],
        conv1: Conv2d(3, 2, 1),
        flatten,
        fc1: Linear(3200, 1500),
        fc2: Linear(1500, 2),
    }
}

fn main() {
    assert_eq!(Big::PARAM_COUNT, 8 + 3200 * 1500 + 1500 + 1500 * 2 + 2);
}
