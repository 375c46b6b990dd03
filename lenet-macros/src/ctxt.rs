//! The error collector: every stage adds its errors here, and they are
//! reported together at the end (serde_derive's `Ctxt`).

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

/// Errors found so far in one network declaration.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error spanned on `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&mut self, tokens: T, message: M) {
        self.errors
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Adds an error that already carries its span.
    pub fn syn_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Number of errors found so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Every error, as `compile_error!` invocations.
    pub fn into_compile_errors(self) -> TokenStream {
        let mut errors = self.errors.into_iter();
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
