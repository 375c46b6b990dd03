//! The `network!` macro of lenet.
//!
//! The stages, one file each: `ast` parses the tokens, `eval` computes the
//! constant arguments, `model` turns the syntax into layers that keep their
//! spans, `shape` infers every shape, `check` applies the rules that span
//! several layers, `plan` lays out the checked network as a list of steps
//! with their sizes and parameter offsets and places every buffer of the
//! forward and training passes in one arena by liveness, and `expand`
//! prints the plan as
//! the struct (or `fallback` a stub beside the errors, collected in
//! `ctxt`); `tokens` holds the small printing helpers both share.

mod ast;
mod check;
mod ctxt;
mod eval;
mod expand;
mod fallback;
mod fuse;
mod model;
mod names;
mod plan;
mod shape;
mod tokens;

#[cfg(test)]
mod fuzz;

use proc_macro::TokenStream;

/// Declares a network in PyTorch's words and proves its shapes at compile
/// time.
///
/// ```text
/// lenet::network! {
///     /// LeNet-5 as in LeCun et al. 1998.
///     pub struct LeNet5 {
///         input: [1, 32, 32],            // C, H, W of one image; comes first
///         conv1: Conv2d(1, 6, 5),        // in_channels, out_channels, kernel_size
///         relu,
///         pool1: AvgPool2d(2, 2),        // kernel_size, stride (default: kernel_size)
///         conv2: Conv2d(6, 16, 5),
///         relu,
///         pool2: AvgPool2d(2, 2),
///         flatten,
///         fc1: Linear(16 * 5 * 5, 120),  // in_features, out_features
///         relu,
///         fc2: Linear(120, 84),
///         relu,
///         fc3: Linear(84, 10),
///     }
/// }
/// ```
///
/// # The language
///
/// - `input: [C, H, W]` first, then the steps, separated by commas (a
///   trailing comma is optional). Several declarations may share one
///   invocation; doc comments and visibility (`pub`, `pub(crate)`, private)
///   pass through to the struct.
/// - A step is `name: Layer(args)` or a bare word: `relu`, `tanh`,
///   `sigmoid`, `flatten` (which may be named too: `act1: relu`).
/// - Layers, with PyTorch's argument order and keyword names:
///   `Conv2d(in_channels, out_channels, kernel_size, stride = 1, padding = 0)`,
///   `MaxPool2d(kernel_size, stride = kernel_size)`,
///   `AvgPool2d(kernel_size, stride = kernel_size)`,
///   `AdaptiveAvgPool2d(1)` (global average pooling) and
///   `Linear(in_features, out_features)`. Any argument may be given by
///   keyword after the positional ones, in any order.
/// - `Conv2d` and `Linear` have parameters and must be named: the name is
///   the prefix of their tensors (`conv1.weight`, `conv1.bias`), as in
///   PyTorch's `named_parameters()`. Pooling layers may be named or not.
/// - Sizes are integer literals combined with `+ - * /` and parentheses
///   (`16 * 5 * 5`), computed with checked arithmetic; every size, tensor
///   and parameter count is at most 2^31.
///
/// Sizes follow the SPEC: convolution `floor((H + 2·padding − kernel) /
/// stride) + 1`, pooling `floor((H − kernel) / stride) + 1`.
///
/// # What it checks
///
/// Every mistake is a compile error on the tokens at fault, naming the
/// layer, the number written (with its expression), the number that
/// arrives, the shapes so far and a fix; independent mistakes are all
/// reported in one build:
///
/// ```text
/// error: fc1: Linear expects 400 = 16 * 5 * 5 inputs, but flatten produces 256 (16×4×4)
///          shape flow: input 1×28×28 → conv1 6×24×24 → relu → pool1 6×12×12 → conv2 16×8×8 → relu → pool2 16×4×4 → flatten 256
///          help: write `Linear(256, 120)`, or give conv1 `padding = 2` to keep 16×5×5 for a 28×28 input
/// ```
///
/// `tests/ui/fail/` in the repository holds one case per mistake with its
/// message. When a declaration has errors, the struct and its methods are
/// still declared, so that code using it adds no errors of its own.
///
/// # What it generates
///
/// A struct holding every parameter in PyTorch's order (on the heap with
/// `std`, so that no value the size of the parameters moves through the
/// stack; inline without), with inherent constants (`INPUT_SHAPE`,
/// `INPUT_LEN`, `OUTPUT_SHAPE`, `OUTPUT_LEN`, `PARAM_COUNT`, `LAYERS`,
/// `PARAMS`, `ACTIVATION_SIZES`, `FORWARD_SCRATCH_FLOATS`,
/// `TRAIN_SCRATCH_FLOATS`, `LE_BYTES`) and methods (`new(seed)`, `zeros()`,
/// `summary()`, `named_parameters()`, `parameters()`, `parameters_mut()`,
/// `parameter(name)`, `forward(&x)` without allocation,
/// `forward_with_scratch(&x, &mut scratch)`, `view(&params)` and
/// `view_le_bytes(bytes)` (a `WeightsView` over weights that stay where
/// they are), `from_le_bytes`, `write_le_bytes`; with `std`:
/// `forward_batch`, `forward_batch_into`, `loss_and_grad`,
/// `loss_and_grad_into`, `load_safetensors`, `from_safetensors`,
/// `save_safetensors`, `to_le_bytes`), the runtime's `Network` and
/// `Forward` traits, and a type-level proof of every shape with
/// `lenet::shape`'s typenum layers.
///
/// Memory is planned at compile time (`plan`): every buffer of the forward
/// pass, and of the training pass (the activations backward reads, the
/// gradients), is placed in one arena by liveness, element-wise steps run
/// in place and `flatten` is a view; `FORWARD_SCRATCH_FLOATS` and
/// `TRAIN_SCRATCH_FLOATS` are the arenas' sizes per image.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand::network(input.into()).into()
}
