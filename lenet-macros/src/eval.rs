//! Constant integer expressions: literals with `+ - * /` and parentheses,
//! evaluated with checked arithmetic. Every failure is a [`Fault`] on the
//! expression at fault; the caller, which knows the layer, makes it an error
//! whose message names that layer.

use std::fmt;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{BinOp, Expr, UnOp};

/// The largest size lenet accepts anywhere: a tensor, a layer's or a
/// network's parameters, or any single argument (2^31 floats, 8 GiB).
pub const MAX_SIZE: u64 = 1 << 31;

/// `MAX_SIZE` as the messages write it.
pub const MAX_SIZE_TEXT: &str = "2^31 = 2,147,483,648";

/// An evaluated argument: its value and the expression as written.
#[derive(Clone, Debug)]
pub struct Value {
    /// The value.
    pub value: u64,
    /// The expression as written, such as `16 * 5 * 5`.
    pub text: String,
}

/// Why an expression is not a size: the tokens at fault and what is wrong
/// with them, without the layer (which the caller puts in front).
#[derive(Clone, Debug)]
pub struct Fault {
    /// The tokens at fault: the whole expression, or the part that fails.
    pub tokens: TokenStream,
    /// What is wrong, such as `` `3 - 5` is negative (3 − 5) ``.
    pub message: String,
}

