//! Optimisers that update a network in place from its gradients.
