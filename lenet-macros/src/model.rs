//! The internal model: the declaration turned into layers with evaluated
//! arguments. Every layer keeps the tokens of its declaration and of each
//! argument, so that later stages can point at the culprit.
//!
//! Mistakes local to one step (unknown layers and keywords, argument counts,
//! zero sizes) are reported here; the step stays in the model with the
//! values that could be read, so that later stages still check the rest.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::{Attribute, Ident, Visibility};

use crate::ast::{self, Arg, Piece};
use crate::ctxt::Ctxt;
use crate::eval;
use crate::names::{did_you_mean, english_list};

/// A network declaration.
pub struct Net {
    /// Outer attributes of the struct (doc comments).
    pub attrs: Vec<Attribute>,
    /// Visibility of the struct.
    pub vis: Visibility,
    /// Name of the struct.
    pub ident: Ident,
    /// The `input: [C, H, W]` entry, if present.
    pub input: Option<Input>,
    /// The steps after the input, in order.
    pub steps: Vec<Step>,
    /// Whether an `input` entry was present but did not parse (already
    /// reported), so that it is not reported missing as well.
    pub input_broken: bool,
}

/// `input: [C, H, W]`.
pub struct Input {
    /// The whole entry, for spans.
    pub tokens: TokenStream,
    /// `[C, H, W]` when all three are valid.
    pub dims: Option<[u64; 3]>,
    /// How many steps come before it (0 when it is first).
    pub position: usize,
    /// Its place among the entries of the declaration.
    pub entry: usize,
}

/// An integer argument: its value (absent if it could not be read) and the
/// expression as written.
#[derive(Clone)]
pub struct Num {
    /// The value, when it was read and is valid.
    pub value: Option<u64>,
    /// The expression as written (`16 * 5 * 5`).
    pub text: String,
    /// The tokens of the expression (or of the layer, for a default).
    pub tokens: TokenStream,
}

impl Num {
    fn missing(tokens: &TokenStream) -> Self {
        Num {
            value: None,
            text: String::new(),
            tokens: tokens.clone(),
        }
    }

    fn default(value: u64, tokens: &TokenStream) -> Self {
        Num {
            value: Some(value),
            text: value.to_string(),
            tokens: tokens.clone(),
        }
    }

    /// `400 = 16 * 5 * 5`, or `400` when written as such.
    pub fn described(&self) -> String {
        match self.value {
            Some(v) if v.to_string() == self.text || self.text.is_empty() => v.to_string(),
            Some(v) => format!("{v} = {}", self.text),
            None => self.text.clone(),
        }
    }
}

// `text` is for the code generator's summary (see `Kind`).
#[allow(dead_code)]
/// An integer-or-pair argument (`kernel_size = 5` or `(10, 4)`): a size
/// per axis, both the same when one integer is written.
#[derive(Clone)]
pub struct Pair {
    /// Height (the first of a pair).
    pub h: Num,
    /// Width (the second of a pair).
    pub w: Num,
    /// Whether it was written as a pair `(h, w)`.
    pub pair: bool,
    /// The argument as written (`(10, 4)`, `5`).
    pub text: String,
    /// The tokens of the argument (or of the layer, for a default).
    pub tokens: TokenStream,
}

impl Pair {
    fn square(num: Num) -> Self {
        Pair {
            text: num.text.clone(),
            tokens: num.tokens.clone(),
            h: num.clone(),
            w: num,
            pair: false,
        }
    }

    /// `(h, w)`, when both are known.
    pub fn get(&self) -> Option<(u64, u64)> {
        Some((self.h.value?, self.w.value?))
    }

    /// The size when both axes have the same known size (what a consumer
    /// of square sizes reads), else `None`.
    pub fn square_value(&self) -> Option<u64> {
        self.get().filter(|(h, w)| h == w).map(|(h, _)| h)
    }

    /// Whether both axes are known and equal to `v`.
    pub fn is(&self, v: u64) -> bool {
        self.get() == Some((v, v))
    }

    /// `3×3` or `10×4`.
    pub fn by(&self) -> String {
        match self.get() {
            Some((h, w)) => format!("{h}×{w}"),
            None => "?".to_string(),
        }
    }

    /// `2`, or `(2, 1)` when the axes differ.
    pub fn short(&self) -> String {
        match self.get() {
            Some((h, w)) if h == w => h.to_string(),
            Some((h, w)) => format!("({h}, {w})"),
            None => "?".to_string(),
        }
    }
}

/// A float argument (`eps = 1e-5`, `p = 0.2`): a literal.
#[derive(Clone)]
pub struct Float {
    /// The value, when it was read and is valid.
    pub value: Option<f32>,
    /// The literal as written (`1e-5`, `-0.2`), or the default's text.
    pub text: String,
    /// The tokens of the literal (or of the layer, for a default).
    pub tokens: TokenStream,
}

impl Float {
    fn default(value: f32, text: &str, tokens: &TokenStream) -> Self {
        Float {
            value: Some(value),
            text: text.to_string(),
            tokens: tokens.clone(),
        }
    }
}

/// A boolean argument (`bias = false`).
// `tokens` is for the code generator's spans (see `Kind`).
#[allow(dead_code)]
#[derive(Clone)]
pub struct Flag {
    /// The value, when it was read.
    pub value: Option<bool>,
    /// The tokens (or those of the layer, for a default).
    pub tokens: TokenStream,
}

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `f32` (PyTorch's `float32`).
    F32,
    /// `i64` (PyTorch's `int64`), for `num_batches_tracked`.
    I64,
}

/// How a tensor starts, as PyTorch initialises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's default for a convolution's or linear layer's weight or
    /// bias: uniform in ±1/√fan_in (kaiming_uniform with a = √5 for the
    /// weight, the same bound for the bias).
    Default,
    /// All zeros (batch norm's `bias`, `running_mean`, `num_batches_tracked`).
    Zeros,
    /// All ones (batch norm's `weight`, `running_var`).
    Ones,
}

/// One tensor of a layer, as `named_parameters()` or `named_buffers()`
/// lists it: `conv1.weight` is `{ suffix: "weight", shape: [6, 1, 5, 5] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// The part after the layer's name: `weight`, `running_mean`.
    pub suffix: &'static str,
    /// PyTorch's shape (`[]` for a scalar).
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: Dtype,
    /// Initial value.
    pub init: Init,
    /// Inputs feeding each output (for the default initialisation), 0 when
    /// not used.
    pub fan_in: u64,
}

impl TensorSpec {
    /// Number of elements (1 for a scalar).
    pub fn len(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, d| a.checked_mul(*d))
    }
}

/// Arguments as written: keyword (if any) and text.
pub type Written = Vec<(Option<String>, String)>;

