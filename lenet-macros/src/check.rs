//! Rules across layers: the input, names, and the shape problems that
//! inference found, each turned into a message that names the layer, the
//! number written, the number that arrives, the shape flow so far and a fix.

use std::collections::HashMap;

use syn::ext::IdentExt;

use crate::ctxt::Ctxt;
use crate::eval::{MAX_SIZE, MAX_SIZE_TEXT};
use crate::model::{Kind, Net, Pair, Step};
use crate::shape::{infer, thousands, Issue, Shape, Trace};

/// Applies every cross-layer rule to `net`, whose shapes are `trace`.
pub fn check(net: &Net, trace: &Trace, cx: &mut Ctxt) {
    check_input(net, cx);
    check_names(net, cx);
    for issue in &trace.issues {
        report(net, trace, issue, cx);
    }
    cx.set_position(usize::MAX);
    // Each layer is at most 2^31, so the sum of a few billion layers fits.
    let total = trace
        .params
        .iter()
        .flatten()
        .fold(0u128, |acc, p| acc + u128::from(*p));
    if total > u128::from(MAX_SIZE) {
        let largest = net
            .steps
            .iter()
            .zip(&trace.params)
            .filter_map(|(s, p)| p.map(|p| (p, s.label())))
            .max_by_key(|(p, _)| *p)
            .map(|(p, label)| format!("; the largest is {label} with {}", thousands(p)))
            .unwrap_or_default();
        cx.error_spanned_by(
            &net.ident,
            format!(
                "{}: the network has {} parameters, more than lenet allows ({MAX_SIZE_TEXT} floats){largest}",
                net.ident,
                thousands_u128(total)
            ),
        );
    }
}

/// `3200080000` as `3,200,080,000`.
fn thousands_u128(n: u128) -> String {
    match u64::try_from(n) {
        Ok(n) => thousands(n),
        Err(_) => n.to_string(),
    }
}

fn check_input(net: &Net, cx: &mut Ctxt) {
    cx.set_position(net.input.as_ref().map_or(0, |i| i.entry));
    match &net.input {
        None if net.input_broken => {}
        None => cx.error_spanned_by(
            &net.ident,
            format!(
                "{}: missing `input: [C, H, W]`: the first entry gives the shape of one image, such as `input: [1, 28, 28]` for MNIST",
                net.ident
            ),
        ),
        Some(input) if input.position > 0 => {
            let first = net.steps.first().map(Step::label).unwrap_or_default();
            cx.error_spanned_by(
                &input.tokens,
                format!("input: must come first, before `{first}`: move this line to the top of the network"),
            );
        }
        Some(_) => {}
    }
}

fn check_names(net: &Net, cx: &mut Ctxt) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, step) in net.steps.iter().enumerate() {
        cx.set_position(step.entry);
        if let Some(name) = &step.name {
            let text = name.unraw().to_string();
            match seen.get(&text) {
                Some(first) => {
                    let first_word = net
                        .steps
                        .get(*first)
                        .map(|s| s.word.to_string())
                        .unwrap_or_default();
                    let fresh = fresh_name(net, &text);
                    cx.error_spanned_by(
                        name,
                        format!(
                            "{text}: duplicate name: step {} is already `{text}: {first_word}`; names become parameter prefixes (`{text}.weight`) and must be unique\n  help: rename this one, e.g. `{fresh}`",
                            first + 1
                        ),
                    );
                }
                None => {
                    seen.insert(text, k);
                }
            }
        }
    }
    let mut counts = HashMap::new();
    for step in &net.steps {
        if !step.kind.has_params() {
            continue;
        }
        let prefix = match step.kind {
            Kind::Conv2d { .. } => "conv",
            Kind::BatchNorm2d { .. } | Kind::BatchNorm1d { .. } => "bn",
            _ => "fc",
        };
        let count = counts.entry(prefix).or_insert(0usize);
        *count += 1;
        if step.name.is_some() {
            continue;
        }
        cx.set_position(step.entry);
        let mut n = *count;
        while seen.contains_key(&format!("{prefix}{n}")) {
            n += 1;
        }
        let suggestion = format!("{prefix}{n}");
        let word = step.kind.word();
        let message = if matches!(
            step.kind,
            Kind::BatchNorm2d { .. } | Kind::BatchNorm1d { .. }
        ) {
            format!(
                "{} needs a name: name it, e.g. `{suggestion}: {word}(...)` — the name becomes the prefix of its parameters `{suggestion}.weight`, `{suggestion}.bias` and buffers `{suggestion}.running_mean`, `{suggestion}.running_var`, `{suggestion}.num_batches_tracked`, as in PyTorch's state_dict()",
                step.subject()
            )
        } else {
            format!(
                "{} needs a name: name it, e.g. `{suggestion}: {word}(...)` — the name becomes the parameter prefix `{suggestion}.weight`, `{suggestion}.bias`, as in PyTorch's named_parameters()",
                step.subject()
            )
        };
        cx.error_spanned_by(&step.head, message);
    }
}

