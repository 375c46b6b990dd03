//! Where a generated network keeps its parameters: on the heap with `std`
//! (so that no value the size of the parameters ever moves through the
//! stack, whatever the network's size), inline without `std` (no heap).

use core::fmt;

/// `N` parameters, flat, in PyTorch's order.
///
/// With `std` they live in one heap allocation made from a zeroed `vec!`
/// (never a stack array moved into a box): creating, cloning and dropping a
/// network of any size touches the stack with a pointer only. Without
/// `std` they are an inline `[f32; N]`; embedded code runs from a
/// [`crate::weights::WeightsView`] over the weights where they lie instead.
#[derive(PartialEq)]
pub struct Params<const N: usize> {
    #[cfg(feature = "std")]
    values: std::boxed::Box<[f32; N]>,
    #[cfg(not(feature = "std"))]
    values: [f32; N],
}

impl<const N: usize> Params<N> {
    /// `N` zeros.
    pub fn zeros() -> Self {
        #[cfg(feature = "std")]
        {
            Self {
                values: boxed(std::vec![0.0; N]),
            }
        }
        #[cfg(not(feature = "std"))]
        {
            Self { values: [0.0; N] }
        }
    }

    /// The parameters as an array.
    pub fn as_array(&self) -> &[f32; N] {
        &self.values
    }

    /// The parameters as a slice.
    pub fn as_slice(&self) -> &[f32] {
        &self.values[..]
    }

    /// The parameters as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.values[..]
    }
}

/// A vector of exactly `N` floats as a boxed array, without a copy.
#[cfg(feature = "std")]
fn boxed<const N: usize>(v: std::vec::Vec<f32>) -> std::boxed::Box<[f32; N]> {
    match v.into_boxed_slice().try_into() {
        Ok(b) => b,
        Err(_) => unreachable!("the vector holds N floats"),
    }
}

impl<const N: usize> Clone for Params<N> {
    fn clone(&self) -> Self {
        #[cfg(feature = "std")]
        {
            Self {
                values: boxed(self.values.to_vec()),
            }
        }
        #[cfg(not(feature = "std"))]
        {
            Self {
                values: self.values,
            }
        }
    }
}

impl<const N: usize> fmt::Debug for Params<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Params<{N}>")
    }
}