/// One step of the network.
pub struct Step {
    /// The name given (`conv1`), if any.
    pub name: Option<Ident>,
    /// The layer's word as written (`Conv2d`, `relu`).
    pub word: Ident,
    /// `name: Word`, for spans on the layer as a whole.
    pub head: TokenStream,
    /// The layer.
    pub kind: Kind,
    /// The arguments as written: keyword (if any) and text, in order.
    pub written: Written,
    /// Whether an argument was wrong (already reported): the layer's output
    /// shape is then unknown, so that the mistake does not cascade.
    pub broken: bool,
    /// Its place among the entries of the declaration.
    pub entry: usize,
}

/// The layers.
// A few per network: boxing the arguments would only obscure the matches.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Kind {
    /// `Conv2d(in_channels, out_channels, kernel_size, stride = 1,
    /// padding = 0, dilation = 1, groups = 1, bias = true)`.
    Conv2d {
        /// Input channels.
        in_channels: Num,
        /// Output channels.
        out_channels: Num,
        /// Kernel size per axis.
        kernel: Pair,
        /// Stride per axis.
        stride: Pair,
        /// Zero padding on each side, per axis.
        padding: Pair,
        /// Dilation per axis.
        dilation: Pair,
        /// Groups: divides both channel counts.
        groups: Num,
        /// Whether the layer has `name.bias`.
        bias: Flag,
    },
    /// `MaxPool2d(kernel_size, stride = kernel_size, padding = 0)`, padding
    /// with −∞.
    MaxPool2d {
        /// Window size per axis.
        kernel: Pair,
        /// Stride per axis.
        stride: Pair,
        /// Padding per axis, at most half the window.
        padding: Pair,
    },
    /// `AvgPool2d(kernel_size, stride = kernel_size, padding = 0)`, counting
    /// the padded zeros.
    AvgPool2d {
        /// Window size per axis.
        kernel: Pair,
        /// Stride per axis.
        stride: Pair,
        /// Padding per axis, at most half the window.
        padding: Pair,
    },
    /// `AdaptiveAvgPool2d(1)`.
    AdaptiveAvgPool2d,
    /// `Linear(in_features, out_features)`.
    Linear {
        /// Input features.
        in_features: Num,
        /// Output features.
        out_features: Num,
    },
    /// `BatchNorm2d(num_features, eps = 1e-5, momentum = 0.1)`, on a
    /// feature map.
    BatchNorm2d {
        /// Channels.
        num_features: Num,
        /// Added to the variance.
        eps: Float,
        /// Weight of the batch's statistics in the running update.
        momentum: Float,
    },
    /// `BatchNorm1d(num_features, eps = 1e-5, momentum = 0.1)`, on a vector.
    BatchNorm1d {
        /// Features.
        num_features: Num,
        /// Added to the variance.
        eps: Float,
        /// Weight of the batch's statistics in the running update.
        momentum: Float,
    },
    /// `Dropout(p = 0.5)`.
    Dropout {
        /// Probability of zeroing an element, in `[0, 1)`.
        p: Float,
    },
    /// `LeakyReLU(negative_slope = 0.01)`.
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: Float,
    },
    /// `relu`.
    Relu,
    /// `relu6`.
    Relu6,
    /// `tanh`.
    Tanh,
    /// `sigmoid`.
    Sigmoid,
    /// `flatten`.
    Flatten,
    /// A word lenet does not know (already reported).
    Unknown,
}

impl Kind {
    /// Whether the layer has trainable parameters or buffers (and so needs
    /// a name).
    pub fn has_params(&self) -> bool {
        matches!(
            self,
            Kind::Conv2d { .. }
                | Kind::Linear { .. }
                | Kind::BatchNorm2d { .. }
                | Kind::BatchNorm1d { .. }
        )
    }

    /// Whether the layer keeps the shape and works element by element
    /// (activations and dropout): the shape flow names it without a shape.
    pub fn is_activation(&self) -> bool {
        matches!(
            self,
            Kind::Relu
                | Kind::Relu6
                | Kind::Tanh
                | Kind::Sigmoid
                | Kind::LeakyRelu { .. }
                | Kind::Dropout { .. }
        )
    }

    /// The layer's word in the DSL.
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Conv2d { .. } => "Conv2d",
            Kind::MaxPool2d { .. } => "MaxPool2d",
            Kind::AvgPool2d { .. } => "AvgPool2d",
            Kind::AdaptiveAvgPool2d => "AdaptiveAvgPool2d",
            Kind::Linear { .. } => "Linear",
            Kind::BatchNorm2d { .. } => "BatchNorm2d",
            Kind::BatchNorm1d { .. } => "BatchNorm1d",
            Kind::Dropout { .. } => "Dropout",
            Kind::LeakyRelu { .. } => "LeakyReLU",
            Kind::Relu => "relu",
            Kind::Relu6 => "relu6",
            Kind::Tanh => "tanh",
            Kind::Sigmoid => "sigmoid",
            Kind::Flatten => "flatten",
            Kind::Unknown => "?",
        }
    }

    /// The trainable tensors of the layer, in PyTorch's order
    /// (`named_parameters()`), or `None` while a size is unknown.
    pub fn parameters(&self) -> Option<Vec<TensorSpec>> {
        let tensor = |suffix, shape: Vec<u64>, init, fan_in| TensorSpec {
            suffix,
            shape,
            dtype: Dtype::F32,
            init,
            fan_in,
        };
        Some(match self {
            Kind::Conv2d {
                in_channels,
                out_channels,
                kernel,
                groups,
                bias,
                ..
            } => {
                let (ci, co, g) = (in_channels.value?, out_channels.value?, groups.value?);
                let (kh, kw) = kernel.get()?;
                if g == 0 || ci % g != 0 || co % g != 0 {
                    return None;
                }
                let fan_in = (ci / g).checked_mul(kh)?.checked_mul(kw)?;
                let mut t = vec![tensor(
                    "weight",
                    vec![co, ci / g, kh, kw],
                    Init::Default,
                    fan_in,
                )];
                if bias.value? {
                    t.push(tensor("bias", vec![co], Init::Default, fan_in));
                }
                t
            }
            Kind::Linear {
                in_features,
                out_features,
            } => {
                let (i, o) = (in_features.value?, out_features.value?);
                vec![
                    tensor("weight", vec![o, i], Init::Default, i),
                    tensor("bias", vec![o], Init::Default, i),
                ]
            }
            Kind::BatchNorm2d { num_features, .. } | Kind::BatchNorm1d { num_features, .. } => {
                let n = num_features.value?;
                vec![
                    tensor("weight", vec![n], Init::Ones, 0),
                    tensor("bias", vec![n], Init::Zeros, 0),
                ]
            }
            _ => Vec::new(),
        })
    }

    /// The buffers of the layer, in PyTorch's order (`named_buffers()`):
    /// state that is saved but not trained. `None` while a size is unknown.
    pub fn buffers(&self) -> Option<Vec<TensorSpec>> {
        Some(match self {
            Kind::BatchNorm2d { num_features, .. } | Kind::BatchNorm1d { num_features, .. } => {
                let n = num_features.value?;
                let buffer = |suffix, shape, dtype, init| TensorSpec {
                    suffix,
                    shape,
                    dtype,
                    init,
                    fan_in: 0,
                };
                vec![
                    buffer("running_mean", vec![n], Dtype::F32, Init::Zeros),
                    buffer("running_var", vec![n], Dtype::F32, Init::Ones),
                    buffer("num_batches_tracked", Vec::new(), Dtype::I64, Init::Zeros),
                ]
            }
            _ => Vec::new(),
        })
    }

    /// Number of trainable parameters, when known.
    pub fn parameter_count(&self) -> Option<u64> {
        sum_len(&self.parameters()?)
    }

    /// Number of buffer elements (`num_batches_tracked` counts 1), when
    /// known.
    pub fn buffer_count(&self) -> Option<u64> {
        sum_len(&self.buffers()?)
    }
}

