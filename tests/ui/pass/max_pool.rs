// MaxPool2d, with and without an explicit stride, named and unnamed.
lenet::network! {
    pub struct MaxNet {
        input: [1, 28, 28],
        conv1: Conv2d(1, 8, 3),
        relu,
        MaxPool2d(2),
        conv2: Conv2d(8, 8, 3),
        relu,
        pool2: MaxPool2d(3, 2),
        flatten,
        fc: Linear(8 * 5 * 5, 10),
    }
}

fn main() {
    assert_eq!(MaxNet::LAYERS[2].name, "maxpool2d");
    assert_eq!(MaxNet::LAYERS[2].output, &[8, 13, 13]);
    let _ = MaxNet::new(1).forward(&[0.5; 784]);
}
