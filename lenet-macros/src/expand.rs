//! Code generation: the struct, its inherent items, the runtime's
//! `Network` trait and the type-level proof of every shape. Generated code
//! names the runtime only through `::lenet::__private`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::ast::Invocation;
use crate::check::check;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::fuse::Post;
use crate::model::{self, Init, Net};
use crate::plan::{Back, Buf, Elementwise, Exec, ForwardMemory, Op, Plan, Pool, Step, TrainMemory};
use crate::shape::infer;
use crate::tokens::{lit, typenum};

/// The macro: tokens in, tokens out, never a panic.
pub fn network(input: TokenStream) -> TokenStream {
    let invocation: Invocation = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut out = TokenStream::new();
    for decl in invocation.decls {
        out.extend(declaration(decl));
    }
    out
}

fn declaration(decl: crate::ast::Decl) -> TokenStream {
    let mut cx = Ctxt::new();
    let net = model::lower(decl, &mut cx);
    let trace = infer(&net, None);
    check(&net, &trace, &mut cx);
    if !cx.has_errors() {
        match Plan::new(&net, &trace) {
            Some(plan) => return generate(&net, &plan),
            None => cx.error_spanned_by(
                &net.ident,
                "lenet could not infer every shape of this network",
            ),
        }
    }
    let stub = fallback::stub(&net, &trace);
    let errors = cx.into_compile_errors();
    quote!(#stub #errors)
}

/// A shape as a typenum type: `Shape3<U6, U28, U28>` or `Shape1<U400>`.
fn shape_type(dims: &[u64]) -> TokenStream {
    match dims {
        [c, h, w] => {
            let (c, h, w) = (typenum(*c), typenum(*h), typenum(*w));
            quote!(::lenet::__private::shape::Shape3<#c, #h, #w>)
        }
        [n] => {
            let n = typenum(*n);
            quote!(::lenet::__private::shape::Shape1<#n>)
        }
        _ => quote!(()),
    }
}

/// The runtime's layer type of a step: its sizes as const generics.
fn layer_type(op: &Op) -> TokenStream {
    let l = |n: u64| lit(n);
    match *op {
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
        } => {
            let (ci, co, k, s, p, h, w, ho, wo) =
                (l(ci), l(co), l(k), l(s), l(p), l(h), l(w), l(ho), l(wo));
            quote!(::lenet::__private::Conv2dLayer<#ci, #co, #k, #s, #p, #h, #w, #ho, #wo>)
        }
        Op::Pool2d {
            pool,
            c,
            k,
            s,
            h,
            w,
            ho,
            wo,
        } => {
            let ty = format_ident!("{}Layer", pool_ident(pool));
            let (c, k, s, h, w, ho, wo) = (l(c), l(k), l(s), l(h), l(w), l(ho), l(wo));
            quote!(::lenet::__private::#ty<#c, #k, #s, #h, #w, #ho, #wo>)
        }
        Op::AdaptiveAvgPool2d { c, h, w } => {
            let (c, h, w) = (l(c), l(h), l(w));
            quote!(::lenet::__private::AdaptiveAvgPool2dLayer<#c, #h, #w>)
        }
        Op::Linear { i, o } => {
            let (i, o) = (l(i), l(o));
            quote!(::lenet::__private::LinearLayer<#i, #o>)
        }
        Op::Elementwise {
            op: Elementwise::LeakyRelu(bits),
            n,
        } => {
            let (n, bits) = (l(n), lit(u64::from(bits)));
            quote!(::lenet::__private::LeakyReluLayer<#n, #bits>)
        }
        Op::Elementwise { op, n } => {
            let ty = format_ident!("{}Layer", elementwise_ident(op));
            let n = l(n);
            quote!(::lenet::__private::#ty<#n>)
        }
        Op::Conv {
            ci,
            co,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            dh,
            dw,
            groups,
            bias,
            h,
            w,
            ho,
            wo,
        } => {
            let sizes = [kh, kw, sh, sw, ph, pw, dh, dw].map(l);
            let (h, w, ho, wo) = (l(h), l(w), l(ho), l(wo));
            if groups == 1 {
                let (ci, co) = (l(ci), l(co));
                quote!(::lenet::__private::GemmConv2dLayer<#ci, #co, #(#sizes,)* #bias, #h, #w, #ho, #wo>)
            } else if groups == ci {
                let (c, m) = (l(ci), l(co / ci.max(1)));
                quote!(::lenet::__private::DepthwiseConv2dLayer<#c, #m, #(#sizes,)* #bias, #h, #w, #ho, #wo>)
            } else {
                let (ci, co, g) = (l(ci), l(co), l(groups));
                quote!(::lenet::__private::GroupedConv2dLayer<#ci, #co, #(#sizes,)* #g, #bias, #h, #w, #ho, #wo>)
            }
        }
        Op::PaddedPool {
            pool,
            c,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            h,
            w,
            ho,
            wo,
        } => {
            let ty = format_ident!("Padded{}Layer", pool_ident(pool));
            let sizes = [c, kh, kw, sh, sw, ph, pw, h, w, ho, wo].map(l);
            quote!(::lenet::__private::#ty<#(#sizes),*>)
        }
        Op::BatchNorm { c, hw, .. } => {
            let (c, hw) = (l(c), l(hw));
            quote!(::lenet::__private::BatchNormLayer<#c, #hw>)
        }
        Op::Dropout { n, .. } => {
            let n = l(n);
            quote!(::lenet::__private::DropoutLayer<#n>)
        }
    }
}

/// A pair of sizes as a typenum type: `U5` when square, `Pair<U3, U5>`.
fn pair_type(h: u64, w: u64) -> TokenStream {
    if h == w {
        typenum(h)
    } else {
        let (h, w) = (typenum(h), typenum(w));
        quote!(::lenet::__private::shape::Pair<#h, #w>)
    }
}

/// An `f32` from its bits, exactly.
fn f32_bits(bits: u32) -> TokenStream {
    let bits = lit(u64::from(bits));
    quote!(::lenet::__private::core::primitive::f32::from_bits(#bits))
}

/// The step as a typenum function on shapes, from `lenet::shape`.
fn stage_type(op: &Op) -> TokenStream {
    let t = typenum;
    match *op {
        Op::Conv2d {
            ci, co, k, s, p, ..
        } => {
            let (ci, co, k, s, p) = (t(ci), t(co), t(k), t(s), t(p));
            quote!(::lenet::__private::shape::Conv2d<#ci, #co, #k, #s, #p>)
        }
        Op::Pool2d { pool, k, s, .. } => {
            let ty = pool_ident(pool);
            let (k, s) = (t(k), t(s));
            quote!(::lenet::__private::shape::#ty<#k, #s>)
        }
        Op::AdaptiveAvgPool2d { .. } => quote!(::lenet::__private::shape::AdaptiveAvgPool2d),
        Op::Linear { i, o } => {
            let (i, o) = (t(i), t(o));
            quote!(::lenet::__private::shape::Linear<#i, #o>)
        }
        Op::Elementwise { op, .. } => {
            let ty = elementwise_ident(op);
            quote!(::lenet::__private::shape::#ty)
        }
        Op::Conv {
            ci,
            co,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            dh,
            dw,
            groups,
            ..
        } => {
            let (ci, co, g) = (t(ci), t(co), t(groups));
            let (k, s, p, d) = (
                pair_type(kh, kw),
                pair_type(sh, sw),
                pair_type(ph, pw),
                pair_type(dh, dw),
            );
            quote!(::lenet::__private::shape::Conv2d<#ci, #co, #k, #s, #p, #d, #g>)
        }
        Op::PaddedPool {
            pool,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            ..
        } => {
            let ty = pool_ident(pool);
            let (k, s, p) = (pair_type(kh, kw), pair_type(sh, sw), pair_type(ph, pw));
            quote!(::lenet::__private::shape::#ty<#k, #s, #p>)
        }
        Op::BatchNorm { c, hw, .. } => {
            let c = t(c);
            if hw == 1 {
                quote!(::lenet::__private::shape::BatchNorm1d<#c>)
            } else {
                quote!(::lenet::__private::shape::BatchNorm2d<#c>)
            }
        }
        Op::Dropout { .. } => quote!(::lenet::__private::shape::Dropout),
    }
}

fn pool_ident(pool: Pool) -> syn::Ident {
    match pool {
        Pool::Max => format_ident!("MaxPool2d"),
        Pool::Avg => format_ident!("AvgPool2d"),
    }
}

fn elementwise_ident(op: Elementwise) -> syn::Ident {
    match op {
        Elementwise::Relu => format_ident!("Relu"),
        Elementwise::Tanh => format_ident!("Tanh"),
        Elementwise::Sigmoid => format_ident!("Sigmoid"),
        Elementwise::Flatten => format_ident!("Flatten"),
        Elementwise::Relu6 => format_ident!("Relu6"),
        Elementwise::LeakyRelu(_) => format_ident!("LeakyRelu"),
    }
}

fn dims_tokens(dims: &[u64]) -> TokenStream {
    let d = dims.iter().map(|d| lit(*d));
    quote!([#(#d),*])
}

fn generate(net: &Net, plan: &Plan) -> TokenStream {
    let name = &net.ident;
    let name_str = name.unraw().to_string();
    let vis = &net.vis;
    let attrs = &net.attrs;
    let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
    let default_doc = (!has_doc).then(|| {
        let doc = format!("The network `{name_str}`, declared with `lenet::network!`.");
        quote!(#[doc = #doc])
    });
    let pc = lit(plan.param_count);
    let input_shape = dims_tokens(&plan.input);
    let input_len = lit(plan.input_len());
    let output_shape = dims_tokens(&plan.output);
    let output_rank = lit(plan.output.len() as u64);
    let output_len = lit(plan.output_len());
    let storage = lit(plan.param_count + plan.buffer_floats);
    let le_bytes = lit((plan.param_count + plan.buffer_floats).saturating_mul(4));
    let buffer_floats = lit(plan.buffer_floats);
    let counters = lit(plan.counters);
    let buffer_count = lit(plan.buffers.iter().map(|b| b.len).sum());
    let buffer_specs = plan.buffers.iter().map(|b| {
        let (n, sh, o, l, init) = (&b.name, dims_tokens(&b.shape), lit(b.offset), lit(b.len), lit(b.init));
        let dtype = if b.counter { quote!(I64) } else { quote!(F32) };
        quote!(::lenet::__private::BufferSpec { name: #n, shape: &#sh, dtype: ::lenet::__private::BufferDtype::#dtype, offset: #o, len: #l, init: #init as f32 })
    });
    let activation_sizes: Vec<Literal> = plan.steps.iter().map(|s| lit(s.out_len)).collect();
    let steps_count = lit(plan.steps.len() as u64);
    let infer_plan = crate::fuse::fuse(plan, crate::fuse::Pass::Infer);
    let train_plan = crate::fuse::fuse(plan, crate::fuse::Pass::Train);
    let forward_memory = infer_plan.forward_memory();
    let train_memory = train_plan.train_memory();
    let scratch = lit(forward_memory.size);
    let train_scratch = lit(train_memory.size);
    let layers = plan.steps.iter().map(|s| {
        let (n, k, i, o, p) =
            (&s.name, &s.kind, dims_tokens(&s.input), dims_tokens(&s.output), lit(s.weights + s.biases));
        quote!(::lenet::__private::LayerInfo { name: #n, kind: #k, input: &#i, output: &#o, params: #p })
    });
    let params = plan.params.iter().map(|p| {
        let (n, s, o, l, f) = (&p.name, dims_tokens(&p.shape), lit(p.offset), lit(p.len), lit(p.fan_in));
        let init = match p.init {
            Init::Default => quote!(Default),
            Init::Zeros => quote!(Zeros),
            Init::Ones => quote!(Ones),
        };
        quote!(::lenet::__private::ParamSpec { name: #n, shape: &#s, offset: #o, len: #l, fan_in: #f, init: ::lenet::__private::ParamInit::#init })
    });
    let forward = forward_one(plan);
    let forward_impl = forward_impl(name, &infer_plan, &forward_memory);
    let loss_grad = loss_grad_block(&train_plan, &train_memory);
    let shapes = shape_proof(name, plan);
    let debug_name = &name_str;

    quote! {
        #(#attrs)*
        #default_doc
        #[derive(::core::clone::Clone)]
        #vis struct #name {
            /// The parameters, then the running statistics.
            params: ::lenet::__private::Params<#storage>,
            /// Each batch norm's `num_batches_tracked`.
            counters: [i64; #counters],
            /// The seed of the dropout masks.
            dropout_seed: u64,
            /// Training steps taken.
            steps: u64,
        }

        impl ::lenet::__private::core::cmp::PartialEq for #name {
            /// Equal parameters and buffers.
            fn eq(&self, other: &Self) -> bool {
                self.params == other.params && self.counters == other.counters
            }
        }

        impl ::lenet::__private::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::lenet::__private::core::fmt::Formatter<'_>) -> ::lenet::__private::core::fmt::Result {
                f.debug_struct(#debug_name).field("param_count", &#pc).finish_non_exhaustive()
            }
        }

        impl #name {
            /// `[C, H, W]` of one input image.
            pub const INPUT_SHAPE: [usize; 3] = #input_shape;
            /// Floats in one input image.
            pub const INPUT_LEN: usize = #input_len;
            /// Shape of one output: `[N]`, or `[C, H, W]` for a network that ends on a feature map.
            pub const OUTPUT_SHAPE: [usize; #output_rank] = #output_shape;
            /// Floats in one output.
            pub const OUTPUT_LEN: usize = #output_len;
            /// Number of trainable parameters.
            pub const PARAM_COUNT: usize = #pc;
            /// Elements of the buffers (running statistics and counters),
            /// not trained and not counted in `PARAM_COUNT`.
            pub const BUFFER_COUNT: usize = #buffer_count;
            /// Every buffer, in PyTorch's `named_buffers()` order.
            pub const BUFFERS: &'static [::lenet::__private::BufferSpec] = &[#(#buffer_specs),*];
            /// Every step: name, PyTorch-like kind, input and output shapes, parameters.
            pub const LAYERS: &'static [::lenet::__private::LayerInfo] = &[#(#layers),*];
            /// Every parameter tensor, in PyTorch's `named_parameters()` order.
            pub const PARAMS: &'static [::lenet::__private::ParamSpec] = &[#(#params),*];
            /// Floats coming out of each step, for one image.
            pub const ACTIVATION_SIZES: [usize; #steps_count] = [#(#activation_sizes),*];
            /// Floats of scratch `forward` works in for one image: every
            /// activation placed by the macro's memory plan, by liveness
            /// (element-wise steps in place, `flatten` a view).
            pub const FORWARD_SCRATCH_FLOATS: usize = #scratch;
            /// Floats of scratch a training pass works in per image: the
            /// activations backward reads and the gradients, by liveness.
            pub const TRAIN_SCRATCH_FLOATS: usize = #train_scratch;
            /// Bytes of the raw little-endian form of the parameters (and
            /// of the running statistics, after them).
            pub const LE_BYTES: usize = #le_bytes;

            /// A network initialised as PyTorch does by default
            /// (`U(−1/√fan_in, 1/√fan_in)`), the same for the same `seed`.
            pub fn new(seed: u64) -> Self {
                ::lenet::__private::init::<Self>(seed)
            }

            /// A network whose parameters are all zero (its buffers at
            /// PyTorch's initial values).
            pub fn zeros() -> Self {
                <Self as ::lenet::__private::Network>::zeros()
            }

            /// The summary table: each layer's kind, output shape and parameters.
            pub fn summary() -> ::lenet::__private::Summary {
                ::lenet::__private::Summary::of::<Self>()
                    .with_scratch(Self::FORWARD_SCRATCH_FLOATS, Self::TRAIN_SCRATCH_FLOATS)
            }

            /// `(name, shape, values)` of every parameter tensor, in PyTorch's order and names.
            pub fn named_parameters(&self) -> impl ::lenet::__private::core::iter::ExactSizeIterator<Item = (&'static str, &'static [usize], &[f32])> + '_ {
                ::lenet::__private::named_parameters(self)
            }

            /// `(name, shape, values)` of every buffer (a batch norm's
            /// `running_mean`, `running_var` and `num_batches_tracked`), in
            /// PyTorch's order and names.
            pub fn named_buffers(&self) -> impl ::lenet::__private::core::iter::ExactSizeIterator<Item = (&'static str, &'static [usize], ::lenet::__private::BufferRef<'_>)> + '_ {
                ::lenet::__private::named_buffers(self)
            }

            /// All parameters, flat, in the order of `named_parameters`.
            pub fn parameters(&self) -> &[f32] {
                <Self as ::lenet::__private::Network>::parameters(self)
            }

            /// All parameters, flat, mutable.
            pub fn parameters_mut(&mut self) -> &mut [f32] {
                <Self as ::lenet::__private::Network>::parameters_mut(self)
            }

            /// Sets the seed of dropout's masks in training (`new(seed)`
            /// uses `seed`).
            pub fn set_dropout_seed(&mut self, seed: u64) {
                self.dropout_seed = seed;
            }

            /// One parameter tensor by its PyTorch name, such as `conv1.weight`.
            pub fn parameter(&self, name: &str) -> ::lenet::__private::core::option::Option<&[f32]> {
                Self::PARAMS
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| self.params.as_slice().get(p.offset..p.offset + p.len))
            }

            #forward

            /// A network from its parameters as little-endian f32 (`LE_BYTES` bytes).
            pub fn from_le_bytes(bytes: &[u8]) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> {
                ::lenet::__private::from_le_bytes::<Self>(bytes)
            }

            /// Writes the parameters as little-endian f32 to `out` (`LE_BYTES` bytes).
            pub fn write_le_bytes(&self, out: &mut [u8]) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> {
                ::lenet::__private::write_le_bytes(self, out)
            }

            ::lenet::__private::if_std! {
                /// Logits of a batch `N×C×H×W`, as `N×OUTPUT_LEN`; a wrong C, H or W is an error.
                pub fn forward_batch(&self, images: ::lenet::__private::ArrayView4<'_, f32>) -> ::lenet::__private::core::result::Result<::lenet::__private::Array2<f32>, ::lenet::__private::Error> {
                    ::lenet::__private::forward_batch(self, images)
                }

                /// Logits of a batch `N×C×H×W` written to `out` (`N · OUTPUT_LEN`
                /// floats); allocates nothing after the first call on each thread.
                pub fn forward_batch_into(&self, images: ::lenet::__private::ArrayView4<'_, f32>, out: &mut [f32]) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> {
                    ::lenet::__private::forward_batch_into(self, images, out)
                }

                /// Mean softmax cross-entropy of a batch and the gradient of every parameter.
                pub fn loss_and_grad(&self, images: ::lenet::__private::ArrayView4<'_, f32>, labels: &[usize]) -> ::lenet::__private::core::result::Result<(f32, Self), ::lenet::__private::Error> {
                    ::lenet::__private::loss_and_grad(self, images, labels)
                }

                /// Mean softmax cross-entropy of a batch, the gradient of every
                /// parameter written to `grads` (a network kept between steps):
                /// allocates nothing after the first call.
                pub fn loss_and_grad_into(&self, images: ::lenet::__private::ArrayView4<'_, f32>, labels: &[usize], grads: &mut Self) -> ::lenet::__private::core::result::Result<f32, ::lenet::__private::Error> {
                    ::lenet::__private::loss_and_grad_into(self, images, labels, grads)
                }

                /// Reads the weights from a safetensors file with PyTorch's names.
                pub fn load_safetensors(path: impl ::lenet::__private::core::convert::AsRef<::lenet::__private::Path>) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> {
                    ::lenet::__private::load_safetensors::<Self>(path.as_ref())
                }

                /// Reads the weights from safetensors bytes.
                pub fn from_safetensors(bytes: &[u8]) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> {
                    ::lenet::__private::from_safetensors::<Self>(bytes)
                }

                /// Writes the weights to a safetensors file, atomically.
                pub fn save_safetensors(&self, path: impl ::lenet::__private::core::convert::AsRef<::lenet::__private::Path>) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> {
                    ::lenet::__private::save_safetensors(self, path.as_ref())
                }

                /// The parameters as little-endian f32.
                pub fn to_le_bytes(&self) -> ::lenet::__private::Vec<u8> {
                    ::lenet::__private::to_le_bytes(self)
                }
            }
        }

        impl ::lenet::__private::Network for #name {
            const NAME: &'static str = #name_str;
            const INPUT_SHAPE: [usize; 3] = #input_shape;
            const INPUT_LEN: usize = #input_len;
            const OUTPUT_SHAPE: &'static [usize] = &#output_shape;
            const OUTPUT_LEN: usize = #output_len;
            const PARAM_COUNT: usize = #pc;
            const PARAMS: &'static [::lenet::__private::ParamSpec] = #name::PARAMS;
            const LAYERS: &'static [::lenet::__private::LayerInfo] = #name::LAYERS;

            const BUFFERS: &'static [::lenet::__private::BufferSpec] = #name::BUFFERS;
            const BUFFER_FLOATS: usize = #buffer_floats;

            fn zeros() -> Self {
                let mut net = Self {
                    params: ::lenet::__private::Params::zeros(),
                    counters: [0; #counters],
                    dropout_seed: 0,
                    steps: 0,
                };
                ::lenet::__private::reset_buffers(&mut net);
                net
            }

            fn parameters(&self) -> &[f32] {
                &self.params.as_slice()[..#pc]
            }

            fn parameters_mut(&mut self) -> &mut [f32] {
                &mut self.params.as_mut_slice()[..#pc]
            }

            fn storage(&self) -> &[f32] {
                self.params.as_slice()
            }

            fn storage_mut(&mut self) -> &mut [f32] {
                self.params.as_mut_slice()
            }

            fn counters(&self) -> &[i64] {
                &self.counters
            }

            fn counters_mut(&mut self) -> &mut [i64] {
                &mut self.counters
            }

            fn dropout_seed(&self) -> u64 {
                self.dropout_seed
            }

            fn set_dropout_seed(&mut self, seed: u64) {
                self.dropout_seed = seed;
            }

            fn training_steps(&self) -> u64 {
                self.steps
            }

            fn set_training_steps(&mut self, steps: u64) {
                self.steps = steps;
            }

            fn training_parts_mut(&mut self) -> (&mut [f32], &mut [f32], &mut [i64]) {
                let (params, buffers) = self.params.as_mut_slice().split_at_mut(#pc);
                (params, buffers, &mut self.counters)
            }
        }

        #forward_impl

        ::lenet::__private::if_std! {
            impl ::lenet::__private::Batched for #name {
                #loss_grad
            }
        }

        #shapes
    }
}

fn forward_one(plan: &Plan) -> TokenStream {
    let in_len = lit(plan.input_len());
    let out_len = lit(plan.output_len());
    let storage = lit(plan.param_count + plan.buffer_floats);
    quote! {
        /// The logits of one image. The activations live in one arena of
        /// `FORWARD_SCRATCH_FLOATS` floats, placed by the memory plan: a
        /// stack array on a cache line's boundary. With `std`, an arena of
        /// more than `lenet::STACK_SCRATCH_FLOATS` floats is the thread's
        /// workspace instead, kept between calls (no zeroing of a large
        /// array per call, no large value on the stack). Without `std`
        /// nothing is allocated; with it, only on a thread's first call.
        pub fn forward(&self, x: &[f32; #in_len]) -> [f32; #out_len] {
            ::lenet::__private::if_std! {
                if Self::FORWARD_SCRATCH_FLOATS > ::lenet::__private::STACK_SCRATCH_FLOATS {
                    let mut out = [0.0f32; #out_len];
                    ::lenet::__private::with_workspace(Self::FORWARD_SCRATCH_FLOATS, |ws| {
                        <Self as ::lenet::__private::Forward>::forward_planned(
                            self.params.as_slice(), x, &mut out, ws,
                        )
                    });
                    return out;
                }
            }
            let mut scratch =
                ::lenet::__private::Aligned(<Self as ::lenet::__private::Forward>::scratch());
            self.forward_with_scratch(x, &mut scratch.0)
        }

        /// The logits of one image, working in `scratch` (what it holds
        /// before does not matter), which the caller may keep anywhere: a
        /// `static` on a microcontroller, so that no activation is on the
        /// stack.
        pub fn forward_with_scratch(&self, x: &[f32; #in_len], scratch: &mut [f32; Self::FORWARD_SCRATCH_FLOATS]) -> [f32; #out_len] {
            <Self as ::lenet::__private::Forward>::forward_params(self.params.as_slice(), x, scratch)
        }

        /// The network over parameters that stay where they are (no copy):
        /// `PARAM_COUNT` floats in PyTorch's order, then the running
        /// statistics of its batch norms, if any.
        pub fn view(params: &[f32; #storage]) -> ::lenet::__private::WeightsView<'_, Self> {
            ::lenet::__private::WeightsView::from_array(params)
        }

        /// The network over its raw little-endian parameters (`LE_BYTES`
        /// bytes, 4-byte aligned: see `lenet::include_weights!`), read where
        /// they lie, such as a microcontroller's flash. The length, the
        /// alignment, the target's byte order and every value's finiteness
        /// are checked; an error names the tensor at fault.
        pub fn view_le_bytes(bytes: &[u8]) -> ::lenet::__private::core::result::Result<::lenet::__private::WeightsView<'_, Self>, ::lenet::__private::Error> {
            ::lenet::__private::WeightsView::from_le_bytes(bytes)
        }
    }
}

/// `&p[offset..offset + w]`, `&p[offset + w..offset + w + b]`, or empty
/// slices for a step without parameters.
fn weight_slices(s: &Step) -> (TokenStream, TokenStream) {
    if s.weights == 0 {
        return (quote!(&[]), quote!(&[]));
    }
    let (a, b, c) = (
        lit(s.offset),
        lit(s.offset + s.weights),
        lit(s.offset + s.weights + s.biases),
    );
    (quote!(&__p[#a..#b]), quote!(&__p[#b..#c]))
}

/// The range of an arena buffer for `__n` images (`0..0` for the caller's
/// buffers, which are not in the arena).
fn range(buf: Buf) -> TokenStream {
    match buf {
        Buf::Arena { offset, len } => {
            let (a, b) = (lit(offset), lit(offset + len));
            quote!(__n * #a..__n * #b)
        }
        Buf::Input | Buf::Output => quote!(0..0),
    }
}

/// Which pass the forward steps belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `forward` and batch inference: batch norm with the running
    /// statistics, dropout the identity.
    Eval,
    /// A training pass: batch norm with the batch's statistics (updating
    /// the running ones), dropout drawing its mask.
    Train,
}

/// The slice a step reads: the caller's input, the output, or its range of
/// the arena.
fn read_tokens(buf: Buf) -> TokenStream {
    match buf {
        Buf::Input => quote!(x),
        Buf::Output => quote!(&*out),
        Buf::Arena { .. } => {
            let r = range(buf);
            quote!(&__ws[#r])
        }
    }
}

/// The slice a step overwrites.
fn write_tokens(buf: Buf) -> TokenStream {
    match buf {
        Buf::Output => quote!(out),
        _ => {
            let r = range(buf);
            quote!(&mut __ws[#r])
        }
    }
}

/// A statement that runs `call(x, y)` with `x` read from `from` and `y`
/// written to `to` (two disjoint ranges of the arena split apart).
fn compute(
    from: Buf,
    to: Buf,
    call: impl Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    match (from, to) {
        (Buf::Arena { .. }, Buf::Arena { .. }) => {
            let (r, w) = (range(from), range(to));
            let body = call(quote!(__x), quote!(__y));
            quote! {{
                let ([__x], __y) = ::lenet::__private::split(__ws, [#r], #w);
                #body
            }}
        }
        _ => call(read_tokens(from), write_tokens(to)),
    }
}

/// `&__p[a..b]`.
fn slice(a: u64, len: u64) -> TokenStream {
    let (a, b) = (lit(a), lit(a + len));
    quote!(&__p[#a..#b])
}

/// A batch norm's `γ`, `β`, running mean and running variance in the
/// storage `__p` (parameters, then the buffers).
fn batch_norm_slices(plan: &Plan, s: &Step, c: u64, buffer: u64) -> [TokenStream; 4] {
    norm_slices(plan, s.offset, c, buffer)
}

/// The runtime's `EvalNorm` of the batch norm whose parameters start at
/// `offset` and statistics at `buffer`.
fn eval_norm(plan: &Plan, offset: u64, c: u64, buffer: u64, eps: u32) -> TokenStream {
    let [g, be, m, v] = norm_slices(plan, offset, c, buffer);
    let eps = f32_bits(eps);
    quote!(::lenet::__private::EvalNorm {
        gamma: #g, beta: #be, running_mean: #m, running_var: #v, eps: #eps,
    })
}

/// The runtime's `Clamp` that a step's [`Post`] stores with.
fn clamp_tokens(post: Post) -> TokenStream {
    let clamp = match post {
        Post::Epilogue { clamp, .. } | Post::Clamp(clamp) => clamp,
        _ => crate::fuse::Clamp::None,
    };
    let c = format_ident!("{}", clamp.ident());
    quote!(::lenet::__private::Clamp::#c)
}

/// `γ`, `β`, running mean and running variance of the batch norm whose
/// parameters start at `offset` and statistics at `buffer`.
fn norm_slices(plan: &Plan, offset: u64, c: u64, buffer: u64) -> [TokenStream; 4] {
    let at = plan.param_count + buffer;
    [
        slice(offset, c),
        slice(offset + c, c),
        slice(at, c),
        slice(at + c, c),
    ]
}

/// The local holding step `k`'s batch normalisation (train) or dropout
/// seed, which backward reads again.
fn local(what: &str, k: usize) -> syn::Ident {
    format_ident!("__{}{}", what, k)
}

/// The forward steps of a plan as statements over `x`, `out` and the arena
/// `__ws`, for `__n` images.
fn forward_steps(plan: &Plan, exec: &[Exec], mode: Mode) -> TokenStream {
    let mut body = TokenStream::new();
    for (k, (s, e)) in plan.steps.iter().zip(exec).enumerate() {
        let layer = crate::fuse::layer_type(s).unwrap_or_else(|| layer_type(&s.op));
        let (w, b) = weight_slices(s);
        let lp = quote!(::lenet::__private);
        body.extend(match (s.op, *e, mode) {
            (_, Exec::View, _) => TokenStream::new(),
            (_, Exec::Compute { from, to }, _) if matches!(s.post, Post::Epilogue { .. }) => {
                let norm = match s.post {
                    Post::Epilogue { norm: Some(n), .. } => {
                        let norm = eval_norm(plan, n.offset, n.c, n.buffer, n.eps);
                        quote!(#lp::core::option::Option::Some(#norm))
                    }
                    _ => quote!(#lp::core::option::Option::None),
                };
                let clamp = clamp_tokens(s.post);
                compute(
                    from,
                    to,
                    |x, y| quote!(<#layer>::forward_fused(#w, #b, #norm, #clamp, #x, #y);),
                )
            }
            (Op::BatchNorm { c, eps, buffer, .. }, Exec::InPlace { buf }, Mode::Eval) => {
                let (norm, clamp) = (
                    eval_norm(plan, s.offset, c, buffer, eps),
                    clamp_tokens(s.post),
                );
                let y = write_tokens(buf);
                quote!(<#layer>::forward_eval_clamped_in_place(#norm, #clamp, #y);)
            }
            (Op::BatchNorm { c, eps, buffer, .. }, Exec::Compute { from, to }, Mode::Eval) => {
                let (norm, clamp) = (
                    eval_norm(plan, s.offset, c, buffer, eps),
                    clamp_tokens(s.post),
                );
                compute(
                    from,
                    to,
                    |x, y| quote!(<#layer>::forward_eval_clamped(#norm, #clamp, #x, #y);),
                )
            }
            (
                Op::BatchNorm {
                    c,
                    eps,
                    momentum,
                    buffer,
                    counter,
                    ..
                },
                Exec::Compute { from, to },
                Mode::Train,
            ) => {
                let [g, be, _, _] = batch_norm_slices(plan, s, c, buffer);
                let norm = local("norm", k);
                let (eps, momentum) = (f32_bits(eps), f32_bits(momentum));
                let (r0, r1, ci) = (lit(buffer), lit(buffer + 2 * c), lit(counter));
                let xs = read_tokens(from);
                let run = compute(
                    from,
                    to,
                    |x, y| quote!(<#layer>::forward_train(&#norm, #g, #be, #x, #y);),
                );
                quote! {
                    let #norm = <#layer>::train_statistics(
                        #xs,
                        __block.buffers.get_mut(#r0..#r1),
                        __block.counters.get_mut(#ci),
                        #momentum,
                        #eps,
                    );
                    #run
                }
            }
            (Op::Dropout { p, index, .. }, Exec::Compute { from, to }, Mode::Train) => {
                let seed = local("seed", k);
                let (p, index) = (f32_bits(p), lit(index));
                let run = compute(
                    from,
                    to,
                    |x, y| quote!(<#layer>::forward_train(#p, #seed, __block.first_image, #x, #y);),
                );
                quote! {
                    let #seed = <#layer>::seed(
                        #lp::Network::dropout_seed(self),
                        #lp::Network::training_steps(self),
                        #index,
                    );
                    #run
                }
            }
            (_, Exec::InPlace { buf }, _) => {
                let y = write_tokens(buf);
                quote!(<#layer as #lp::InPlace>::forward_in_place(#y);)
            }
            (_, Exec::Compute { from, to }, _) => compute(
                from,
                to,
                |x, y| quote!(<#layer as #lp::Layer>::forward(#w, #b, #x, #y);),
            ),
        });
    }
    body
}

/// The `Forward` implementation: one forward pass over a flat slice of
/// parameters, on the memory plan.
fn forward_impl(name: &syn::Ident, plan: &Plan, memory: &ForwardMemory) -> TokenStream {
    let in_len = lit(plan.input_len());
    let out_len = lit(plan.output_len());
    let scratch = lit(memory.size);
    let body = if plan.steps.is_empty() {
        quote!(out[..x.len()].copy_from_slice(x);)
    } else {
        forward_steps(plan, &memory.exec, Mode::Eval)
    };
    quote! {
        impl ::lenet::__private::Forward for #name {
            type Input = [f32; #in_len];
            type Output = [f32; #out_len];
            type Scratch = [f32; #scratch];
            const FORWARD_SCRATCH_FLOATS: usize = #scratch;

            fn scratch() -> [f32; #scratch] {
                [0.0; #scratch]
            }

            fn forward_params(__p: &[f32], x: &[f32; #in_len], scratch: &mut [f32; #scratch]) -> [f32; #out_len] {
                let mut out = [0.0f32; #out_len];
                <Self as ::lenet::__private::Forward>::forward_planned(__p, x, &mut out, scratch);
                out
            }

            #[allow(unused_variables, clippy::identity_op, clippy::erasing_op, clippy::single_range_in_vec_init)]
            fn forward_planned(__p: &[f32], x: &[f32], out: &mut [f32], __ws: &mut [f32]) {
                let __n = x.len() / #in_len;
                #body
            }
        }
    }
}

fn loss_grad_block(plan: &Plan, memory: &TrainMemory) -> TokenStream {
    let in_len = lit(plan.input_len());
    let out_len = lit(plan.output_len());
    let train = lit(memory.size);
    let forward = forward_steps(plan, &memory.forward, Mode::Train);
    let read = |buf: Buf, k: usize| -> TokenStream {
        match buf {
            Buf::Input => quote!(x),
            _ => {
                let r = format_ident!("__r{}", k);
                quote!(#r)
            }
        }
    };
    let (lr, dr) = (range(memory.logits), range(memory.dlogits));
    let logits = read(memory.logits, 0);
    let mut backward = TokenStream::new();
    for b in &memory.backward {
        backward.extend(match *b {
            Back::View { .. } => TokenStream::new(),
            Back::InPlace { step, y, d } => {
                let Some(s) = plan.steps.get(step) else { continue };
                let layer = crate::fuse::layer_type(s).unwrap_or_else(|| layer_type(&s.op));
                let (yr, d) = (range(y), range(d));
                quote! {{
                    let ([__y], __d) = ::lenet::__private::split(__ws, [#yr], #d);
                    <#layer as ::lenet::__private::InPlace>::backward_in_place(__y, __d);
                }}
            }
            Back::Compute { step, x, y, dy, dx } => {
                let Some(s) = plan.steps.get(step) else { continue };
                if let Some(special) = back_special(plan, s, step, x, y, dy, dx) {
                    backward.extend(special);
                    continue;
                }
                let layer = crate::fuse::layer_type(s).unwrap_or_else(|| layer_type(&s.op));
                let xr = range(x);
                let yr = y.map(range).unwrap_or_else(|| quote!(0..0));
                let dyr = range(dy);
                let dxr = dx.map(range).unwrap_or_else(|| quote!(0..0));
                let xs = read(x, 0);
                let ys = match y {
                    Some(y) => read(y, 1),
                    None => quote!(__r2),
                };
                let dx_arg = if dx.is_some() {
                    quote!(::lenet::__private::core::option::Option::Some(__dx))
                } else {
                    quote!(::lenet::__private::core::option::Option::None)
                };
                let call = if s.weights > 0 {
                    let (a, b, c) = (
                        lit(s.offset),
                        lit(s.weights),
                        lit(s.offset + s.weights + s.biases),
                    );
                    let (w, _) = weight_slices(s);
                    quote! {
                        let (__dw, __db) = grads[#a..#c].split_at_mut(#b);
                        <#layer as ::lenet::__private::Layer>::backward(#w, #xs, #ys, __r2, #dx_arg, __dw, __db);
                    }
                } else {
                    quote!(<#layer as ::lenet::__private::Layer>::backward(&[], #xs, #ys, __r2, #dx_arg, &mut [], &mut []);)
                };
                quote! {{
                    let ([__r0, __r1, __r2], __dx) = ::lenet::__private::split(__ws, [#xr, #yr, #dyr], #dxr);
                    #call
                }}
            }
        });
    }
    let whole = plan.whole_batch();
    quote! {
        const TRAIN_SCRATCH_FLOATS: usize = #train;
        const WHOLE_BATCH: bool = #whole;

        #[allow(unused_variables, clippy::identity_op, clippy::erasing_op, clippy::single_range_in_vec_init)]
        fn loss_grad_block(&self, x: &[f32], labels: &[usize], __block: ::lenet::__private::TrainBlock<'_>, grads: &mut [f32], __ws: &mut [f32]) -> ::lenet::__private::Pass {
            let __p: &[f32] = ::lenet::__private::Network::storage(self);
            let scale = __block.scale;
            let __n = x.len() / #in_len;
            let mut out: &mut [f32] = &mut [];
            #forward
            let mut __loss = 0.0f64;
            let mut __correct = 0usize;
            {
                let ([__r0], __dy) = ::lenet::__private::split(__ws, [#lr], #dr);
                for ((__y, __dy), __label) in #logits
                    .chunks_exact(#out_len)
                    .zip(__dy.chunks_exact_mut(#out_len))
                    .zip(labels)
                {
                    __loss += f64::from(::lenet::__private::loss::softmax_cross_entropy(__y, *__label, scale, __dy));
                    __correct += usize::from(::lenet::__private::loss::argmax(__y) == *__label);
                }
            }
            #backward
            ::lenet::__private::Pass { loss: __loss as f32, correct: __correct }
        }
    }
}

/// The backward step of a batch norm in training (through the batch's
/// statistics) or of dropout (the forward mask again), or `None` for a
/// step that runs `Layer::backward`.
fn back_special(
    plan: &Plan,
    s: &Step,
    step: usize,
    x: Buf,
    y: Option<Buf>,
    dy: Buf,
    dx: Option<Buf>,
) -> Option<TokenStream> {
    let layer = layer_type(&s.op);
    let (xr, dyr) = (range(x), range(dy));
    let yr = y.map(range).unwrap_or_else(|| quote!(0..0));
    let dxr = dx.map(range).unwrap_or_else(|| quote!(0..0));
    let xs = match x {
        Buf::Input => quote!(x),
        _ => quote!(__r0),
    };
    let split = quote! {
        let ([__r0, __r1, __r2], __dx) = ::lenet::__private::split(__ws, [#xr, #yr, #dyr], #dxr);
    };
    match s.op {
        Op::BatchNorm { c, buffer, .. } => {
            let norm = local("norm", step);
            let [g, _, _, _] = batch_norm_slices(plan, s, c, buffer);
            let (a, b, e) = (lit(s.offset), lit(c), lit(s.offset + 2 * c));
            let dx_arg = match dx {
                Some(_) => quote!(::lenet::__private::core::option::Option::Some(__dx)),
                None => quote!(::lenet::__private::core::option::Option::None),
            };
            Some(quote! {{
                #split
                let (__dw, __db) = grads[#a..#e].split_at_mut(#b);
                <#layer>::backward_train(&#norm, #g, #xs, __r2, #dx_arg, __dw, __db);
            }})
        }
        Op::Dropout { p, .. } => {
            let seed = local("seed", step);
            let p = f32_bits(p);
            let input = dx.map(
                |_| quote!(<#layer>::backward_train(#p, #seed, __block.first_image, __r2, __dx);),
            );
            Some(quote! {{
                #split
                #input
            }})
        }
        _ => None,
    }
}

/// The type-level proof: the runtime's typenum layers re-derive every shape
/// and must agree with the macro's numbers. Each step is proved from the
/// shape the macro gives its input to the shape it gives its output, and
/// the output of one step is, as a type, the input of the next: the chain
/// is proved link by link. (Proving it as one nested projection, each
/// shape the previous one's `Stage::Out`, makes the trait solver re-walk
/// the whole chain at every link: seconds of type checking for a
/// MobileNet.)
fn shape_proof(name: &syn::Ident, plan: &Plan) -> TokenStream {
    let input = shape_type(&plan.input);
    let output = shape_type(&plan.output);
    let mut bounds = Vec::new();
    let mut prev = input.clone();
    for s in &plan.steps {
        let stage = stage_type(&s.op);
        let declared = shape_type(&s.output);
        bounds.push(quote!(
            <#stage as ::lenet::__private::shape::Stage<#prev>>::Out:
                ::lenet::__private::shape::SameShape<#declared>
        ));
        prev = declared;
    }
    quote! {
        impl ::lenet::__private::shape::NetworkShapes for #name {
            type Input = #input;
            type Output = #output;
        }

        #[allow(dead_code)]
        const _: () = {
            fn __lenet_shapes_agree() where #(#bounds),* {}
        };
    }
}
