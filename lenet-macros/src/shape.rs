//! Shape inference: the shape of one image after every step, with the
//! formulas of the SPEC. Pure: problems are returned as [`Issue`]s, which
//! [`crate::check`] turns into messages.

use crate::eval::MAX_SIZE;
use crate::model::{Kind, Net};

/// The shape of one image between two steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `C×H×W` feature map.
    Map {
        /// Channels.
        c: u64,
        /// Height.
        h: u64,
        /// Width.
        w: u64,
    },
    /// A vector of features.
    Flat(u64),
    /// Not known, after a mistake already reported; `flat` says whether it
    /// is a vector.
    Unknown {
        /// Whether a `flatten` or `Linear` made it flat.
        flat: bool,
    },
}

impl Shape {
    /// Number of floats, when known.
    pub fn numel(&self) -> Option<u64> {
        match *self {
            Shape::Map { c, h, w } => c.checked_mul(h)?.checked_mul(w),
            Shape::Flat(n) => Some(n),
            Shape::Unknown { .. } => None,
        }
    }

    /// `6×28×28`, `400` or `?`.
    pub fn text(&self) -> String {
        match self {
            Shape::Map { c, h, w } => format!("{c}×{h}×{w}"),
            Shape::Flat(n) => n.to_string(),
            Shape::Unknown { .. } => "?".to_string(),
        }
    }

    /// The dimensions, when known.
    pub fn dims(&self) -> Option<Vec<u64>> {
        match *self {
            Shape::Map { c, h, w } => Some(vec![c, h, w]),
            Shape::Flat(n) => Some(vec![n]),
            Shape::Unknown { .. } => None,
        }
    }

    fn is_flat(&self) -> bool {
        matches!(self, Shape::Flat(_) | Shape::Unknown { flat: true })
    }
}

/// A shape problem at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issue {
    /// `Conv2d`'s `in_channels` differs from the channels that arrive.
    ConvChannels {
        /// The step.
        step: usize,
        /// Channels arriving.
        arriving: u64,
    },
    /// A kernel or window larger than its (padded) input.
    WindowTooLarge {
        /// The step.
        step: usize,
        /// The kernel or window, height and width.
        window: (u64, u64),
        /// What the kernel spans with its dilation, height and width.
        span: (u64, u64),
        /// Padded height and width of the input.
        padded: (u64, u64),
    },
    /// Batch norm whose `num_features` differs from the channels (2-D) or
    /// features (1-D) that arrive.
    BatchNormFeatures {
        /// The step.
        step: usize,
        /// Channels or features arriving.
        arriving: u64,
    },
    /// `Linear` on a feature map.
    NeedsFlatten {
        /// The step.
        step: usize,
    },
    /// A 2-D layer on a flat vector.
    AfterFlatten {
        /// The step.
        step: usize,
    },
    /// `Linear`'s `in_features` differs from the features that arrive.
    LinearFeatures {
        /// The step.
        step: usize,
        /// Features arriving.
        arriving: u64,
    },
    /// A tensor or a layer's parameters over [`MAX_SIZE`] floats.
    TooLarge {
        /// The step.
        step: usize,
        /// What is too large, in words, with its size.
        what: String,
    },
}

impl Issue {
    /// The step at fault.
    pub fn step(&self) -> usize {
        match self {
            Issue::ConvChannels { step, .. }
            | Issue::WindowTooLarge { step, .. }
            | Issue::BatchNormFeatures { step, .. }
            | Issue::NeedsFlatten { step }
            | Issue::AfterFlatten { step }
            | Issue::LinearFeatures { step, .. }
            | Issue::TooLarge { step, .. } => *step,
        }
    }
}

/// The shapes of a whole network.
#[derive(Clone, Debug)]
pub struct Trace {
    /// `shapes[0]` is the input, `shapes[k + 1]` the output of step `k`.
    pub shapes: Vec<Shape>,
    /// Trainable parameters of each step (0 for steps without), when known.
    pub params: Vec<Option<u64>>,
    /// Buffer elements of each step (batch norm's running statistics and
    /// `num_batches_tracked`), counted apart from the parameters.
    pub buffers: Vec<Option<u64>>,
    /// Problems found, in step order.
    pub issues: Vec<Issue>,
}

/// What a kernel of `kernel` taps `dilation` apart spans:
/// `dilation·(kernel − 1) + 1`, or `None` for a zero kernel or dilation.
pub fn span(kernel: u64, dilation: u64) -> Option<u64> {
    if kernel == 0 || dilation == 0 {
        return None;
    }
    dilation.checked_mul(kernel - 1)?.checked_add(1)
}

