//! Embedding: the weights are compiled into the binary, aligned, with
//! `lenet::include_weights!` and read where they lie (`LeNet5::view_le_bytes`),
//! and every digit is classified by the forward pass, which allocates nothing and
//! needs no `std` (see `examples/no-std-embed/` for the same network in a
//! `#![no_std]` crate).
//!
//! The weights file is what `lenet export` writes from a trained network:
//!
//! ```text
//! cargo run --release -- train --out lenet5.safetensors
//! cargo run --release -- export --weights lenet5.safetensors --out examples/weights/lenet5-mnist10k.le
//! cargo run --release --example embed
//! ```
//!
//! Reading the test digits from their IDX file is the only part of this
//! example that allocates; it stands for a camera or a sensor.

use std::path::Path;

lenet::network! {
    /// LeNet-5 (ReLU, max pooling), as `lenet train` trains it.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: MaxPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

/// The trained parameters, little-endian f32 in PyTorch's order.
static WEIGHTS: &[u8] = lenet::include_weights!("weights/lenet5-mnist10k.le");

/// Mean and standard deviation of MNIST's pixels in `[0, 1]`: the
/// normalisation the network was trained with.
const MEAN: f32 = 0.1307;
const STD: f32 = 0.3081;

/// A 28×28 digit (0 = background) as the network's normalised 32×32 input.
fn frame(pixels: &[u8]) -> [f32; 32 * 32] {
    let mut x = [(0.0 - MEAN) / STD; 32 * 32];
    for r in 0..28 {
        for c in 0..28 {
            x[(r + 2) * 32 + c + 2] = (pixels[r * 28 + c] as f32 / 255.0 - MEAN) / STD;
        }
    }
    x
}

fn main() -> Result<(), lenet::Error> {
    // The weights are read where they lie in the binary: no copy.
    let net = LeNet5::view_le_bytes(WEIGHTS)?;
    println!(
        "{} parameters from {} embedded bytes; forward uses {} floats of scratch",
        LeNet5::PARAM_COUNT,
        WEIGHTS.len(),
        LeNet5::FORWARD_SCRATCH_FLOATS
    );

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let test = lenet::data::Dataset::load(
        &data.join("t10k-images-idx3-ubyte.gz"),
        &data.join("t10k-labels-idx1-ubyte.gz"),
    )?;
    let mut correct = 0;
    for i in 0..test.len() {
        let logits = net.forward(&frame(test.image(i)));
        let guess = lenet::train::argmax(&logits);
        if i < 10 {
            println!("digit {i}: label {}, network says {guess}", test.label(i));
        }
        correct += usize::from(guess == test.label(i));
    }
    println!(
        "{correct} of {} test digits right ({:.2} %)",
        test.len(),
        100.0 * correct as f64 / test.len() as f64
    );
    Ok(())
}
