//! The `network!` macro's expansion on token streams parsed from arbitrary
//! text: it must return tokens (the network, or `compile_error!`s beside a
//! stub), never panic. The macro's modules are compiled in from
//! `lenet-macros/src` as `lib.rs` lists them (see `build.rs`); only its
//! `#[proc_macro]` entry, which needs a compiler, is left out.

#![no_main]
#![allow(dead_code, unused_imports)]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;

include!(concat!(env!("OUT_DIR"), "/macro_modules.rs"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Text that does not lex as Rust tokens never reaches the macro.
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    let out = expand::network(tokens);
    // The output is itself valid Rust tokens.
    let _ = TokenStream::from_str(&out.to_string()).expect("the expansion re-lexes");
});
