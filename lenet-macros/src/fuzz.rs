//! The macro never panics: thousands of generated and mutated inputs from a
//! seeded generator go through the whole macro, which must return tokens
//! every time.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::expand::network;

/// SplitMix64: small, seeded, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NETWORKS: &[&str] = &[
    "/// LeNet-5.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }",
    "pub(crate) struct M {
        input: [1, 28, 28],
        conv1: Conv2d(1, 6, 5, padding = 2),
        tanh,
        pool1: MaxPool2d(kernel_size = 2, stride = 2),
        conv2: Conv2d(in_channels = 6, out_channels = 16, kernel_size = 5, stride = 1),
        sigmoid,
        gap: AdaptiveAvgPool2d(1),
        flatten,
        fc: Linear(16, (5 + 5) / 1),
    }",
    "struct A { input: [3, 9, 9], c: Conv2d(3, 4, 3, 2, 1), MaxPool2d(2), flatten, f: Linear(16, 2) }
     struct B { input: [1, 2, 2], flatten, f: Linear(4, 1), }",
    "struct E { input: [1, 28, 28], conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), \
     conv2: Conv2d(6, 16, 5), relu, pool2: AvgPool2d(2, 2), flatten, fc1: Linear(16 * 5 * 5, 120) }",
];

const WORDS: &[&str] = &[
    "input",
    "struct",
    "pub",
    "crate",
    "Conv2d",
    "Conv2D",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Linear",
    "Linar",
    "relu",
    "ReLU",
    "tanh",
    "sigmoid",
    "flatten",
    "Flatten",
    "stride",
    "padding",
    "pading",
    "kernel_size",
    "in_channels",
    "out_channels",
    "in_features",
    "out_features",
    "output_size",
    "conv1",
    "fc1",
    "x",
    "_",
    "self",
    "Self",
    "fn",
    "enum",
    "doc",
    "r",
    "type",
];

const PUNCTS: &[char] = &[
    '+', '-', '*', '/', '=', ',', ':', ';', '.', '<', '>', '!', '#', '&', '|', '%', '^', '@', '?',
    '~',
];

const HUGE: &[&str] = &[
    "0",
    "1",
    "2147483648",
    "2147483649",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "340282366920938463463374607431768211455",
    "1_000_000",
    "0x10",
    "5usize",
    "7u8",
    "2.5",
    "1e9",
    "\"text\"",
    "'c'",
    "b'x'",
];

fn random_literal(rng: &mut Rng) -> TokenTree {
    match rng.below(4) {
        0 => TokenTree::Literal(Literal::u64_unsuffixed(rng.next() >> rng.below(64))),
        1 => TokenTree::Literal(Literal::i64_unsuffixed(-(rng.below(100) as i64))),
        _ => {
            let text = *rng.pick(HUGE);
            text.parse::<TokenStream>()
                .ok()
                .and_then(|t| t.into_iter().next())
                .unwrap_or_else(|| TokenTree::Literal(Literal::u64_unsuffixed(0)))
        }
    }
}

fn random_ident(rng: &mut Rng) -> TokenTree {
    let text = if rng.below(4) == 0 {
        let letters = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let len = 1 + rng.below(12);
        (0..len)
            .map(|_| *rng.pick(letters) as char)
            .collect::<String>()
    } else {
        (*rng.pick(WORDS)).to_string()
    };
    TokenTree::Ident(Ident::new(&text, Span::call_site()))
}

fn random_punct(rng: &mut Rng) -> TokenTree {
    let spacing = if rng.below(2) == 0 {
        Spacing::Alone
    } else {
        Spacing::Joint
    };
    TokenTree::Punct(Punct::new(*rng.pick(PUNCTS), spacing))
}

fn random_delimiter(rng: &mut Rng) -> Delimiter {
    *rng.pick(&[
        Delimiter::Parenthesis,
        Delimiter::Brace,
        Delimiter::Bracket,
        Delimiter::None,
    ])
}

fn random_tree(rng: &mut Rng, depth: usize) -> TokenTree {
    match rng.below(if depth >= 4 { 3 } else { 4 }) {
        0 => random_literal(rng),
        1 => random_ident(rng),
        2 => random_punct(rng),
        _ => {
            let len = rng.below(5);
            let inner: TokenStream = (0..len).map(|_| random_tree(rng, depth + 1)).collect();
            TokenTree::Group(Group::new(random_delimiter(rng), inner))
        }
    }
}

