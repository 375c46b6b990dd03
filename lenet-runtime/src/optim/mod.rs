//! Optimisers that update a network in place from its gradients, with
//! exactly PyTorch's update rules (`torch.optim.SGD`, `torch.optim.Adam`,
//! single-tensor implementation): same formulas, same order of operations,
//! hyper-parameters as `f64` like Python floats, arithmetic in `f32`.
//!
//! ```
//! # use lenet_runtime::optim::{Adam, Optimizer, Sgd};
//! let mut params = vec![1.0f32, -2.0];
//! let mut sgd = Sgd::new(0.1).momentum(0.9).weight_decay(5e-4);
//! sgd.step_slice(&mut params, &[0.5, 0.5]);
//! let mut adam = Adam::new(1e-3).betas(0.9, 0.999);
//! adam.step_slice(&mut params, &[0.5, 0.5]);
//! ```

mod adam;
mod sgd;

pub use adam::Adam;
pub use sgd::Sgd;

use crate::network::Network;

/// Updates parameters from gradients; keeps whatever state it needs
/// (momentum buffers, moment estimates) between steps.
///
/// The state is sized on the first step. An optimiser serves one set of
/// parameters: given parameters of another length, it starts afresh.
pub trait Optimizer {
    /// One update of flat `params` from `grads` of the same length.
    fn step_slice(&mut self, params: &mut [f32], grads: &[f32]);

    /// The learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (for schedules); the state is kept.
    fn set_lr(&mut self, lr: f64);

    /// One update of every parameter of `net` from `grads`, a network of the
    /// same type holding the gradients (as `loss_and_grad` returns them);
    /// `net` then takes the training state `grads` carries (a batch norm's
    /// running statistics after the batch, the step count that draws
    /// dropout's masks), as PyTorch's training step leaves them.
    fn step<N: Network>(&mut self, net: &mut N, grads: &N)
    where
        Self: Sized,
    {
        self.step_slice(net.parameters_mut(), grads.parameters());
        net.take_training_state(grads);
    }
}