/// `floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1`, or
/// `None` when the dilated kernel does not fit the padded input or a size
/// is 0.
pub fn conv_out(size: u64, kernel: u64, stride: u64, padding: u64, dilation: u64) -> Option<u64> {
    let padded = size.checked_add(padding.checked_mul(2)?)?;
    padded
        .checked_sub(span(kernel, dilation)?)?
        .checked_div(stride)?
        .checked_add(1)
}

/// `floor((size + 2·padding − kernel) / stride) + 1`, or `None` when the
/// window does not fit or the stride is 0.
#[cfg(test)]
pub fn pool_out(size: u64, kernel: u64, stride: u64, padding: u64) -> Option<u64> {
    conv_out(size, kernel, stride, padding, 1)
}

/// `61706` as `61,706`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Infers every shape of `net`. `padding` replaces the padding of one
/// convolution (`(step, padding)`), to try fixes.
pub fn infer(net: &Net, padding: Option<(usize, u64)>) -> Trace {
    let input = match net.input.as_ref().and_then(|i| i.dims) {
        Some([c, h, w]) => Shape::Map { c, h, w },
        None => Shape::Unknown { flat: false },
    };
    let mut trace = Trace {
        shapes: vec![input],
        params: Vec::new(),
        buffers: Vec::new(),
        issues: Vec::new(),
    };
    if let Some(n) = input.numel().filter(|n| *n > MAX_SIZE) {
        trace.issues.push(Issue::TooLarge {
            step: usize::MAX,
            what: format!("{} is {} floats", input.text(), thousands(n)),
        });
        if let Some(first) = trace.shapes.first_mut() {
            *first = Shape::Unknown { flat: false };
        }
    }
    for (k, step) in net.steps.iter().enumerate() {
        let x = trace
            .shapes
            .last()
            .copied()
            .unwrap_or(Shape::Unknown { flat: false });
        let (out, params) = step_shape(k, &step.kind, x, padding, &mut trace.issues);
        let out = if step.broken {
            Shape::Unknown {
                flat: out.is_flat(),
            }
        } else {
            out
        };
        let out = match out.numel() {
            Some(n) if n > MAX_SIZE => {
                trace.issues.push(Issue::TooLarge {
                    step: k,
                    what: format!("its output {} is {} floats", out.text(), thousands(n)),
                });
                Shape::Unknown {
                    flat: out.is_flat(),
                }
            }
            None if !matches!(out, Shape::Unknown { .. }) => {
                trace.issues.push(Issue::TooLarge {
                    step: k,
                    what: format!("its output {} is more than 2^64 floats", out.text()),
                });
                Shape::Unknown {
                    flat: out.is_flat(),
                }
            }
            _ => out,
        };
        let params = match params {
            Some(p) if p > MAX_SIZE => {
                trace.issues.push(Issue::TooLarge {
                    step: k,
                    what: format!("it has {} parameters", thousands(p)),
                });
                None
            }
            p => p,
        };
        trace.shapes.push(out);
        trace.params.push(params);
        trace.buffers.push(step.kind.buffer_count());
    }
    trace
}

