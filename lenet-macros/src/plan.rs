//! The plan: from the checked model and its inferred shapes, the list of
//! steps code generation prints — each step's operation with every size
//! fixed, its shapes, and where its parameters lie in the flat array — and
//! the list of parameter tensors in PyTorch's order. Plain data, no tokens:
//! `expand` prints it.

use syn::ext::IdentExt;

use crate::model::{Dtype, Init, Kind, Net};
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
    /// `relu6`.
    Relu6,
    /// `LeakyReLU(negative_slope)`, the slope's `f32` bits.
    LeakyRelu(u32),
}

/// One operation with every size fixed, as the runtime's layer type takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `Conv2d<CI, CO, K, S, P, H, W, HO, WO>`, the tuned kernel: square
    /// (`K > 1`), stride 1, undilated, one group, with bias (LeNet's).
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
    /// `Relu<N>`, `Tanh<N>`, `Sigmoid<N>`, `Flatten<N>`, `Relu6<N>`,
    /// `LeakyRelu<N, SLOPE>`.
    Elementwise { op: Elementwise, n: u64 },
    /// Any other convolution: a matrix product when `groups = 1` (1×1,
    /// strided, rectangular, dilated or without bias), else depthwise
    /// (`groups = ci`) or grouped.
    Conv {
        ci: u64,
        co: u64,
        kh: u64,
        kw: u64,
        sh: u64,
        sw: u64,
        ph: u64,
        pw: u64,
        dh: u64,
        dw: u64,
        groups: u64,
        bias: bool,
        h: u64,
        w: u64,
        ho: u64,
        wo: u64,
    },
    /// Pooling with padding or a rectangular window or stride.
    PaddedPool {
        pool: Pool,
        c: u64,
        kh: u64,
        kw: u64,
        sh: u64,
        sw: u64,
        ph: u64,
        pw: u64,
        h: u64,
        w: u64,
        ho: u64,
        wo: u64,
    },
    /// `BatchNorm2d` (`hw = H·W`) or `BatchNorm1d` (`hw = 1`): `eps` and
    /// `momentum` as `f32` bits; its running statistics at `buffer` in the
    /// `F32` buffers (mean then variance, `c` each), its counter at
    /// `counter`.
    BatchNorm {
        c: u64,
        hw: u64,
        eps: u32,
        momentum: u32,
        buffer: u64,
        counter: u64,
    },
    /// `Dropout(p)` on `n` floats per image, `p` as `f32` bits; `index`
    /// tells the network's dropout layers apart.
    Dropout { n: u64, p: u32, index: u64 },
}

/// One buffer tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferP {
    /// PyTorch name (`bn1.running_mean`).
    pub name: String,
    /// PyTorch shape (`[]` for a counter).
    pub shape: Vec<u64>,
    /// `true` for an `I64` counter.
    pub counter: bool,
    /// Offset in the `F32` buffers, or index of the counter.
    pub offset: u64,
    /// Elements.
    pub len: u64,
    /// Initial value (0 or 1).
    pub init: u64,
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
    /// What the step applies to its output after its operation (set by
    /// `fuse`).
    pub post: crate::fuse::Post,
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
    /// How a new network initialises it.
    pub init: Init,
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
    /// Every buffer, in PyTorch's order.
    pub buffers: Vec<BufferP>,
    /// Floats of the `F32` buffers.
    pub buffer_floats: u64,
    /// Number of `I64` counters.
    pub counters: u64,
}