fn sum_len(tensors: &[TensorSpec]) -> Option<u64> {
    tensors
        .iter()
        .try_fold(0u64, |a, t| a.checked_add(t.len()?))
}

impl Step {
    /// The step as the messages name it: its name, or its word.
    pub fn label(&self) -> String {
        label(self.name.as_ref(), &self.word)
    }

    /// What every message about this step begins with: `fc3: `.
    pub fn prefix(&self) -> String {
        prefix(self.name.as_ref(), &self.word)
    }

    /// The step as the subject of a sentence about its layer: `fc1: Linear`,
    /// or `Linear:` when unnamed.
    pub fn subject(&self) -> String {
        subject(self.name.as_ref(), &self.word, self.kind.word())
    }
}

/// A step as the messages name it: its name (`fc3`) or, for an unnamed
/// step, its word as written (`MaxPool2d`), as in the shape flow.
pub fn label(name: Option<&Ident>, word: &Ident) -> String {
    match name {
        Some(n) => n.unraw().to_string(),
        None => word.unraw().to_string(),
    }
}

/// What every message about a step begins with: its label and a colon
/// (`fc3: `, `MaxPool2d: `), so that the layer is named even when the span
/// points at one argument.
pub fn prefix(name: Option<&Ident>, word: &Ident) -> String {
    format!("{}: ", label(name, word))
}

/// The step as the subject of a sentence about its layer `layer`:
/// `fc1: Linear` for a named step, `Linear:` for an unnamed one, whose
/// label is already the word. Either way the message begins with the label
/// and a colon, and names the layer once.
pub fn subject(name: Option<&Ident>, word: &Ident, layer: &str) -> String {
    match name {
        Some(n) => format!("{}: {layer}", n.unraw()),
        None => format!("{}:", word.unraw()),
    }
}

/// Every word lenet knows.
pub const LAYER_WORDS: &[&str] = &[
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Linear",
    "BatchNorm2d",
    "BatchNorm1d",
    "Dropout",
    "LeakyReLU",
    "relu",
    "relu6",
    "tanh",
    "sigmoid",
    "flatten",
];

const CONV_PARAMS: &[&str] = &[
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
];
const POOL_PARAMS: &[&str] = &["kernel_size", "stride", "padding"];
const ADAPTIVE_PARAMS: &[&str] = &["output_size"];
const LINEAR_PARAMS: &[&str] = &["in_features", "out_features"];
const BATCH_NORM_PARAMS: &[&str] = &["num_features", "eps", "momentum"];
const DROPOUT_PARAMS: &[&str] = &["p"];
const LEAKY_RELU_PARAMS: &[&str] = &["negative_slope"];