/// A name like `text` that no step uses: the same stem with the next
/// number (`conv1` → `conv3` when `conv2` exists too).
fn fresh_name(net: &Net, text: &str) -> String {
    let stem = text.trim_end_matches(|c: char| c.is_ascii_digit());
    let stem = if stem.is_empty() { "layer" } else { stem };
    let highest = net
        .steps
        .iter()
        .filter_map(|s| s.name.as_ref())
        .filter_map(|n| {
            let n = n.unraw().to_string();
            n.strip_prefix(stem).and_then(|d| d.parse::<u64>().ok())
        })
        .max()
        .unwrap_or(0);
    format!("{stem}{}", highest.saturating_add(1))
}

/// `input 1×28×28 → conv1 6×24×24 → relu → … ` up to (not including) step `upto`.
pub fn flow(net: &Net, trace: &Trace, upto: usize) -> String {
    let input = trace.shapes.first().map(Shape::text).unwrap_or_default();
    let mut parts = vec![format!("input {input}")];
    for (k, step) in net.steps.iter().enumerate().take(upto) {
        if step.kind.is_activation() {
            parts.push(step.label());
        } else {
            let shape = trace.shapes.get(k + 1).map(Shape::text).unwrap_or_default();
            parts.push(format!("{} {shape}", step.label()));
        }
    }
    parts.join(" → ")
}

/// What arrives at step `k`: `flatten produces 256 (16×4×4)`,
/// `pool1 produces 6×12×12`, `the input is 1×28×28`.
fn producer(net: &Net, trace: &Trace, k: usize, value: &str) -> String {
    let arriving = trace
        .shapes
        .get(k)
        .copied()
        .unwrap_or(Shape::Unknown { flat: false });
    let from = net
        .steps
        .iter()
        .take(k)
        .rposition(|s| !s.kind.is_activation());
    match from {
        None if value == arriving.text() => format!("the input is {value}"),
        None => format!("the input is {value} ({})", arriving.text()),
        Some(j) => {
            let label = net.steps.get(j).map(Step::label).unwrap_or_default();
            let detail = match net.steps.get(j).map(|s| &s.kind) {
                Some(Kind::Flatten) => trace.shapes.get(j).map(Shape::text).unwrap_or_default(),
                _ => arriving.text(),
            };
            if detail == value {
                format!("{label} produces {value}")
            } else {
                format!("{label} produces {value} ({detail})")
            }
        }
    }
}

