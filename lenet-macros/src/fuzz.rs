//! The macro never panics: thousands of generated and mutated inputs from a
//! seeded generator go through the whole macro, which must return tokens
//! every time. And every message about a step names it: one mistake at a
//! time is made in each step of a network, and every message must begin
//! with that step's label (`fc3: `).

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
    "struct S { input: [1, 49, 10], conv1: Conv2d(1, 64, (10, 4), stride = (2, 2), padding = (5, 1), bias = false), \
     bn1: BatchNorm2d(64), relu6, dw1: Conv2d(64, 64, 3, 1, 1, groups = 64, bias = false), \
     bn2: BatchNorm2d(64, eps = 1e-3, momentum = 0.01), LeakyReLU(0.2), drop: Dropout(0.4), \
     d: Conv2d(64, 8, 3, dilation = (2, 1), padding = (2, 1)), MaxPool2d((2, 1), padding = (1, 0)), \
     AvgPool2d(2, 1, 1), flatten, fc: Linear(8 * 14 * 6, 12), bn3: BatchNorm1d(12), Dropout(), LeakyReLU }",
    "struct E { input: [1, 28, 28], conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), \
     conv2: Conv2d(6, 16, 5), relu, pool2: AvgPool2d(2, 2), flatten, fc1: Linear(16 * 5 * 5, 120) }",
];

/// How many errors each seed gives: none for the networks, one for the
/// SPEC's MNIST mistake.
const SEED_ERRORS: &[usize] = &[0, 0, 0, 0, 1];

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
    "dilation",
    "dilaton",
    "groups",
    "bias",
    "true",
    "false",
    "True",
    "eps",
    "momentum",
    "p",
    "negative_slope",
    "num_features",
    "BatchNorm2d",
    "BatchNorm1d",
    "BatchNorm",
    "Dropout",
    "LeakyReLU",
    "LeakyRelu",
    "relu6",
    "ReLU6",
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
    "1e-5",
    "0.5",
    "1.0",
    "1e999",
    "0.99999999",
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
    for (seed, &expected) in seeds.iter().zip(SEED_ERRORS) {
        let out = network(seed.clone()).to_string();
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

/// A step of the network the mistakes are made in: its name, its word and
/// its arguments (`None` for a bare word).
struct Written {
    name: Option<&'static str>,
    word: &'static str,
    args: Option<Vec<String>>,
}

impl Written {
    fn new(name: Option<&'static str>, word: &'static str, args: Option<&[&str]>) -> Self {
        Written {
            name,
            word,
            args: args.map(|a| a.iter().map(|s| (*s).to_string()).collect()),
        }
    }

    fn label(&self) -> &'static str {
        self.name.unwrap_or(self.word)
    }

    fn render(&self, word: &str, args: Option<&[String]>) -> String {
        let name = self.name.map(|n| format!("{n}: ")).unwrap_or_default();
        match args {
            Some(args) => format!("{name}{word}({})", args.join(", ")),
            None => format!("{name}{word}"),
        }
    }
}

/// The parameter that argument `i` (as written: `arg`) of layer `word`
/// binds to, when it may be a pair.
fn takes_pair(word: &str, i: usize, arg: &str) -> Option<String> {
    let key = match arg.split_once('=') {
        Some((k, _)) => k.trim().to_string(),
        None => {
            let params: &[&str] = match word {
                "Conv2d" => &[
                    "in_channels",
                    "out_channels",
                    "kernel_size",
                    "stride",
                    "padding",
                    "dilation",
                ],
                "MaxPool2d" | "AvgPool2d" => &["kernel_size", "stride", "padding"],
                _ => &[],
            };
            params.get(i).copied().unwrap_or("").to_string()
        }
    };
    matches!(
        key.as_str(),
        "kernel_size" | "stride" | "padding" | "dilation"
    )
    .then_some(key)
}

/// Whether argument `i` of layer `word` is a float (a literal).
fn takes_float(word: &str, i: usize, arg: &str) -> bool {
    matches!(word, "Dropout" | "LeakyReLU")
        || (word.starts_with("BatchNorm") && (i > 0 || arg.contains('=')))
}

/// Values that are wrong for a float argument (whatever its range).
const BAD_FLOATS: &[&str] = &[
    "N",
    "1 / 2",
    "\"0.5\"",
    "true",
    "(0.5, 0.5)",
    "1e999",
    "- - 1.0",
];

