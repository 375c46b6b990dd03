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

use core::marker::PhantomData;

use core::ops::{Add, Div, Mul, Sub};
/// typenum's numbers (`U1`, `U28`, …), so that shapes can be written
/// without depending on typenum.
pub use typenum::consts;
use typenum::{Diff, Prod, Quot, Sum, Unsigned, U0, U1, U2};

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

/// `floor((H + 2·P − K) / S) + 1`, the output size of a convolution.
pub trait ConvDim<K, S, P> {
    /// The output size.
    type Out: Unsigned;
}

impl<H, K, S, P> ConvDim<K, S, P> for H
where
    P: Mul<U2>,
    H: Add<Prod<P, U2>>,
    Sum<H, Prod<P, U2>>: Sub<K>,
    Diff<Sum<H, Prod<P, U2>>, K>: Div<S>,
    Quot<Diff<Sum<H, Prod<P, U2>>, K>, S>: Add<U1>,
    Sum<Quot<Diff<Sum<H, Prod<P, U2>>, K>, S>, U1>: Unsigned,
{
    type Out = Sum<Quot<Diff<Sum<H, Prod<P, U2>>, K>, S>, U1>;
}

/// `floor((H − K) / S) + 1`, the output size of a pooling window.
pub trait PoolDim<K, S> {
    /// The output size.
    type Out: Unsigned;
}

impl<H, K, S> PoolDim<K, S> for H
where
    H: Sub<K>,
    Diff<H, K>: Div<S>,
    Quot<Diff<H, K>, S>: Add<U1>,
    Sum<Quot<Diff<H, K>, S>, U1>: Unsigned,
{
    type Out = Sum<Quot<Diff<H, K>, S>, U1>;
}

/// `Conv2d(CI, CO, K, stride = S, padding = P)`.
pub struct Conv2d<CI, CO, K, S = U1, P = U0>(PhantomData<(CI, CO, K, S, P)>);
/// `MaxPool2d(K, stride = S)`.
pub struct MaxPool2d<K, S = K>(PhantomData<(K, S)>);
/// `AvgPool2d(K, stride = S)`.
pub struct AvgPool2d<K, S = K>(PhantomData<(K, S)>);
/// `AdaptiveAvgPool2d(1)`.
pub struct AdaptiveAvgPool2d;
/// `Linear(I, O)`.
pub struct Linear<I, O>(PhantomData<(I, O)>);
/// `flatten`.
pub struct Flatten;
/// `relu`.
pub struct Relu;
/// `tanh`.
pub struct Tanh;
/// `sigmoid`.
pub struct Sigmoid;

impl<CI, CO, K, S, P, H, W> Stage<Shape3<CI, H, W>> for Conv2d<CI, CO, K, S, P>
where
    H: ConvDim<K, S, P>,
    W: ConvDim<K, S, P>,
{
    type Out = Shape3<CO, <H as ConvDim<K, S, P>>::Out, <W as ConvDim<K, S, P>>::Out>;
}

impl<K, S, C, H, W> Stage<Shape3<C, H, W>> for MaxPool2d<K, S>
where
    H: PoolDim<K, S>,
    W: PoolDim<K, S>,
{
    type Out = Shape3<C, <H as PoolDim<K, S>>::Out, <W as PoolDim<K, S>>::Out>;
}

impl<K, S, C, H, W> Stage<Shape3<C, H, W>> for AvgPool2d<K, S>
where
    H: PoolDim<K, S>,
    W: PoolDim<K, S>,
{
    type Out = Shape3<C, <H as PoolDim<K, S>>::Out, <W as PoolDim<K, S>>::Out>;
}

impl<C, H, W> Stage<Shape3<C, H, W>> for AdaptiveAvgPool2d {
    type Out = Shape3<C, U1, U1>;
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
elementwise!(Relu, Tanh, Sigmoid);

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