/// The layer as written with one argument replaced: `Linear(256, 120)`.
fn rewrite(step: &Step, slot: usize, slot_name: &str, value: u64) -> String {
    let mut positional = 0;
    let args: Vec<String> = step
        .written
        .iter()
        .map(|(key, text)| match key {
            Some(k) if k == slot_name => format!("{k} = {value}"),
            Some(k) => format!("{k} = {text}"),
            None => {
                let here = positional;
                positional += 1;
                if here == slot {
                    value.to_string()
                } else {
                    text.clone()
                }
            }
        })
        .collect();
    format!("{}({})", step.kind.word(), args.join(", "))
}

fn report(net: &Net, trace: &Trace, issue: &Issue, cx: &mut Ctxt) {
    let k = issue.step();
    let entry = match net.steps.get(k) {
        Some(s) => s.entry,
        None => net.input.as_ref().map_or(0, |i| i.entry),
    };
    cx.set_position(entry);
    let Some(step) = net.steps.get(k) else {
        if let (Issue::TooLarge { what, .. }, Some(input)) = (issue, &net.input) {
            cx.error_spanned_by(
                &input.tokens,
                format!(
                    "input: {what}, more than lenet allows ({MAX_SIZE_TEXT} floats per tensor)"
                ),
            );
        }
        return;
    };
    let label = step.label();
    // "fc1: the kernel …", or "MaxPool2d: the pooling window …" unnamed.
    let prefix = step.prefix();
    // "fc1: Linear expects …", or "Linear: expects …" unnamed.
    let subject = step.subject();
    let flow = format!("\n  shape flow: {}", flow(net, trace, k));
    let arriving = trace
        .shapes
        .get(k)
        .copied()
        .unwrap_or(Shape::Unknown { flat: false });
    match (issue, &step.kind) {
        (Issue::LinearFeatures { arriving: n, .. }, Kind::Linear { in_features, .. }) => {
            let mut help = format!("write `{}`", rewrite(step, 0, "in_features", *n));
            if let Some(fix) = padding_fix(net, k, in_features.value) {
                help.push_str(&format!(", or {fix}"));
            } else if let Some((j, s)) = net
                .steps
                .iter()
                .enumerate()
                .take(k)
                .rev()
                .find(|(_, s)| !s.kind.is_activation())
            {
                if let (Kind::Linear { .. }, Some(v)) = (&s.kind, in_features.value) {
                    help.push_str(&format!(
                        ", or make {} give {v}: `{}`",
                        s.label(),
                        rewrite(s, 1, "out_features", v)
                    ));
                    let _ = j;
                }
            }
            cx.error_spanned_by(
                &in_features.tokens,
                format!(
                    "{subject} expects {} inputs, but {}{flow}\n  help: {help}",
                    in_features.described(),
                    producer(net, trace, k, &n.to_string())
                ),
            );
        }
        (Issue::ConvChannels { arriving: c, .. }, Kind::Conv2d { in_channels, .. }) => {
            cx.error_spanned_by(
                &in_channels.tokens,
                format!(
                    "{subject} expects {} input channels, but {}{flow}\n  help: write `{}`",
                    in_channels.described(),
                    producer(net, trace, k, &c.to_string()),
                    rewrite(step, 0, "in_channels", *c)
                ),
            );
        }
        (
            Issue::WindowTooLarge {
                window: (kh, kw),
                span: (sh, sw),
                padded: (h, w),
                ..
            },
            kind,
        ) => {
            let (kernel, padding, dilation, what) = match kind {
                Kind::Conv2d {
                    kernel,
                    padding,
                    dilation,
                    ..
                } => (kernel, padding, Some(dilation), "kernel"),
                Kind::MaxPool2d {
                    kernel, padding, ..
                }
                | Kind::AvgPool2d {
                    kernel, padding, ..
                } => (kernel, padding, None, "pooling window"),
                _ => return,
            };
            let (ph, pw) = padding.get().unwrap_or((0, 0));
            let input = if (ph, pw) == (0, 0) {
                format!("its {h}×{w} input")
            } else {
                format!("its input, {h}×{w} with padding {}", padding.short())
            };
            let dilated = (*sh, *sw) != (*kh, *kw);
            let shown = if dilated {
                format!(
                    "{kh}×{kw} with dilation {} (spanning {sh}×{sw})",
                    dilation.map(Pair::short).unwrap_or_default()
                )
            } else {
                format!("{kh}×{kw}")
            };
            let help = if matches!(kind, Kind::Conv2d { .. }) {
                // Padding that makes the (dilated) kernel fit, per axis.
                let need =
                    |p: u64, span: u64, padded: u64| p + span.saturating_sub(padded).div_ceil(2);
                let (nh, nw) = (need(ph, *sh, *h), need(pw, *sw, *w));
                let square = !kernel.pair && !padding.pair && dilation.is_none_or(|d| !d.pair);
                let needed = if square || nh == nw {
                    nh.max(nw).to_string()
                } else {
                    format!("({nh}, {nw})")
                };
                let smaller = if dilated {
                    "use a smaller dilation".to_string()
                } else if kh == kw && !kernel.pair {
                    format!("use a kernel of at most {}", (*h).min(*w))
                } else {
                    format!("use a kernel of at most {h}×{w}")
                };
                format!("{smaller}, or give {label} `padding = {needed}`")
            } else {
                let fits = if kh == kw && !kernel.pair {
                    (*h).min(*w).to_string()
                } else {
                    format!("{h}×{w}")
                };
                format!(
                    "use a window of at most {fits}, or remove {label}: the map is already {}",
                    arriving.text()
                )
            };
            cx.error_spanned_by(
                &kernel.tokens,
                format!(
                    "{prefix}the {what} {shown} is larger than {input} ({}){flow}\n  help: {help}",
                    producer(net, trace, k, &arriving.text())
                ),
            );
        }
        (Issue::BatchNormFeatures { arriving: n, .. }, kind) => {
            let (num_features, unit) = match kind {
                Kind::BatchNorm2d { num_features, .. } => (num_features, "channels"),
                Kind::BatchNorm1d { num_features, .. } => (num_features, "features"),
                _ => return,
            };
            cx.error_spanned_by(
                &num_features.tokens,
                format!(
                    "{subject} expects {} {unit}, but {}{flow}\n  help: write `{}`",
                    num_features.described(),
                    producer(net, trace, k, &n.to_string()),
                    rewrite(step, 0, "num_features", *n)
                ),
            );
        }
        (Issue::NeedsFlatten { .. }, Kind::BatchNorm1d { .. }) => {
            let (what, help) = match arriving {
                Shape::Map { c, .. } => (
                    format!("a {} feature map", arriving.text()),
                    format!(
                        "use `BatchNorm2d({c})` on a feature map, or move {label} after `flatten`"
                    ),
                ),
                _ => (
                    "a feature map".to_string(),
                    format!("use `BatchNorm2d` on a feature map, or move {label} after `flatten`"),
                ),
            };
            cx.error_spanned_by(
                &step.head,
                format!(
                    "{subject} normalises a vector of features, but {} {what}{flow}\n  help: {help}",
                    match net.steps.iter().take(k).rposition(|s| !s.kind.is_activation()).and_then(|j| net.steps.get(j)) {
                        Some(s) => format!("{} produces", s.label()),
                        None => "the input is".to_string(),
                    }
                ),
            );
        }
        (Issue::AfterFlatten { .. }, Kind::BatchNorm2d { .. }) => {
            let (vector, help) = match arriving {
                Shape::Flat(n) => (
                    format!("a vector of {n} features"),
                    format!("use `BatchNorm1d({n})` after `flatten`, or move {label} before the `flatten`"),
                ),
                _ => (
                    "a vector".to_string(),
                    format!("use `BatchNorm1d` after `flatten`, or move {label} before the `flatten`"),
                ),
            };
            cx.error_spanned_by(
                &step.head,
                format!(
                    "{subject} normalises the channels of a C×H×W feature map, but after `flatten` the data is {vector}{flow}\n  help: {help}"
                ),
            );
        }
        (Issue::NeedsFlatten { .. }, _) => {
            let gives = match arriving.numel() {
                Some(n) => format!(" (it gives {n} features)"),
                None => String::new(),
            };
            let what = match arriving {
                Shape::Map { .. } => format!("{} feature map", arriving.text()),
                _ => "feature map".to_string(),
            };
            cx.error_spanned_by(
                &step.head,
                format!(
                    "{subject} takes a vector of features, but {} a {what}{flow}\n  help: add `flatten` before {label}{gives}",
                    match net.steps.iter().take(k).rposition(|s| !s.kind.is_activation()).and_then(|j| net.steps.get(j)) {
                        Some(s) => format!("{} produces", s.label()),
                        None => "the input is".to_string(),
                    }
                ),
            );
        }
        (Issue::AfterFlatten { .. }, _) => {
            let vector = match arriving {
                Shape::Flat(n) => format!("a vector of {n} features"),
                _ => "a vector".to_string(),
            };
            cx.error_spanned_by(
                &step.head,
                format!(
                    "{subject} takes a C×H×W feature map, but after `flatten` the data is {vector}{flow}\n  help: 2-D layers go before `flatten`: move {label} up, or remove the `flatten`"
                ),
            );
        }
        (Issue::TooLarge { what, .. }, _) => {
            cx.error_spanned_by(
                &step.head,
                format!("{prefix}{what}, more than lenet allows ({MAX_SIZE_TEXT} floats per tensor){flow}"),
            );
        }
        _ => {}
    }
}