impl Plan {
    /// The plan of a checked network, or `None` when a shape or size is
    /// unknown (the checks have reported why).
    pub fn new(net: &Net, trace: &Trace) -> Option<Plan> {
        let input = net.input.as_ref()?.dims?;
        let mut steps = Vec::new();
        let mut params = Vec::new();
        let mut buffers = Vec::new();
        let (mut offset, mut buffer_floats, mut counters, mut dropouts) = (0u64, 0u64, 0u64, 0u64);
        for (k, step) in net.steps.iter().enumerate() {
            let x = *trace.shapes.get(k)?;
            let y = *trace.shapes.get(k + 1)?;
            let (in_dims, out_dims) = (x.dims()?, y.dims()?);
            let (in_len, out_len) = (x.numel()?, y.numel()?);
            let (kind, op) = match (&step.kind, x) {
                (
                    Kind::Conv2d {
                        in_channels,
                        out_channels,
                        kernel,
                        stride,
                        padding,
                        dilation,
                        groups,
                        bias,
                    },
                    Shape::Map { h, w, .. },
                ) => {
                    let (ci, co, g, bias_on) = (
                        in_channels.value?,
                        out_channels.value?,
                        groups.value?,
                        bias.value?,
                    );
                    let ((kh, kw), (sh, sw), (ph, pw), (dh, dw)) = (
                        kernel.get()?,
                        stride.get()?,
                        padding.get()?,
                        dilation.get()?,
                    );
                    let Shape::Map { h: ho, w: wo, .. } = y else {
                        return None;
                    };
                    let mut kind = format!("Conv2d({ci}, {co}, {}", kernel.short());
                    if !stride.is(1) {
                        kind.push_str(&format!(", stride={}", stride.short()));
                    }
                    if !padding.is(0) {
                        kind.push_str(&format!(", padding={}", padding.short()));
                    }
                    if !dilation.is(1) {
                        kind.push_str(&format!(", dilation={}", dilation.short()));
                    }
                    if g != 1 {
                        kind.push_str(&format!(", groups={g}"));
                    }
                    if !bias_on {
                        kind.push_str(", bias=False");
                    }
                    kind.push(')');
                    // The tuned kernel is shaped for LeNet's layers: square,
                    // stride 1, a bias, wider than one tap. The others run as a
                    // matrix product (`groups = 1`) or a direct kernel.
                    let tuned = bias_on
                        && kh == kw
                        && kh > 1
                        && (sh, sw) == (1, 1)
                        && ph == pw
                        && (dh, dw) == (1, 1)
                        && g == 1;
                    let op = if tuned {
                        Op::Conv2d {
                            ci,
                            co,
                            k: kh,
                            s: sh,
                            p: ph,
                            h,
                            w,
                            ho,
                            wo,
                        }
                    } else {
                        Op::Conv {
                            ci,
                            co,
                            kh,
                            kw,
                            sh,
                            sw,
                            ph,
                            pw,
                            dh,
                            dw,
                            groups: g,
                            bias: bias_on,
                            h,
                            w,
                            ho,
                            wo,
                        }
                    };
                    (kind, op)
                }
                (
                    Kind::MaxPool2d {
                        kernel,
                        stride,
                        padding,
                    }
                    | Kind::AvgPool2d {
                        kernel,
                        stride,
                        padding,
                    },
                    Shape::Map { c, h, w },
                ) => {
                    let ((kh, kw), (sh, sw), (ph, pw)) =
                        (kernel.get()?, stride.get()?, padding.get()?);
                    let Shape::Map { h: ho, w: wo, .. } = y else {
                        return None;
                    };
                    let pool = match step.kind {
                        Kind::MaxPool2d { .. } => Pool::Max,
                        _ => Pool::Avg,
                    };
                    let mut kind = format!(
                        "{}({}, {}",
                        step.kind.word(),
                        kernel.short(),
                        stride.short()
                    );
                    if !padding.is(0) {
                        kind.push_str(&format!(", padding={}", padding.short()));
                    }
                    kind.push(')');
                    // A window over the whole unpadded map averages it all.
                    let global =
                        pool == Pool::Avg && (kh, kw, ph, pw, ho, wo) == (h, w, 0, 0, 1, 1);
                    let op = if global {
                        Op::AdaptiveAvgPool2d { c, h, w }
                    } else if kh == kw && sh == sw && ph == 0 && pw == 0 {
                        Op::Pool2d {
                            pool,
                            c,
                            k: kh,
                            s: sh,
                            h,
                            w,
                            ho,
                            wo,
                        }
                    } else {
                        Op::PaddedPool {
                            pool,
                            c,
                            kh,
                            kw,
                            sh,
                            sw,
                            ph,
                            pw,
                            h,
                            w,
                            ho,
                            wo,
                        }
                    };
                    (kind, op)
                }
                (Kind::AdaptiveAvgPool2d, Shape::Map { c, h, w }) => {
                    let op = Op::AdaptiveAvgPool2d { c, h, w };
                    ("AdaptiveAvgPool2d(1)".to_string(), op)
                }
                (
                    Kind::Linear {
                        in_features,
                        out_features,
                    },
                    Shape::Flat(_),
                ) => {
                    let (i, o) = (in_features.value?, out_features.value?);
                    (format!("Linear({i}, {o})"), Op::Linear { i, o })
                }
                (
                    Kind::BatchNorm2d {
                        num_features,
                        eps,
                        momentum,
                    }
                    | Kind::BatchNorm1d {
                        num_features,
                        eps,
                        momentum,
                    },
                    _,
                ) => {
                    let c = num_features.value?;
                    let hw = match x {
                        Shape::Map { h, w, .. } => h.checked_mul(w)?,
                        Shape::Flat(_) => 1,
                        _ => return None,
                    };
                    let (e, m) = (eps.value?, momentum.value?);
                    let mut kind = format!("{}({c}", step.kind.word());
                    if e != 1e-5 {
                        kind.push_str(&format!(", eps={}", eps.text));
                    }
                    if m != 0.1 {
                        kind.push_str(&format!(", momentum={}", momentum.text));
                    }
                    kind.push(')');
                    let op = Op::BatchNorm {
                        c,
                        hw,
                        eps: e.to_bits(),
                        momentum: m.to_bits(),
                        buffer: buffer_floats,
                        counter: counters,
                    };
                    (kind, op)
                }
                (Kind::Dropout { p }, _) => {
                    let op = Op::Dropout {
                        n: in_len,
                        p: p.value?.to_bits(),
                        index: dropouts,
                    };
                    dropouts += 1;
                    (format!("Dropout(p={})", p.text), op)
                }
                (
                    Kind::Relu
                    | Kind::Tanh
                    | Kind::Sigmoid
                    | Kind::Flatten
                    | Kind::Relu6
                    | Kind::LeakyRelu { .. },
                    _,
                ) => {
                    let (op, kind) = match &step.kind {
                        Kind::Relu => (Elementwise::Relu, "ReLU".to_string()),
                        Kind::Tanh => (Elementwise::Tanh, "Tanh".to_string()),
                        Kind::Sigmoid => (Elementwise::Sigmoid, "Sigmoid".to_string()),
                        Kind::Relu6 => (Elementwise::Relu6, "ReLU6".to_string()),
                        Kind::LeakyRelu { negative_slope } => (
                            Elementwise::LeakyRelu(negative_slope.value?.to_bits()),
                            format!("LeakyReLU(negative_slope={})", negative_slope.text),
                        ),
                        _ => (Elementwise::Flatten, "Flatten".to_string()),
                    };
                    let op = Op::Elementwise { op, n: in_len };
                    (kind, op)
                }
                _ => return None,
            };
            let name = match &step.name {
                Some(n) => n.unraw().to_string(),
                None => step.word.unraw().to_string().to_lowercase(),
            };
            let tensors = step.kind.parameters()?;
            let lens = tensors
                .iter()
                .map(|t| t.len())
                .collect::<Option<Vec<u64>>>()?;
            let (weights, biases) = (
                lens.first().copied().unwrap_or(0),
                lens.get(1).copied().unwrap_or(0),
            );
            let mut at = offset;
            for (t, len) in tensors.iter().zip(&lens) {
                params.push(Param {
                    name: format!("{name}.{}", t.suffix),
                    shape: t.shape.clone(),
                    offset: at,
                    len: *len,
                    fan_in: t.fan_in,
                    init: t.init,
                });
                at = at.checked_add(*len)?;
            }
            for t in step.kind.buffers()? {
                let len = t.len()?;
                let counter = t.dtype == Dtype::I64;
                let place = if counter {
                    &mut counters
                } else {
                    &mut buffer_floats
                };
                buffers.push(BufferP {
                    name: format!("{name}.{}", t.suffix),
                    shape: t.shape.clone(),
                    counter,
                    offset: *place,
                    len,
                    init: u64::from(t.init == Init::Ones),
                });
                *place = place.checked_add(if counter { 1 } else { len })?;
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
                post: crate::fuse::Post::None,
            });
            offset = at;
        }
        let output = trace.shapes.last()?.dims()?;
        Some(Plan {
            input,
            output,
            steps,
            params,
            param_count: offset,
            buffers,
            buffer_floats,
            counters,
        })
    }

    /// Whether a training pass must see the whole batch (batch norm).
    pub fn whole_batch(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.op, Op::BatchNorm { .. }))
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
    #[cfg(test)]
    pub fn has_params(&self) -> bool {
        self.steps.iter().any(|s| s.weights > 0)
    }
}