impl Fault {
    fn new<T: ToTokens>(tokens: T, message: impl Into<String>) -> Self {
        Fault {
            tokens: tokens.into_token_stream(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Evaluates `expr`, which must be a constant integer expression whose value
/// (and every intermediate value) is between 0 and `u64::MAX`, and at most
/// [`MAX_SIZE`] at the end.
pub fn eval(expr: &Expr) -> Result<Value, Fault> {
    let value = eval_inner(expr, 0)?;
    let text = text_of(expr);
    if value > MAX_SIZE {
        let what = if text == value.to_string() {
            format!("`{text}`")
        } else {
            format!("`{text}` = {value}")
        };
        return Err(Fault::new(
            expr,
            format!("{what} is more than lenet allows for any size ({MAX_SIZE_TEXT})"),
        ));
    }
    Ok(Value { value, text })
}

/// The expression as written, tokens separated as rustfmt would.
pub fn text_of(expr: &Expr) -> String {
    expr.to_token_stream().to_string()
}

/// Nesting deeper than this is refused rather than risk the stack.
const MAX_DEPTH: usize = 64;

fn eval_inner(expr: &Expr, depth: usize) -> Result<u64, Fault> {
    if depth > MAX_DEPTH {
        return Err(Fault::new(
            expr,
            format!("this expression is nested too deeply (more than {MAX_DEPTH} levels): write the size more simply, such as `400` or `16 * 5 * 5`"),
        ));
    }
    match expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(lit), .. })
            if lit.base10_digits().starts_with('-') =>
        {
            Err(Fault::new(
                lit,
                format!("`{}` is negative: sizes are positive integers", lit.base10_digits()),
            ))
        }
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(lit), .. }) => {
            lit.base10_parse::<u64>().map_err(|_| {
                Fault::new(
                    lit,
                    format!(
                        "`{lit}` is too large: sizes are at most {MAX_SIZE_TEXT}",
                        lit = lit.base10_digits()
                    ),
                )
            })
        }
        Expr::Paren(p) => eval_inner(&p.expr, depth + 1),
        Expr::Group(g) => eval_inner(&g.expr, depth + 1),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => Err(Fault::new(
            expr,
            // `-5` as written, where the tokens would print `- 5`.
            format!("`-{}` is negative: sizes are positive integers", text_of(&u.expr)),
        )),
        Expr::Binary(b) => {
            let l = eval_inner(&b.left, depth + 1)?;
            let r = eval_inner(&b.right, depth + 1)?;
            let (result, what) = match b.op {
                BinOp::Add(_) => (l.checked_add(r), "overflows"),
                BinOp::Sub(_) => (l.checked_sub(r), "is negative"),
                BinOp::Mul(_) => (l.checked_mul(r), "overflows"),
                BinOp::Div(_) => (l.checked_div(r), "divides by zero"),
                _ => {
                    return Err(Fault::new(
                        b.op,
                        format!(
                            "`{}` is not allowed here: sizes are integer literals combined with `+ - * /` and parentheses",
                            b.op.to_token_stream()
                        ),
                    ))
                }
            };
            result.ok_or_else(|| {
                let detail = match what {
                    "overflows" => " (more than 2^64 − 1)".to_string(),
                    "is negative" => format!(" ({l} − {r})"),
                    _ => String::new(),
                };
                Fault::new(expr, format!("`{}` {what}{detail}", text_of(expr)))
            })
        }
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. }) => Err(Fault::new(
            expr,
            format!("`{}` is not an integer: sizes are whole numbers", text_of(expr)),
        )),
        Expr::Tuple(_) | Expr::Array(_) => Err(Fault::new(
            expr,
            format!(
                "`{}` is a list, not a size: give one integer here",
                text_of(expr)
            ),
        )),
        _ => Err(Fault::new(
            expr,
            format!(
                "expected a size such as `5` or `16 * 5 * 5`, found `{}`: sizes are integer literals combined with `+ - * /` and parentheses",
                text_of(expr)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str) -> Result<u64, String> {
        let expr: Expr = syn::parse_str(src).map_err(|e| e.to_string())?;
        eval(&expr).map(|v| v.value).map_err(|e| e.to_string())
    }

    #[test]
    fn precedence_and_parentheses() {
        assert_eq!(value("16 * 5 * 5"), Ok(400));
        assert_eq!(value("2 + 3 * 4"), Ok(14));
        assert_eq!(value("(2 + 3) * 4"), Ok(20));
        assert_eq!(value("20 - 4 - 3"), Ok(13));
        assert_eq!(value("20 - (4 - 3)"), Ok(19));
        assert_eq!(value("100 / 10 / 5"), Ok(2));
        assert_eq!(value("7 / 2"), Ok(3));
        assert_eq!(value("((((6))))"), Ok(6));
        assert_eq!(value("1_000"), Ok(1000));
        assert_eq!(value("5usize"), Ok(5));
    }

    #[test]
    fn keeps_the_text_as_written() {
        let expr: Expr = syn::parse_str("16 * 5 * 5").unwrap();
        assert_eq!(eval(&expr).unwrap().text, "16 * 5 * 5");
        let expr: Expr = syn::parse_str("(2+3)*4").unwrap();
        assert_eq!(eval(&expr).unwrap().text, "(2 + 3) * 4");
    }

    #[test]
    fn overflow_division_by_zero_and_negatives_are_errors() {
        assert!(value("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(value("4294967296 * 4294967296")
            .unwrap_err()
            .contains("overflows"));
        assert!(value("18446744073709551615 + 1")
            .unwrap_err()
            .contains("overflows"));
        assert!(value("5 / 0").unwrap_err().contains("divides by zero"));
        assert!(value("5 / (3 - 3)")
            .unwrap_err()
            .contains("divides by zero"));
        assert!(value("3 - 5").unwrap_err().contains("negative"));
        assert_eq!(
            value("-1"),
            Err("`-1` is negative: sizes are positive integers".to_string())
        );
        // A negative literal token, as `macro_rules!` can pass one.
        let neg = proc_macro2::Literal::i64_unsuffixed(-5);
        let lit: Expr = syn::parse2(quote::quote!(#neg)).unwrap();
        let message = eval(&lit).unwrap_err().to_string();
        assert!(message.contains("negative"), "{message}");
        assert!(value("4294967296")
            .unwrap_err()
            .contains("more than lenet allows"));
        assert_eq!(value("2147483648"), Ok(MAX_SIZE));
        assert_eq!(
            value("65536 * 65536"),
            Err("`65536 * 65536` = 4294967296 is more than lenet allows for any size (2^31 = 2,147,483,648)".to_string())
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}5{}", "(".repeat(100), ")".repeat(100));
        assert!(value(&deep).unwrap_err().contains("nested too deeply"));
        let ok = format!("{}5{}", "(".repeat(30), ")".repeat(30));
        assert_eq!(value(&ok), Ok(5));
    }

    #[test]
    fn other_expressions_are_errors() {
        assert!(value("5 % 2").unwrap_err().contains("not allowed"));
        assert!(value("2.5").unwrap_err().contains("not an integer"));
        assert!(value("(5, 5)").unwrap_err().contains("not a size"));
        assert!(value("N").unwrap_err().contains("expected a size"));
        assert!(value("\"5\"").unwrap_err().contains("expected a size"));
    }
}