/// A padding on an earlier convolution that makes `in_features` arrive at
/// step `k`: `give conv1 `padding = 2` to keep 16×5×5 for a 28×28 input`.
fn padding_fix(net: &Net, k: usize, declared: Option<u64>) -> Option<String> {
    let declared = declared?;
    for (j, step) in net.steps.iter().enumerate().take(k) {
        let Kind::Conv2d {
            kernel, padding, ..
        } = &step.kind
        else {
            continue;
        };
        let (Some(kk), Some(p0)) = (kernel.get().map(|(h, w)| h.max(w)), padding.square_value())
        else {
            continue;
        };
        for p in p0 + 1..=p0 + kk {
            let t = infer(net, Some((j, p)));
            if t.issues.iter().any(|i| i.step() <= k)
                || t.shapes.get(k) != Some(&Shape::Flat(declared))
            {
                continue;
            }
            let kept = net
                .steps
                .iter()
                .take(k)
                .rposition(|s| matches!(s.kind, Kind::Flatten))
                .and_then(|f| t.shapes.get(f))
                .filter(|s| matches!(s, Shape::Map { .. }))
                .map(|s| format!(" to keep {}", s.text()))
                .unwrap_or_default();
            let input = match net.input.as_ref().and_then(|i| i.dims) {
                Some([_, h, w]) => format!(" for a {h}×{w} input"),
                None => String::new(),
            };
            return Some(format!(
                "give {} `padding = {p}`{kept}{input}",
                step.label()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lower;

    fn run(body: &str) -> (Net, Trace, Vec<String>) {
        let decl: crate::ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).unwrap();
        let mut cx = Ctxt::new();
        let net = lower(decl, &mut cx);
        let trace = infer(&net, None);
        check(&net, &trace, &mut cx);
        let errors = cx.into_compile_errors().to_string();
        let messages = errors
            .split("compile_error !")
            .skip(1)
            .map(|m| m.replace("\\n", "\n"))
            .collect();
        (net, trace, messages)
    }

    const MNIST: &str =
        "input: [1, 28, 28], conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), \
        conv2: Conv2d(6, 16, 5), relu, pool2: AvgPool2d(2, 2), flatten, \
        fc1: Linear(16 * 5 * 5, 120), relu, fc2: Linear(120, 84), relu, fc3: Linear(84, 10)";

    #[test]
    fn the_headline_case_is_one_error_with_flow_and_fixes() {
        let (net, trace, messages) = run(MNIST);
        assert_eq!(messages.len(), 1, "{messages:?}");
        let m = &messages[0];
        assert!(
            m.contains(
                "fc1: Linear expects 400 = 16 * 5 * 5 inputs, but flatten produces 256 (16×4×4)"
            ),
            "{m}"
        );
        assert!(m.contains(
            "input 1×28×28 → conv1 6×24×24 → relu → pool1 6×12×12 → conv2 16×8×8 → relu → pool2 16×4×4 → flatten 256"
        ));
        assert!(m.contains("write `Linear(256, 120)`"));
        assert!(m.contains("give conv1 `padding = 2` to keep 16×5×5 for a 28×28 input"));
        assert_eq!(
            padding_fix(&net, 7, Some(400)).as_deref(),
            Some("give conv1 `padding = 2` to keep 16×5×5 for a 28×28 input")
        );
        assert_eq!(padding_fix(&net, 7, Some(999)), None);
        assert_eq!(trace.shapes.len(), 13);
    }

    #[test]
    fn rewrites_keep_what_was_written() {
        let (net, _, _) =
            run("input: [1, 8, 8], c: Conv2d(3, 6, kernel_size = 2 + 1, padding = 1)");
        assert_eq!(
            rewrite(&net.steps[0], 0, "in_channels", 1),
            "Conv2d(1, 6, kernel_size = 2 + 1, padding = 1)"
        );
        let (net, _, _) =
            run("input: [1, 8, 8], flatten, f: Linear(out_features = 3, in_features = 5)");
        assert_eq!(
            rewrite(&net.steps[1], 0, "in_features", 64),
            "Linear(out_features = 3, in_features = 64)"
        );
    }

    #[test]
    fn names_and_input_rules() {
        let (_, _, m) = run("c: Conv2d(1, 2, 3)");
        assert!(m[0].contains("missing `input"), "{m:?}");
        let (_, _, m) = run("flatten, input: [1, 2, 2]");
        assert!(
            m[0].contains("input: must come first, before `flatten`"),
            "{m:?}"
        );
        let (_, _, m) = run("input: [1, 8, 8], conv1: Conv2d(1, 2, 3), conv2: Conv2d(2, 2, 3), conv1: Conv2d(2, 2, 1)");
        assert!(
            m[0].contains("conv1: duplicate name") && m[0].contains("e.g. `conv3`"),
            "{m:?}"
        );
        let (_, _, m) = run("input: [1, 8, 8], conv1: Conv2d(1, 2, 3), Conv2d(2, 2, 3)");
        assert!(m[0].contains("e.g. `conv2: Conv2d(...)`"), "{m:?}");
    }

    #[test]
    fn errors_come_in_the_order_of_the_declaration() {
        let (_, _, m) = run("input: [1, 8, 8], a: Conv2d(3, 2, 3), Linear(1, 2), b: Relu");
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(m[0].contains("a: Conv2d expects 3"), "{m:?}");
        assert!(m[1].contains("Linear: needs a name"), "{m:?}");
        assert!(m[2].contains("Linear: takes a vector"), "{m:?}");
        assert!(
            m[3].contains("b: unknown layer `Relu`: did you mean `relu`"),
            "{m:?}"
        );
    }

    /// Every message of a declaration, as written.
    fn messages(body: &str) -> Vec<String> {
        let decl: crate::ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).unwrap();
        let mut cx = Ctxt::new();
        let net = lower(decl, &mut cx);
        let trace = infer(&net, None);
        check(&net, &trace, &mut cx);
        cx.messages()
    }

    /// The one message of a declaration, or a panic showing them all.
    fn one(body: &str) -> String {
        let m = messages(body);
        assert_eq!(m.len(), 1, "{body}\n{m:#?}");
        m[0].clone()
    }

    #[test]
    fn second_edition_rejections_name_the_layer_the_numbers_and_a_fix() {
        let m = one("input: [6, 8, 8], dw: Conv2d(6, 9, 3, groups = 4)");
        assert!(
            m.starts_with("dw: groups = 4 divides neither in_channels = 6 nor out_channels = 9"),
            "{m}"
        );
        assert!(m.contains("`groups = 3`"), "{m}");
        let m = one("input: [6, 8, 8], dw: Conv2d(6, 8, 3, groups = 4)");
        assert!(
            m.starts_with("dw: groups = 4 does not divide in_channels = 6"),
            "{m}"
        );
        assert!(m.contains("`groups = 2`"), "{m}");
        let m = one("input: [8, 8, 8], dw: Conv2d(8, 8, 3, groups = 3)");
        assert!(m.contains("`groups = 8` (depthwise)"), "{m}");
        let m = one("input: [8, 8, 8], conv1: Conv2d(8, 16, 3), bn1: BatchNorm2d(8)");
        assert!(
            m.contains("bn1: BatchNorm2d expects 8 channels, but conv1 produces 16 (16×6×6)"),
            "{m}"
        );
        assert!(m.contains("write `BatchNorm2d(16)`"), "{m}");
        let m = one("input: [1, 4, 4], flatten, bn: BatchNorm2d(16)");
        assert!(m.contains("bn: BatchNorm2d normalises the channels of a C×H×W feature map, but after `flatten` the data is a vector of 16 features"), "{m}");
        assert!(m.contains("use `BatchNorm1d(16)` after `flatten`"), "{m}");
        let m = one("input: [4, 2, 2], bn: BatchNorm1d(4), flatten");
        assert!(m.contains("bn: BatchNorm1d normalises a vector of features, but the input is a 4×2×2 feature map"), "{m}");
        assert!(m.contains("use `BatchNorm2d(4)` on a feature map"), "{m}");
        let m = one("input: [4, 2, 2], flatten, bn: BatchNorm1d(15)");
        assert!(
            m.contains("bn: BatchNorm1d expects 15 features, but flatten produces 16 (4×2×2)"),
            "{m}"
        );
        let m = one("input: [4, 2, 2], drop: Dropout(1.0)");
        assert!(m.starts_with("drop: p = 1.0 is outside [0, 1)"), "{m}");
        let m = one("input: [4, 2, 2], Dropout(p = -0.1)");
        assert!(m.starts_with("Dropout: p = -0.1 is outside [0, 1)"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, (3, 3, 3))");
        assert!(m.starts_with("conv1: `kernel_size` is one integer or a pair `(h, w)`, but `(3 , 3 , 3)` has 3 elements"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, stride = (2,))");
        assert!(m.contains("has 1 element\n"), "{m}");
        let m = one("input: [1, 4, 4], conv1: Conv2d(1, 2, 3, dilation = 2)");
        assert!(m.starts_with("conv1: the kernel 3×3 with dilation 2 (spanning 5×5) is larger than its 4×4 input (the input is 1×4×4)\n"), "{m}");
        assert!(
            m.contains("use a smaller dilation, or give conv1 `padding = 1`"),
            "{m}"
        );
        let m = one("input: [1, 8, 8], pool: MaxPool2d(3, padding = 2)");
        assert!(m.starts_with("pool: padding 2 is more than half the 3×3 window: PyTorch pads a pooling window by at most half its size, here at most 1"), "{m}");
        let m = one("input: [1, 8, 8], AvgPool2d((4, 2), padding = (2, 2))");
        assert!(m.contains("here at most (2, 1)"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, bias = 0)");
        assert!(
            m.starts_with("conv1: `bias` is `true` or `false`, found `0`"),
            "{m}"
        );
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, bias = True)");
        assert!(m.contains("PyTorch's `True` is written `true`"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 2.5)");
        assert!(m.starts_with("conv1: `2.5` is not an integer"), "{m}");
        let m = one("input: [1, 8, 8], Dropout(p = 1 / 2)");
        assert!(
            m.starts_with(
                "Dropout: `p` is a number written as a literal, such as `0.5`; found `1 / 2`"
            ),
            "{m}"
        );
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, dilation = 0)");
        assert!(m.starts_with("conv1: dilation is 0"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, groups = 0)");
        assert!(m.starts_with("conv1: groups is 0"), "{m}");
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, (3, 0))");
        assert!(m.starts_with("conv1: kernel_size's width is 0"), "{m}");
        let m = one("input: [1, 8, 8], bn: BatchNorm2d(1, eps = 0.0)");
        assert!(m.starts_with("bn: eps = 0.0 is not positive"), "{m}");
        let m = one("input: [1, 8, 8], bn: BatchNorm2d(1, momentum = 1.5)");
        assert!(m.starts_with("bn: momentum = 1.5 is outside [0, 1]"), "{m}");
        let m = one("input: [1, 8, 8], BatchNorm2d(1)");
        assert!(
            m.starts_with("BatchNorm2d: needs a name: name it, e.g. `bn1: BatchNorm2d(...)`"),
            "{m}"
        );
        assert!(m.contains("`bn1.running_mean`"), "{m}");
    }

    #[test]
    fn near_misses_of_the_new_words() {
        let m = one("input: [1, 8, 8], conv1: Conv2d(1, 2, 3, dilaton = 2)");
        assert!(
            m.contains("conv1: unknown keyword `dilaton` for `Conv2d`: did you mean `dilation`?"),
            "{m}"
        );
        let m = messages("input: [1, 8, 8], bn: BatchNorm(1)");
        assert!(
            m[0].contains("bn: unknown layer `BatchNorm`: did you mean `BatchNorm2d`?"),
            "{m:?}"
        );
        let m = messages("input: [1, 8, 8], ReLU6");
        assert!(
            m[0].starts_with("ReLU6: unknown layer: did you mean `relu6`?"),
            "{m:?}"
        );
        let m = messages("input: [1, 8, 8], act: LeakyRelu(0.1)");
        assert!(
            m[0].contains("act: unknown layer `LeakyRelu`: did you mean `LeakyReLU`?"),
            "{m:?}"
        );
        let m = one("input: [1, 8, 8], drop: Dropout(prob = 0.1)");
        assert!(
            m.contains("drop: unknown keyword `prob` for `Dropout`: it takes p"),
            "{m}"
        );
    }

    #[test]
    fn every_layer_of_the_second_edition_is_accepted() {
        for layer in [
            "bn1: BatchNorm2d(4)",
            "conv1: Conv2d(4, 8, 3, groups = 4, bias = false)",
            "MaxPool2d(3, 2, 1)",
            "relu6",
            "Dropout(0.1)",
            "LeakyReLU()",
            "LeakyReLU",
            "Dropout",
            "c: Conv2d(4, 2, (3, 1), dilation = (1, 2))",
        ] {
            let m = messages(&format!("input: [4, 8, 8], {layer}"));
            assert!(m.is_empty(), "{layer}: {m:?}");
        }
        // Square arguments written as pairs, and the defaults written out,
        // are the first edition's.
        let m = messages(
            "input: [4, 8, 8], conv1: Conv2d(4, 8, (3, 3), (1, 1), (1, 1), dilation = 1, groups = 1, bias = true), \
             MaxPool2d((2, 2), padding = 0), relu",
        );
        assert!(m.is_empty(), "{m:?}");
        // A layer with a mistake of its own gets that one only.
        let m = one("input: [4, 8, 8], bn1: BatchNorm2d(3)");
        assert!(m.starts_with("bn1: BatchNorm2d expects 3 channels"), "{m}");
    }
}