/// Values that are wrong as any integer argument.
fn bad_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "0",
        "3 - 5",
        "-1",
        "5 / 0",
        "10 / (2 - 2)",
        "4294967296 * 4294967296",
        "18446744073709551615 + 1",
        "4294967296",
        "99999999999999999999",
        "2.5",
        "(3, 5)",
        "[3, 5]",
        "5 % 2",
        "N",
        "\"5\"",
        "5 5",
        "pading = 1 = 2",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    values.push(format!("{}5{}", "(".repeat(70), ")".repeat(70)));
    values
}

/// Arguments that are wrong after any layer's own.
const EXTRA: &[&str] = &[
    "1, 1, 1, 1, 1, 1",
    "pading = 1",
    "zzz = 1",
    "stride = 1, stride = 2",
    "stride = 1, 3",
    "kernel_size = 3",
    ",",
];

/// Every single-mistake variant of `base`, each with the label of the step
/// at fault (`input` for the input).
fn mistakes(base: &[Written]) -> Vec<(Vec<String>, String)> {
    let rendered: Vec<String> = base
        .iter()
        .map(|w| w.render(w.word, w.args.as_deref()))
        .collect();
    let mut out = Vec::new();
    let mut with = |k: usize, step: String, label: &str| {
        let mut steps = rendered.clone();
        steps[k] = step;
        out.push((steps, label.to_string()));
    };
    // The input (step 0) has mistakes of its own, made apart.
    for (k, w) in base.iter().enumerate().skip(1) {
        let label = w.label();
        if let Some(args) = &w.args {
            for i in 0..args.len() {
                let bad: Vec<String> = if takes_float(w.word, i, &args[i]) {
                    BAD_FLOATS.iter().map(|s| (*s).to_string()).collect()
                } else {
                    let pair = takes_pair(w.word, i, &args[i]);
                    let mut values = bad_values();
                    if let Some(key) = pair {
                        values.retain(|v| v != "(3, 5)");
                        values.extend(
                            ["(3, 5, 7)", "(3,)", "(0, 3)", "(3, 3 - 5)", "()"].map(String::from),
                        );
                        if key == "padding" {
                            // No padding is a padding.
                            values.retain(|v| v != "0" && v != "(0, 3)");
                        }
                    }
                    values
                };
                for bad in bad {
                    let mut a = args.clone();
                    a[i] = bad;
                    with(k, w.render(w.word, Some(&a)), label);
                }
            }
            for extra in EXTRA {
                let mut a = args.clone();
                a.push((*extra).to_string());
                with(k, w.render(w.word, Some(&a)), label);
            }
            // `Dropout()` and `LeakyReLU` take their defaults.
            let optional = matches!(w.word, "Dropout" | "LeakyReLU");
            if !optional {
                with(k, w.render(w.word, Some(&[])), label);
            }
            if w.name.is_some() && !optional {
                with(k, w.render(w.word, None), label);
                with(k, format!("{label}: ({})", args.join(", ")), label);
            }
            with(
                k,
                format!("{}[{}]", w.render(w.word, None), args.join(", ")),
                label,
            );
        } else {
            with(k, w.render(w.word, Some(&["3".to_string()])), label);
            with(k, format!("{}[3]", w.render(w.word, None)), label);
        }
        with(
            k,
            format!("{} x", w.render(w.word, w.args.as_deref())),
            label,
        );
        // A word in the wrong case, and one lenet does not know.
        let upper = w.word.to_uppercase();
        let upper_label = w.name.unwrap_or(&upper);
        with(k, w.render(&upper, w.args.as_deref()), upper_label);
        with(
            k,
            w.render("Dense", w.args.as_deref()),
            w.name.unwrap_or("Dense"),
        );
    }
    out
}

/// lower → infer → check, as the macro runs them: every message.
fn messages(body: &str) -> Vec<String> {
    let decl: crate::ast::Decl = match syn::parse_str(&format!("struct Net {{ {body} }}")) {
        Ok(d) => d,
        Err(e) => return vec![format!("(the declaration does not parse: {e})")],
    };
    let mut cx = crate::ctxt::Ctxt::new();
    let net = crate::model::lower(decl, &mut cx);
    let trace = crate::shape::infer(&net, None);
    crate::check::check(&net, &trace, &mut cx);
    // A correct layer that the generator does not cover yet is reported
    // with its own label; what is tested here is the checker.
    cx.messages()
        .into_iter()
        .filter(|m| !m.contains("lenet does not generate code for it yet"))
        .collect()
}

