//! The error collector: every stage adds its errors here, and they are
//! reported together at the end (serde_derive's `Ctxt`).

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

/// Errors found so far in one network declaration, each with the position
/// of its entry in the declaration, so that they are reported in the order
/// of the source whichever stage found them.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<(usize, syn::Error)>,
    position: usize,
}

impl Ctxt {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files the errors that follow under entry `position` of the
    /// declaration (`usize::MAX` for the declaration as a whole).
    pub fn set_position(&mut self, position: usize) {
        self.position = position;
    }

    /// Adds an error spanned on `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&mut self, tokens: T, message: M) {
        let error = syn::Error::new_spanned(tokens.into_token_stream(), message);
        self.errors.push((self.position, error));
    }

    /// Adds an error that already carries its span.
    pub fn syn_error(&mut self, error: syn::Error) {
        self.errors.push((self.position, error));
    }

    /// Adds an error that already carries its span (a parse error), its
    /// message led by `prefix`, the step it belongs to (`fc3: `). Parse
    /// errors point at one token, so the span is kept as it is.
    pub fn syn_error_in(&mut self, prefix: &str, error: syn::Error) {
        for message in error {
            let led = syn::Error::new(message.span(), format!("{prefix}{message}"));
            self.errors.push((self.position, led));
        }
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Number of errors found so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Every message so far, in the order they were found.
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .flat_map(|(_, e)| e.clone().into_iter().map(|m| m.to_string()))
            .collect()
    }

    /// Every error, in the order of the declaration, as `compile_error!`
    /// invocations.
    pub fn into_compile_errors(mut self) -> TokenStream {
        self.errors.sort_by_key(|(position, _)| *position);
        let mut errors = self.errors.into_iter().map(|(_, e)| e);
        match errors.next() {
            None => TokenStream::new(),
            Some(mut first) => {
                for e in errors {
                    first.combine(e);
                }
                first.to_compile_error()
            }
        }
    }
}