/// One mutation somewhere in `tokens`, possibly inside a group.
fn mutate(rng: &mut Rng, tokens: TokenStream, depth: usize) -> TokenStream {
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    // Go inside a group some of the time.
    let groups: Vec<usize> = trees
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, TokenTree::Group(_)))
        .map(|(i, _)| i)
        .collect();
    if !groups.is_empty() && depth < 6 && rng.below(3) != 0 {
        let i = *rng.pick(&groups);
        if let TokenTree::Group(g) = &trees[i] {
            let delimiter = if rng.below(10) == 0 {
                random_delimiter(rng)
            } else {
                g.delimiter()
            };
            let inner = mutate(rng, g.stream(), depth + 1);
            trees[i] = TokenTree::Group(Group::new(delimiter, inner));
        }
        return trees.into_iter().collect();
    }
    let len = trees.len();
    match rng.below(8) {
        0 => trees.truncate(rng.below(len + 1)),
        1 if len > 0 => {
            trees.remove(rng.below(len));
        }
        2 if len > 0 => {
            let t = trees[rng.below(len)].clone();
            trees.insert(rng.below(len + 1), t);
        }
        3 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            trees.swap(a, b);
        }
        4 if len > 0 => {
            let i = rng.below(len);
            trees[i] = random_literal(rng);
        }
        5 if len > 0 => {
            let i = rng.below(len);
            trees[i] = random_tree(rng, depth);
        }
        6 => {
            let delimiter = random_delimiter(rng);
            let nested = if rng.below(2) == 0 {
                TokenStream::new()
            } else {
                std::iter::once(TokenTree::Group(Group::new(
                    random_delimiter(rng),
                    TokenStream::new(),
                )))
                .collect()
            };
            trees.insert(
                rng.below(len + 1),
                TokenTree::Group(Group::new(delimiter, nested)),
            );
        }
        _ => {
            let at = rng.below(len + 1);
            let t = random_tree(rng, depth);
            trees.insert(at, t);
        }
    }
    trees.into_iter().collect()
}

fn input(rng: &mut Rng, seeds: &[TokenStream]) -> TokenStream {
    if rng.below(10) == 0 {
        let len = rng.below(20);
        return (0..len).map(|_| random_tree(rng, 0)).collect();
    }
    let mut tokens = rng.pick(seeds).clone();
    for _ in 0..=rng.below(4) {
        tokens = mutate(rng, tokens, 0);
    }
    tokens
}

#[test]
fn never_panics_on_generated_and_mutated_inputs() {
    const CASES: usize = 20_000;
    let seeds: Vec<TokenStream> = NETWORKS
        .iter()
        .map(|s| s.parse().expect("seed networks are valid tokens"))
        .collect();
    // The seeds expand without errors, but for the last (the SPEC's MNIST
    // mistake), which gives exactly one.
    for (i, seed) in seeds.iter().enumerate() {
        let out = network(seed.clone()).to_string();
        let expected = usize::from(i + 1 == seeds.len());
        assert_eq!(
            out.matches("compile_error").count(),
            expected,
            "{seed}\n=>\n{out}"
        );
    }
    let mut rng = Rng(0x5EED_1E4E7);
    let start = Instant::now();
    let mut errors = 0usize;
    let mut clean = 0usize;
    for case in 0..CASES {
        let tokens = input(&mut rng, &seeds);
        let shown = tokens.to_string();
        let out = catch_unwind(AssertUnwindSafe(|| network(tokens)));
        match out {
            Ok(out) => {
                assert!(
                    !out.is_empty(),
                    "case {case}: no tokens for input:\n{shown}"
                );
                if out.to_string().contains("compile_error") {
                    errors += 1;
                } else {
                    clean += 1;
                }
            }
            Err(_) => panic!("case {case}: the macro panicked on input:\n{shown}"),
        }
    }
    // Both outcomes are exercised.
    assert!(errors > CASES / 4, "{errors} inputs with errors");
    assert!(clean > 10, "{clean} inputs without errors");
    eprintln!(
        "{CASES} inputs ({errors} rejected, {clean} accepted) in {:?}",
        start.elapsed()
    );
}