fn step_shape(
    k: usize,
    kind: &Kind,
    x: Shape,
    padding_override: Option<(usize, u64)>,
    issues: &mut Vec<Issue>,
) -> (Shape, Option<u64>) {
    let unknown_map = Shape::Unknown { flat: false };
    let params = kind.parameter_count();
    match kind {
        Kind::Relu
        | Kind::Relu6
        | Kind::Tanh
        | Kind::Sigmoid
        | Kind::LeakyRelu { .. }
        | Kind::Dropout { .. } => (x, params),
        Kind::Unknown => (Shape::Unknown { flat: x.is_flat() }, params),
        Kind::Flatten => match x.numel() {
            Some(n) => (Shape::Flat(n), params),
            None => (Shape::Unknown { flat: true }, params),
        },
        Kind::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            dilation,
            ..
        } => {
            let p = match padding_override {
                Some((step, p)) if step == k => Some((p, p)),
                _ => padding.get(),
            };
            if x.is_flat() {
                issues.push(Issue::AfterFlatten { step: k });
                return (unknown_map, params);
            }
            let Shape::Map { c, h, w } = x else {
                return (unknown_map, params);
            };
            if let Some(ci) = in_channels.value {
                if ci != c {
                    issues.push(Issue::ConvChannels {
                        step: k,
                        arriving: c,
                    });
                }
            }
            let (Some(co), Some(kk), Some(s), Some(p), Some(d)) = (
                out_channels.value,
                kernel.get(),
                stride.get(),
                p,
                dilation.get(),
            ) else {
                return (unknown_map, params);
            };
            match window(k, (h, w), kk, s, p, d, issues) {
                Some((ho, wo)) => (
                    Shape::Map {
                        c: co,
                        h: ho,
                        w: wo,
                    },
                    params,
                ),
                None => (unknown_map, params),
            }
        }
        Kind::MaxPool2d {
            kernel,
            stride,
            padding,
        }
        | Kind::AvgPool2d {
            kernel,
            stride,
            padding,
        } => {
            if x.is_flat() {
                issues.push(Issue::AfterFlatten { step: k });
                return (unknown_map, params);
            }
            let Shape::Map { c, h, w } = x else {
                return (unknown_map, params);
            };
            let (Some(kk), Some(s), Some(p)) = (kernel.get(), stride.get(), padding.get()) else {
                return (unknown_map, params);
            };
            match window(k, (h, w), kk, s, p, (1, 1), issues) {
                Some((ho, wo)) => (Shape::Map { c, h: ho, w: wo }, params),
                None => (unknown_map, params),
            }
        }
        Kind::AdaptiveAvgPool2d => {
            if x.is_flat() {
                issues.push(Issue::AfterFlatten { step: k });
                return (unknown_map, params);
            }
            match x {
                Shape::Map { c, .. } => (Shape::Map { c, h: 1, w: 1 }, params),
                _ => (unknown_map, params),
            }
        }
        // Batch norm keeps the shape, even when it is the wrong one (the
        // mistake is then batch norm's, not the next layer's).
        Kind::BatchNorm2d { num_features, .. } => {
            if x.is_flat() {
                issues.push(Issue::AfterFlatten { step: k });
                return (x, params);
            }
            if let (Shape::Map { c, .. }, Some(n)) = (x, num_features.value) {
                if c != n {
                    issues.push(Issue::BatchNormFeatures {
                        step: k,
                        arriving: c,
                    });
                }
            }
            (x, params)
        }
        Kind::BatchNorm1d { num_features, .. } => {
            match (x, num_features.value) {
                (Shape::Map { .. }, _) => issues.push(Issue::NeedsFlatten { step: k }),
                (Shape::Flat(n), Some(f)) if n != f => issues.push(Issue::BatchNormFeatures {
                    step: k,
                    arriving: n,
                }),
                _ => {}
            }
            (x, params)
        }
        Kind::Linear {
            in_features,
            out_features,
        } => {
            match x {
                Shape::Flat(n) => {
                    if let Some(i) = in_features.value {
                        if i != n {
                            issues.push(Issue::LinearFeatures {
                                step: k,
                                arriving: n,
                            });
                        }
                    }
                }
                Shape::Map { .. } => issues.push(Issue::NeedsFlatten { step: k }),
                Shape::Unknown { .. } => {}
            }
            let out = match out_features.value {
                Some(o) => Shape::Flat(o),
                None => Shape::Unknown { flat: true },
            };
            (out, params)
        }
    }
}

