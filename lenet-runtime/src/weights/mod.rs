//! Weights in and out: safetensors with PyTorch's names, and a raw
//! little-endian form for `include_bytes!`.

use crate::error::{Error, WeightsFault};
use crate::network::Network;

/// Bytes of the raw little-endian form of `N`'s parameters.
pub const fn le_len<N: Network>() -> usize {
    N::PARAM_COUNT * 4
}

/// A network from its parameters as little-endian f32, in the order of
/// [`Network::PARAMS`] (the form [`write_le_bytes`] writes). No allocation.
pub fn from_le_bytes<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let expected = N::PARAM_COUNT * 4;
    if bytes.len() != expected {
        let tensor = N::PARAMS
            .iter()
            .find(|p| (p.offset + p.len) * 4 > bytes.len())
            .map(|p| p.name);
        return Err(Error::Weights {
            tensor: if bytes.len() < expected { tensor } else { None },
            reason: WeightsFault::Truncated {
                expected,
                found: bytes.len(),
            },
        });
    }
    let mut net = N::zeroed();
    for (v, b) in net.params_mut().iter_mut().zip(bytes.chunks_exact(4)) {
        *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(net)
}

/// Writes the parameters as little-endian f32 to `out`, which must hold
/// exactly `PARAM_COUNT · 4` bytes. No allocation.
pub fn write_le_bytes<N: Network>(net: &N, out: &mut [u8]) -> Result<(), Error> {
    let expected = N::PARAM_COUNT * 4;
    if out.len() != expected {
        return Err(Error::Weights {
            tensor: None,
            reason: WeightsFault::Truncated {
                expected,
                found: out.len(),
            },
        });
    }
    for (b, v) in out.chunks_exact_mut(4).zip(net.params()) {
        b.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// The parameters as little-endian f32.
#[cfg(feature = "std")]
pub fn to_le_bytes<N: Network>(net: &N) -> Vec<u8> {
    net.params().iter().flat_map(|v| v.to_le_bytes()).collect()
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
mod atomic {
    use std::fs::File;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::error::Error;

    /// Distinguishes temporary files of concurrent saves within one process.
    static SAVES: AtomicU64 = AtomicU64::new(0);

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Writes `bytes` to `path` atomically: to a temporary file in the same
    /// directory, flushed to disk, then renamed over `path`. A reader, or a crash
    /// at any moment, sees either the previous file whole or the new one whole.
    pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let Some(file_name) = path.file_name() else {
            return Err(Error::Other(format!(
                "{}: not a file name to save weights to",
                path.display()
            )));
        };
        let tmp = dir.join(format!(
            ".{}.tmp.{}.{}",
            file_name.to_string_lossy(),
            std::process::id(),
            SAVES.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            drop(f);
            std::fs::rename(&tmp, path).map_err(io(path))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return result;
        }
        // Make the rename itself durable; not every platform can open a
        // directory, and the file is already in place, so this is best effort.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
#[cfg(feature = "std")]
pub use atomic::write_atomically;
#[cfg(feature = "std")]
use std::path::Path;