/// Lowers a parsed declaration into the model, reporting local mistakes.
pub fn lower(decl: ast::Decl, cx: &mut Ctxt) -> Net {
    let mut net = Net {
        attrs: decl.attrs,
        vis: decl.vis,
        ident: decl.ident,
        input: None,
        steps: Vec::new(),
        input_broken: false,
    };
    for (entry, piece) in ast::split_commas(decl.body).into_iter().enumerate() {
        cx.set_position(entry);
        let tokens = match piece {
            Piece::Tokens(t) => t,
            Piece::Empty(comma) => {
                cx.error_spanned_by(comma, "unexpected `,`: a step is missing before it");
                continue;
            }
        };
        let first = tokens.clone().into_iter().next();
        let step: ast::Step = match syn::parse2(tokens) {
            Ok(s) => s,
            Err(e) => {
                // The first word names the step: its name, or its layer.
                match &first {
                    Some(TokenTree::Ident(i)) => cx.syn_error_in(&format!("{}: ", i.unraw()), e),
                    _ => cx.syn_error(e),
                }
                // The step stays, with an unknown output, so that later
                // steps are not measured against a wrong shape.
                match first {
                    Some(TokenTree::Ident(i)) if i == "input" => net.input_broken = true,
                    _ => net.steps.push(Step {
                        name: None,
                        word: Ident::new(
                            "unreadable",
                            first.map_or_else(Span::call_site, |t| t.span()),
                        ),
                        head: TokenStream::new(),
                        kind: Kind::Unknown,
                        written: Vec::new(),
                        broken: true,
                        entry,
                    }),
                }
                continue;
            }
        };
        match step {
            ast::Step::Shape { key, group, dims } => {
                let whole = quote!(#key: #group);
                if key != "input" {
                    cx.error_spanned_by(
                        &whole,
                        format!(
                            "{}: only `input` takes a shape in brackets; a layer is written `{key}: Conv2d(1, 6, 5)`",
                            key.unraw()
                        ),
                    );
                    continue;
                }
                if net.input.is_some() {
                    cx.error_spanned_by(
                        &whole,
                        "input: given twice: a network has one input, keep the first",
                    );
                    continue;
                }
                let dims = lower_input(&group, dims, cx);
                net.input = Some(Input {
                    tokens: whole,
                    dims,
                    position: net.steps.len(),
                    entry,
                });
            }
            ast::Step::Layer { name, word, args } => {
                if name.is_none() && word == "input" {
                    cx.error_spanned_by(
                        &word,
                        "input: needs its shape: `input: [C, H, W]`, such as `input: [1, 28, 28]`",
                    );
                    net.input_broken = true;
                    continue;
                }
                if let Some(n) = &name {
                    if n == "input" {
                        cx.error_spanned_by(
                            quote!(#n: #word),
                            "input: is not a layer: it is written `input: [C, H, W]`, such as `input: [1, 28, 28]`",
                        );
                        net.input_broken = true;
                        continue;
                    }
                }
                let mut step = lower_step(name, word, args, cx);
                step.entry = entry;
                net.steps.push(step);
            }
        }
    }
    net
}

fn lower_input(group: &TokenStream, dims: TokenStream, cx: &mut Ctxt) -> Option<[u64; 3]> {
    let before = cx.len();
    let mut values = Vec::new();
    const DIMS: [&str; 3] = ["C (channels)", "H (height)", "W (width)"];
    for piece in ast::split_commas(dims) {
        match piece {
            Piece::Empty(comma) => {
                cx.error_spanned_by(comma, "input: unexpected `,`: a size is missing before it")
            }
            Piece::Tokens(t) => {
                let e = match syn::parse2::<syn::Expr>(t) {
                    Ok(e) => e,
                    Err(error) => {
                        cx.syn_error_in("input: ", error);
                        continue;
                    }
                };
                match eval::eval(&e) {
                    Err(fault) => {
                        cx.error_spanned_by(fault.tokens, format!("input: {}", fault.message))
                    }
                    Ok(v) => {
                        if v.value == 0 {
                            let dim = DIMS.get(values.len()).copied().unwrap_or("a size");
                            cx.error_spanned_by(
                            &e,
                            format!(
                                "input: {dim} is {}, but an image has at least one channel and 1×1 pixel",
                                shown(&v.text, 0)
                            ),
                        );
                        }
                        values.push(v.value);
                    }
                }
            }
        }
    }
    if cx.len() > before {
        return None;
    }
    match values.as_slice() {
        [c, h, w] => Some([*c, *h, *w]),
        _ => {
            cx.error_spanned_by(
                group,
                format!(
                    "input: takes three sizes [C, H, W] (channels, height, width), such as `[1, 28, 28]`; found {}",
                    values.len()
                ),
            );
            None
        }
    }
}

/// What a layer word stands for.
#[allow(clippy::large_enum_variant)]
enum Word {
    Layer(&'static str, &'static [&'static str], usize),
    Bare(Kind),
}

fn word_of(word: &str) -> Option<Word> {
    Some(match word {
        "Conv2d" => Word::Layer("Conv2d", CONV_PARAMS, 3),
        "MaxPool2d" => Word::Layer("MaxPool2d", POOL_PARAMS, 1),
        "AvgPool2d" => Word::Layer("AvgPool2d", POOL_PARAMS, 1),
        "AdaptiveAvgPool2d" => Word::Layer("AdaptiveAvgPool2d", ADAPTIVE_PARAMS, 1),
        "Linear" => Word::Layer("Linear", LINEAR_PARAMS, 2),
        "BatchNorm2d" => Word::Layer("BatchNorm2d", BATCH_NORM_PARAMS, 1),
        "BatchNorm1d" => Word::Layer("BatchNorm1d", BATCH_NORM_PARAMS, 1),
        "Dropout" => Word::Layer("Dropout", DROPOUT_PARAMS, 0),
        "LeakyReLU" => Word::Layer("LeakyReLU", LEAKY_RELU_PARAMS, 0),
        "relu" => Word::Bare(Kind::Relu),
        "relu6" => Word::Bare(Kind::Relu6),
        "tanh" => Word::Bare(Kind::Tanh),
        "sigmoid" => Word::Bare(Kind::Sigmoid),
        "flatten" => Word::Bare(Kind::Flatten),
        _ => return None,
    })
}

fn lower_step(
    name: Option<Ident>,
    word: Ident,
    args: Option<(TokenStream, TokenStream)>,
    cx: &mut Ctxt,
) -> Step {
    let head = match &name {
        Some(n) => quote!(#n: #word),
        None => word.to_token_stream(),
    };
    let written_word = word.unraw().to_string();
    let prefix = prefix(name.as_ref(), &word);
    let resolved = match word_of(&written_word) {
        Some(w) => w,
        None => {
            let suggestion = did_you_mean(&written_word, LAYER_WORDS);
            // `c1: unknown layer `Conv2D``, or `ReLU: unknown layer` when
            // the word is the label already.
            let unknown = match &name {
                Some(_) => format!("{prefix}unknown layer `{written_word}`"),
                None => format!("{prefix}unknown layer"),
            };
            let message = match suggestion {
                Some(s) => format!("{unknown}: did you mean `{s}`?"),
                None => format!(
                    "{unknown}: lenet knows the layers Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, BatchNorm2d, BatchNorm1d, Dropout and LeakyReLU, and the bare words relu, relu6, tanh, sigmoid and flatten"
                ),
            };
            cx.error_spanned_by(&word, message);
            // Go on as the layer meant when only the case differs, so that
            // the rest of the network is still checked.
            match suggestion
                .filter(|s| s.eq_ignore_ascii_case(&written_word))
                .and_then(word_of)
            {
                Some(w) => w,
                None => {
                    return Step {
                        name,
                        word,
                        head,
                        kind: Kind::Unknown,
                        written: Vec::new(),
                        broken: true,
                        entry: 0,
                    }
                }
            }
        }
    };
    match resolved {
        Word::Bare(kind) => {
            if let Some((group, inner)) = args {
                if !inner.is_empty() {
                    cx.error_spanned_by(
                        group,
                        format!(
                            "{} takes no arguments: write `{}` alone",
                            subject(name.as_ref(), &word, kind.word()),
                            kind.word()
                        ),
                    );
                }
            }
            Step {
                name,
                word,
                head,
                kind,
                written: Vec::new(),
                broken: false,
                entry: 0,
            }
        }
        Word::Layer(layer, params, required) => {
            let before = cx.len();
            let (slots, written) = bind(layer, params, required, &name, &word, &head, args, cx);
            let kind = build(layer, slots, &head, cx, &prefix);
            let broken = cx.len() > before;
            Step {
                name,
                word,
                head,
                kind,
                written,
                broken,
                entry: 0,
            }
        }
    }
}

/// One parameter's slot while binding arguments.
#[derive(Clone)]
enum Slot {
    Empty,
    /// Given, but unreadable (already reported).
    Broken {
        positional: bool,
    },
    Given {
        expr: syn::Expr,
        positional: bool,
        position: usize,
    },
}

#[allow(clippy::too_many_arguments)]
fn bind(
    layer: &str,
    params: &'static [&'static str],
    required: usize,
    name: &Option<Ident>,
    word: &Ident,
    head: &TokenStream,
    args: Option<(TokenStream, TokenStream)>,
    cx: &mut Ctxt,
) -> (Vec<Option<Given>>, Written) {
    let example = example_call(layer, name);
    let prefix = prefix(name.as_ref(), word);
    let mut slots = vec![Slot::Empty; params.len()];
    let mut written = Vec::new();
    let Some((group, inner)) = args else {
        if required == 0 {
            // `Dropout` without parentheses: every argument has a default.
            return (params.iter().map(|_| None).collect(), written);
        }
        cx.error_spanned_by(
            head,
            format!(
                "{} needs arguments: {example}",
                subject(name.as_ref(), word, layer)
            ),
        );
        return (params.iter().map(|_| None).collect(), written);
    };
    let signature = format!("{layer}({})", params.join(", "));
    let mut next_positional = 0usize;
    let mut first_keyword: Option<String> = None;
    // Whether an argument could not be read (already reported): how many
    // were meant is then unknown, so none is reported missing.
    let mut unreadable = false;
    for (piece_index, piece) in ast::split_commas(inner).into_iter().enumerate() {
        let position = piece_index + 1;
        let tokens = match piece {
            Piece::Tokens(t) => t,
            Piece::Empty(comma) => {
                cx.error_spanned_by(
                    comma,
                    format!("{prefix}unexpected `,`: an argument is missing before it"),
                );
                // The missing argument holds its place, so that the ones
                // after it land in their slots and are not reported missing.
                if first_keyword.is_none() {
                    if let Some(slot) = slots.get_mut(next_positional) {
                        *slot = Slot::Broken { positional: true };
                    }
                    next_positional += 1;
                }
                continue;
            }
        };
        let arg: Arg = match syn::parse2(tokens) {
            Ok(a) => a,
            Err(e) => {
                cx.syn_error_in(&prefix, e);
                unreadable = true;
                // Keep counting positions so that later arguments land in
                // the right slots.
                if first_keyword.is_none() {
                    if let Some(slot) = slots.get_mut(next_positional) {
                        *slot = Slot::Broken { positional: true };
                    }
                    next_positional += 1;
                }
                continue;
            }
        };
        let text = eval::text_of(&arg.value);
        match &arg.key {
            None => {
                if let Some(k) = &first_keyword {
                    let hint = params
                        .get(next_positional)
                        .map(|p| format!(": write it as `{p} = {text}`"))
                        .unwrap_or_default();
                    cx.error_spanned_by(
                        &arg.value,
                        format!("{prefix}a positional argument cannot follow the keyword argument `{k}`{hint}"),
                    );
                    continue;
                }
                let index = next_positional;
                next_positional += 1;
                match slots.get_mut(index) {
                    Some(slot) => {
                        written.push((None, text.clone()));
                        *slot = Slot::Given { expr: arg.value.clone(), positional: true, position };
                    }
                    None => cx.error_spanned_by(
                        &arg.value,
                        format!(
                            "{prefix}too many arguments: `{layer}` takes at most {} ({}), this is argument {}",
                            params.len(),
                            english_list(params),
                            index + 1
                        ),
                    ),
                }
            }
            Some(key) => {
                let key_text = key.unraw().to_string();
                if first_keyword.is_none() {
                    first_keyword = Some(key_text.clone());
                }
                let Some(index) = params.iter().position(|p| *p == key_text) else {
                    let message = match did_you_mean(&key_text, params) {
                        Some(s) => format!(
                            "{prefix}unknown keyword `{key_text}` for `{layer}`: did you mean `{s}`?"
                        ),
                        None => format!(
                            "{prefix}unknown keyword `{key_text}` for `{layer}`: it takes {}",
                            english_list(params)
                        ),
                    };
                    cx.error_spanned_by(key, message);
                    continue;
                };
                match slots.get(index) {
                    Some(
                        Slot::Given {
                            positional: false, ..
                        }
                        | Slot::Broken { positional: false },
                    ) => {
                        let value = &arg.value;
                        cx.error_spanned_by(
                            quote!(#key = #value),
                            format!("{prefix}`{key_text}` is given twice in `{layer}`: keep one"),
                        );
                        continue;
                    }
                    Some(Slot::Given {
                        positional: true,
                        position: p,
                        ..
                    }) => {
                        cx.error_spanned_by(
                            key,
                            format!(
                                "{prefix}`{key_text}` is given twice in `{layer}`: positionally (argument {p} of {signature}) and by name; keep one"
                            ),
                        );
                        continue;
                    }
                    Some(Slot::Broken { positional: true }) => {
                        cx.error_spanned_by(
                            key,
                            format!("{prefix}`{key_text}` is given twice in `{layer}`: positionally and by name; keep one"),
                        );
                        continue;
                    }
                    _ => {}
                }
                written.push((Some(key_text.clone()), text.clone()));
                if let Some(slot) = slots.get_mut(index) {
                    *slot = Slot::Given {
                        expr: arg.value.clone(),
                        positional: false,
                        position,
                    };
                }
            }
        }
    }
    let missing: Vec<&str> = params
        .iter()
        .zip(&slots)
        .take(required)
        .filter(|(_, s)| matches!(s, Slot::Empty))
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() && !unreadable {
        let needs = english_list(params.get(..required).unwrap_or(params));
        let verb = if missing.len() == 1 { "is" } else { "are" };
        cx.error_spanned_by(
            &group,
            format!(
                "{prefix}too few arguments: `{layer}` needs {needs}; {} {verb} missing. For example: {example}",
                english_list(&missing)
            ),
        );
    }
    let given = slots
        .into_iter()
        .map(|s| match s {
            Slot::Given { expr, .. } => Some(Given::Expr(expr)),
            Slot::Broken { .. } => Some(Given::Broken),
            Slot::Empty => None,
        })
        .collect();
    (given, written)
}

fn example_call(layer: &str, name: &Option<Ident>) -> String {
    let name = name.as_ref().map(|n| n.unraw().to_string());
    let (default, call) = match layer {
        "Conv2d" => ("conv1", "Conv2d(1, 6, 5)"),
        "MaxPool2d" => ("pool1", "MaxPool2d(2)"),
        "AvgPool2d" => ("pool1", "AvgPool2d(2, 2)"),
        "AdaptiveAvgPool2d" => ("pool", "AdaptiveAvgPool2d(1)"),
        "BatchNorm2d" => ("bn1", "BatchNorm2d(6)"),
        "BatchNorm1d" => ("bn1", "BatchNorm1d(120)"),
        "Dropout" => ("drop", "Dropout(0.5)"),
        "LeakyReLU" => ("act", "LeakyReLU(0.01)"),
        _ => ("fc1", "Linear(400, 120)"),
    };
    format!("`{}: {call}`", name.as_deref().unwrap_or(default))
}

/// An argument bound to a parameter: its expression, or a mistake already
/// reported.
pub enum Given {
    /// The expression written.
    Expr(syn::Expr),
    /// Unreadable (already reported).
    Broken,
}

/// Reads the bound arguments of one layer as integers, pairs, floats and
/// flags, reporting each mistake with the layer's prefix.
struct Reader<'a> {
    prefix: &'a str,
    head: &'a TokenStream,
}

impl Reader<'_> {
    /// An integer: `zero` says why 0 is wrong (`None`: 0 is allowed);
    /// `default` is taken when the argument is absent.
    fn int(
        &self,
        given: Option<Given>,
        what: &str,
        zero: Option<&str>,
        default: Option<u64>,
        cx: &mut Ctxt,
    ) -> Num {
        let prefix = self.prefix;
        let expr = match given {
            None => {
                return match default {
                    Some(d) => Num::default(d, self.head),
                    None => Num::missing(self.head),
                }
            }
            Some(Given::Broken) => return Num::missing(self.head),
            Some(Given::Expr(e)) => e,
        };
        let text = eval::text_of(&expr);
        let mut num = Num {
            value: None,
            text: text.clone(),
            tokens: expr.to_token_stream(),
        };
        if matches!(expr, syn::Expr::Tuple(_) | syn::Expr::Array(_)) {
            cx.error_spanned_by(
                &expr,
                format!("{prefix}`{what}` is one integer, but `{text}` is a list: give one number"),
            );
            return num;
        }
        match eval::eval(&expr) {
            Err(fault) => cx.error_spanned_by(fault.tokens, format!("{prefix}{}", fault.message)),
            Ok(v) if v.value == 0 && zero.is_some() => cx.error_spanned_by(
                &expr,
                format!(
                    "{prefix}{what} is {}, but {}",
                    shown(&v.text, 0),
                    zero.unwrap_or_default()
                ),
            ),
            Ok(v) => num.value = Some(v.value),
        }
        num
    }

    /// An integer or a pair `(h, w)` of integers.
    fn pair(
        &self,
        given: Option<Given>,
        what: &str,
        zero: Option<&str>,
        default: Option<u64>,
        cx: &mut Ctxt,
    ) -> Pair {
        let prefix = self.prefix;
        let expr = match given {
            Some(Given::Expr(e)) => e,
            other => return Pair::square(self.int(other, what, zero, default, cx)),
        };
        let text = eval::text_of(&expr);
        match &expr {
            syn::Expr::Tuple(t) if t.elems.len() == 2 => {
                let mut axes = t.elems.iter().zip(["height", "width"]).map(|(e, axis)| {
                    self.int(
                        Some(Given::Expr(e.clone())),
                        &format!("{what}'s {axis}"),
                        zero,
                        None,
                        cx,
                    )
                });
                let (Some(h), Some(w)) = (axes.next(), axes.next()) else {
                    return Pair::square(Num::missing(self.head));
                };
                Pair {
                    h,
                    w,
                    pair: true,
                    text,
                    tokens: expr.to_token_stream(),
                }
            }
            syn::Expr::Tuple(t) => {
                let n = t.elems.len();
                cx.error_spanned_by(
                    &expr,
                    format!(
                        "{prefix}`{what}` is one integer or a pair `(h, w)`, but `{text}` has {n} element{}\n  help: write `{what} = {}` for a square, or two sizes `(h, w)`",
                        if n == 1 { "" } else { "s" },
                        t.elems.first().map(eval::text_of).unwrap_or_else(|| "1".to_string())
                    ),
                );
                Pair::square(Num {
                    value: None,
                    text,
                    tokens: expr.to_token_stream(),
                })
            }
            syn::Expr::Array(a) => {
                let inner: Vec<String> = a.elems.iter().map(eval::text_of).collect();
                cx.error_spanned_by(
                    &expr,
                    format!(
                        "{prefix}`{what}` is one integer or a pair in parentheses: write `({})`, not `{text}`",
                        inner.join(", ")
                    ),
                );
                Pair::square(Num {
                    value: None,
                    text,
                    tokens: expr.to_token_stream(),
                })
            }
            _ => Pair::square(self.int(Some(Given::Expr(expr)), what, zero, default, cx)),
        }
    }

    /// A float literal (an integer literal is a float too, as in Python).
    fn float(
        &self,
        given: Option<Given>,
        what: &str,
        default: (f32, &str),
        cx: &mut Ctxt,
    ) -> Float {
        let prefix = self.prefix;
        let expr = match given {
            None => return Float::default(default.0, default.1, self.head),
            Some(Given::Broken) => {
                return Float {
                    value: None,
                    text: String::new(),
                    tokens: self.head.clone(),
                }
            }
            Some(Given::Expr(e)) => e,
        };
        let (digits, text) = match float_literal(&expr) {
            Some(found) => found,
            None => {
                let text = eval::text_of(&expr);
                cx.error_spanned_by(
                    &expr,
                    format!(
                        "{prefix}`{what}` is a number written as a literal, such as `{}`; found `{text}`",
                        default.1
                    ),
                );
                return Float {
                    value: None,
                    text,
                    tokens: expr.to_token_stream(),
                };
            }
        };
        let value = digits
            .parse::<f64>()
            .ok()
            .map(|v| v as f32)
            .filter(|v| v.is_finite());
        if value.is_none() {
            cx.error_spanned_by(
                &expr,
                format!("{prefix}`{what} = {text}` is not a finite 32-bit float"),
            );
        }
        Float {
            value,
            text,
            tokens: expr.to_token_stream(),
        }
    }

    /// `true` or `false`.
    fn flag(&self, given: Option<Given>, what: &str, default: bool, cx: &mut Ctxt) -> Flag {
        let expr = match given {
            None => {
                return Flag {
                    value: Some(default),
                    tokens: self.head.clone(),
                }
            }
            Some(Given::Broken) => {
                return Flag {
                    value: None,
                    tokens: self.head.clone(),
                }
            }
            Some(Given::Expr(e)) => e,
        };
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) = &expr
        {
            return Flag {
                value: Some(b.value),
                tokens: expr.to_token_stream(),
            };
        }
        let text = eval::text_of(&expr);
        let hint = match text.as_str() {
            "True" => " (PyTorch's `True` is written `true`)",
            "False" => " (PyTorch's `False` is written `false`)",
            "1" => ": write `true`",
            "0" => ": write `false`",
            _ => "",
        };
        cx.error_spanned_by(
            &expr,
            format!(
                "{}`{what}` is `true` or `false`, found `{text}`{hint}",
                self.prefix
            ),
        );
        Flag {
            value: None,
            tokens: expr.to_token_stream(),
        }
    }
}

/// The digits of a float or integer literal, possibly negated, and the
/// literal as written (`-0.2`, `1e-5`).
fn float_literal(expr: &syn::Expr) -> Option<(String, String)> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit, .. }) => match lit {
            syn::Lit::Float(f) => Some((f.base10_digits().to_string(), f.to_string())),
            syn::Lit::Int(i) => Some((i.base10_digits().to_string(), i.to_string())),
            _ => None,
        },
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            let (digits, text) = float_literal(&u.expr)?;
            if digits.starts_with('-') {
                return None;
            }
            Some((format!("-{digits}"), format!("-{text}")))
        }
        syn::Expr::Group(g) => float_literal(&g.expr),
        _ => None,
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Builds the layer from its bound arguments; a required argument that is
/// missing becomes an unknown value (already reported). Zero sizes and
/// values out of range are reported here and become unknown too.
fn build(
    layer: &str,
    given: Vec<Option<Given>>,
    head: &TokenStream,
    cx: &mut Ctxt,
    prefix: &str,
) -> Kind {
    let mut given = given.into_iter();
    let mut next = || given.next().flatten();
    let r = Reader { prefix, head };
    match layer {
        "Conv2d" => {
            let in_channels = r.int(
                next(),
                "in_channels",
                Some("a convolution needs at least one input channel"),
                None,
                cx,
            );
            let out_channels = r.int(
                next(),
                "out_channels",
                Some("a convolution needs at least one output channel"),
                None,
                cx,
            );
            let kernel = r.pair(
                next(),
                "kernel_size",
                Some("a kernel covers at least 1×1 pixel"),
                None,
                cx,
            );
            let stride = r.pair(
                next(),
                "stride",
                Some("the kernel must move by at least 1 pixel"),
                Some(1),
                cx,
            );
            let padding = r.pair(next(), "padding", None, Some(0), cx);
            let dilation = r.pair(
                next(),
                "dilation",
                Some("taps are at least 1 pixel apart (`dilation = 1` is a plain kernel)"),
                Some(1),
                cx,
            );
            let mut groups = r.int(
                next(),
                "groups",
                Some("a convolution has at least one group (`groups = 1` is an ordinary convolution)"),
                Some(1),
                cx,
            );
            let bias = r.flag(next(), "bias", true, cx);
            if let (Some(ci), Some(co), Some(g)) =
                (in_channels.value, out_channels.value, groups.value)
            {
                if ci % g != 0 || co % g != 0 {
                    let which = match (ci % g != 0, co % g != 0) {
                        (true, true) => {
                            format!("divides neither in_channels = {ci} nor out_channels = {co}")
                        }
                        (true, false) => format!("does not divide in_channels = {ci}"),
                        _ => format!("does not divide out_channels = {co}"),
                    };
                    let best = gcd(ci, co);
                    let depthwise = if best == ci && ci > 1 {
                        " (depthwise)"
                    } else {
                        ""
                    };
                    cx.error_spanned_by(
                        &groups.tokens,
                        format!(
                            "{prefix}groups = {} {which}: each of the groups takes in_channels / groups channels and gives out_channels / groups\n  help: use a divisor of both, such as `groups = {best}`{depthwise}",
                            groups.described()
                        ),
                    );
                    groups.value = None;
                }
            }
            Kind::Conv2d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                bias,
            }
        }
        "MaxPool2d" | "AvgPool2d" => {
            let kernel = r.pair(
                next(),
                "kernel_size",
                Some("a pooling window covers at least 1×1 pixel"),
                None,
                cx,
            );
            let stride = match next() {
                Some(s) => r.pair(
                    Some(s),
                    "stride",
                    Some("the window must move by at least 1 pixel"),
                    None,
                    cx,
                ),
                None => kernel.clone(),
            };
            let mut padding = r.pair(next(), "padding", None, Some(0), cx);
            if let (Some((kh, kw)), Some((ph, pw))) = (kernel.get(), padding.get()) {
                if ph > kh / 2 || pw > kw / 2 {
                    let most = if kh == kw {
                        (kh / 2).to_string()
                    } else {
                        format!("({}, {})", kh / 2, kw / 2)
                    };
                    cx.error_spanned_by(
                        &padding.tokens,
                        format!(
                            "{prefix}padding {} is more than half the {} window: PyTorch pads a pooling window by at most half its size, here at most {most}\n  help: write `padding = {most}`, or widen the window",
                            padding.short(),
                            kernel.by()
                        ),
                    );
                    padding.h.value = None;
                    padding.w.value = None;
                }
            }
            if layer == "MaxPool2d" {
                Kind::MaxPool2d {
                    kernel,
                    stride,
                    padding,
                }
            } else {
                Kind::AvgPool2d {
                    kernel,
                    stride,
                    padding,
                }
            }
        }
        "AdaptiveAvgPool2d" => {
            if let Some(size) = next() {
                let size = r.int(Some(size), "output_size", None, None, cx);
                if let Some(v) = size.value.filter(|v| *v != 1) {
                    cx.error_spanned_by(
                        &size.tokens,
                        format!(
                            "{prefix}lenet supports `AdaptiveAvgPool2d(1)` only (global average pooling, C×H×W → C×1×1); output size {v} is not supported. Use `AdaptiveAvgPool2d(1)`, or an `AvgPool2d` whose window gives {v}×{v}"
                        ),
                    );
                }
            }
            Kind::AdaptiveAvgPool2d
        }
        "BatchNorm2d" | "BatchNorm1d" => {
            let num_features = r.int(
                next(),
                "num_features",
                Some("batch norm normalises at least one feature"),
                None,
                cx,
            );
            let mut eps = r.float(next(), "eps", (1e-5, "1e-5"), cx);
            if let Some(v) = eps.value.filter(|v| *v <= 0.0) {
                cx.error_spanned_by(
                    &eps.tokens,
                    format!(
                        "{prefix}eps = {} is not positive: it keeps 1 / √(var + eps) finite when a channel is constant\n  help: leave PyTorch's default (`1e-5`) or write a small positive number such as `eps = 1e-3`",
                        if eps.text.is_empty() { v.to_string() } else { eps.text.clone() }
                    ),
                );
                eps.value = None;
            }
            let mut momentum = r.float(next(), "momentum", (0.1, "0.1"), cx);
            if momentum.value.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                cx.error_spanned_by(
                    &momentum.tokens,
                    format!(
                        "{prefix}momentum = {} is outside [0, 1]: each batch moves the running statistics by that fraction of the way to its own\n  help: leave PyTorch's default (`0.1`) or write a fraction such as `momentum = 0.01`",
                        momentum.text
                    ),
                );
                momentum.value = None;
            }
            if layer == "BatchNorm2d" {
                Kind::BatchNorm2d {
                    num_features,
                    eps,
                    momentum,
                }
            } else {
                Kind::BatchNorm1d {
                    num_features,
                    eps,
                    momentum,
                }
            }
        }
        "Dropout" => {
            let mut p = r.float(next(), "p", (0.5, "0.5"), cx);
            if p.value.is_some_and(|v| !(0.0..1.0).contains(&v)) {
                let why = if p.value.is_some_and(|v| v >= 1.0) {
                    "p = 1 would zero every element and scale by 1 / (1 − p) = ∞"
                } else {
                    "a probability is at least 0"
                };
                cx.error_spanned_by(
                    &p.tokens,
                    format!(
                        "{prefix}p = {} is outside [0, 1): it is the probability of zeroing each element, and {why}\n  help: write a probability below 1, such as `Dropout(0.5)` (PyTorch's default), or remove the layer",
                        p.text
                    ),
                );
                p.value = None;
            }
            Kind::Dropout { p }
        }
        "LeakyReLU" => {
            let negative_slope = r.float(next(), "negative_slope", (0.01, "0.01"), cx);
            Kind::LeakyRelu { negative_slope }
        }
        _ => {
            let in_features = r.int(
                next(),
                "in_features",
                Some("a linear layer needs at least one input"),
                None,
                cx,
            );
            let out_features = r.int(
                next(),
                "out_features",
                Some("a linear layer needs at least one output"),
                None,
                cx,
            );
            Kind::Linear {
                in_features,
                out_features,
            }
        }
    }
}

