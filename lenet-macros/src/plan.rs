//! The plan: from the checked model and its inferred shapes, the list of
//! steps code generation prints — each step's operation with every size
//! fixed, its shapes, and where its parameters lie in the flat array — and
//! the list of parameter tensors in PyTorch's order. Plain data, no tokens:
//! `expand` prints it.

use syn::ext::IdentExt;

use crate::model::{Kind, Net};
use crate::shape::{Shape, Trace};

/// A pooling window's reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// `MaxPool2d`.
    Max,
    /// `AvgPool2d`.
    Avg,
}

/// An element-wise step: the same number of floats out as in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elementwise {
    /// `relu`.
    Relu,
    /// `tanh`.
    Tanh,
    /// `sigmoid`.
    Sigmoid,
    /// `flatten`.
    Flatten,
}

/// One operation with every size fixed, as the runtime's layer type takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `Conv2d<CI, CO, K, S, P, H, W, HO, WO>`.
    Conv2d {
        ci: u64,
        co: u64,
        k: u64,
        s: u64,
        p: u64,
        h: u64,
        w: u64,
        ho: u64,
        wo: u64,
    },
    /// `MaxPool2d` or `AvgPool2d<C, K, S, H, W, HO, WO>`.
    Pool2d {
        pool: Pool,
        c: u64,
        k: u64,
        s: u64,
        h: u64,
        w: u64,
        ho: u64,
        wo: u64,
    },
    /// `AdaptiveAvgPool2d<C, H, W>`.
    AdaptiveAvgPool2d { c: u64, h: u64, w: u64 },
    /// `Linear<I, O>`.
    Linear { i: u64, o: u64 },
    /// `Relu<N>`, `Tanh<N>`, `Sigmoid<N>`, `Flatten<N>`.
    Elementwise { op: Elementwise, n: u64 },
}

/// One step of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The name given in the declaration, or the bare word in lower case.
    pub name: String,
    /// The layer as the summary shows it (`Conv2d(1, 6, 5)`).
    pub kind: String,
    /// The operation and its sizes.
    pub op: Op,
    /// Shape of one image going in.
    pub input: Vec<u64>,
    /// Shape of one image coming out.
    pub output: Vec<u64>,
    /// Floats of one image coming out.
    pub out_len: u64,
    /// Number of weights (0 without parameters).
    pub weights: u64,
    /// Number of biases (0 without parameters).
    pub biases: u64,
    /// Offset of the step's first parameter in the flat array.
    pub offset: u64,
}

/// One parameter tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// PyTorch name (`conv1.weight`).
    pub name: String,
    /// PyTorch shape.
    pub shape: Vec<u64>,
    /// Offset of its first float in the flat array.
    pub offset: u64,
    /// Number of floats.
    pub len: u64,
    /// Inputs feeding each output of the layer.
    pub fan_in: u64,
}

/// The network with every shape and offset known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `[C, H, W]` of one input image.
    pub input: [u64; 3],
    /// Shape of one output.
    pub output: Vec<u64>,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// Every parameter tensor, in PyTorch's order.
    pub params: Vec<Param>,
    /// Total number of parameters.
    pub param_count: u64,
}

