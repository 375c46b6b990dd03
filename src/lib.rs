//! # lenet
//!
//! Compile-time shape-checked convolutional networks. Declare a network in
//! PyTorch's words; the [`network!`] macro proves every shape while your crate
//! compiles, and generates a struct with specialised SIMD kernels.
//!
//! ```
//! lenet::network! {
//!     /// LeNet-5 as in LeCun et al. 1998.
//!     pub struct LeNet5 {
//!         input: [1, 32, 32],
//!         conv1: Conv2d(1, 6, 5),
//!         relu,
//!         pool1: AvgPool2d(2, 2),
//!         conv2: Conv2d(6, 16, 5),
//!         relu,
//!         pool2: AvgPool2d(2, 2),
//!         flatten,
//!         fc1: Linear(16 * 5 * 5, 120),
//!         relu,
//!         fc2: Linear(120, 84),
//!         relu,
//!         fc3: Linear(84, 10),
//!     }
//! }
//!
//! assert_eq!(LeNet5::PARAM_COUNT, 61_706);
//! let net = LeNet5::new(0);
//! let logits = net.forward(&[0.0; 32 * 32]);
//! assert_eq!(logits.len(), 10);
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate self as lenet;

pub use lenet_macros::network;
pub use lenet_runtime::{error, init, loss, network as model, shape, summary, weights};
pub use lenet_runtime::{
    include_weights, BufferRef, Error, Forward, LayerInfo, Network, ParamSpec, WeightsView,
};

/// The most floats of scratch a network's `forward` keeps on the stack.
pub use lenet_runtime::arena::STACK_SCRATCH_FLOATS;

#[cfg(feature = "std")]
pub use lenet_runtime::Batched;

#[cfg(feature = "std")]
pub use lenet_runtime::{batch, data, optim, train};

#[doc(hidden)]
pub use lenet_runtime::__private;
