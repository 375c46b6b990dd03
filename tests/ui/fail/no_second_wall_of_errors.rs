// A mistake in the network does not make every use of it an error too:
// the struct, its constants, methods and traits are still declared.
lenet::network! {
    pub struct Net {
        input: [1, 28, 28],
        flatten,
        fc1: Linear(780, 10),
    }
}

fn takes_any_network<N: lenet::Network>(net: &N) -> usize {
    N::PARAM_COUNT + net.parameters().len()
}

fn main() {
    let net = Net::new(0);
    let logits: [f32; 10] = net.forward(&[0.0; 784]);
    let copy = net.clone();
    assert_eq!(copy, net);
    println!("{net:?} {}", Net::summary());
    let _ = (logits, Net::PARAM_COUNT, Net::LE_BYTES, Net::ACTIVATION_SIZES, takes_any_network(&net));
    let _ = net.named_parameters().count();
    let _ = net.loss_and_grad(ndarray::Array4::zeros((1, 1, 28, 28)).view(), &[0]);
}
