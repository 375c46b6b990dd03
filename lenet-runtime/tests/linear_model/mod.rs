//! A hand-written [`Network`]: softmax regression `logits = W·x + b` on
//! `1×H×W` images, so that weights files, optimisers and the training loop
//! can be tested without the `network!` macro.

#![allow(dead_code)]

use lenet_runtime::loss::{argmax, softmax_cross_entropy};
use lenet_runtime::network::{Batched, Forward, LayerInfo, Network, ParamSpec, Pass, TrainBlock};

/// Declares `$name`: `Linear(H·W, O)` on `1×H×W` images, parameters
/// `fc.weight` `[O, H·W]` and `fc.bias` `[O]`.
macro_rules! linear_model {
    ($name:ident, $h:expr, $w:expr, $o:expr) => {
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub p: Vec<f32>,
        }

        impl $name {
            const I: usize = $h * $w;
            const O: usize = $o;
        }

        impl Network for $name {
            const NAME: &'static str = stringify!($name);
            const INPUT_SHAPE: [usize; 3] = [1, $h, $w];
            const INPUT_LEN: usize = $h * $w;
            const OUTPUT_SHAPE: &'static [usize] = &[$o];
            const OUTPUT_LEN: usize = $o;
            const PARAM_COUNT: usize = ($h * $w + 1) * $o;
            const PARAMS: &'static [ParamSpec] = &[
                ParamSpec {
                    name: "fc.weight",
                    shape: &[$o, $h * $w],
                    offset: 0,
                    len: $o * $h * $w,
                    fan_in: $h * $w,
                    init: lenet_runtime::ParamInit::Default,
                },
                ParamSpec {
                    name: "fc.bias",
                    shape: &[$o],
                    offset: $o * $h * $w,
                    len: $o,
                    fan_in: $h * $w,
                    init: lenet_runtime::ParamInit::Default,
                },
            ];
            const LAYERS: &'static [LayerInfo] = &[
                LayerInfo {
                    name: "flatten",
                    kind: "flatten",
                    input: &[1, $h, $w],
                    output: &[$h * $w],
                    params: 0,
                },
                LayerInfo {
                    name: "fc",
                    kind: "Linear",
                    input: &[$h * $w],
                    output: &[$o],
                    params: ($h * $w + 1) * $o,
                },
            ];

            fn zeros() -> Self {
                Self {
                    p: vec![0.0; Self::PARAM_COUNT],
                }
            }
            fn parameters(&self) -> &[f32] {
                &self.p
            }
            fn parameters_mut(&mut self) -> &mut [f32] {
                &mut self.p
            }
        }

        impl Forward for $name {
            type Input = [f32; $h * $w];
            type Output = [f32; $o];
            type Scratch = [f32; 0];
            const FORWARD_SCRATCH_FLOATS: usize = 0;

            fn scratch() -> [f32; 0] {
                []
            }

            fn forward_params(
                params: &[f32],
                x: &[f32; $h * $w],
                scratch: &mut [f32; 0],
            ) -> [f32; $o] {
                let mut y = [0.0; $o];
                Self::forward_planned(params, x, &mut y, scratch);
                y
            }

            fn forward_planned(p: &[f32], x: &[f32], logits: &mut [f32], _scratch: &mut [f32]) {
                let (w, b) = p.split_at(Self::O * Self::I);
                for (x, y) in x
                    .chunks_exact(Self::I)
                    .zip(logits.chunks_exact_mut(Self::O))
                {
                    for (o, y) in y.iter_mut().enumerate() {
                        let row = &w[o * Self::I..(o + 1) * Self::I];
                        *y = b[o] + row.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
                    }
                }
            }
        }

        impl Batched for $name {
            const TRAIN_SCRATCH_FLOATS: usize = 0;

            fn loss_grad_block(
                &self,
                x: &[f32],
                labels: &[usize],
                block: TrainBlock<'_>,
                grads: &mut [f32],
                _scratch: &mut [f32],
            ) -> Pass {
                let scale = block.scale;
                let mut z = vec![0.0; Self::O];
                let mut dz = vec![0.0; Self::O];
                let mut total = 0.0;
                let mut correct = 0;
                for (x, &label) in x.chunks_exact(Self::I).zip(labels) {
                    Self::forward_planned(&self.p, x, &mut z, &mut []);
                    total += softmax_cross_entropy(&z, label, scale, &mut dz);
                    correct += usize::from(argmax(&z) == label);
                    let (gw, gb) = grads.split_at_mut(Self::O * Self::I);
                    for (o, &d) in dz.iter().enumerate() {
                        gb[o] += d;
                        for (g, &xi) in gw[o * Self::I..(o + 1) * Self::I].iter_mut().zip(x) {
                            *g += d * xi;
                        }
                    }
                }
                Pass {
                    loss: total,
                    correct,
                }
            }
        }
    };
}

linear_model!(Tiny, 1, 3, 2);
linear_model!(Mnist, 28, 28, 10);
linear_model!(Padded, 32, 32, 10);
linear_model!(Big, 256, 256, 4);
