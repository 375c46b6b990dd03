// The SPEC's LeNet-5 on 32×32 images.
lenet::network! {
    /// LeNet-5 as in LeCun et al. 1998.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

const _: () = assert!(LeNet5::PARAM_COUNT == 61_706);

fn main() {
    let logits: [f32; 10] = LeNet5::new(0).forward(&[0.0; 1024]);
    assert_eq!(logits.len(), LeNet5::OUTPUT_LEN);
}
