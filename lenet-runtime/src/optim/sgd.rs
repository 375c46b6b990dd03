//! Stochastic gradient descent with momentum, as `torch.optim.SGD`.

use super::Optimizer;
use crate::network::Network;

/// `torch.optim.SGD(params, lr, momentum, dampening, weight_decay,
/// nesterov)`. For each parameter `p` with gradient `g`:
///
/// ```text
/// g ← g + weight_decay · p
/// if momentum ≠ 0:
///     buf ← g                                     (first step)
///     buf ← momentum · buf + (1 − dampening) · g  (later steps)
///     g ← g + momentum · buf   if nesterov, else   g ← buf
/// p ← p − lr · g
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    buf: Vec<f32>,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`: no momentum, no weight decay.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            buf: Vec::new(),
        }
    }

    /// Momentum factor (PyTorch's `momentum`, 0 by default).
    pub fn momentum(self, momentum: f64) -> Self {
        Self { momentum, ..self }
    }

    /// Dampening of the momentum (PyTorch's `dampening`, 0 by default).
    pub fn dampening(self, dampening: f64) -> Self {
        Self { dampening, ..self }
    }

    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        Self {
            weight_decay,
            ..self
        }
    }

    /// Nesterov momentum (PyTorch's `nesterov`, off by default).
    pub fn nesterov(self, nesterov: bool) -> Self {
        Self { nesterov, ..self }
    }
}

impl Sgd {
    /// One update of every parameter of `net` from `grads` (as
    /// `loss_and_grad` returns them); the same as [`Optimizer::step`],
    /// callable without importing the trait.
    pub fn step<N: Network>(&mut self, net: &mut N, grads: &N) {
        Optimizer::step(self, net, grads);
    }
}

impl Optimizer for Sgd {
    fn step_slice(&mut self, params: &mut [f32], grads: &[f32]) {
        let lr = self.lr as f32;
        let wd = self.weight_decay as f32;
        let m = self.momentum as f32;
        let keep = (1.0 - self.dampening) as f32;
        let first = self.buf.len() != params.len();
        if self.momentum != 0.0 && first {
            self.buf = vec![0.0; params.len()];
        }
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = if wd != 0.0 { g + wd * *p } else { g };
            if self.momentum != 0.0 {
                let buf = &mut self.buf[i];
                *buf = if first { g } else { *buf * m + keep * g };
                g = if self.nesterov { g + m * *buf } else { *buf };
            }
            *p -= lr * g;
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}
