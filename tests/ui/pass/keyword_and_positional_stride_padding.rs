// Stride and padding positionally, by keyword, in any order; PyTorch's
// keyword names for every argument.
lenet::network! {
    pub struct Strides {
        input: [3, 32, 32],
        a: Conv2d(3, 8, 3, 2, 1),
        b: Conv2d(8, 8, 3, padding = 1, stride = 1),
        c: Conv2d(8, 8, 3, stride = 2, padding = 1),
        d: Conv2d(in_channels = 8, out_channels = 4, kernel_size = 3),
        e: Conv2d(4, 4, 3, 1, padding = 1,),
        p: MaxPool2d(kernel_size = 2, stride = 1),
        q: AvgPool2d(2, stride = 2),
        flatten,
        fc: Linear(in_features = 16, out_features = 2),
    }
}

fn main() {
    let shapes: Vec<&[usize]> = Strides::LAYERS.iter().map(|l| l.output).collect();
    assert_eq!(shapes[0], &[8, 16, 16]);
    assert_eq!(shapes[2], &[8, 8, 8]);
    assert_eq!(shapes[3], &[4, 6, 6]);
    assert_eq!(shapes[5], &[4, 5, 5]);
    assert_eq!(shapes[6], &[4, 2, 2]);
    assert_eq!(Strides::LAYERS[0].kind, "Conv2d(3, 8, 3, stride=2, padding=1)");
}
