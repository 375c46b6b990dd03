//! safetensors files with PyTorch's tensor names.

use std::path::Path;

use crate::error::Error;
use crate::network::Network;

/// Reads a network from safetensors bytes.
pub fn from_safetensors<N: Network>(_bytes: &[u8]) -> Result<N, Error> {
    todo!()
}

/// Reads a network from a safetensors file.
pub fn load_safetensors<N: Network>(_path: &Path) -> Result<N, Error> {
    todo!()
}

/// Writes a network to a safetensors file, atomically.
pub fn save_safetensors<N: Network>(_net: &N, _path: &Path) -> Result<(), Error> {
    todo!()
}
