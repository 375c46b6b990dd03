//! The syntax of a `network!` invocation, as `syn` parses it. Each step and
//! each argument is parsed on its own, so that a mistake in one does not hide
//! the others, and every piece keeps its tokens for spans.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, Ident, Token, Visibility};

/// Everything inside `network! { … }`: one or more declarations.
pub struct Invocation {
    /// The declarations, in order.
    pub decls: Vec<Decl>,
}

/// `#[doc = …] pub struct Name { body }`.
pub struct Decl {
    /// Outer attributes (doc comments, `#[allow]`), passed through.
    pub attrs: Vec<Attribute>,
    /// Visibility of the generated struct.
    pub vis: Visibility,
    /// The struct's name.
    pub ident: Ident,
    /// What is between the braces, not yet split into steps.
    pub body: TokenStream,
}

/// One comma-separated entry of the body.
pub enum Step {
    /// `name: [a, b, c]`; only `input` may take this form.
    Shape {
        /// The word before the colon (`input`).
        key: Ident,
        /// The bracketed group, for spans.
        group: TokenStream,
        /// What is inside the brackets.
        dims: TokenStream,
    },
    /// `name: Layer(args)`, `Layer(args)`, `name: word` or `word`.
    Layer {
        /// The name before the colon, if any.
        name: Option<Ident>,
        /// The layer's word (`Conv2d`, `relu`).
        word: Ident,
        /// The parenthesised arguments, if any: the group (for spans) and
        /// what is inside it.
        args: Option<(TokenStream, TokenStream)>,
    },
}

/// One argument of a layer: `expr` or `keyword = expr`.
pub struct Arg {
    /// The keyword, if given by name.
    pub key: Option<Ident>,
    /// The value.
    pub value: Expr,
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut decls = Vec::new();
        while !input.is_empty() {
            decls.push(input.parse()?);
            while input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
        }
        if decls.is_empty() {
            return Err(input.error(
                "expected a network: `pub struct LeNet5 { input: [1, 32, 32], conv1: Conv2d(1, 6, 5), … }`",
            ));
        }
        Ok(Invocation { decls })
    }
}

impl Parse for Decl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error(
                "expected `struct`: a network is declared as `pub struct Name { input: [C, H, W], … }`",
            ));
        }
        input.parse::<Token![struct]>()?;
        let ident: Ident = input.parse()?;
        if input.peek(Token![<]) {
            return Err(
                input.error("a network takes no generic parameters: its sizes are in its layers")
            );
        }
        let content;
        syn::braced!(content in input);
        let body: TokenStream = content.parse()?;
        Ok(Decl {
            attrs,
            vis,
            ident,
            body,
        })
    }
}

impl Parse for Step {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let first = input.call(Ident::parse_any)?;
        let step = if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            if let Some((dims, group)) = bracketed(input)? {
                Step::Shape {
                    key: first,
                    group,
                    dims,
                }
            } else {
                let word = input.call(Ident::parse_any).map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected a layer after the colon, such as `Conv2d(1, 6, 5)`",
                    )
                })?;
                let args = parenthesized(input)?;
                Step::Layer {
                    name: Some(first),
                    word,
                    args,
                }
            }
        } else {
            let args = parenthesized(input)?;
            Step::Layer {
                name: None,
                word: first,
                args,
            }
        };
        if !input.is_empty() {
            return Err(input.error("expected `,` after this step"));
        }
        Ok(step)
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key =
            if input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
                let key = input.call(Ident::parse_any)?;
                input.parse::<Token![=]>()?;
                Some(key)
            } else {
                None
            };
        let value: Expr = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected `,` between arguments"));
        }
        Ok(Arg { key, value })
    }
}

/// A `[…]` group, if one comes next: its contents and the whole group.
fn bracketed(input: ParseStream) -> syn::Result<Option<(TokenStream, TokenStream)>> {
    delimited(input, Delimiter::Bracket)
}

/// A `(…)` group, if one comes next: the whole group and its contents. A
/// `[…]` or `{…}` group in its place is an error.
fn parenthesized(input: ParseStream) -> syn::Result<Option<(TokenStream, TokenStream)>> {
    if let Some((inner, group)) = delimited(input, Delimiter::Parenthesis)? {
        return Ok(Some((group, inner)));
    }
    if input.peek(syn::token::Bracket) || input.peek(syn::token::Brace) {
        return Err(input.error("a layer's arguments go in parentheses: `Conv2d(1, 6, 5)`"));
    }
    Ok(None)
}

fn delimited(
    input: ParseStream,
    delimiter: Delimiter,
) -> syn::Result<Option<(TokenStream, TokenStream)>> {
    input.step(|cursor| {
        if let Some((TokenTree::Group(g), rest)) = cursor.token_tree() {
            if g.delimiter() == delimiter {
                let whole = g.to_token_stream();
                return Ok((Some((g.stream(), whole)), rest));
            }
        }
        Ok((None, *cursor))
    })
}

/// Splits `tokens` at its top-level commas. Empty pieces (a trailing comma)
/// are dropped; a piece that is empty between two commas is returned as the
/// comma that follows it, so that it can be reported.
pub fn split_commas(tokens: TokenStream) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut current = TokenStream::new();
    for tt in tokens {
        if let TokenTree::Punct(p) = &tt {
            if p.as_char() == ',' {
                if current.is_empty() {
                    pieces.push(Piece::Empty(tt.to_token_stream()));
                } else {
                    pieces.push(Piece::Tokens(std::mem::take(&mut current)));
                }
                continue;
            }
        }
        current.extend(std::iter::once(tt));
    }
    if !current.is_empty() {
        pieces.push(Piece::Tokens(current));
    }
    pieces
}

/// One piece of a comma-separated list.
pub enum Piece {
    /// The tokens of an entry.
    Tokens(TokenStream),
    /// A comma with nothing before it.
    Empty(TokenStream),
}