#[test]
fn every_message_about_a_step_begins_with_its_label() {
    let base = [
        Written::new(None, "input", None),
        Written::new(
            Some("conv1"),
            "Conv2d",
            Some(&["1", "6", "5", "padding = 2"]),
        ),
        Written::new(None, "relu", None),
        Written::new(Some("pool1"), "AvgPool2d", Some(&["2", "2"])),
        Written::new(None, "MaxPool2d", Some(&["1"])),
        Written::new(
            Some("conv2"),
            "Conv2d",
            Some(&["6", "16", "kernel_size = 5"]),
        ),
        Written::new(None, "tanh", None),
        Written::new(
            Some("pool2"),
            "MaxPool2d",
            Some(&["kernel_size = 2", "stride = 2"]),
        ),
        Written::new(Some("gap"), "AdaptiveAvgPool2d", Some(&["1"])),
        Written::new(None, "flatten", None),
        Written::new(Some("fc1"), "Linear", Some(&["16", "120"])),
        Written::new(Some("act"), "sigmoid", None),
        Written::new(Some("fc2"), "Linear", Some(&["120", "10"])),
    ];
    let input = "input: [1, 28, 28]";
    let body = |steps: &[String]| {
        let mut all = vec![input.to_string()];
        all.extend(steps.iter().skip(1).cloned());
        all.join(", ")
    };
    let mut cases = mistakes(&base);
    // The input's own mistakes, and mistakes across layers that stay at
    // the step that makes them.
    let rendered: Vec<String> = base
        .iter()
        .map(|w| w.render(w.word, w.args.as_deref()))
        .collect();
    let changed = |k: usize, step: &str| {
        let mut steps = rendered.clone();
        steps[k] = step.to_string();
        steps
    };
    for step in [
        "conv2: Conv2d(7, 16, kernel_size = 5)",
        "conv2: Conv2d(6, 16, 40)",
        "conv1: Conv2d(1, 6, 5, padding = 30000)",
    ] {
        let k = if step.starts_with("conv1") { 1 } else { 5 };
        cases.push((changed(k, step), step[..5].to_string()));
    }
    cases.push((changed(4, "MaxPool2d(20)"), "MaxPool2d".to_string()));
    cases.push((changed(10, "fc1: Linear(17, 120)"), "fc1".to_string()));
    cases.push((
        changed(1, "Conv2d(1, 6, 5, padding = 2)"),
        "Conv2d".to_string(),
    ));
    cases.push((changed(12, "fc1: Linear(120, 10)"), "fc1".to_string()));
    for (at, step, label) in [
        (10, "MaxPool2d(2)", "MaxPool2d"),
        (10, "p: AvgPool2d(2)", "p"),
        (10, "Linear(16, 16)", "Linear"),
        (9, "fc9: Linear(16, 16)", "fc9"),
        (9, "input: [1, 2, 2]", "input"),
        (9, "input", "input"),
        (9, "input: Conv2d(1, 1, 1)", "input"),
        (9, "shape: [1, 2, 2]", "shape"),
    ] {
        let mut steps = rendered.clone();
        steps.insert(at, step.to_string());
        cases.push((steps, label.to_string()));
    }
    let mut count = 0;
    for dims in [
        "[1, 28]",
        "[1, 3 - 5, 28]",
        "[1, 0, 28]",
        "[1, , 28]",
        "[1, 28, 28, 1]",
        "[2000, 2000, 2000]",
        "[1, 5 / 0, 28]",
        "[1, N, 28]",
        "[1, 28 28, 28]",
    ] {
        let body = format!("input: {dims}, {}", rendered[1..].join(", "));
        let found = messages(&body);
        assert!(!found.is_empty(), "no error for {body}");
        for m in &found {
            assert!(m.starts_with("input: "), "{m:?}\n  for: {body}");
        }
        count += found.len();
    }
    let base_body = body(&rendered);
    assert_eq!(messages(&base_body), Vec::<String>::new(), "{base_body}");
    for (steps, label) in &cases {
        let body = if steps[0] == rendered[0] {
            body(steps)
        } else {
            steps.join(", ")
        };
        let found = messages(&body);
        assert!(!found.is_empty(), "no error for {body}");
        for m in &found {
            assert!(
                m.starts_with(&format!("{label}: ")),
                "expected `{label}: …`, found {m:?}\n  for: {body}"
            );
        }
        count += found.len();
    }
    eprintln!("{} declarations, {count} messages", cases.len() + 9);
}

