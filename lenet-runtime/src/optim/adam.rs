//! Adam, as `torch.optim.Adam`.

use super::Optimizer;
use crate::network::Network;

/// `torch.optim.Adam(params, lr, betas, eps, weight_decay)` (not AMSGrad).
/// For each parameter `p` with gradient `g`, at step `t = 1, 2, …`:
///
/// ```text
/// g ← g + weight_decay · p
/// m ← m + (1 − β₁) · (g − m)          (PyTorch's lerp; m₀ = 0)
/// v ← β₂ · v + (1 − β₂) · g²          (v₀ = 0)
/// p ← p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// `eps` is added outside the square root, after the bias correction, as
/// PyTorch does.
#[derive(Debug, Clone)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    t: u32,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's defaults: betas (0.9,
    /// 0.999), eps 1e-8, no weight decay.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// Decay rates of the first and second moment estimates.
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        Self {
            beta1,
            beta2,
            ..self
        }
    }

    /// Added to the denominator for numerical stability.
    pub fn eps(self, eps: f64) -> Self {
        Self { eps, ..self }
    }

    /// L2 penalty added to the gradient (PyTorch's `weight_decay`; not
    /// AdamW's decoupled decay).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        Self {
            weight_decay,
            ..self
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.t
    }
}

impl Adam {
    /// One update of every parameter of `net` from `grads` (as
    /// `loss_and_grad` returns them); the same as [`Optimizer::step`],
    /// callable without importing the trait.
    pub fn step<N: Network>(&mut self, net: &mut N, grads: &N) {
        Optimizer::step(self, net, grads);
    }
}

impl Optimizer for Adam {
    fn step_slice(&mut self, params: &mut [f32], grads: &[f32]) {
        if self.m.len() != params.len() {
            self.m = vec![0.0; params.len()];
            self.v = vec![0.0; params.len()];
            self.t = 0;
        }
        self.t += 1;
        let t = self.t as i32;
        // Scalars are Python floats in PyTorch: computed in f64, used in f32.
        let step_size = (self.lr / (1.0 - self.beta1.powi(t))) as f32;
        let bc2_sqrt = (1.0 - self.beta2.powi(t)).sqrt() as f32;
        let w1 = (1.0 - self.beta1) as f32;
        let b2 = self.beta2 as f32;
        let w2 = (1.0 - self.beta2) as f32;
        let eps = self.eps as f32;
        let wd = self.weight_decay as f32;
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *m += w1 * (g - *m);
            *v = *v * b2 + w2 * g * g;
            let denom = v.sqrt() / bc2_sqrt + eps;
            *p += -step_size * *m / denom;
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}