// ---------------------------------------------------------------------------
// Memory: where every value of a pass lies, decided by liveness.
// ---------------------------------------------------------------------------

/// Where a value lies during a pass. Offsets and lengths are floats per
/// image: a pass over `n` images scales both by `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buf {
    /// The caller's input images (read only).
    Input,
    /// The caller's output buffer.
    Output,
    /// `len` floats at `offset` in the planned scratch arena.
    Arena { offset: u64, len: u64 },
}

/// How one step of a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exec {
    /// The layer reads `from` and writes `to` (never overlapping).
    Compute { from: Buf, to: Buf },
    /// An element-wise step overwrites its input in `buf`.
    InPlace { buf: Buf },
    /// `flatten`: the same floats seen with another shape, no code at all.
    View,
}

/// The single-image forward pass (and the batch inference pass, scaled by
/// the images of a block): every step's buffers and the arena's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardMemory {
    /// How each step runs, in order.
    pub exec: Vec<Exec>,
    /// Floats of arena per image (`FORWARD_SCRATCH_FLOATS`).
    pub size: u64,
}

/// One step of the backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Back {
    /// `Layer::backward` of step `step`: `x` and `y` are its forward input
    /// and output (`y` is `None` when the layer does not read it: the
    /// gradient `dy`, of the same length, stands in), `dx` receives the
    /// gradient of its input (`None` for the first step with parameters).
    Compute {
        step: usize,
        x: Buf,
        y: Option<Buf>,
        dy: Buf,
        dx: Option<Buf>,
    },
    /// An element-wise step whose gradient overwrites `dy` in place, from
    /// its output `y`.
    InPlace { step: usize, y: Buf, d: Buf },
    /// `flatten`: the gradient is the same floats.
    View { step: usize },
}