impl Plan {
    /// The plan of a checked network, or `None` when a shape or size is
    /// unknown (the checks have reported why).
    pub fn new(net: &Net, trace: &Trace) -> Option<Plan> {
        let input = net.input.as_ref()?.dims?;
        let mut steps = Vec::new();
        let mut params = Vec::new();
        let mut offset = 0u64;
        for (k, step) in net.steps.iter().enumerate() {
            let x = *trace.shapes.get(k)?;
            let y = *trace.shapes.get(k + 1)?;
            let (in_dims, out_dims) = (x.dims()?, y.dims()?);
            let (in_len, out_len) = (x.numel()?, y.numel()?);
            let (kind, op, weights, biases, fan_in, wshape) = match (&step.kind, x) {
                (
                    Kind::Conv2d {
                        in_channels,
                        out_channels,
                        kernel,
                        stride,
                        padding,
                        ..
                    },
                    Shape::Map { h, w, .. },
                ) => {
                    let (ci, co, k, s, p) = (
                        in_channels.value?,
                        out_channels.value?,
                        kernel.square_value()?,
                        stride.square_value()?,
                        padding.square_value()?,
                    );
                    let Shape::Map { h: ho, w: wo, .. } = y else {
                        return None;
                    };
                    let mut kind = format!("Conv2d({ci}, {co}, {k}");
                    if s != 1 {
                        kind.push_str(&format!(", stride={s}"));
                    }
                    if p != 0 {
                        kind.push_str(&format!(", padding={p}"));
                    }
                    kind.push(')');
                    let op = Op::Conv2d {
                        ci,
                        co,
                        k,
                        s,
                        p,
                        h,
                        w,
                        ho,
                        wo,
                    };
                    let fan_in = ci.checked_mul(k)?.checked_mul(k)?;
                    (
                        kind,
                        op,
                        co.checked_mul(fan_in)?,
                        co,
                        fan_in,
                        vec![co, ci, k, k],
                    )
                }
                (
                    Kind::MaxPool2d { kernel, stride, .. } | Kind::AvgPool2d { kernel, stride, .. },
                    Shape::Map { c, h, w },
                ) => {
                    let (k, s) = (kernel.square_value()?, stride.square_value()?);
                    let Shape::Map { h: ho, w: wo, .. } = y else {
                        return None;
                    };
                    let pool = match step.kind {
                        Kind::MaxPool2d { .. } => Pool::Max,
                        _ => Pool::Avg,
                    };
                    let op = Op::Pool2d {
                        pool,
                        c,
                        k,
                        s,
                        h,
                        w,
                        ho,
                        wo,
                    };
                    let kind = format!("{}({k}, {s})", step.kind.word());
                    (kind, op, 0, 0, 0, Vec::new())
                }
                (Kind::AdaptiveAvgPool2d, Shape::Map { c, h, w }) => {
                    let op = Op::AdaptiveAvgPool2d { c, h, w };
                    ("AdaptiveAvgPool2d(1)".to_string(), op, 0, 0, 0, Vec::new())
                }
                (
                    Kind::Linear {
                        in_features,
                        out_features,
                    },
                    Shape::Flat(_),
                ) => {
                    let (i, o) = (in_features.value?, out_features.value?);
                    (
                        format!("Linear({i}, {o})"),
                        Op::Linear { i, o },
                        o.checked_mul(i)?,
                        o,
                        i,
                        vec![o, i],
                    )
                }
                (Kind::Relu | Kind::Tanh | Kind::Sigmoid | Kind::Flatten, _) => {
                    let (op, kind) = match step.kind {
                        Kind::Relu => (Elementwise::Relu, "ReLU"),
                        Kind::Tanh => (Elementwise::Tanh, "Tanh"),
                        Kind::Sigmoid => (Elementwise::Sigmoid, "Sigmoid"),
                        _ => (Elementwise::Flatten, "Flatten"),
                    };
                    let op = Op::Elementwise { op, n: in_len };
                    (kind.to_string(), op, 0, 0, 0, Vec::new())
                }
                _ => return None,
            };
            let name = match &step.name {
                Some(n) => n.unraw().to_string(),
                None => step.word.unraw().to_string().to_lowercase(),
            };
            if weights > 0 {
                params.push(Param {
                    name: format!("{name}.weight"),
                    shape: wshape,
                    offset,
                    len: weights,
                    fan_in,
                });
                params.push(Param {
                    name: format!("{name}.bias"),
                    shape: vec![biases],
                    offset: offset.checked_add(weights)?,
                    len: biases,
                    fan_in,
                });
            }
            steps.push(Step {
                name,
                kind,
                op,
                input: in_dims,
                output: out_dims,
                out_len,
                weights,
                biases,
                offset,
            });
            offset = offset.checked_add(weights)?.checked_add(biases)?;
        }
        let output = trace.shapes.last()?.dims()?;
        Some(Plan {
            input,
            output,
            steps,
            params,
            param_count: offset,
        })
    }

    /// Floats in one input image.
    pub fn input_len(&self) -> u64 {
        self.input.iter().product()
    }

    /// Floats in one output.
    pub fn output_len(&self) -> u64 {
        self.output.iter().product()
    }

