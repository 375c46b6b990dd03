//! Shapes as types: every layer is a type-level function from the shape it
//! takes to the shape it gives, computed with typenum arithmetic, so the Rust
//! type checker proves a chain of layers again after the macro has.
//!
//! Users read [`Shape3`] and [`Shape1`] with typenum's `U…` numbers; the
//! arithmetic hides behind [`ConvDim`] and [`PoolDim`].
//!
//! Composing layers by hand works the same way, and a mismatch does not
//! compile:
//!
//! ```
//! use lenet_runtime::shape::{Conv2d, Flatten, Linear, Relu, AvgPool2d, Shape1, Shape3, Stage, SameShape};
//! use typenum::consts::{U1, U2, U5, U6, U16, U28, U32, U120, U400};
//!
//! type Input = Shape3<U1, U32, U32>;
//! type C1 = <Conv2d<U1, U6, U5> as Stage<Input>>::Out;
//! type S2 = <AvgPool2d<U2> as Stage<<Relu as Stage<C1>>::Out>>::Out;
//! type C3 = <Conv2d<U6, U16, U5> as Stage<S2>>::Out;
//! type Flat = <Flatten as Stage<<AvgPool2d<U2> as Stage<C3>>::Out>>::Out;
//! type F5 = <Linear<U400, U120> as Stage<Flat>>::Out;
//! fn proof() where C1: SameShape<Shape3<U6, U28, U28>>, F5: SameShape<Shape1<U120>> {}
//! ```
//!
//! ```compile_fail
//! use lenet_runtime::shape::{Conv2d, Shape3, Stage};
//! use typenum::consts::{U3, U6, U5, U32};
//! // conv expects 3 channels, the image has 1.
//! type Bad = <Conv2d<U3, U6, U5> as Stage<Shape3<typenum::consts::U1, U32, U32>>>::Out;
//! fn f(_: Bad) {}
//! ```
//!
//! The second edition's layers: rectangular, strided, padded, dilated and
//! grouped convolutions ([`Pair`] for two sizes), padded pooling, batch
//! norm, dropout and the new activations. DS-CNN's first convolution,
//! `Conv2d(1, 64, (10, 4), stride=(2, 2), padding=(5, 1))` on 1×49×10, gives
//! 64×25×5; a MobileNet block keeps the shapes PyTorch gives:
//!
//! ```
//! use lenet_runtime::shape::{
//!     AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, LeakyRelu, MaxPool2d, Pair,
//!     Relu6, SameShape, Shape1, Shape3, Stage,
//! };
//! use typenum::consts::{U0, U1, U2, U3, U4, U5, U8, U10, U16, U25, U48, U49, U64, U96};
//!
//! type Mfcc = Shape3<U1, U49, U10>;
//! type C1 = <Conv2d<U1, U64, Pair<U10, U4>, Pair<U2, U2>, Pair<U5, U1>> as Stage<Mfcc>>::Out;
//! type B1 = <Relu6 as Stage<<BatchNorm2d<U64> as Stage<C1>>::Out>>::Out;
//! // Depthwise: groups = in_channels.
//! type Dw = <Conv2d<U64, U64, U3, U1, U1, U1, U64> as Stage<B1>>::Out;
//! // Dilated: a 3×3 kernel with dilation 2 spans 5×5.
//! type Dil = <Conv2d<U64, U8, U3, U1, U2, U2> as Stage<Dw>>::Out;
//! // Padded pooling (padding at most half the window), rectangular windows.
//! type P1 = <MaxPool2d<U3, U1, U1> as Stage<Dil>>::Out;
//! type P2 = <AvgPool2d<Pair<U5, U1>, Pair<U5, U1>, Pair<U0, U0>> as Stage<P1>>::Out;
//! type Flat = <Flatten as Stage<<Dropout as Stage<P2>>::Out>>::Out;
//! type Bn1 = <BatchNorm1d<typenum::Prod<U8, U25>> as Stage<<LeakyRelu as Stage<Flat>>::Out>>::Out;
//! fn proof()
//! where
//!     C1: SameShape<Shape3<U64, U25, U5>>,
//!     Dil: SameShape<Shape3<U8, U25, U5>>,
//!     P2: SameShape<Shape3<U8, U5, U5>>,
//!     Bn1: SameShape<Shape1<typenum::Prod<U8, U25>>>,
//! {
//! }
//!
//! // MobileNetV1-0.25's first layer on 96×96×3: 8×48×48.
//! type M0 = <Conv2d<U3, U8, U3, U2, U1> as Stage<Shape3<U3, U96, U96>>>::Out;
//! type M1 = <Conv2d<U8, U16, U1> as Stage<<Conv2d<U8, U8, U3, U1, U1, U1, U8> as Stage<M0>>::Out>>::Out;
//! fn mobilenet() where M1: SameShape<Shape3<U16, U48, U48>> {}
//! ```
//!
//! Mismatches do not compile. Batch norm whose `num_features` is not the
//! channels that arrive:
//!
//! ```compile_fail
//! use lenet_runtime::shape::{BatchNorm2d, Shape3, Stage};
//! use typenum::consts::{U6, U8, U28};
//! type Bad = <BatchNorm2d<U8> as Stage<Shape3<U6, U28, U28>>>::Out;
//! fn f(_: Bad) {}
//! ```
//!
//! `BatchNorm1d` on a feature map (before `flatten`):
//!
//! ```compile_fail
//! use lenet_runtime::shape::{BatchNorm1d, Shape3, Stage};
//! use typenum::consts::{U6, U28};
//! type Bad = <BatchNorm1d<U6> as Stage<Shape3<U6, U28, U28>>>::Out;
//! fn f(_: Bad) {}
//! ```
//!
//! `groups` that does not divide the channels (4 does not divide 6):
//!
//! ```compile_fail
//! use lenet_runtime::shape::{Conv2d, Shape3, Stage};
//! use typenum::consts::{U1, U3, U4, U6, U8, U28};
//! type Bad = <Conv2d<U6, U8, U3, U1, U1, U1, U4> as Stage<Shape3<U6, U28, U28>>>::Out;
//! fn f(_: Bad) {}
//! ```
//!
//! A dilated kernel larger than its padded input (3 taps 2 apart span 5
//! pixels; the input has 4):
//!
//! ```compile_fail
//! use lenet_runtime::shape::{Conv2d, Shape3, Stage};
//! use typenum::consts::{U0, U1, U2, U3, U4};
//! type Bad = <Conv2d<U1, U1, U3, U1, U0, U2> as Stage<Shape3<U1, U4, U4>>>::Out;
//! fn f(_: Bad) {}
//! ```
//!
//! Pooling padding above half the window (2 on a 3-wide window):
//!
//! ```compile_fail
//! use lenet_runtime::shape::{MaxPool2d, Shape3, Stage};
//! use typenum::consts::{U1, U2, U3, U8};
//! type Bad = <MaxPool2d<U3, U1, U2> as Stage<Shape3<U1, U8, U8>>>::Out;
//! fn f(_: Bad) {}
//! ```