/// The training pass over a block of images: the forward pass keeping what
/// backward reads, the loss, and the backward pass, in one arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainMemory {
    /// How each forward step runs (the last one writes into the arena).
    pub forward: Vec<Exec>,
    /// Where the logits lie.
    pub logits: Buf,
    /// Where the loss writes the gradient of the logits.
    pub dlogits: Buf,
    /// The backward steps in the order they run (last step first).
    pub backward: Vec<Back>,
    /// Floats of arena per image (`TRAIN_SCRATCH_FLOATS`).
    pub size: u64,
}

/// What a layer's backward reads of its forward input and output (besides
/// their lengths, which every backward takes the image count from), in
/// training: the operation's, and the output too when a fused `relu`'s
/// mask is read from it.
fn reads(step: &Step) -> (bool, bool) {
    let (x, y) = reads_op(&step.op);
    (x, y || step.post.reads_output())
}

/// What an operation's backward reads of its input and output.
fn reads_op(op: &Op) -> (bool, bool) {
    match op {
        // dW = dy ⊗ x; dx = Wᵀ dy.
        Op::Conv2d { .. } | Op::Conv { .. } | Op::Linear { .. } => (true, false),
        // The gradient goes to the first maximum of each window of x.
        Op::Pool2d {
            pool: Pool::Max, ..
        }
        | Op::PaddedPool {
            pool: Pool::Max, ..
        } => (true, false),
        Op::Pool2d {
            pool: Pool::Avg, ..
        }
        | Op::PaddedPool {
            pool: Pool::Avg, ..
        }
        | Op::AdaptiveAvgPool2d { .. } => (false, false),
        // x̂ = (x − mean) · inv_std, from x and the batch's statistics.
        Op::BatchNorm { .. } => (true, false),
        // The mask is drawn again from the seed.
        Op::Dropout { .. } => (false, false),
        // A negative slope's gate is the sign of x, which y does not keep.
        Op::Elementwise {
            op: Elementwise::LeakyRelu(bits),
            ..
        } if f32::from_bits(*bits) < 0.0 => (true, false),
        // relu' = [y > 0], tanh' = 1 − y², σ' = y(1 − y), relu6' = [0 < y < 6].
        Op::Elementwise {
            op:
                Elementwise::Relu
                | Elementwise::Tanh
                | Elementwise::Sigmoid
                | Elementwise::Relu6
                | Elementwise::LeakyRelu(_),
            ..
        } => (false, true),
        Op::Elementwise {
            op: Elementwise::Flatten,
            ..
        } => (false, false),
    }
}

