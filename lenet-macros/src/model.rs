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
    /// `Conv2d(in_channels, out_channels, kernel_size, stride = 1, padding = 0)`.
    Conv2d {
        /// Input channels.
        in_channels: Num,
        /// Output channels.
        out_channels: Num,
        /// Square kernel size.
        kernel: Num,
        /// Stride.
        stride: Num,
        /// Zero padding on each side.
        padding: Num,
    },
    /// `MaxPool2d(kernel_size, stride = kernel_size)`.
    MaxPool2d {
        /// Window size.
        kernel: Num,
        /// Stride.
        stride: Num,
    },
    /// `AvgPool2d(kernel_size, stride = kernel_size)`.
    AvgPool2d {
        /// Window size.
        kernel: Num,
        /// Stride.
        stride: Num,
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
    /// `relu`.
    Relu,
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
    /// Whether the layer has weights and biases (and so needs a name).
    pub fn has_params(&self) -> bool {
        matches!(self, Kind::Conv2d { .. } | Kind::Linear { .. })
    }

    /// Whether the layer keeps the shape (element-wise).
    pub fn is_activation(&self) -> bool {
        matches!(self, Kind::Relu | Kind::Tanh | Kind::Sigmoid)
    }

    /// The layer's word in the DSL.
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Conv2d { .. } => "Conv2d",
            Kind::MaxPool2d { .. } => "MaxPool2d",
            Kind::AvgPool2d { .. } => "AvgPool2d",
            Kind::AdaptiveAvgPool2d => "AdaptiveAvgPool2d",
            Kind::Linear { .. } => "Linear",
            Kind::Relu => "relu",
            Kind::Tanh => "tanh",
            Kind::Sigmoid => "sigmoid",
            Kind::Flatten => "flatten",
            Kind::Unknown => "?",
        }
    }
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
    "relu",
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
];
const POOL_PARAMS: &[&str] = &["kernel_size", "stride"];
const ADAPTIVE_PARAMS: &[&str] = &["output_size"];
const LINEAR_PARAMS: &[&str] = &["in_features", "out_features"];

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
        "relu" => Word::Bare(Kind::Relu),
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
                    "{unknown}: lenet knows the layers Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and Linear, and the bare words relu, tanh, sigmoid and flatten"
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
        num: Num,
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
) -> (Vec<Option<Num>>, Written) {
    let example = example_call(layer, name);
    let prefix = prefix(name.as_ref(), word);
    let mut slots = vec![Slot::Empty; params.len()];
    let mut written = Vec::new();
    let Some((group, inner)) = args else {
        cx.error_spanned_by(
            head,
            format!(
                "{} needs arguments: {example}",
                subject(name.as_ref(), word, layer)
            ),
        );
        return (vec![None; params.len()], written);
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
        let value = match eval::eval(&arg.value) {
            Ok(v) => Some(v),
            Err(fault) => {
                cx.error_spanned_by(fault.tokens, format!("{prefix}{}", fault.message));
                None
            }
        };
        let text = eval::text_of(&arg.value);
        let num = |v: &Option<eval::Value>| Num {
            value: v.as_ref().map(|v| v.value),
            text: text.clone(),
            tokens: arg.value.to_token_stream(),
        };
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
                        *slot = match value {
                            Some(_) => Slot::Given { num: num(&value), positional: true, position },
                            None => Slot::Broken { positional: true },
                        };
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
                    *slot = match value {
                        Some(_) => Slot::Given {
                            num: num(&value),
                            positional: false,
                            position,
                        },
                        None => Slot::Broken { positional: false },
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
    let nums = slots
        .into_iter()
        .map(|s| match s {
            Slot::Given { num, .. } => Some(num),
            Slot::Broken { .. } => Some(Num::missing(head)),
            Slot::Empty => None,
        })
        .collect();
    (nums, written)
}

fn example_call(layer: &str, name: &Option<Ident>) -> String {
    let name = name.as_ref().map(|n| n.unraw().to_string());
    let (default, call) = match layer {
        "Conv2d" => ("conv1", "Conv2d(1, 6, 5)"),
        "MaxPool2d" => ("pool1", "MaxPool2d(2)"),
        "AvgPool2d" => ("pool1", "AvgPool2d(2, 2)"),
        "AdaptiveAvgPool2d" => ("pool", "AdaptiveAvgPool2d(1)"),
        _ => ("fc1", "Linear(400, 120)"),
    };
    format!("`{}: {call}`", name.as_deref().unwrap_or(default))
}

/// Builds the layer from its bound arguments; a required argument that is
/// missing becomes an unknown value (already reported). Zero sizes are
/// reported here and become unknown too.
fn build(
    layer: &str,
    slots: Vec<Option<Num>>,
    head: &TokenStream,
    cx: &mut Ctxt,
    prefix: &str,
) -> Kind {
    let mut slots = slots.into_iter();
    let mut next = || slots.next().flatten();
    let positive = |num: Option<Num>, what: &str, why: &str, cx: &mut Ctxt| -> Num {
        let mut num = num.unwrap_or_else(|| Num::missing(head));
        if num.value == Some(0) {
            cx.error_spanned_by(
                &num.tokens,
                format!("{prefix}{what} is {}, but {why}", shown(&num.text, 0)),
            );
            num.value = None;
        }
        num
    };
    match layer {
        "Conv2d" => {
            let in_channels = positive(
                next(),
                "in_channels",
                "a convolution needs at least one input channel",
                cx,
            );
            let out_channels = positive(
                next(),
                "out_channels",
                "a convolution needs at least one output channel",
                cx,
            );
            let kernel = positive(
                next(),
                "kernel_size",
                "a kernel covers at least 1×1 pixel",
                cx,
            );
            let stride = next().unwrap_or_else(|| Num::default(1, head));
            let stride = positive(
                Some(stride),
                "stride",
                "the kernel must move by at least 1 pixel",
                cx,
            );
            let padding = next().unwrap_or_else(|| Num::default(0, head));
            Kind::Conv2d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
            }
        }
        "MaxPool2d" | "AvgPool2d" => {
            let kernel = positive(
                next(),
                "kernel_size",
                "a pooling window covers at least 1×1 pixel",
                cx,
            );
            let stride = match next() {
                Some(s) => positive(
                    Some(s),
                    "stride",
                    "the window must move by at least 1 pixel",
                    cx,
                ),
                None => kernel.clone(),
            };
            if layer == "MaxPool2d" {
                Kind::MaxPool2d { kernel, stride }
            } else {
                Kind::AvgPool2d { kernel, stride }
            }
        }
        "AdaptiveAvgPool2d" => {
            if let Some(size) = next() {
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
        _ => {
            let in_features = positive(
                next(),
                "in_features",
                "a linear layer needs at least one input",
                cx,
            );
            let out_features = positive(
                next(),
                "out_features",
                "a linear layer needs at least one output",
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
            } => [
                in_channels.value,
                out_channels.value,
                kernel.value,
                stride.value,
                padding.value,
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
                Kind::MaxPool2d { kernel, stride },
                Kind::AvgPool2d {
                    kernel: k2,
                    stride: s2,
                },
            ) => {
                assert_eq!((kernel.value, stride.value), (Some(3), Some(3)));
                assert_eq!((k2.value, s2.value), (Some(2), Some(1)));
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
}