use core::marker::PhantomData;

use core::ops::{Add, Div, Mul, Rem, Sub};
/// typenum's numbers (`U1`, `U28`, …), so that shapes can be written
/// without depending on typenum.
pub use typenum::consts;
use typenum::{Diff, IsGreaterOrEqual, Prod, Quot, Sum, UInt, UTerm, Unsigned, B1, U0, U1, U2};

/// A `C×H×W` feature map.
pub struct Shape3<C, H, W>(PhantomData<(C, H, W)>);

/// A flat vector of `N` features.
pub struct Shape1<N>(PhantomData<N>);

/// A shape known at the type level.
pub trait Shape {
    /// Number of floats.
    const LEN: usize;
}

impl<C: Unsigned, H: Unsigned, W: Unsigned> Shape for Shape3<C, H, W> {
    const LEN: usize = C::USIZE * H::USIZE * W::USIZE;
}

impl<N: Unsigned> Shape for Shape1<N> {
    const LEN: usize = N::USIZE;
}

/// A layer as a function on shapes: `In` goes in, [`Stage::Out`] comes out.
#[diagnostic::on_unimplemented(
    message = "a layer does not fit the shape that arrives at it",
    label = "this layer, or a layer of this chain, does not fit the shape that arrives",
    note = "Conv2d and pooling take a Shape3 whose channels match; Linear takes a Shape1 (add `Flatten` first) whose length is its in_features; a kernel or window may not exceed its (padded) input"
)]
pub trait Stage<In> {
    /// The shape this layer gives.
    type Out;
}

/// Two shapes that are the same type.
#[diagnostic::on_unimplemented(
    message = "shape mismatch: the shape that arrives is not the one declared",
    label = "these shapes differ"
)]
pub trait SameShape<Other> {}
impl<T> SameShape<T> for T {}