/// Whether the step can overwrite its input with its output, in the
/// forward pass (`train` false: batch norm with the running statistics
/// too) or in training.
fn in_place(op: &Op, train: bool) -> bool {
    match op {
        Op::Elementwise {
            op: Elementwise::Flatten,
            ..
        } => false,
        Op::Elementwise { .. } => !train || !reads_op(op).0,
        Op::BatchNorm { .. } => !train,
        _ => false,
    }
}

/// Whether the step is the same floats seen another way: `flatten`, and
/// dropout outside training.
fn is_view(op: &Op, train: bool) -> bool {
    match op {
        Op::Elementwise {
            op: Elementwise::Flatten,
            ..
        } => true,
        Op::Dropout { .. } => !train,
        _ => false,
    }
}

/// Where a value lies before offsets are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Input,
    Output,
    Buffer(usize),
}

/// Buffers with their lengths and live intervals (inclusive, in time
/// steps), then offsets by greedy first fit, largest first (the strategy
/// of TFLite's and TVM's static planners).
#[derive(Default)]
struct Arena {
    /// `(len, first use, last use)`.
    buffers: Vec<(u64, usize, usize)>,
}

impl Arena {
    fn alloc(&mut self, len: u64, at: usize) -> Loc {
        self.buffers.push((len, at, at));
        Loc::Buffer(self.buffers.len() - 1)
    }

    fn touch(&mut self, loc: Loc, at: usize) {
        if let Loc::Buffer(b) = loc {
            if let Some(buf) = self.buffers.get_mut(b) {
                buf.2 = buf.2.max(at);
            }
        }
    }

    /// Offsets of every buffer, and the arena's size.
    fn assign(&self) -> (Vec<u64>, u64) {
        let mut order: Vec<usize> = (0..self.buffers.len()).collect();
        order.sort_by_key(|&b| (std::cmp::Reverse(self.buffers[b].0), self.buffers[b].1, b));
        let mut offsets: Vec<Option<u64>> = vec![None; self.buffers.len()];
        let mut size = 0;
        for b in order {
            let (len, start, end) = self.buffers[b];
            // The placed buffers live at the same time as this one.
            let mut taken: Vec<(u64, u64)> = self
                .buffers
                .iter()
                .zip(&offsets)
                .filter_map(|(&(l, s, e), o)| {
                    let o = (*o)?;
                    (s <= end && start <= e).then_some((o, o + l))
                })
                .collect();
            taken.sort_unstable();
            let mut offset = 0;
            for (lo, hi) in taken {
                if offset + len <= lo {
                    break;
                }
                offset = offset.max(hi);
            }
            offsets[b] = Some(offset);
            size = size.max(offset + len);
        }
        (offsets.into_iter().map(|o| o.unwrap_or(0)).collect(), size)
    }
}

