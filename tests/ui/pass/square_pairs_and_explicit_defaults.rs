// The second edition's syntax for what the first edition generates: square
// sizes written as pairs, and PyTorch's defaults written out (dilation 1,
// one group, a bias, no pooling padding).
lenet::network! {
    pub struct Explicit {
        input: [3, 16, 16],
        conv1: Conv2d(3, 8, (3, 3), (1, 1), (1, 1), dilation = 1, groups = 1, bias = true),
        relu,
        pool1: MaxPool2d((2, 2), stride = (2, 2), padding = 0),
        conv2: Conv2d(8, 4, kernel_size = 3, dilation = (1, 1), padding = (0, 0)),
        pool2: AvgPool2d(2, padding = (0, 0)),
        flatten,
        fc: Linear(4 * 3 * 3, 2),
    }
}

fn main() {
    let shapes: Vec<&[usize]> = Explicit::LAYERS.iter().map(|l| l.output).collect();
    assert_eq!(shapes[0], &[8, 16, 16]);
    assert_eq!(shapes[2], &[8, 8, 8]);
    assert_eq!(shapes[3], &[4, 6, 6]);
    assert_eq!(shapes[4], &[4, 3, 3]);
    assert_eq!(Explicit::PARAM_COUNT, (3 * 9 + 1) * 8 + (8 * 9 + 1) * 4 + (36 + 1) * 2);
    let _ = Explicit::new(0).forward(&[0.5; 3 * 16 * 16]);
}
