//! Per-thread scratch memory for the batch kernels (padded images, the
//! gradient of a convolution in its wide layout, flipped weights). Allocated
//! on first use and reused, so a training step allocates nothing once warm.

use std::cell::RefCell;
use std::vec::Vec;

std::thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's scratch memory, zeroed.
pub(crate) fn with_zeroed<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            buf.resize(len, 0.0);
            f(&mut buf[..len])
        }
        // Re-entered (a kernel inside a kernel): use a buffer of its own.
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// Runs `f` on `len` floats of this thread's scratch memory, holding
/// whatever an earlier use left there (zero where never used): for buffers
/// the caller overwrites entirely.
pub(crate) fn with_reused<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}
