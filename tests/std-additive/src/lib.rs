//! Code written against lenet with `std` off: a network from `network!`, a
//! hand-written implementation of [`lenet::Network`] and a function generic
//! over it. Built alone, lenet's `std` is off; the tests build the same code
//! with `std` turned on by a dev-dependency, as any other crate of a build
//! could, and it must still compile: `std` adds items, never a requirement.
#![no_std]

lenet::network! {
    /// A small network declared without `std`.
    pub struct Tiny {
        input: [1, 6, 6],
        conv: Conv2d(1, 2, 3),
        relu,
        pool: MaxPool2d(2),
        flatten,
        fc: Linear(2 * 2 * 2, 3),
    }
}

/// A network implemented by hand: `y = w · x + b` on one float.
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    p: [f32; 2],
}

impl lenet::Network for Affine {
    const NAME: &'static str = "Affine";
    const INPUT_SHAPE: [usize; 3] = [1, 1, 1];
    const INPUT_LEN: usize = 1;
    const OUTPUT_SHAPE: &'static [usize] = &[1];
    const OUTPUT_LEN: usize = 1;
    const PARAM_COUNT: usize = 2;
    const PARAMS: &'static [lenet::ParamSpec] = &[
        lenet::ParamSpec {
            name: "fc.weight",
            shape: &[1, 1],
            offset: 0,
            len: 1,
            fan_in: 1,
            init: lenet::model::ParamInit::Default,
        },
        lenet::ParamSpec {
            name: "fc.bias",
            shape: &[1],
            offset: 1,
            len: 1,
            fan_in: 1,
            init: lenet::model::ParamInit::Default,
        },
    ];
    const LAYERS: &'static [lenet::LayerInfo] = &[lenet::LayerInfo {
        name: "fc",
        kind: "Linear(1, 1)",
        input: &[1],
        output: &[1],
        params: 2,
    }];

    fn zeros() -> Self {
        Affine { p: [0.0; 2] }
    }

    fn parameters(&self) -> &[f32] {
        &self.p
    }

    fn parameters_mut(&mut self) -> &mut [f32] {
        &mut self.p
    }
}

/// The sum of every parameter of any network: generic code over
/// [`lenet::Network`].
pub fn parameter_sum<N: lenet::Network>(net: &N) -> f32 {
    net.parameters().iter().sum()
}

/// The raw little-endian form of any network, written into `out`.
pub fn export<N: lenet::Network>(net: &N, out: &mut [u8]) -> Result<(), lenet::Error> {
    lenet::__private::write_le_bytes(net, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lenet::Network;

    #[test]
    fn std_is_on_here_and_the_no_std_code_still_works() {
        // The dev-dependency turned `std` on.
        const { assert!(lenet::__private::STD) };
        let mut affine = Affine::zeros();
        affine.parameters_mut().copy_from_slice(&[2.0, 0.5]);
        assert_eq!(parameter_sum(&affine), 2.5);
        let mut bytes = [0u8; 8];
        export(&affine, &mut bytes).unwrap();
        assert_eq!(bytes[..4], 2.0f32.to_le_bytes());

        let tiny = Tiny::new(1);
        assert_eq!(Tiny::PARAM_COUNT, 2 * 9 + 2 + 8 * 3 + 3);
        assert_eq!(tiny.forward(&[0.5; 36]).len(), 3);
        assert_eq!(parameter_sum(&tiny), tiny.parameters().iter().sum::<f32>());
    }
}
