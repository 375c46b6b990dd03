// A rectangular kernel, `(h, w)`: 3 rows by 5 columns.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, (3, 5)),
    }
}

const _: () = assert!(Net::PARAM_COUNT == (3 * 5 + 1) * 6);

fn main() {
    assert_eq!(Net::LAYERS[0].output, &[6, 26, 24]);
    // Kernel o is zero but for 1 + o at its centre, row 1 and column 2 of
    // 3×5. A lone 1 at input row 1, column 2 lies under that centre for
    // output (0, 0) only: one column to the right it meets a zero weight.
    let mut net = Net::zeros();
    let weights: Vec<f32> = (0..90)
        .map(|i| {
            if i % 15 == 7 {
                1.0 + (i / 15) as f32
            } else {
                0.0
            }
        })
        .collect();
    net.parameters_mut()[..90].copy_from_slice(&weights);
    let mut x = [0.0; 28 * 28];
    x[28 + 2] = 1.0;
    let y = net.forward(&x);
    for o in 0..6 {
        assert_eq!(y[o * 26 * 24], 1.0 + o as f32);
        assert_eq!(y[o * 26 * 24 + 1], 0.0);
    }
}
