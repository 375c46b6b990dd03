//! Weights that stay where they are: a network run from a borrowed slice of
//! parameters (`&'static` data in a microcontroller's flash, an `mmap`ped
//! file, a buffer the caller owns), never copied.

use core::marker::PhantomData;

use crate::error::{Error, WeightsFault};
use crate::network::{storage_len, storage_tensors, Forward, Network};

/// A network of type `N` whose parameters are borrowed: `PARAM_COUNT`
/// floats in PyTorch's order, every one finite. Runs the very forward pass
/// of the owned network (`Forward::forward_params`), so the two give the
/// same bits.
///
/// Made by the generated `N::view(&[f32; PARAM_COUNT])` or, from the raw
/// little-endian bytes `lenet export` writes, by `N::view_le_bytes(bytes)`
/// (see [`WeightsView::from_le_bytes`] for what it checks).
pub struct WeightsView<'a, N> {
    params: &'a [f32],
    net: PhantomData<fn() -> N>,
}

impl<N> Clone for WeightsView<'_, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<N> Copy for WeightsView<'_, N> {}

impl<N: Network> core::fmt::Debug for WeightsView<'_, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WeightsView")
            .field("network", &N::NAME)
            .field("param_count", &self.params.len())
            .finish()
    }
}

impl<'a, N: Forward> WeightsView<'a, N> {
    /// A view over `params`, which must hold `PARAM_COUNT + BUFFER_FLOATS`
    /// finite floats (the parameters, then a batch norm's running statistics);
    /// otherwise an error names the tensor at fault.
    pub fn new(params: &'a [f32]) -> Result<Self, Error> {
        if params.len() != storage_len::<N>() {
            return Err(Error::Weights {
                tensor: None,
                reason: WeightsFault::Truncated {
                    expected: storage_len::<N>() * 4,
                    found: params.len() * 4,
                },
            });
        }
        if let Some(index) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::Weights {
                tensor: tensor_of::<N>(index),
                reason: WeightsFault::NotFinite { index },
            });
        }
        Ok(Self {
            params,
            net: PhantomData,
        })
    }

    /// A view over exactly `PARAM_COUNT + BUFFER_FLOATS` floats (the length is proved at
    /// compile time; the values are not checked for finiteness): what the
    /// generated `N::view(&[f32; PARAM_COUNT])` returns.
    pub fn from_array<const P: usize>(params: &'a [f32; P]) -> Self {
        const {
            assert!(
                P == storage_len::<N>(),
                "WeightsView: PARAM_COUNT + BUFFER_FLOATS floats"
            )
        };
        Self {
            params,
            net: PhantomData,
        }
    }

    /// A view over the raw little-endian f32 form (`LE_BYTES` bytes, as
    /// `to_le_bytes`, `write_le_bytes` and `lenet export` write it), read in
    /// place: the bytes must be 4-byte aligned (see [`crate::include_weights!`]),
    /// the target little-endian, the length `LE_BYTES` and every
    /// value finite. Each fault is an error naming the tensor when one is
    /// at fault; nothing is copied.
    pub fn from_le_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        if cfg!(target_endian = "big") {
            return Err(Error::Weights {
                tensor: None,
                reason: WeightsFault::BigEndianTarget,
            });
        }
        let expected = storage_len::<N>() * 4;
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
        let params: &[f32] = bytemuck::try_cast_slice(bytes).map_err(|_| Error::Weights {
            tensor: None,
            reason: WeightsFault::Misaligned {
                address: bytes.as_ptr() as usize,
            },
        })?;
        Self::new(params)
    }

    /// The parameters, flat, in PyTorch's order.
    pub fn parameters(&self) -> &'a [f32] {
        self.params
    }

    /// The output of one image, with a scratch on the stack
    /// (`FORWARD_SCRATCH_FLOATS` floats).
    pub fn forward(&self, x: &N::Input) -> N::Output {
        let mut scratch = N::scratch();
        N::forward_params(self.params, x, &mut scratch)
    }

    /// The output of one image in the caller's scratch (a `static` on a
    /// microcontroller), so that the pass's stack holds no activation.
    pub fn forward_with_scratch(&self, x: &N::Input, scratch: &mut N::Scratch) -> N::Output {
        N::forward_params(self.params, x, scratch)
    }
}

/// The tensor that holds flat parameter `index`.
fn tensor_of<N: Network>(index: usize) -> Option<&'static str> {
    storage_tensors::<N>()
        .find(|(_, r)| r.contains(&index))
        .map(|(name, _)| name)
}

/// Bytes aligned for reading as `f32` where they lie: the wrapper
/// [`crate::include_weights!`] puts around an `include_bytes!`, so that
/// [`WeightsView::from_le_bytes`] can view the blob without a copy.
#[repr(C, align(4))]
pub struct Aligned<T: ?Sized>(pub T);

/// `include_bytes!` aligned to 4 bytes, as a `&'static [u8]` that
/// `N::view_le_bytes` reads in place:
///
/// ```ignore
/// static WEIGHTS: &[u8] = lenet::include_weights!("lenet5.le");
/// let net = LeNet5::view_le_bytes(WEIGHTS)?;
/// ```
#[macro_export]
macro_rules! include_weights {
    ($path:expr) => {{
        static __LENET_WEIGHTS: &$crate::weights::Aligned<[u8]> =
            &$crate::weights::Aligned(*::core::include_bytes!($path));
        &__LENET_WEIGHTS.0
    }};
}