/// A `Loc` with its offset: the `Buf` code generation prints.
fn place(loc: Loc, len: u64, offsets: &[u64]) -> Buf {
    match loc {
        Loc::Input => Buf::Input,
        Loc::Output => Buf::Output,
        Loc::Buffer(b) => Buf::Arena {
            offset: offsets.get(b).copied().unwrap_or(0),
            len,
        },
    }
}

/// How a step runs before offsets are known.
#[derive(Debug, Clone, Copy)]
enum Run {
    Compute(Loc, Loc),
    InPlace(Loc),
    View,
}

fn finish(runs: &[Run], lens: &[u64], offsets: &[u64]) -> Vec<Exec> {
    runs.iter()
        .enumerate()
        .map(|(k, run)| {
            let (x, y) = (
                lens.get(k).copied().unwrap_or(0),
                lens.get(k + 1).copied().unwrap_or(0),
            );
            match *run {
                Run::Compute(from, to) => Exec::Compute {
                    from: place(from, x, offsets),
                    to: place(to, y, offsets),
                },
                Run::InPlace(buf) => Exec::InPlace {
                    buf: place(buf, y, offsets),
                },
                Run::View => Exec::View,
            }
        })
        .collect()
}

impl Plan {
    /// Floats of every value of a pass, per image: the input, then each
    /// step's output.
    fn value_lens(&self) -> Vec<u64> {
        std::iter::once(self.input_len())
            .chain(self.steps.iter().map(|s| s.out_len))
            .collect()
    }

    /// The forward pass's memory: element-wise steps in place, `flatten` a
    /// view, the trailing element-wise steps in the caller's output, every
    /// other buffer placed in one arena by liveness.
    pub fn forward_memory(&self) -> ForwardMemory {
        let lens = self.value_lens();
        let count = self.steps.len();
        // The steps from `tail` on are element-wise: they run in the output.
        let tail = count
            - self
                .steps
                .iter()
                .rev()
                .take_while(|s| in_place(&s.op, false) || is_view(&s.op, false))
                .count();
        let mut arena = Arena::default();
        let mut at = vec![Loc::Input];
        let mut runs = Vec::with_capacity(count);
        for (k, s) in self.steps.iter().enumerate() {
            let x = at[k];
            arena.touch(x, k);
            let (run, y) = if k + 1 == tail.max(1) {
                // Produces the output (the first step when all are element-wise).
                (Run::Compute(x, Loc::Output), Loc::Output)
            } else if k >= tail {
                if is_view(&s.op, false) {
                    (Run::View, x)
                } else {
                    (Run::InPlace(x), x)
                }
            } else if is_view(&s.op, false) {
                (Run::View, x)
            } else if in_place(&s.op, false) && matches!(x, Loc::Buffer(_)) {
                (Run::InPlace(x), x)
            } else {
                let y = arena.alloc(s.out_len, k);
                (Run::Compute(x, y), y)
            };
            runs.push(run);
            at.push(y);
        }
        let (offsets, size) = arena.assign();
        ForwardMemory {
            exec: finish(&runs, &lens, &offsets),
            size,
        }
    }

