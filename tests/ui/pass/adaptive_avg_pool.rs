// Global average pooling before the classifier.
lenet::network! {
    pub struct Gap {
        input: [3, 17, 13],
        conv1: Conv2d(3, 16, 3, padding = 1),
        relu,
        gap: AdaptiveAvgPool2d(1),
        flatten,
        fc: Linear(16, 4),
    }
}

fn main() {
    assert_eq!(Gap::LAYERS[2].output, &[16, 1, 1]);
    assert_eq!(Gap::OUTPUT_LEN, 4);
}
