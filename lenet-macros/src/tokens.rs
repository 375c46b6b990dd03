//! Small token helpers shared by code generation and the fallback stub.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// A `usize` literal.
pub fn lit(n: u64) -> Literal {
    Literal::u64_unsuffixed(n)
}

/// `n` as a typenum type: `U28` up to 1024, the binary form above.
pub fn typenum(n: u64) -> TokenStream {
    if n <= 1024 {
        let id = format_ident!("U{}", n);
        return quote!(::lenet::__private::typenum::consts::#id);
    }
    let mut t = quote!(::lenet::__private::typenum::UTerm);
    for bit in (0..64 - n.leading_zeros()).rev() {
        let b = if (n >> bit) & 1 == 1 {
            quote!(B1)
        } else {
            quote!(B0)
        };
        t = quote!(::lenet::__private::typenum::UInt<#t, ::lenet::__private::typenum::#b>);
    }
    t
}
