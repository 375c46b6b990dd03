// Networks without parameters still generate every item: one that only
// pools, and one that is only its input.
lenet::network! {
    pub struct PoolOnly {
        input: [2, 6, 6],
        pool: MaxPool2d(2),
        relu,
        flatten,
    }

    pub struct Identity {
        input: [1, 2, 2],
    }
}

fn main() {
    assert_eq!(PoolOnly::PARAM_COUNT, 0);
    assert_eq!(PoolOnly::OUTPUT_SHAPE, [18]);
    let y = PoolOnly::zeros().forward(&[1.0; 72]);
    assert!(y.iter().all(|v| *v == 1.0));
    assert_eq!(Identity::OUTPUT_SHAPE, [1, 2, 2]);
    assert_eq!(Identity::zeros().forward(&[1.0, 2.0, 3.0, 4.0]), [1.0, 2.0, 3.0, 4.0]);
    assert!(Identity::LAYERS.is_empty());
}
