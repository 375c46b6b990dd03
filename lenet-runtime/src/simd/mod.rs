//! Vectorised kernels and the one place that picks them for this CPU.
