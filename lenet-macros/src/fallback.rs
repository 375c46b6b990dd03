//! The stub emitted beside the errors: the struct with the inherent items
//! users call, typed as far as the declaration allows, so that a mistake in
//! the network is not followed by a second wall of errors about a missing
//! type or method (thiserror's `fallback.rs`). Its bodies never run: the
//! crate does not compile while the errors stand.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Net;
use crate::shape::Trace;
use crate::tokens::lit;

/// The struct and its inherent items, with bodies that cannot run.
pub fn stub(net: &Net, trace: &Trace) -> TokenStream {
    let name = &net.ident;
    let vis = &net.vis;
    let attrs = net.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let input = net.input.as_ref().and_then(|i| i.dims);
    let input_len = lit(input
        .and_then(|[c, h, w]| c.checked_mul(h)?.checked_mul(w))
        .unwrap_or(0));
    let input_shape = {
        let [c, h, w] = input.unwrap_or([0, 0, 0]);
        let (c, h, w) = (lit(c), lit(h), lit(w));
        quote!([#c, #h, #w])
    };
    let output = trace
        .shapes
        .last()
        .and_then(|s| s.dims())
        .unwrap_or_else(|| vec![0]);
    let output_len = lit(output
        .iter()
        .try_fold(1u64, |a, d| a.checked_mul(*d))
        .unwrap_or(0));
    let output_rank = lit(output.len() as u64);
    let output_shape = {
        let d = output.iter().map(|d| lit(*d));
        quote!([#(#d),*])
    };
    let name_str = name.to_string();
    let steps = lit(net.steps.len() as u64);
    let unreachable = quote!(::lenet::__private::core::unreachable!(
        "the network declaration has errors"
    ));
    quote! {
        #(#attrs)*
        #[derive(::core::clone::Clone, ::core::cmp::PartialEq, ::core::fmt::Debug)]
        #vis struct #name {
            params: [f32; 0],
        }

        #[allow(unused_variables, clippy::all)]
        impl ::lenet::__private::Network for #name {
            const NAME: &'static str = #name_str;
            const INPUT_SHAPE: [usize; 3] = #input_shape;
            const INPUT_LEN: usize = #input_len;
            const OUTPUT_SHAPE: &'static [usize] = &#output_shape;
            const OUTPUT_LEN: usize = #output_len;
            const PARAM_COUNT: usize = 0;
            const PARAMS: &'static [::lenet::__private::ParamSpec] = &[];
            const LAYERS: &'static [::lenet::__private::LayerInfo] = &[];
            fn zeros() -> Self { #unreachable }
            fn parameters(&self) -> &[f32] { #unreachable }
            fn parameters_mut(&mut self) -> &mut [f32] { #unreachable }
        }

        #[allow(unused_variables, clippy::all)]
        impl ::lenet::__private::Forward for #name {
            type Input = [f32; #input_len];
            type Output = [f32; #output_len];
            type Scratch = [f32; 0];
            const FORWARD_SCRATCH_FLOATS: usize = 0;
            fn scratch() -> [f32; 0] { #unreachable }
            fn forward_params(params: &[f32], x: &[f32; #input_len], scratch: &mut [f32; 0]) -> [f32; #output_len] { #unreachable }
            fn forward_planned(params: &[f32], x: &[f32], out: &mut [f32], scratch: &mut [f32]) { #unreachable }
        }

        ::lenet::__private::if_std! {
            #[allow(unused_variables, clippy::all)]
            impl ::lenet::__private::Batched for #name {
                const TRAIN_SCRATCH_FLOATS: usize = 0;
                fn loss_grad_block(&self, x: &[f32], labels: &[usize], block: ::lenet::__private::TrainBlock<'_>, grads: &mut [f32], scratch: &mut [f32]) -> ::lenet::__private::Pass { #unreachable }
            }
        }

        #[allow(dead_code, unused_variables, clippy::all)]
        impl #name {
            /// `[C, H, W]` of one input image.
            pub const INPUT_SHAPE: [usize; 3] = #input_shape;
            /// Floats in one input image.
            pub const INPUT_LEN: usize = #input_len;
            /// Shape of one output.
            pub const OUTPUT_SHAPE: [usize; #output_rank] = #output_shape;
            /// Floats in one output.
            pub const OUTPUT_LEN: usize = #output_len;
            /// Number of parameters (unknown while the declaration has errors).
            pub const PARAM_COUNT: usize = 0;
            /// Every step (unknown while the declaration has errors).
            pub const LAYERS: &'static [::lenet::__private::LayerInfo] = &[];
            /// Every parameter tensor (unknown while the declaration has errors).
            pub const PARAMS: &'static [::lenet::__private::ParamSpec] = &[];
            /// Elements of the buffers (unknown while the declaration has errors).
            pub const BUFFER_COUNT: usize = 0;
            /// Every buffer (unknown while the declaration has errors).
            pub const BUFFERS: &'static [::lenet::__private::BufferSpec] = &[];
            /// Floats coming out of each step (unknown while the declaration has errors).
            pub const ACTIVATION_SIZES: [usize; #steps] = [0; #steps];
            /// Floats of scratch `forward` works in (unknown while the declaration has errors).
            pub const FORWARD_SCRATCH_FLOATS: usize = 0;
            /// Floats of scratch a training pass works in per image (unknown while the declaration has errors).
            pub const TRAIN_SCRATCH_FLOATS: usize = 0;
            /// Bytes of the raw parameters (unknown while the declaration has errors).
            pub const LE_BYTES: usize = 0;

            /// See the generated network's documentation.
            pub fn new(seed: u64) -> Self { #unreachable }
            /// See the generated network's documentation.
            pub fn zeros() -> Self { #unreachable }
            /// See the generated network's documentation.
            pub fn summary() -> ::lenet::__private::Summary { #unreachable }
            /// See the generated network's documentation.
            pub fn named_parameters(&self) -> impl ::lenet::__private::core::iter::ExactSizeIterator<Item = (&'static str, &'static [usize], &[f32])> + '_ {
                #unreachable;
                #[allow(unreachable_code)]
                [].into_iter()
            }
            /// See the generated network's documentation.
            pub fn named_buffers(&self) -> impl ::lenet::__private::core::iter::ExactSizeIterator<Item = (&'static str, &'static [usize], ::lenet::__private::BufferRef<'_>)> + '_ {
                #unreachable;
                #[allow(unreachable_code)]
                [].into_iter()
            }
            /// See the generated network's documentation.
            pub fn set_dropout_seed(&mut self, seed: u64) { #unreachable }
            /// See the generated network's documentation.
            pub fn parameters(&self) -> &[f32] { #unreachable }
            /// See the generated network's documentation.
            pub fn parameters_mut(&mut self) -> &mut [f32] { #unreachable }
            /// See the generated network's documentation.
            pub fn parameter(&self, name: &str) -> ::lenet::__private::core::option::Option<&[f32]> { #unreachable }
            /// See the generated network's documentation.
            pub fn forward(&self, x: &[f32; #input_len]) -> [f32; #output_len] { #unreachable }
            /// See the generated network's documentation.
            pub fn forward_with_scratch(&self, x: &[f32; #input_len], scratch: &mut [f32; 0]) -> [f32; #output_len] { #unreachable }
            /// See the generated network's documentation.
            pub fn view(params: &[f32; 0]) -> ::lenet::__private::WeightsView<'_, Self> { #unreachable }
            /// See the generated network's documentation.
            pub fn view_le_bytes(bytes: &[u8]) -> ::lenet::__private::core::result::Result<::lenet::__private::WeightsView<'_, Self>, ::lenet::__private::Error> { #unreachable }
            /// See the generated network's documentation.
            pub fn from_le_bytes(bytes: &[u8]) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> { #unreachable }
            /// See the generated network's documentation.
            pub fn write_le_bytes(&self, out: &mut [u8]) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> { #unreachable }

            ::lenet::__private::if_std! {
                /// See the generated network's documentation.
                pub fn forward_batch(&self, images: ::lenet::__private::ArrayView4<'_, f32>) -> ::lenet::__private::core::result::Result<::lenet::__private::Array2<f32>, ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn loss_and_grad(&self, images: ::lenet::__private::ArrayView4<'_, f32>, labels: &[usize]) -> ::lenet::__private::core::result::Result<(f32, Self), ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn forward_batch_into(&self, images: ::lenet::__private::ArrayView4<'_, f32>, out: &mut [f32]) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn loss_and_grad_into(&self, images: ::lenet::__private::ArrayView4<'_, f32>, labels: &[usize], grads: &mut Self) -> ::lenet::__private::core::result::Result<f32, ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn load_safetensors(path: impl ::lenet::__private::core::convert::AsRef<::lenet::__private::Path>) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn from_safetensors(bytes: &[u8]) -> ::lenet::__private::core::result::Result<Self, ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn save_safetensors(&self, path: impl ::lenet::__private::core::convert::AsRef<::lenet::__private::Path>) -> ::lenet::__private::core::result::Result<(), ::lenet::__private::Error> { #unreachable }
                /// See the generated network's documentation.
                pub fn to_le_bytes(&self) -> ::lenet::__private::Vec<u8> { #unreachable }
            }
        }
    }
}