/// The output height and width of a window `kernel` (taps `dilation`
/// apart) moving by `stride` over `input` padded by `padding`, or `None`
/// with an issue when it does not fit.
fn window(
    k: usize,
    input: (u64, u64),
    kernel: (u64, u64),
    stride: (u64, u64),
    padding: (u64, u64),
    dilation: (u64, u64),
    issues: &mut Vec<Issue>,
) -> Option<(u64, u64)> {
    let (h, w) = input;
    let out = (
        conv_out(h, kernel.0, stride.0, padding.0, dilation.0),
        conv_out(w, kernel.1, stride.1, padding.1, dilation.1),
    );
    match out {
        (Some(ho), Some(wo)) => Some((ho, wo)),
        _ => {
            issues.push(Issue::WindowTooLarge {
                step: k,
                window: kernel,
                span: (
                    span(kernel.0, dilation.0).unwrap_or(kernel.0),
                    span(kernel.1, dilation.1).unwrap_or(kernel.1),
                ),
                padded: (
                    h.saturating_add(padding.0.saturating_mul(2)),
                    w.saturating_add(padding.1.saturating_mul(2)),
                ),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctxt::Ctxt;

    fn trace(body: &str) -> (Trace, usize) {
        let decl: crate::ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).unwrap();
        let mut cx = Ctxt::new();
        let net = crate::model::lower(decl, &mut cx);
        (infer(&net, None), cx.len())
    }

    const LENET: &str = "conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), conv2: Conv2d(6, 16, 5), relu, \
        pool2: AvgPool2d(2, 2), flatten, fc1: Linear(16 * 5 * 5, 120), relu, fc2: Linear(120, 84), relu, fc3: Linear(84, 10)";

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(61706), "61,706");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn formulas() {
        assert_eq!(conv_out(32, 5, 1, 0, 1), Some(28));
        assert_eq!(conv_out(28, 5, 1, 2, 1), Some(28));
        assert_eq!(conv_out(28, 3, 2, 1, 1), Some(14));
        assert_eq!(conv_out(7, 3, 2, 0, 1), Some(3));
        assert_eq!(conv_out(4, 5, 1, 0, 1), None);
        assert_eq!(conv_out(4, 5, 1, 1, 1), Some(2));
        assert_eq!(conv_out(4, 2, 0, 0, 1), None);
        assert_eq!(pool_out(28, 2, 2, 0), Some(14));
        assert_eq!(pool_out(5, 2, 2, 0), Some(2));
        assert_eq!(pool_out(5, 3, 1, 0), Some(3));
        assert_eq!(pool_out(1, 2, 2, 0), None);
        assert_eq!(conv_out(u64::MAX, 1, 1, 1, 1), None);
    }

    #[test]
    fn lenet5_table() {
        let (t, errors) = trace(&format!("input: [1, 32, 32], {LENET}"));
        assert_eq!(errors, 0);
        assert!(t.issues.is_empty(), "{:?}", t.issues);
        let texts: Vec<String> = t.shapes.iter().map(Shape::text).collect();
        assert_eq!(
            texts,
            [
                "1×32×32",
                "6×28×28",
                "6×28×28",
                "6×14×14",
                "16×10×10",
                "16×10×10",
                "16×5×5",
                "400",
                "120",
                "120",
                "84",
                "84",
                "10"
            ]
        );
        let params: Vec<u64> = t.params.iter().map(|p| p.unwrap()).collect();
        assert_eq!(params, [156, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850]);
        assert_eq!(params.iter().sum::<u64>(), 61706);
    }

    #[test]
    fn mnist_without_padding_ends_at_256() {
        let (t, _) = trace(&format!("input: [1, 28, 28], {LENET}"));
        assert_eq!(t.shapes[7], Shape::Flat(256));
        assert_eq!(
            t.issues,
            [Issue::LinearFeatures {
                step: 7,
                arriving: 256
            }]
        );
        let fixed = infer(
            &{
                let decl: crate::ast::Decl =
                    syn::parse_str(&format!("struct N {{ input: [1, 28, 28], {LENET} }}")).unwrap();
                crate::model::lower(decl, &mut Ctxt::new())
            },
            Some((0, 2)),
        );
        assert!(fixed.issues.is_empty());
        assert_eq!(fixed.shapes[7], Shape::Flat(400));
    }

    #[test]
    fn stride_padding_pools_and_adaptive() {
        let (t, _) = trace(
            "input: [3, 32, 32], c: Conv2d(3, 8, 3, stride = 2, padding = 1), p: MaxPool2d(3, 1), \
             a: AdaptiveAvgPool2d(1), flatten, fc: Linear(8, 2)",
        );
        assert!(t.issues.is_empty());
        let texts: Vec<String> = t.shapes.iter().map(Shape::text).collect();
        assert_eq!(texts, ["3×32×32", "8×16×16", "8×14×14", "8×1×1", "8", "2"]);
    }

    #[test]
    fn mistakes_become_issues_and_inference_goes_on() {
        let (t, _) =
            trace("input: [1, 8, 8], c: Conv2d(3, 4, 3), fc: Linear(10, 5), fc2: Linear(5, 2)");
        assert_eq!(
            t.issues,
            [
                Issue::ConvChannels {
                    step: 0,
                    arriving: 1
                },
                Issue::NeedsFlatten { step: 1 }
            ]
        );
        assert_eq!(t.shapes[3], Shape::Flat(2));
        let (t, _) = trace("input: [1, 4, 4], c: Conv2d(1, 4, 5)");
        assert_eq!(
            t.issues,
            [Issue::WindowTooLarge {
                step: 0,
                window: (5, 5),
                span: (5, 5),
                padded: (4, 4)
            }]
        );
        let (t, _) = trace("input: [1, 4, 4], flatten, c: Conv2d(1, 4, 1)");
        assert_eq!(t.issues, [Issue::AfterFlatten { step: 1 }]);
        let (t, _) = trace("input: [1, 4, 4], c: Conv2d(1, 4, 1, padding = 2147483648)");
        assert!(matches!(
            t.issues.as_slice(),
            [Issue::TooLarge { step: 0, .. }]
        ));
    }

    /// DS-CNN-S for keyword spotting (49×10 MFCC, 12 classes): a 10×4
    /// strided convolution, then four depthwise-separable blocks.
    fn ds_cnn(bias: &str) -> String {
        let mut body = format!(
            "input: [1, 49, 10], conv1: Conv2d(1, 64, (10, 4), stride = (2, 2), padding = (5, 1){bias}), \
             bn1: BatchNorm2d(64), relu"
        );
        for b in 1..=4 {
            body.push_str(&format!(
                ", dw{b}: Conv2d(64, 64, 3, padding = 1, groups = 64{bias}), dwbn{b}: BatchNorm2d(64), relu, \
                 pw{b}: Conv2d(64, 64, 1{bias}), pwbn{b}: BatchNorm2d(64), relu"
            ));
        }
        body.push_str(
            ", drop: Dropout(0.4), pool: AvgPool2d((25, 5)), flatten, fc: Linear(64, 12)",
        );
        body
    }

    /// MobileNetV1 with width 0.25 on 96×96×3 (2 classes), convolutions
    /// without bias, each followed by batch norm and relu6.
    fn mobilenet_v1_025() -> String {
        let mut body =
            "input: [3, 96, 96], conv0: Conv2d(3, 8, 3, stride = 2, padding = 1, bias = false), \
                        bn0: BatchNorm2d(8), relu6"
                .to_string();
        let blocks = [
            (8, 16, 1),
            (16, 32, 2),
            (32, 32, 1),
            (32, 64, 2),
            (64, 64, 1),
            (64, 128, 2),
            (128, 128, 1),
            (128, 128, 1),
            (128, 128, 1),
            (128, 128, 1),
            (128, 128, 1),
            (128, 256, 2),
            (256, 256, 1),
        ];
        for (i, (ci, co, s)) in blocks.iter().enumerate() {
            let b = i + 1;
            body.push_str(&format!(
                ", dw{b}: Conv2d({ci}, {ci}, 3, stride = {s}, padding = 1, groups = {ci}, bias = false), \
                 dwbn{b}: BatchNorm2d({ci}), relu6, \
                 pw{b}: Conv2d({ci}, {co}, 1, bias = false), pwbn{b}: BatchNorm2d({co}), relu6"
            ));
        }
        body.push_str(", pool: AdaptiveAvgPool2d(1), flatten, Dropout(), fc: Linear(256, 2)");
        body
    }

    #[test]
    fn second_edition_formulas() {
        // PyTorch: Conv2d(1, 64, (10, 4), stride=(2, 2), padding=(5, 1)) on
        // 49×10 gives 25×5.
        assert_eq!(conv_out(49, 10, 2, 5, 1), Some(25));
        assert_eq!(conv_out(10, 4, 2, 1, 1), Some(5));
        // Dilation: a 3-tap kernel 2 apart spans 5.
        assert_eq!(span(3, 2), Some(5));
        assert_eq!(conv_out(7, 3, 1, 0, 2), Some(3));
        assert_eq!(conv_out(4, 3, 1, 0, 2), None);
        assert_eq!(conv_out(4, 3, 1, 1, 2), Some(2));
        assert_eq!(conv_out(28, 3, 2, 1, 3), Some(12));
        assert_eq!(conv_out(5, 1, 1, 0, 0), None);
        // Padded pooling: MaxPool2d(3, 2, 1) on 7 gives 4, AvgPool2d(2, 1, 1)
        // on 13 gives 14.
        assert_eq!(pool_out(7, 3, 2, 1), Some(4));
        assert_eq!(pool_out(13, 2, 1, 1), Some(14));
    }

    #[test]
    fn ds_cnn_shapes_and_parameters() {
        let (t, errors) = trace(&ds_cnn(""));
        assert_eq!(errors, 0);
        assert!(t.issues.is_empty(), "{:?}", t.issues);
        assert_eq!(t.shapes[1].text(), "64×25×5");
        assert_eq!(t.shapes[t.shapes.len() - 3].text(), "64×1×1");
        assert_eq!(t.shapes.last().map(Shape::text).as_deref(), Some("12"));
        let params: Vec<u64> = t.params.iter().map(|p| p.unwrap()).collect();
        // conv1 (10·4·1 + 1)·64, bn1 2·64, per block depthwise (9 + 1)·64,
        // pointwise (64 + 1)·64 and two batch norms, fc (64 + 1)·12.
        assert_eq!(params[0], 2_624);
        assert_eq!(params[1], 128);
        assert_eq!(params[3], 640);
        assert_eq!(params[6], 4_160);
        assert_eq!(params.iter().sum::<u64>(), 23_756);
        // Nine batch norms, each running_mean and running_var of 64 and
        // num_batches_tracked.
        let buffers: u64 = t.buffers.iter().map(|b| b.unwrap()).sum();
        assert_eq!(buffers, 9 * (2 * 64 + 1));
        let (t, _) = trace(&ds_cnn(", bias = false"));
        assert_eq!(t.params.iter().map(|p| p.unwrap()).sum::<u64>(), 23_180);
    }

    #[test]
    fn mobilenet_v1_025_shapes_and_parameters() {
        let (t, errors) = trace(&mobilenet_v1_025());
        assert_eq!(errors, 0);
        assert!(t.issues.is_empty(), "{:?}", t.issues);
        let texts: Vec<String> = t.shapes.iter().map(Shape::text).collect();
        assert_eq!(texts[1], "8×48×48");
        // After the blocks with stride 2: 24, 12, 6 and 3.
        assert_eq!(texts[3 + 6 * 2], "32×24×24");
        assert_eq!(texts[3 + 6 * 13], "256×3×3");
        assert_eq!(texts[texts.len() - 4], "256×1×1");
        assert_eq!(texts.last().map(String::as_str), Some("2"));
        let params: Vec<u64> = t.params.iter().map(|p| p.unwrap()).collect();
        assert_eq!(params[0], 3 * 8 * 3 * 3);
        // The first depthwise convolution: one 3×3 filter per channel.
        assert_eq!(params[3], 8 * 3 * 3);
        // The SPEC's number: trainable parameters only, with a
        // `Linear(256, 2)` head after global average pooling.
        assert_eq!(params.iter().sum::<u64>(), 213_586);
        let buffers: u64 = t.buffers.iter().map(|b| b.unwrap()).sum();
        // 27 batch norms of 8 + 2·(8 + 16 + 32 + 32 + 64 + 64 + 5·128 + 128
        // + 256) + 256 channels − the first's counted once.
        let channels: u64 = 8 + [8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256]
            .iter()
            .zip([16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256])
            .map(|(a, b)| a + b)
            .sum::<u64>();
        assert_eq!(buffers, 2 * channels + 27);
    }

    #[test]
    fn second_edition_mistakes_become_issues() {
        let (t, _) = trace("input: [8, 6, 6], bn: BatchNorm2d(6)");
        assert_eq!(
            t.issues,
            [Issue::BatchNormFeatures {
                step: 0,
                arriving: 8
            }]
        );
        let (t, _) = trace("input: [8, 6, 6], flatten, bn: BatchNorm2d(288)");
        assert_eq!(t.issues, [Issue::AfterFlatten { step: 1 }]);
        let (t, _) = trace("input: [8, 6, 6], bn: BatchNorm1d(8), flatten, f: Linear(288, 2)");
        assert_eq!(t.issues, [Issue::NeedsFlatten { step: 0 }]);
        let (t, _) = trace("input: [8, 6, 6], flatten, bn: BatchNorm1d(280)");
        assert_eq!(
            t.issues,
            [Issue::BatchNormFeatures {
                step: 1,
                arriving: 288
            }]
        );
        let (t, _) = trace("input: [1, 4, 4], c: Conv2d(1, 2, 3, dilation = 2)");
        assert_eq!(
            t.issues,
            [Issue::WindowTooLarge {
                step: 0,
                window: (3, 3),
                span: (5, 5),
                padded: (4, 4)
            }]
        );
        let (t, _) = trace("input: [1, 2, 9], p: MaxPool2d((5, 2), padding = (1, 0))");
        assert_eq!(
            t.issues,
            [Issue::WindowTooLarge {
                step: 0,
                window: (5, 2),
                span: (5, 2),
                padded: (4, 9)
            }]
        );
        assert_eq!(t.shapes[1], Shape::Unknown { flat: false });
    }
}
