// A mistake in the network does not make every use of it an error too.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(780, 10),
    }
}

fn main() {
    let net = Net::new(0);
    let logits: [f32; 10] = net.forward(&[0.0; 784]);
    let _ = (logits, Net::PARAM_COUNT, Net::summary());
}
