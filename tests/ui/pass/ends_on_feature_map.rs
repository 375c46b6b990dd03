// A network without flatten: its output is a feature map.
lenet::network! {
    pub struct Features {
        input: [3, 16, 16],
        conv1: Conv2d(3, 8, 3, padding = 1),
        relu,
        pool: MaxPool2d(2),
    }
}

fn main() {
    assert_eq!(Features::OUTPUT_SHAPE, [8, 8, 8]);
    let y: [f32; 512] = Features::new(0).forward(&[0.0; 768]);
    assert!(y.iter().all(|v| *v >= 0.0));
}
