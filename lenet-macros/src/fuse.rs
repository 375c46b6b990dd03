//! Fusion: a stage between the plan and its memory. A convolution or linear
//! layer absorbs the `relu` that follows it (the runtime's fused layer
//! applies it as its kernel stores each output, and reads the mask from the
//! activated output as its backward reads `dy`); for inference, a
//! convolution also absorbs the 2×2, stride-2 pooling after its `relu`, so
//! that only the pooled map is written. Plain data in and out:
//! the fused plan is planned and printed like any other.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{Elementwise, Op, Plan, Pool, Step};
use crate::tokens::lit;

/// What a step does to its output after its own operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Post {
    /// Nothing.
    #[default]
    None,
    /// `relu`: backward reads the step's (activated) output.
    Relu,
    /// `relu`, then 2×2 pooling at stride 2 to `ho × wo` (inference).
    ReluPool { pool: Pool, ho: u64, wo: u64 },
    /// For inference, a convolution run as a matrix product or a depthwise
    /// one stores `clamp(norm(conv(x)))`: the batch norm that follows it,
    /// with its running statistics, and the `relu` or `relu6` after that
    /// (either may be absent).
    Epilogue { norm: Option<Norm>, clamp: Clamp },
    /// For inference, a batch norm followed by `relu` or `relu6` clamps as
    /// it stores.
    Clamp(Clamp),
}

/// A batch norm folded into the step before it: where its `γ` (then `β`)
/// and its running statistics are, and its `eps` (`f32` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Norm {
    pub c: u64,
    pub offset: u64,
    pub buffer: u64,
    pub eps: u32,
}

/// The clamp of an [`Post::Epilogue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamp {
    None,
    Relu,
    Relu6,
}

impl Clamp {
    /// The runtime's `Clamp` variant.
    pub fn ident(self) -> &'static str {
        match self {
            Clamp::None => "None",
            Clamp::Relu => "Relu",
            Clamp::Relu6 => "Relu6",
        }
    }

    /// The clamp an element-wise step is, if it is one.
    fn of(op: &Op) -> Option<Clamp> {
        match op {
            Op::Elementwise {
                op: Elementwise::Relu,
                ..
            } => Some(Clamp::Relu),
            Op::Elementwise {
                op: Elementwise::Relu6,
                ..
            } => Some(Clamp::Relu6),
            _ => None,
        }
    }
}

/// Whether the step is a convolution whose layer stores through an
/// epilogue (`forward_fused`): one run as a matrix product (`groups = 1`,
/// not the tuned kernel) or a depthwise one (`groups = ci`).
pub fn takes_epilogue(op: &Op) -> bool {
    matches!(op, Op::Conv { groups, ci, .. } if *groups == 1 || groups == ci)
}

impl Post {
    /// Whether the step's backward reads its forward output.
    pub fn reads_output(self) -> bool {
        matches!(self, Post::Relu)
    }
}

/// Which pass a fused plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `forward` and batch inference: pooling may be fused too.
    Infer,
    /// Training: every value backward reads is kept, so pooling is not.
    Train,
}

/// The plan with every `relu` that follows a convolution or linear layer
/// folded into it, and for inference every 2×2, stride-2 pooling that
/// follows such a fused convolution. Summary, parameters and shapes stay
/// those of `plan`; only the steps the passes run change.
pub fn fuse(plan: &Plan, pass: Pass) -> Plan {
    let mut steps = Vec::with_capacity(plan.steps.len());
    let mut k = 0;
    while let Some(step) = plan.steps.get(k) {
        k += 1;
        let mut step = step.clone();
        if let (Pass::Infer, Op::Conv { co, ho, wo, .. }) = (pass, step.op) {
            if takes_epilogue(&step.op) {
                let mut norm = None;
                if let Some(bn) = plan.steps.get(k) {
                    if let Op::BatchNorm {
                        c, hw, eps, buffer, ..
                    } = bn.op
                    {
                        if c == co && hw == ho * wo {
                            norm = Some(Norm {
                                c,
                                offset: bn.offset,
                                buffer,
                                eps,
                            });
                            step.output.clone_from(&bn.output);
                            step.out_len = bn.out_len;
                            k += 1;
                        }
                    }
                }
                let clamp = plan.steps.get(k).and_then(|s| Clamp::of(&s.op));
                if let Some(act) = clamp.and_then(|_| plan.steps.get(k)) {
                    step.output.clone_from(&act.output);
                    step.out_len = act.out_len;
                    k += 1;
                }
                step.post = Post::Epilogue {
                    norm,
                    clamp: clamp.unwrap_or(Clamp::None),
                };
                steps.push(step);
                continue;
            }
        }
        if let (Pass::Infer, Op::BatchNorm { .. }) = (pass, step.op) {
            if let Some((clamp, act)) = plan
                .steps
                .get(k)
                .and_then(|s| Clamp::of(&s.op).map(|c| (c, s)))
            {
                step.post = Post::Clamp(clamp);
                step.output.clone_from(&act.output);
                step.out_len = act.out_len;
                k += 1;
            }
            steps.push(step);
            continue;
        }
        let base = matches!(step.op, Op::Conv2d { .. } | Op::Linear { .. });
        let Some(relu) = plan.steps.get(k).filter(|s| {
            base && step.post == Post::None
                && matches!(
                    s.op,
                    Op::Elementwise {
                        op: Elementwise::Relu,
                        ..
                    }
                )
        }) else {
            steps.push(step);
            continue;
        };
        k += 1;
        step.post = Post::Relu;
        step.output.clone_from(&relu.output);
        step.out_len = relu.out_len;
        if let (Pass::Infer, Op::Conv2d { ho, wo, .. }, Some(pool)) =
            (pass, step.op, plan.steps.get(k))
        {
            if let Op::Pool2d {
                pool: kind,
                k: 2,
                s: 2,
                h,
                w,
                ho: pho,
                wo: pwo,
                ..
            } = pool.op
            {
                if (h, w) == (ho, wo) && pho > 0 && pwo > 0 {
                    k += 1;
                    step.post = Post::ReluPool {
                        pool: kind,
                        ho: pho,
                        wo: pwo,
                    };
                    step.output.clone_from(&pool.output);
                    step.out_len = pool.out_len;
                }
            }
        }
        steps.push(step);
    }
    Plan {
        steps,
        ..plan.clone()
    }
}

