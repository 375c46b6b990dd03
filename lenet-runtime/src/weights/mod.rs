//! Weights in and out: safetensors with PyTorch's names, and a raw
//! little-endian form for `include_bytes!`.

mod view;

pub use view::{Aligned, WeightsView};

use crate::error::{Error, WeightsFault};
use crate::network::{storage_len, storage_tensors, Network};

/// Bytes of the raw little-endian form of `N`'s parameters (and `F32`
/// buffers).
pub const fn le_len<N: Network>() -> usize {
    storage_len::<N>() * 4
}

/// A network from its parameters as little-endian f32, in the order of
/// [`Network::PARAMS`], followed by its `F32` buffers (a batch norm's
/// running statistics) in the order of [`Network::BUFFERS`]: the form
/// [`write_le_bytes`] writes. No allocation.
pub fn from_le_bytes<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let expected = le_len::<N>();
    if bytes.len() != expected {
        let tensor = storage_tensors::<N>()
            .find(|(_, r)| r.end * 4 > bytes.len())
            .map(|(name, _)| name);
        return Err(Error::Weights {
            tensor: if bytes.len() < expected { tensor } else { None },
            reason: WeightsFault::Truncated {
                expected,
                found: bytes.len(),
            },
        });
    }
    let mut net = N::zeros();
    for (v, b) in net.storage_mut().iter_mut().zip(bytes.chunks_exact(4)) {
        *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(net)
}

/// Writes the parameters (and `F32` buffers) as little-endian f32 to `out`,
/// which must hold exactly `LE_BYTES` bytes. No allocation.
pub fn write_le_bytes<N: Network>(net: &N, out: &mut [u8]) -> Result<(), Error> {
    let expected = le_len::<N>();
    if out.len() != expected {
        return Err(Error::Weights {
            tensor: None,
            reason: WeightsFault::Truncated {
                expected,
                found: out.len(),
            },
        });
    }
    for (b, v) in out.chunks_exact_mut(4).zip(net.storage()) {
        b.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// The parameters (and `F32` buffers) as little-endian f32.
#[cfg(feature = "std")]
pub fn to_le_bytes<N: Network>(net: &N) -> Vec<u8> {
    net.storage().iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes the raw little-endian form to `path`, atomically (see
/// [`write_atomically`]).
#[cfg(feature = "std")]
pub fn save_le_bytes<N: Network>(net: &N, path: &Path) -> Result<(), Error> {
    write_atomically(path, &to_le_bytes(net))
}

#[cfg(feature = "std")]
pub mod safetensors;

#[cfg(feature = "std")]
mod atomic;
#[cfg(feature = "std")]
pub use atomic::write_atomically;
#[cfg(feature = "std")]
use std::path::Path;