/// The same for the second edition's vocabulary: pairs, dilation, groups,
/// bias, padded pooling, batch norm, dropout and the new activations.
#[test]
fn every_message_about_a_new_layer_begins_with_its_label() {
    let base = [
        Written::new(None, "input", None),
        Written::new(
            Some("conv1"),
            "Conv2d",
            Some(&[
                "1",
                "8",
                "(10, 4)",
                "stride = (2, 2)",
                "padding = (5, 1)",
                "bias = false",
            ]),
        ),
        Written::new(Some("bn1"), "BatchNorm2d", Some(&["8", "eps = 1e-3"])),
        Written::new(None, "relu6", None),
        Written::new(
            Some("dw"),
            "Conv2d",
            Some(&[
                "8",
                "8",
                "3",
                "1",
                "(2, 1)",
                "dilation = (2, 1)",
                "groups = 8",
            ]),
        ),
        Written::new(Some("bn2"), "BatchNorm2d", Some(&["8", "momentum = 0.01"])),
        Written::new(Some("act"), "LeakyReLU", Some(&["0.2"])),
        Written::new(None, "MaxPool2d", Some(&["(2, 1)", "padding = (1, 0)"])),
        Written::new(Some("pool"), "AvgPool2d", Some(&["3", "1", "1"])),
        Written::new(Some("drop"), "Dropout", Some(&["p = 0.25"])),
        Written::new(Some("gap"), "AdaptiveAvgPool2d", Some(&["1"])),
        Written::new(None, "flatten", None),
        Written::new(Some("fc1"), "Linear", Some(&["8", "32"])),
        Written::new(Some("bn3"), "BatchNorm1d", Some(&["32"])),
        Written::new(None, "Dropout", Some(&["0.5"])),
        Written::new(Some("fc2"), "Linear", Some(&["32", "12"])),
    ];
    let rendered: Vec<String> = base
        .iter()
        .map(|w| w.render(w.word, w.args.as_deref()))
        .collect();
    let body = |steps: &[String]| {
        let mut all = vec!["input: [1, 49, 10]".to_string()];
        all.extend(steps.iter().skip(1).cloned());
        all.join(", ")
    };
    let base_body = body(&rendered);
    assert_eq!(messages(&base_body), Vec::<String>::new(), "{base_body}");
    let mut cases = mistakes(&base);
    let changed = |k: usize, step: &str| {
        let mut steps = rendered.clone();
        steps[k] = step.to_string();
        steps
    };
    for (k, step, label) in [
        (1, "conv1: Conv2d(1, 8, (10, 4), groups = 3)", "conv1"),
        (
            4,
            "dw: Conv2d(8, 12, 3, 1, (2, 1), dilation = (2, 1), groups = 8)",
            "dw",
        ),
        (4, "dw: Conv2d(8, 8, 3, dilation = 20)", "dw"),
        (
            4,
            "dw: Conv2d(8, 8, 3, dilation = (2, 1), groups = 0)",
            "dw",
        ),
        (1, "conv1: Conv2d(1, 8, (10, 4), bias = 1)", "conv1"),
        (2, "bn1: BatchNorm2d(6)", "bn1"),
        (2, "bn1: BatchNorm1d(8)", "bn1"),
        (2, "BatchNorm2d(8)", "BatchNorm2d"),
        (2, "bn1: BatchNorm2d(8, eps = 0)", "bn1"),
        (2, "bn1: BatchNorm2d(8, momentum = 2)", "bn1"),
        (2, "bn1: BatchNorm2d(8, eps = -1e-3)", "bn1"),
        (2, "bn1: BatchNorm(8)", "bn1"),
        (3, "ReLU6", "ReLU6"),
        (6, "act: LeakyRelu(0.2)", "act"),
        (6, "act: LeakyReLU(0.2, 0.3)", "act"),
        (7, "MaxPool2d((2, 1), padding = (2, 0))", "MaxPool2d"),
        (7, "MaxPool2d(50)", "MaxPool2d"),
        (8, "pool: AvgPool2d(3, 1, 2)", "pool"),
        (9, "drop: Dropout(1.0)", "drop"),
        (9, "drop: Dropout(-0.5)", "drop"),
        (9, "drop: Dropout(p = 0.5, p = 0.1)", "drop"),
        (9, "drop: Dropout(q = 0.5)", "drop"),
        (13, "bn3: BatchNorm1d(31)", "bn3"),
        (13, "bn3: BatchNorm2d(32)", "bn3"),
        (13, "BatchNorm1d(32)", "BatchNorm1d"),
        (14, "Dropout(2)", "Dropout"),
    ] {
        cases.push((changed(k, step), label.to_string()));
    }
    let mut count = 0;
    for (steps, label) in &cases {
        let body = body(steps);
        let found = messages(&body);
        assert!(!found.is_empty(), "no error for {body}");
        for m in &found {
            assert!(
                m.starts_with(&format!("{label}: ")),
                "expected `{label}: …`, found {m:?}\n  for: {body}"
            );
        }
        count += found.len();
    }
    eprintln!("{} declarations, {count} messages", cases.len());
}
