//! The safetensors loader on arbitrary bytes, for two generated networks:
//! LeNet-5 (seeded with a file PyTorch wrote) and a small one whose valid
//! files are a few hundred bytes, so that mutations reach every check of
//! the header. Whatever the bytes: an error or a network, never a panic,
//! and a network that loads writes back to a file that loads the same.

#![no_main]

use lenet::weights::safetensors::{from_safetensors, read_metadata, to_safetensors};
use libfuzzer_sys::fuzz_target;

lenet::network! {
    /// LeNet-5, as in the SPEC.
    struct LeNet5 {
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

lenet::network! {
    /// Four tensors in 152 bytes of data.
    struct Small {
        input: [1, 4, 4],
        conv: Conv2d(1, 2, 3),
        relu,
        flatten,
        fc: Linear(8, 2),
    }
}

fn check<N: lenet::Network + PartialEq + std::fmt::Debug>(data: &[u8]) {
    match from_safetensors::<N>(data) {
        Ok(net) => {
            let again = to_safetensors(&net);
            let back: N = from_safetensors(&again).expect("a file we wrote loads");
            let bits = |n: &N| n.parameters().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&back), bits(&net));
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "a one-line error: {msg}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<Small>(data);
    check::<LeNet5>(data);
    let _ = read_metadata(data);
});