/// Two sizes, height then width, for a rectangular kernel, stride, padding
/// or dilation: `Conv2d<U1, U64, Pair<U10, U4>, Pair<U2, U2>, Pair<U5, U1>>`
/// is PyTorch's `Conv2d(1, 64, (10, 4), stride=(2, 2), padding=(5, 1))`.
/// A plain number stands for the same size on both axes.
pub struct Pair<H, W>(PhantomData<(H, W)>);

/// A size per axis: a number (both axes) or a [`Pair`].
pub trait Axes {
    /// The size along the height.
    type H;
    /// The size along the width.
    type W;
}

impl Axes for UTerm {
    type H = UTerm;
    type W = UTerm;
}

impl<U, B> Axes for UInt<U, B> {
    type H = UInt<U, B>;
    type W = UInt<U, B>;
}

impl<H, W> Axes for Pair<H, W> {
    type H = H;
    type W = W;
}

/// What a kernel of `K` taps `D` apart spans: `D·(K − 1) + 1`.
pub type Span<K, D> = Sum<Prod<D, Diff<K, U1>>, U1>;

/// A size with `P` of padding on each side: `H + 2·P`.
pub type Padded<H, P> = Sum<H, Prod<P, U2>>;

/// `floor((H + 2·P − D·(K − 1) − 1) / S) + 1`, the output size of a
/// convolution (PyTorch's formula), defined only when the dilated kernel
/// fits the padded input.
pub trait ConvDim<K, S, P, D = U1> {
    /// The output size.
    type Out: Unsigned;
}

impl<H, K, S, P, D> ConvDim<K, S, P, D> for H
where
    K: Sub<U1>,
    D: Mul<Diff<K, U1>>,
    Prod<D, Diff<K, U1>>: Add<U1>,
    P: Mul<U2>,
    H: Add<Prod<P, U2>>,
    Padded<H, P>: Sub<Span<K, D>>,
    Diff<Padded<H, P>, Span<K, D>>: Div<S>,
    Quot<Diff<Padded<H, P>, Span<K, D>>, S>: Add<U1>,
    Sum<Quot<Diff<Padded<H, P>, Span<K, D>>, S>, U1>: Unsigned,
{
    type Out = Sum<Quot<Diff<Padded<H, P>, Span<K, D>>, S>, U1>;
}

/// `floor((H + 2·P − K) / S) + 1`, the output size of a pooling window,
/// defined only when the window fits the padded input and `P` is at most
/// half the window (PyTorch's rule).
pub trait PoolDim<K, S, P = U0> {
    /// The output size.
    type Out: Unsigned;
}

impl<H, K, S, P> PoolDim<K, S, P> for H
where
    K: Div<U2>,
    Quot<K, U2>: IsGreaterOrEqual<P, Output = B1>,
    H: ConvDim<K, S, P, U1>,
{
    type Out = <H as ConvDim<K, S, P, U1>>::Out;
}

/// `N` is a multiple of `G`: a convolution's channel counts and its groups.
#[diagnostic::on_unimplemented(
    message = "`groups` does not divide the channels",
    note = "Conv2d's groups G must divide both in_channels and out_channels"
)]
pub trait MultipleOf<G> {}

impl<N, G> MultipleOf<G> for N where N: Rem<G, Output = U0> {}

/// `Conv2d(CI, CO, K, stride = S, padding = P, dilation = D, groups = G)`;
/// `K`, `S`, `P` and `D` are numbers or [`Pair`]s. (`bias` does not change
/// the shapes.)
pub struct Conv2d<CI, CO, K, S = U1, P = U0, D = U1, G = U1>(PhantomData<(CI, CO, K, S, P, D, G)>);
/// `MaxPool2d(K, stride = S, padding = P)`; numbers or [`Pair`]s.
pub struct MaxPool2d<K, S = K, P = U0>(PhantomData<(K, S, P)>);
/// `AvgPool2d(K, stride = S, padding = P)`; numbers or [`Pair`]s.
pub struct AvgPool2d<K, S = K, P = U0>(PhantomData<(K, S, P)>);
/// `AdaptiveAvgPool2d(1)`.
pub struct AdaptiveAvgPool2d;
/// `Linear(I, O)`.
pub struct Linear<I, O>(PhantomData<(I, O)>);
/// `BatchNorm2d(C)`: on a feature map of `C` channels.
pub struct BatchNorm2d<C>(PhantomData<C>);
/// `BatchNorm1d(N)`: on a vector of `N` features.
pub struct BatchNorm1d<N>(PhantomData<N>);
/// `flatten`.
pub struct Flatten;
/// `relu`.
pub struct Relu;
/// `relu6`.
pub struct Relu6;
/// `LeakyReLU(negative_slope)` (the slope does not change the shapes).
pub struct LeakyRelu;
/// `Dropout(p)` (the probability does not change the shapes).
pub struct Dropout;
/// `tanh`.
pub struct Tanh;
/// `sigmoid`.
pub struct Sigmoid;

