// Several networks in one file, and two in one invocation.
lenet::network! {
    pub struct Small {
        input: [1, 8, 8],
        flatten,
        fc: Linear(64, 10),
    }
}

lenet::network! {
    pub struct Tiny {
        input: [1, 2, 2],
        flatten,
        fc: Linear(4, 2),
    }

    /// A second declaration in the same invocation.
    pub struct Wide {
        input: [3, 8, 8],
        conv: Conv2d(3, 4, 1),
        flatten,
        fc: Linear(256, 2),
    }
}

fn main() {
    assert_eq!(Small::PARAM_COUNT, 650);
    assert_eq!(Tiny::PARAM_COUNT, 10);
    assert_eq!(Wide::PARAM_COUNT, 16 + 514);
}