/// The runtime's fused layer type of a step with a [`Post`], or `None` for
/// a step that runs its own operation's layer.
pub fn layer_type(step: &Step) -> Option<TokenStream> {
    match (step.post, step.op) {
        (Post::None, _) => None,
        (
            Post::Relu,
            Op::Conv2d {
                ci,
                co,
                k,
                s,
                p,
                h,
                w,
                ho,
                wo,
            },
        ) => {
            let [ci, co, k, s, p, h, w, ho, wo] = [ci, co, k, s, p, h, w, ho, wo].map(lit);
            Some(
                quote!(::lenet::__private::Conv2dReluLayer<#ci, #co, #k, #s, #p, #h, #w, #ho, #wo>),
            )
        }
        (Post::Relu, Op::Linear { i, o }) => {
            let (i, o) = (lit(i), lit(o));
            Some(quote!(::lenet::__private::LinearReluLayer<#i, #o>))
        }
        (
            Post::ReluPool {
                pool,
                ho: pho,
                wo: pwo,
            },
            Op::Conv2d {
                ci,
                co,
                k,
                s,
                p,
                h,
                w,
                ho,
                wo,
            },
        ) => {
            let [ci, co, k, s, p, h, w, ho, wo, pho, pwo] =
                [ci, co, k, s, p, h, w, ho, wo, pho, pwo].map(lit);
            let max = pool == Pool::Max;
            Some(quote!(::lenet::__private::Conv2dReluPoolLayer<
                #ci, #co, #k, #s, #p, #h, #w, #ho, #wo, #max, #pho, #pwo
            >))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::ctxt::Ctxt;
    use crate::model::lower;
    use crate::plan::{Buf, Exec};
    use crate::shape::infer;

    fn plan(body: &str) -> Plan {
        let decl: crate::ast::Decl = syn::parse_str(&format!("struct N {{ {body} }}")).unwrap();
        let mut cx = Ctxt::new();
        let net = lower(decl, &mut cx);
        let trace = infer(&net, None);
        check(&net, &trace, &mut cx);
        assert!(!cx.has_errors(), "{}", cx.into_compile_errors());
        Plan::new(&net, &trace).unwrap()
    }

    const LENET5: &str =
        "input: [1, 32, 32], conv1: Conv2d(1, 6, 5), relu, pool1: AvgPool2d(2, 2), \
        conv2: Conv2d(6, 16, 5), relu, pool2: MaxPool2d(2), flatten, \
        fc1: Linear(16 * 5 * 5, 120), relu, fc2: Linear(120, 84), relu, fc3: Linear(84, 10)";

    fn names_and_posts(plan: &Plan) -> Vec<(&str, Post)> {
        plan.steps
            .iter()
            .map(|s| (s.name.as_str(), s.post))
            .collect()
    }

    #[test]
    fn lenet5_inference_fuses_relu_and_pooling() {
        let fused = fuse(&plan(LENET5), Pass::Infer);
        let avg = Post::ReluPool {
            pool: Pool::Avg,
            ho: 14,
            wo: 14,
        };
        let max = Post::ReluPool {
            pool: Pool::Max,
            ho: 5,
            wo: 5,
        };
        assert_eq!(
            names_and_posts(&fused),
            [
                ("conv1", avg),
                ("conv2", max),
                ("flatten", Post::None),
                ("fc1", Post::Relu),
                ("fc2", Post::Relu),
                ("fc3", Post::None)
            ]
        );
        assert_eq!(fused.steps[0].out_len, 6 * 14 * 14);
        assert_eq!(fused.steps[0].output, [6, 14, 14]);
        // The activations of one image: conv1's pooled map beside conv2's.
        assert_eq!(fused.forward_memory().size, 1176 + 400);
    }

    #[test]
    fn lenet5_training_fuses_relu_only_and_keeps_its_output() {
        let fused = fuse(&plan(LENET5), Pass::Train);
        assert_eq!(
            names_and_posts(&fused),
            [
                ("conv1", Post::Relu),
                ("pool1", Post::None),
                ("conv2", Post::Relu),
                ("pool2", Post::None),
                ("flatten", Post::None),
                ("fc1", Post::Relu),
                ("fc2", Post::Relu),
                ("fc3", Post::None)
            ]
        );
        let m = fused.train_memory();
        // Every fused step's backward gets its output, the relu mask, in a
        // buffer of its own (never the one its dx is written to).
        let mut fused_backs = 0;
        for b in &m.backward {
            if let crate::plan::Back::Compute { step, y, dx, .. } = *b {
                if fused.steps[step].post == Post::Relu {
                    fused_backs += 1;
                    let Some(Buf::Arena { offset, len }) = y else {
                        panic!("step {step} lost its output")
                    };
                    if let Some(Buf::Arena { offset: d, len: dl }) = dx {
                        assert!(d + dl <= offset || offset + len <= d, "step {step}");
                    }
                }
            }
        }
        assert_eq!(fused_backs, 4);
        assert!(m.forward.iter().all(|e| !matches!(e, Exec::InPlace { .. })));
    }

    #[test]
    fn pooling_is_not_fused_where_it_does_not_fit() {
        // Pooling 3×3, pooling after an unfused convolution, relu after
        // pooling, and an odd map pooled by 2 (the last row dropped).
        let p = plan(
            "input: [1, 12, 12], a: Conv2d(1, 2, 3), relu, p: MaxPool2d(3), \
             b: Conv2d(2, 2, 1), q: AvgPool2d(2), relu, \
             c: Conv2d(2, 3, 3, padding = 2), relu, r: AvgPool2d(2)",
        );
        let fused = fuse(&p, Pass::Infer);
        assert_eq!(
            names_and_posts(&fused),
            [
                ("a", Post::Relu),
                ("p", Post::None),
                (
                    "b",
                    Post::Epilogue {
                        norm: None,
                        clamp: Clamp::None
                    }
                ),
                ("q", Post::None),
                ("relu", Post::None),
                (
                    "c",
                    Post::ReluPool {
                        pool: Pool::Avg,
                        ho: 1,
                        wo: 1
                    }
                )
            ]
        );
    }

    #[test]
    fn inference_folds_batch_norm_and_clamps_into_the_step_before() {
        let p = plan(
            "input: [3, 8, 8], c1: Conv2d(3, 4, 3, stride = 2, padding = 1, bias = false), \
             b1: BatchNorm2d(4), relu6, d: Conv2d(4, 4, 3, padding = 1, groups = 4), \
             b2: BatchNorm2d(4, eps = 0.001), relu, p: Conv2d(4, 6, 1), relu, \
             q: Conv2d(6, 6, 1), b3: BatchNorm2d(6), flatten, fc: Linear(96, 2)",
        );
        let norm = |name: &str| {
            let s = p.steps.iter().find(|s| s.name == name).unwrap();
            let Op::BatchNorm { c, eps, buffer, .. } = s.op else {
                panic!("{name} is not a batch norm")
            };
            Some(Norm {
                c,
                offset: s.offset,
                buffer,
                eps,
            })
        };
        let fused = fuse(&p, Pass::Infer);
        assert_eq!(
            names_and_posts(&fused),
            [
                (
                    "c1",
                    Post::Epilogue {
                        norm: norm("b1"),
                        clamp: Clamp::Relu6
                    }
                ),
                (
                    "d",
                    Post::Epilogue {
                        norm: norm("b2"),
                        clamp: Clamp::Relu
                    }
                ),
                (
                    "p",
                    Post::Epilogue {
                        norm: None,
                        clamp: Clamp::Relu
                    }
                ),
                (
                    "q",
                    Post::Epilogue {
                        norm: norm("b3"),
                        clamp: Clamp::None
                    }
                ),
                ("flatten", Post::None),
                ("fc", Post::None),
            ]
        );
        assert_eq!(fused.steps[0].output, [4, 4, 4]);
        // Training keeps every step: backward needs each output.
        let train = fuse(&p, Pass::Train);
        assert!(train.steps.iter().all(|s| s.post == Post::None));
        assert_eq!(train.steps.len(), p.steps.len());
    }

    #[test]
    fn fused_layer_types() {
        let fused = fuse(&plan(LENET5), Pass::Infer);
        let t = layer_type(&fused.steps[0]).unwrap().to_string();
        assert!(t.contains("Conv2dReluPoolLayer"), "{t}");
        assert!(t.contains("false"), "{t}");
        let t = layer_type(&fused.steps[3]).unwrap().to_string();
        assert!(t.contains("LinearReluLayer < 400 , 120 >"), "{t}");
        assert!(layer_type(&fused.steps[5]).is_none());
    }
}