impl<CI, CO, K, S, P, D, G, H, W> Stage<Shape3<CI, H, W>> for Conv2d<CI, CO, K, S, P, D, G>
where
    K: Axes,
    S: Axes,
    P: Axes,
    D: Axes,
    CI: MultipleOf<G>,
    CO: MultipleOf<G>,
    H: ConvDim<K::H, S::H, P::H, D::H>,
    W: ConvDim<K::W, S::W, P::W, D::W>,
{
    type Out = Shape3<
        CO,
        <H as ConvDim<K::H, S::H, P::H, D::H>>::Out,
        <W as ConvDim<K::W, S::W, P::W, D::W>>::Out,
    >;
}

impl<K, S, P, C, H, W> Stage<Shape3<C, H, W>> for MaxPool2d<K, S, P>
where
    K: Axes,
    S: Axes,
    P: Axes,
    H: PoolDim<K::H, S::H, P::H>,
    W: PoolDim<K::W, S::W, P::W>,
{
    type Out =
        Shape3<C, <H as PoolDim<K::H, S::H, P::H>>::Out, <W as PoolDim<K::W, S::W, P::W>>::Out>;
}

impl<K, S, P, C, H, W> Stage<Shape3<C, H, W>> for AvgPool2d<K, S, P>
where
    K: Axes,
    S: Axes,
    P: Axes,
    H: PoolDim<K::H, S::H, P::H>,
    W: PoolDim<K::W, S::W, P::W>,
{
    type Out =
        Shape3<C, <H as PoolDim<K::H, S::H, P::H>>::Out, <W as PoolDim<K::W, S::W, P::W>>::Out>;
}

impl<C, H, W> Stage<Shape3<C, H, W>> for AdaptiveAvgPool2d {
    type Out = Shape3<C, U1, U1>;
}

impl<C, H, W> Stage<Shape3<C, H, W>> for BatchNorm2d<C> {
    type Out = Shape3<C, H, W>;
}

impl<N> Stage<Shape1<N>> for BatchNorm1d<N> {
    type Out = Shape1<N>;
}

impl<I, O> Stage<Shape1<I>> for Linear<I, O> {
    type Out = Shape1<O>;
}

impl<C, H, W> Stage<Shape3<C, H, W>> for Flatten
where
    C: Mul<H>,
    Prod<C, H>: Mul<W>,
{
    type Out = Shape1<Prod<Prod<C, H>, W>>;
}

macro_rules! elementwise {
    ($($t:ident),*) => {$(
        impl<C, H, W> Stage<Shape3<C, H, W>> for $t {
            type Out = Shape3<C, H, W>;
        }
        impl<N> Stage<Shape1<N>> for $t {
            type Out = Shape1<N>;
        }
    )*};
}
elementwise!(Relu, Relu6, LeakyRelu, Dropout, Tanh, Sigmoid);

macro_rules! chain {
    ($first:ident $(, $rest:ident)*) => {
        /// A chain of layers: the output of each is the input of the next.
        impl<In, $first: Stage<In> $(, $rest)*> Stage<In> for ($first, $($rest,)*)
        where
            ($($rest,)*): Stage<<$first as Stage<In>>::Out>,
        {
            type Out = <($($rest,)*) as Stage<<$first as Stage<In>>::Out>>::Out;
        }
        chain!($($rest),*);
    };
    () => {
        impl<In> Stage<In> for () {
            type Out = In;
        }
    };
}
chain!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

/// The shapes of a generated network, as types: what its first layer takes
/// and its last layer gives.
pub trait NetworkShapes {
    /// One input image, as a [`Shape3`].
    type Input: Shape;
    /// One output, a [`Shape1`] or a [`Shape3`].
    type Output: Shape;
}
