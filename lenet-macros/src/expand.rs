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
use crate::model::{self, Net};
use crate::plan::{Elementwise, Op, Plan, Pool, Step};
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
        Op::Elementwise { op, n } => {
            let ty = format_ident!("{}Layer", elementwise_ident(op));
            let n = l(n);
            quote!(::lenet::__private::#ty<#n>)
        }
    }
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
    let le_bytes = lit(plan.param_count.saturating_mul(4));
    let activation_sizes: Vec<Literal> = plan.steps.iter().map(|s| lit(s.out_len)).collect();
    let steps_count = lit(plan.steps.len() as u64);
    let scratch = lit(plan.steps.iter().map(|s| s.out_len).sum());
    let layers = plan.steps.iter().map(|s| {
        let (n, k, i, o, p) =
            (&s.name, &s.kind, dims_tokens(&s.input), dims_tokens(&s.output), lit(s.weights + s.biases));
        quote!(::lenet::__private::LayerInfo { name: #n, kind: #k, input: &#i, output: &#o, params: #p })
    });
    let params = plan.params.iter().map(|p| {
        let (n, s, o, l, f) = (&p.name, dims_tokens(&p.shape), lit(p.offset), lit(p.len), lit(p.fan_in));
        quote!(::lenet::__private::ParamSpec { name: #n, shape: &#s, offset: #o, len: #l, fan_in: #f })
    });
    let forward = forward_one(plan);
    let forward_slice = forward_block(plan);
    let loss_grad = loss_grad_block(plan);
    let shapes = shape_proof(name, plan);
    let debug_name = &name_str;

    quote! {
        #(#attrs)*
        #default_doc
        #[derive(::core::clone::Clone, ::core::cmp::PartialEq)]
        #vis struct #name {
            params: [f32; #pc],
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
            /// Number of parameters.
            pub const PARAM_COUNT: usize = #pc;
            /// Every step: name, PyTorch-like kind, input and output shapes, parameters.
            pub const LAYERS: &'static [::lenet::__private::LayerInfo] = &[#(#layers),*];
            /// Every parameter tensor, in PyTorch's `named_parameters()` order.
            pub const PARAMS: &'static [::lenet::__private::ParamSpec] = &[#(#params),*];
            /// Floats coming out of each step, for one image.
            pub const ACTIVATION_SIZES: [usize; #steps_count] = [#(#activation_sizes),*];
            /// Floats of stack `forward` uses for its activations.
            pub const FORWARD_SCRATCH_FLOATS: usize = #scratch;
            /// Bytes of the raw little-endian form of the parameters.
            pub const LE_BYTES: usize = #le_bytes;

            /// A network initialised as PyTorch does by default
            /// (`U(−1/√fan_in, 1/√fan_in)`), the same for the same `seed`.
            pub fn new(seed: u64) -> Self {
                ::lenet::__private::init::<Self>(seed)
            }

            /// A network whose parameters are all zero.
            pub fn zeros() -> Self {
                Self { params: [0.0; #pc] }
            }

            /// The summary table: each layer's kind, output shape and parameters.
            pub fn summary() -> ::lenet::__private::Summary {
                ::lenet::__private::Summary::of::<Self>()
            }

            /// `(name, shape, values)` of every parameter tensor, in PyTorch's order and names.
            pub fn named_parameters(&self) -> impl ::lenet::__private::core::iter::ExactSizeIterator<Item = (&'static str, &'static [usize], &[f32])> + '_ {
                ::lenet::__private::named_parameters(self)
            }

            /// All parameters, flat, in the order of `named_parameters`.
            pub fn parameters(&self) -> &[f32] {
                &self.params
            }

            /// All parameters, flat, mutable.
            pub fn parameters_mut(&mut self) -> &mut [f32] {
                &mut self.params
            }

            /// One parameter tensor by its PyTorch name, such as `conv1.weight`.
            pub fn parameter(&self, name: &str) -> ::lenet::__private::core::option::Option<&[f32]> {
                Self::PARAMS
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| self.params.get(p.offset..p.offset + p.len))
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

                /// Mean softmax cross-entropy of a batch and the gradient of every parameter.
                pub fn loss_and_grad(&self, images: ::lenet::__private::ArrayView4<'_, f32>, labels: &[usize]) -> ::lenet::__private::core::result::Result<(f32, Self), ::lenet::__private::Error> {
                    ::lenet::__private::loss_and_grad(self, images, labels)
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

            fn zeros() -> Self {
                Self { params: [0.0; #pc] }
            }

            fn parameters(&self) -> &[f32] {
                &self.params
            }

            fn parameters_mut(&mut self) -> &mut [f32] {
                &mut self.params
            }
        }

        ::lenet::__private::if_std! {
            impl ::lenet::__private::Batched for #name {
                #forward_slice
                #loss_grad
            }
        }

        #shapes
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

fn forward_one(plan: &Plan) -> TokenStream {
    let in_len = lit(plan.input_len());
    let out_len = lit(plan.output_len());
    let p = plan
        .has_params()
        .then(|| quote!(let __p: &[f32] = &self.params;));
    let mut body = TokenStream::new();
    let mut prev = quote!(x);
    for (k, s) in plan.steps.iter().enumerate() {
        let a = format_ident!("__a{}", k + 1);
        let n = lit(s.out_len);
        let layer = layer_type(&s.op);
        let (w, b) = weight_slices(s);
        body.extend(quote! {
            let mut #a = [0.0f32; #n];
            <#layer as ::lenet::__private::Layer>::forward(#w, #b, #prev, &mut #a);
        });
        prev = quote!(&#a);
    }
    let result = match plan.steps.len() {
        0 => quote!(*x),
        k => {
            let a = format_ident!("__a{}", k);
            quote!(#a)
        }
    };
    quote! {
        /// The logits of one image. No allocation: every activation is a
        /// stack array (`FORWARD_SCRATCH_FLOATS` floats in all).
        pub fn forward(&self, x: &[f32; #in_len]) -> [f32; #out_len] {
            #p
            #body
            #result
        }
    }
}

fn forward_block(plan: &Plan) -> TokenStream {
    let in_len = lit(plan.input_len());
    let p = plan
        .has_params()
        .then(|| quote!(let __p: &[f32] = &self.params;));
    let mut body = TokenStream::new();
    let mut prev = quote!(x);
    let last = plan.steps.len();
    for (k, s) in plan.steps.iter().enumerate() {
        let layer = layer_type(&s.op);
        let (w, b) = weight_slices(s);
        if k + 1 == last {
            body.extend(
                quote!(<#layer as ::lenet::__private::Layer>::forward(#w, #b, #prev, logits);),
            );
        } else {
            let a = format_ident!("__a{}", k + 1);
            let n = lit(s.out_len);
            body.extend(quote! {
                let mut #a = ::lenet::__private::vec![0.0f32; __n * #n];
                <#layer as ::lenet::__private::Layer>::forward(#w, #b, #prev, &mut #a);
            });
            prev = quote!(&#a);
        }
    }
    if last == 0 {
        body = quote!(logits.copy_from_slice(x););
    }
    let n = (last > 1).then(|| quote!(let __n = x.len() / #in_len;));
    quote! {
        fn forward_block(&self, x: &[f32], logits: &mut [f32]) {
            #p
            #n
            #body
        }
    }
}

fn loss_grad_block(plan: &Plan) -> TokenStream {
    let in_len = lit(plan.input_len());
    let out_len = lit(plan.output_len());
    let p = plan
        .has_params()
        .then(|| quote!(let __p: &[f32] = &self.params;));
    let act = |k: usize| -> TokenStream {
        if k == 0 {
            quote!(x)
        } else {
            let a = format_ident!("__a{}", k);
            quote!(&#a)
        }
    };
    let mut forward = TokenStream::new();
    for (k, s) in plan.steps.iter().enumerate() {
        let layer = layer_type(&s.op);
        let (w, b) = weight_slices(s);
        let a = format_ident!("__a{}", k + 1);
        let n = lit(s.out_len);
        let prev = act(k);
        forward.extend(quote! {
            let mut #a = ::lenet::__private::vec![0.0f32; __n * #n];
            <#layer as ::lenet::__private::Layer>::forward(#w, #b, #prev, &mut #a);
        });
    }
    let last = plan.steps.len();
    let logits = act(last);
    let d_last = format_ident!("__d{}", last);
    let first_param = plan.steps.iter().position(|s| s.weights > 0);
    let mut backward = TokenStream::new();
    if let Some(first) = first_param {
        for k in (first..last).rev() {
            let Some(s) = plan.steps.get(k) else { continue };
            let layer = layer_type(&s.op);
            let x = act(k);
            let y = act(k + 1);
            let dy = format_ident!("__d{}", k + 1);
            let (dx_decl, dx) = if k > first {
                let d = format_ident!("__d{}", k);
                let n = lit(plan.steps.get(k - 1).map(|s| s.out_len).unwrap_or(0));
                (
                    quote!(let mut #d = ::lenet::__private::vec![0.0f32; __n * #n];),
                    quote!(::lenet::__private::core::option::Option::Some(&mut #d[..])),
                )
            } else {
                (
                    TokenStream::new(),
                    quote!(::lenet::__private::core::option::Option::None),
                )
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
                    <#layer as ::lenet::__private::Layer>::backward(#w, #x, #y, &#dy, #dx, __dw, __db);
                }
            } else {
                quote!(<#layer as ::lenet::__private::Layer>::backward(&[], #x, #y, &#dy, #dx, &mut [], &mut []);)
            };
            backward.extend(quote! {
                #dx_decl
                #call
            });
        }
    }
    let grads = if first_param.is_some() {
        quote!(grads)
    } else {
        quote!(_grads)
    };
    quote! {
        fn loss_grad_block(&self, x: &[f32], labels: &[usize], scale: f32, #grads: &mut [f32]) -> ::lenet::__private::Pass {
            #p
            let __n = x.len() / #in_len;
            #forward
            let mut #d_last = ::lenet::__private::vec![0.0f32; __n * #out_len];
            let mut __loss = 0.0f64;
            let mut __correct = 0usize;
            for ((__y, __dy), __label) in (#logits)
                .chunks_exact(#out_len)
                .zip(#d_last.chunks_exact_mut(#out_len))
                .zip(labels)
            {
                __loss += f64::from(::lenet::__private::loss::softmax_cross_entropy(__y, *__label, scale, __dy));
                __correct += usize::from(::lenet::__private::loss::argmax(__y) == *__label);
            }
            #backward
            ::lenet::__private::Pass { loss: __loss as f32, correct: __correct }
        }
    }
}

/// The type-level proof: the runtime's typenum layers re-derive every shape
/// and must agree with the macro's numbers.
fn shape_proof(name: &syn::Ident, plan: &Plan) -> TokenStream {
    let input = shape_type(&plan.input);
    let output = shape_type(&plan.output);
    let mut aliases = TokenStream::new();
    let mut bounds = Vec::new();
    for (k, s) in plan.steps.iter().enumerate() {
        let prev = format_ident!("S{}", k);
        let this = format_ident!("S{}", k + 1);
        let stage = stage_type(&s.op);
        let declared = shape_type(&s.output);
        aliases
            .extend(quote!(type #this = <#stage as ::lenet::__private::shape::Stage<#prev>>::Out;));
        bounds.push(quote!(#this: ::lenet::__private::shape::SameShape<#declared>));
    }
    quote! {
        impl ::lenet::__private::shape::NetworkShapes for #name {
            type Input = #input;
            type Output = #output;
        }

        #[allow(dead_code)]
        const _: () = {
            type S0 = #input;
            #aliases
            fn __lenet_shapes_agree() where #(#bounds),* {}
        };
    }
}
