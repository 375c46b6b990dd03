// The classic activations of the 1998 paper.
lenet::network! {
    pub struct Classic {
        input: [1, 32, 32],
        c1: Conv2d(1, 6, 5),
        tanh,
        s2: AvgPool2d(2),
        c3: Conv2d(6, 16, 5),
        sigmoid,
        s4: AvgPool2d(2),
        flatten,
        f5: Linear(400, 84),
        tanh,
        f6: Linear(84, 10),
        sigmoid,
    }
}

fn main() {
    let y = Classic::new(2).forward(&[1.0; 1024]);
    assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
}