    /// Index of the first step with parameters: backward stops there.
    pub fn first_param(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.weights > 0)
    }

    /// The training pass's memory: the forward values backward reads kept
    /// until their backward step, element-wise steps in place where backward
    /// does not need what they overwrite, and the gradients of the values
    /// placed by liveness in the same arena.
    pub fn train_memory(&self) -> TrainMemory {
        let lens = self.value_lens();
        let count = self.steps.len();
        let first = self.first_param().unwrap_or(count);
        // Time: forward step k at k, the loss at `count`, backward of step
        // k at `2·count − k`.
        let back_at = |k: usize| 2 * count - k;
        // Whether value v's contents are read by a backward step.
        let needed = |v: usize| -> bool {
            let as_y = v > first && reads(&self.steps[v - 1]).1;
            let as_x = v < count && v >= first && reads(&self.steps[v]).0;
            as_y || as_x || v == count
        };
        let mut arena = Arena::default();
        let mut at = vec![Loc::Input];
        let mut runs = Vec::with_capacity(count);
        for (k, s) in self.steps.iter().enumerate() {
            let x = at[k];
            arena.touch(x, k);
            let (run, y) = if is_view(&s.op, true) {
                (Run::View, x)
            } else if in_place(&s.op, true) && matches!(x, Loc::Buffer(_)) && !needed(k) {
                (Run::InPlace(x), x)
            } else {
                let y = arena.alloc(s.out_len, k);
                (Run::Compute(x, y), y)
            };
            runs.push(run);
            at.push(y);
        }
        let logits = at[count];
        arena.touch(logits, count);
        let mut grad = arena.alloc(self.output_len(), count);
        let dlogits = grad;
        enum B {
            Compute(usize, Loc, Option<Loc>, Loc, Option<Loc>),
            InPlace(usize, Loc, Loc),
            View(usize),
        }
        let mut backs = Vec::new();
        for k in (first..count).rev() {
            let s = &self.steps[k];
            let t = back_at(k);
            let (x, y) = (at[k], at[k + 1]);
            arena.touch(grad, t);
            if k > first && is_view(&s.op, true) {
                backs.push(B::View(k));
                continue;
            }
            if k > first && in_place(&s.op, true) && matches!(grad, Loc::Buffer(_)) {
                arena.touch(y, t);
                backs.push(B::InPlace(k, y, grad));
                continue;
            }
            // x is passed (its length gives the image count) whether or
            // not its contents are read; y only when read.
            arena.touch(x, t);
            let y = reads(s).1.then_some(y);
            if let Some(y) = y {
                arena.touch(y, t);
            }
            let dx = (k > first).then(|| arena.alloc(lens[k], t));
            backs.push(B::Compute(k, x, y, grad, dx));
            if let Some(dx) = dx {
                grad = dx;
            }
        }
        let (offsets, size) = arena.assign();
        let len = |v: usize| lens.get(v).copied().unwrap_or(0);
        let backward = backs
            .into_iter()
            .map(|b| match b {
                B::Compute(k, x, y, dy, dx) => Back::Compute {
                    step: k,
                    x: place(x, len(k), &offsets),
                    y: y.map(|y| place(y, len(k + 1), &offsets)),
                    dy: place(dy, len(k + 1), &offsets),
                    dx: dx.map(|dx| place(dx, len(k), &offsets)),
                },
                B::InPlace(k, y, d) => Back::InPlace {
                    step: k,
                    y: place(y, len(k + 1), &offsets),
                    d: place(d, len(k + 1), &offsets),
                },
                B::View(k) => Back::View { step: k },
            })
            .collect();
        TrainMemory {
            forward: finish(&runs, &lens, &offsets),
            logits: place(logits, len(count), &offsets),
            dlogits: place(dlogits, self.output_len(), &offsets),
            backward,
            size,
        }
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

    fn arena(buf: Buf) -> (u64, u64) {
        match buf {
            Buf::Arena { offset, len } => (offset, offset + len),
            other => panic!("{other:?} is not in the arena"),
        }
    }

    #[test]
    fn lenet5_forward_memory() {
        let plan = plan(LENET5).unwrap();
        let m = plan.forward_memory();
        // conv1's 6×28×28 beside pool1's 6×14×14 is the peak.
        assert_eq!(m.size, 4704 + 1176);
        assert_eq!(m.exec.len(), 12);
        let Exec::Compute {
            from: Buf::Input,
            to: c1,
        } = m.exec[0]
        else {
            panic!("{:?}", m.exec[0])
        };
        assert_eq!(arena(c1).1 - arena(c1).0, 4704);
        // relu in place on conv1's output; flatten a view.
        assert_eq!(m.exec[1], Exec::InPlace { buf: c1 });
        assert_eq!(m.exec[6], Exec::View);
        // fc3 writes the caller's output.
        assert!(matches!(
            m.exec[11],
            Exec::Compute {
                to: Buf::Output,
                ..
            }
        ));
        // No step reads a buffer that overlaps the one it writes.
        for e in &m.exec {
            if let Exec::Compute {
                from: from @ Buf::Arena { .. },
                to: to @ Buf::Arena { .. },
            } = *e
            {
                let ((a, b), (c, d)) = (arena(from), arena(to));
                assert!(b <= c || d <= a, "{e:?}");
            }
        }
    }

    #[test]
    fn trailing_elementwise_steps_run_in_the_output() {
        let plan = plan("input: [1, 4, 4], c: Conv2d(1, 2, 3), flatten, relu, tanh").unwrap();
        let m = plan.forward_memory();
        assert_eq!(m.size, 0);
        assert_eq!(
            m.exec,
            [
                Exec::Compute {
                    from: Buf::Input,
                    to: Buf::Output
                },
                Exec::View,
                Exec::InPlace { buf: Buf::Output },
                Exec::InPlace { buf: Buf::Output },
            ]
        );
        // All element-wise: the first step copies into the output.
        let plan = plan_of_relu();
        let m = plan.forward_memory();
        assert_eq!(
            m.exec,
            [Exec::Compute {
                from: Buf::Input,
                to: Buf::Output
            }]
        );
    }

    fn plan_of_relu() -> Plan {
        plan("input: [2, 3, 4], relu").unwrap()
    }

    #[test]
    fn lenet5_training_memory() {
        let plan = plan(LENET5).unwrap();
        let m = plan.train_memory();
        // Every forward value backward reads (4704 + 1176 + 1600 + 400 +
        // 120 + 84 + 10) stays, relu in place; at pool1's backward the
        // gradients of conv1's and pool1's outputs lie beside conv1's.
        let values = 4704 + 1176 + 1600 + 400 + 120 + 84 + 10;
        assert!(m.size >= values, "{}", m.size);
        assert!(m.size <= 4704 + 1176 + 4704 + 1600 + 400, "{}", m.size);
        assert_eq!(
            m.forward[1],
            Exec::InPlace {
                buf: match m.forward[0] {
                    Exec::Compute { to, .. } => to,
                    _ => panic!(),
                }
            }
        );
        // Backward runs from fc3 down to conv1; relu's gradient in place,
        // flatten's a view, conv1 gives no input gradient.
        let steps: Vec<usize> = m
            .backward
            .iter()
            .map(|b| match *b {
                Back::Compute { step, .. } | Back::InPlace { step, .. } | Back::View { step } => {
                    step
                }
            })
            .collect();
        assert_eq!(steps, (0..12).rev().collect::<Vec<_>>());
        assert!(matches!(m.backward[1], Back::InPlace { step: 10, .. }));
        assert!(matches!(m.backward[5], Back::View { step: 6 }));
        assert!(matches!(
            m.backward[11],
            Back::Compute {
                step: 0,
                x: Buf::Input,
                dx: None,
                ..
            }
        ));
        // Every backward step's reads are disjoint from its write.
        for b in &m.backward {
            if let Back::Compute {
                x,
                y,
                dy,
                dx: Some(dx),
                ..
            } = *b
            {
                let w = arena(dx);
                for r in [Some(x), y, Some(dy)].into_iter().flatten() {
                    if let Buf::Arena { .. } = r {
                        let r = arena(r);
                        assert!(r.1 <= w.0 || w.1 <= r.0, "{b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_activation_whose_input_backward_reads_is_not_in_place() {
        // relu then tanh: relu's backward reads relu's output, which tanh
        // in place would overwrite.
        let plan = plan("input: [1, 4, 4], c: Conv2d(1, 2, 3), relu, tanh").unwrap();
        let m = plan.train_memory();
        assert!(matches!(m.forward[1], Exec::InPlace { .. }));
        assert!(matches!(m.forward[2], Exec::Compute { .. }));
        // In inference nothing is kept: both in place.
        let f = plan.forward_memory();
        assert_eq!(f.exec[1], Exec::InPlace { buf: Buf::Output });
        assert_eq!(f.exec[2], Exec::InPlace { buf: Buf::Output });
    }
}