/// `0`, or `` `5 - 5` = 0 `` when the expression is not the number itself.
pub fn shown(text: &str, value: u64) -> String {
    if text == value.to_string() {
        value.to_string()
    } else {
        format!("`{text}` = {value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(body: &str) -> (Net, usize) {
        let decl: ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).unwrap();
        let mut cx = Ctxt::new();
        let net = lower(decl, &mut cx);
        (net, cx.len())
    }

    fn conv(net: &Net, k: usize) -> [Option<u64>; 5] {
        match &net.steps[k].kind {
            Kind::Conv2d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
                ..
            } => [
                in_channels.value,
                out_channels.value,
                kernel.square_value(),
                stride.square_value(),
                padding.square_value(),
            ],
            _ => panic!("not a convolution"),
        }
    }

    #[test]
    fn positional_and_keyword_arguments_bind_to_the_same_slots() {
        let (net, errors) = lowered(
            "input: [1, 8, 8], a: Conv2d(1, 6, 5), b: Conv2d(1, 6, 5, 2, 1), \
             c: Conv2d(1, 6, 5, padding = 1, stride = 2), \
             d: Conv2d(kernel_size = 5, in_channels = 1, out_channels = 6, stride = 2, padding = 1)",
        );
        assert_eq!(errors, 0);
        assert_eq!(conv(&net, 0), [Some(1), Some(6), Some(5), Some(1), Some(0)]);
        for k in 1..4 {
            assert_eq!(
                conv(&net, k),
                [Some(1), Some(6), Some(5), Some(2), Some(1)],
                "step {k}"
            );
        }
    }

    #[test]
    fn pooling_stride_defaults_to_the_window() {
        let (net, errors) =
            lowered("input: [1, 8, 8], MaxPool2d(3), p: AvgPool2d(kernel_size = 2, stride = 1)");
        assert_eq!(errors, 0);
        match (&net.steps[0].kind, &net.steps[1].kind) {
            (
                Kind::MaxPool2d { kernel, stride, .. },
                Kind::AvgPool2d {
                    kernel: k2,
                    stride: s2,
                    ..
                },
            ) => {
                assert_eq!((kernel.get(), stride.get()), (Some((3, 3)), Some((3, 3))));
                assert_eq!((k2.get(), s2.get()), (Some((2, 2)), Some((1, 1))));
            }
            _ => panic!("wrong kinds"),
        }
    }

    #[test]
    fn local_mistakes_are_counted_and_mark_the_step() {
        let (net, errors) =
            lowered("input: [1, 8, 8], c: Conv2d(1, 6, 5, pading = 1, stride = 0), relu(3)");
        assert_eq!(errors, 3);
        assert!(net.steps[0].broken);
        let (net, errors) = lowered("input: [1, 8, 8], c: Conv2D(1, 6, 5), ReLU, x: Dense(3)");
        assert_eq!(errors, 3);
        assert!(matches!(net.steps[0].kind, Kind::Conv2d { .. }));
        assert!(matches!(net.steps[1].kind, Kind::Relu));
        assert!(matches!(net.steps[2].kind, Kind::Unknown));
        assert_eq!(shown("16 * 5 * 5", 400), "`16 * 5 * 5` = 400");
        // A missing or unreadable argument is one mistake, not a second
        // one about the arguments after it or about too few arguments.
        let (net, errors) = lowered("input: [1, 8, 8], c: Conv2d(1, , 5), d: Conv2d(1, 6 5)");
        assert_eq!(errors, 2);
        assert!(net.steps[0].broken && net.steps[1].broken);
        assert_eq!(shown("0", 0), "0");
    }

    #[test]
    fn the_second_edition_arguments_carry_what_the_generator_needs() {
        let (net, errors) = lowered(
            "input: [1, 49, 10], \
             c: Conv2d(1, 64, (10, 4), stride = (2, 2), padding = (5, 1), dilation = (1, 2), groups = 1, bias = false), \
             bn: BatchNorm2d(64, eps = 1e-3), act: LeakyReLU(-0.2), Dropout(), d: Dropout(p = 0.25), \
             LeakyReLU, relu6, MaxPool2d((3, 1), padding = (1, 0))",
        );
        assert_eq!(errors, 0);
        let Kind::Conv2d {
            kernel,
            stride,
            padding,
            dilation,
            groups,
            bias,
            ..
        } = &net.steps[0].kind
        else {
            panic!("not a convolution")
        };
        assert_eq!(kernel.get(), Some((10, 4)));
        assert!(kernel.pair && kernel.square_value().is_none());
        assert_eq!(kernel.text, "(10 , 4)");
        assert_eq!(stride.square_value(), Some(2));
        assert_eq!(padding.get(), Some((5, 1)));
        assert_eq!(dilation.get(), Some((1, 2)));
        assert_eq!((groups.value, bias.value), (Some(1), Some(false)));
        let specs = net.steps[0].kind.parameters().unwrap();
        assert_eq!(specs.len(), 1, "no bias");
        assert_eq!(specs[0].shape, [64, 1, 10, 4]);
        assert_eq!(specs[0].fan_in, 40);
        let bn = &net.steps[1].kind;
        let Kind::BatchNorm2d { eps, momentum, .. } = bn else {
            panic!("not batch norm")
        };
        assert_eq!((eps.value, eps.text.as_str()), (Some(1e-3), "1e-3"));
        assert_eq!((momentum.value, momentum.text.as_str()), (Some(0.1), "0.1"));
        let names = |t: Vec<TensorSpec>| t.iter().map(|t| t.suffix).collect::<Vec<_>>();
        assert_eq!(names(bn.parameters().unwrap()), ["weight", "bias"]);
        let buffers = bn.buffers().unwrap();
        assert_eq!(
            names(buffers.clone()),
            ["running_mean", "running_var", "num_batches_tracked"]
        );
        assert_eq!(buffers[2].shape, Vec::<u64>::new());
        assert_eq!(buffers[2].dtype, Dtype::I64);
        assert_eq!(
            (buffers[1].init, buffers[0].init),
            (Init::Ones, Init::Zeros)
        );
        assert_eq!(
            (bn.parameter_count(), bn.buffer_count()),
            (Some(128), Some(129))
        );
        let float = |k: usize| match &net.steps[k].kind {
            Kind::LeakyRelu { negative_slope: f } | Kind::Dropout { p: f } => {
                (f.value, f.text.clone())
            }
            _ => panic!("no float"),
        };
        assert_eq!(float(2), (Some(-0.2), "-0.2".to_string()));
        assert_eq!(float(3), (Some(0.5), "0.5".to_string()));
        assert_eq!(float(4), (Some(0.25), "0.25".to_string()));
        assert_eq!(float(5), (Some(0.01), "0.01".to_string()));
        assert!(matches!(net.steps[6].kind, Kind::Relu6));
        let Kind::MaxPool2d {
            stride, padding, ..
        } = &net.steps[7].kind
        else {
            panic!("not a pool")
        };
        assert_eq!((stride.get(), padding.get()), (Some((3, 1)), Some((1, 0))));
    }
}
