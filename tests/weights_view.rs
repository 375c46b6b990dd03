//! A network run from weights that stay where they are: the view over the
//! parameters gives the owned network's bits, and a bad blob is an error
//! that names the tensor at fault.

use lenet::error::WeightsFault;
use lenet::Error;

lenet::network! {
    struct Small {
        input: [1, 8, 8],
        conv1: Conv2d(1, 2, 3),
        relu,
        pool1: MaxPool2d(2),
        flatten,
        fc1: Linear(2 * 3 * 3, 4),
        sigmoid,
    }
}

static WEIGHTS: &[u8] = lenet::include_weights!("../examples/weights/lenet5-mnist10k.le");

#[test]
fn the_view_gives_the_owned_networks_bits() {
    let net = Small::new(5);
    let x: [f32; 64] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
    let view = Small::view(net.parameters().try_into().unwrap());
    assert_eq!(view.forward(&x), net.forward(&x));
    let mut scratch = [f32::NAN; Small::FORWARD_SCRATCH_FLOATS];
    assert_eq!(net.forward_with_scratch(&x, &mut scratch), net.forward(&x));
    let bytes = lenet::weights::Aligned(
        net.to_le_bytes()
            .try_into()
            .unwrap_or([0u8; Small::LE_BYTES]),
    );
    let viewed = Small::view_le_bytes(&bytes.0).unwrap();
    assert_eq!(viewed.forward(&x), net.forward(&x));
    assert_eq!(viewed.parameters(), net.parameters());
}

#[test]
fn bad_bytes_are_errors_naming_the_tensor() {
    let net = Small::new(5);
    let mut bytes = lenet::weights::Aligned([0u8; Small::LE_BYTES]);
    net.write_le_bytes(&mut bytes.0).unwrap();
    // conv1.bias is parameters 18 and 19.
    bytes.0[19 * 4..20 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
    match Small::view_le_bytes(&bytes.0) {
        Err(Error::Weights {
            tensor: Some("conv1.bias"),
            reason: WeightsFault::NotFinite { index: 19 },
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Small::view_le_bytes(&bytes.0[..40]),
        Err(Error::Weights {
            reason: WeightsFault::Truncated { .. },
            ..
        })
    ));
    let mut wide = lenet::weights::Aligned([0u8; Small::LE_BYTES + 1]);
    net.write_le_bytes(&mut wide.0[1..]).unwrap();
    let e = Small::view_le_bytes(&wide.0[1..]).unwrap_err();
    assert!(matches!(
        e,
        Error::Weights {
            reason: WeightsFault::Misaligned { .. },
            ..
        }
    ));
    assert!(e.to_string().contains("include_weights"), "{e}");
}

#[test]
fn include_weights_is_aligned() {
    assert!((WEIGHTS.as_ptr() as usize).is_multiple_of(4));
    assert_eq!(WEIGHTS.len(), 61_706 * 4);
}
