//! The `network!` macro of lenet.
//!
//! The stages, one file each: [`ast`] parses the tokens, [`eval`] computes the
//! constant arguments, [`model`] turns the syntax into layers that keep their
//! spans, [`shape`] infers every shape, [`check`] applies the rules that span
//! several layers, and [`expand`] writes the struct (or [`fallback`] a stub
//! beside the errors, collected in [`ctxt`]).

mod ast;
mod check;
mod ctxt;
mod eval;
mod expand;
mod fallback;
mod model;
mod names;
mod shape;

#[cfg(test)]
mod fuzz;

use proc_macro::TokenStream;

/// Declares a network in PyTorch's words and proves its shapes at compile
/// time. See the `lenet` crate for the language and what it generates.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand::network(input.into()).into()
}
