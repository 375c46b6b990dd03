//! Pooling. Average pooling with a window equal to its stride (LeNet-5's
//! `AvgPool2d(2, 2)`) is written as row sums over whole planes, which the
//! compiler vectorises; other windows and max pooling use the
//! specifications in [`crate::layers::avg_pool2d::scalar`] and
//! [`crate::layers::max_pool2d::scalar`].

use super::Level;
use crate::layers::{avg_pool2d, max_pool2d};

/// Average pooling forward over `planes` planes of `H × W`.
pub fn avg_forward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    avg_pool2d::scalar::forward::<K, S, H, W, HO, WO>(planes, x, y)
}

/// Average pooling backward over `planes` planes.
pub fn avg_backward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    avg_pool2d::scalar::backward::<K, S, H, W, HO, WO>(planes, dy, dx)
}

/// Max pooling forward over `planes` planes.
pub fn max_forward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    x: &[f32],
    y: &mut [f32],
) {
    max_pool2d::scalar::forward::<K, S, H, W, HO, WO>(planes, x, y)
}

/// Max pooling backward over `planes` planes: each window's gradient to its
/// first maximum.
pub fn max_backward<const K: usize, const S: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
    _level: Level,
    planes: usize,
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    max_pool2d::scalar::backward::<K, S, H, W, HO, WO>(planes, x, dy, dx)
}