    /// Whether any step has parameters.
    pub fn has_params(&self) -> bool {
        self.steps.iter().any(|s| s.weights > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::ctxt::Ctxt;
    use crate::model::lower;
    use crate::shape::infer;

    fn plan(body: &str) -> Option<Plan> {
        let decl: crate::ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).ok()?;
        let mut cx = Ctxt::new();
        let net = lower(decl, &mut cx);
        let trace = infer(&net, None);
        check(&net, &trace, &mut cx);
        assert!(!cx.has_errors(), "{}", cx.into_compile_errors());
        Plan::new(&net, &trace)
    }

    const LENET5: &str =
        "input: [1, 32, 32], conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), \
        conv2: Conv2d(6, 16, 5), relu, pool2: MaxPool2d(2), flatten, \
        fc1: Linear(16 * 5 * 5, 120), relu, fc2: Linear(120, 84), relu, fc3: Linear(84, 10)";

    #[test]
    fn lenet5_steps_sizes_and_offsets() {
        let plan = plan(LENET5).unwrap();
        assert_eq!(plan.input, [1, 32, 32]);
        assert_eq!(plan.output, [10]);
        assert_eq!(plan.param_count, 61_706);
        assert_eq!(plan.input_len(), 1024);
        assert_eq!(plan.output_len(), 10);
        assert!(plan.has_params());
        let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conv1", "relu", "pool1", "conv2", "relu", "pool2", "flatten", "fc1", "relu",
                "fc2", "relu", "fc3"
            ]
        );
        assert_eq!(
            plan.steps[0].op,
            Op::Conv2d {
                ci: 1,
                co: 6,
                k: 5,
                s: 1,
                p: 0,
                h: 32,
                w: 32,
                ho: 28,
                wo: 28
            }
        );
        assert_eq!(
            plan.steps[1].op,
            Op::Elementwise {
                op: Elementwise::Relu,
                n: 4704
            }
        );
        assert_eq!(
            plan.steps[5].op,
            Op::Pool2d {
                pool: Pool::Max,
                c: 16,
                k: 2,
                s: 2,
                h: 10,
                w: 10,
                ho: 5,
                wo: 5
            }
        );
        assert_eq!(plan.steps[5].kind, "MaxPool2d(2, 2)");
        assert_eq!(plan.steps[7].op, Op::Linear { i: 400, o: 120 });
        assert_eq!(plan.steps[7].input, [400]);
        // Parameters follow one another in PyTorch's order.
        let params: Vec<(&str, u64, u64)> = plan
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.offset, p.len))
            .collect();
        assert_eq!(
            params,
            [
                ("conv1.weight", 0, 150),
                ("conv1.bias", 150, 6),
                ("conv2.weight", 156, 2400),
                ("conv2.bias", 2556, 16),
                ("fc1.weight", 2572, 48_000),
                ("fc1.bias", 50_572, 120),
                ("fc2.weight", 50_692, 10_080),
                ("fc2.bias", 60_772, 84),
                ("fc3.weight", 60_856, 840),
                ("fc3.bias", 61_696, 10),
            ]
        );
        assert_eq!(plan.params[0].shape, [6, 1, 5, 5]);
        assert_eq!(plan.params[0].fan_in, 25);
        assert_eq!(plan.steps[3].offset, 156);
    }

    #[test]
    fn strides_padding_and_global_pooling() {
        let plan = plan(
            "input: [3, 9, 11], c: Conv2d(3, 4, 3, stride = 2, padding = 1), \
             AdaptiveAvgPool2d(1), flatten, tanh, sigmoid",
        )
        .unwrap();
        assert_eq!(plan.steps[0].kind, "Conv2d(3, 4, 3, stride=2, padding=1)");
        assert_eq!(plan.steps[0].output, [4, 5, 6]);
        assert_eq!(plan.steps[1].op, Op::AdaptiveAvgPool2d { c: 4, h: 5, w: 6 });
        assert_eq!(plan.steps[1].name, "adaptiveavgpool2d");
        assert_eq!(plan.output, [4]);
        assert_eq!(plan.param_count, 4 * 27 + 4);
    }

    #[test]
    fn a_network_without_steps_or_parameters() {
        let plan = plan("input: [2, 3, 4], relu").unwrap();
        assert!(!plan.has_params());
        assert!(plan.params.is_empty());
        assert_eq!(plan.output, [2, 3, 4]);
        assert_eq!(
            plan.steps[0].op,
            Op::Elementwise {
                op: Elementwise::Relu,
                n: 24
            }
        );
    }
}
