//! Batches: ndarray in and out, checked shapes, and the batch split across
//! the cores with a reduction in a fixed order.

use ndarray::{Array2, ArrayView4};
use rayon::prelude::*;

use crate::error::{Error, LabelFault};
use crate::network::{Batched, Network};

/// Checks that `images` is `N×C×H×W` with the network's `C×H×W`.
pub fn check_images<N: Network>(images: &ArrayView4<'_, f32>) -> Result<(), Error> {
    let (n, c, h, w) = images.dim();
    if [c, h, w] != N::INPUT_SHAPE {
        return Err(Error::InputShape {
            expected: N::INPUT_SHAPE,
            found: [n, c, h, w],
        });
    }
    Ok(())
}

/// Checks one label per image, each below the number of classes.
pub fn check_labels<N: Network>(images: usize, labels: &[usize]) -> Result<(), Error> {
    if images == 0 {
        return Err(Error::Labels {
            reason: LabelFault::Empty,
        });
    }
    if labels.len() != images {
        return Err(Error::Labels {
            reason: LabelFault::Count {
                images,
                labels: labels.len(),
            },
        });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= N::OUTPUT_LEN) {
        return Err(Error::Labels {
            reason: LabelFault::OutOfRange {
                index,
                label,
                classes: N::OUTPUT_LEN,
            },
        });
    }
    Ok(())
}

/// How many images each worker takes: the batch cut into one contiguous
/// chunk per thread (at least `min` images each), so that the cut depends only
/// on the batch size and the thread count.
pub(crate) fn chunk_len(n: usize, min: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    n.div_ceil(threads).max(min)
}

/// Logits of a batch, `N × OUTPUT_LEN`.
pub fn forward_batch<N: Batched>(
    net: &N,
    images: ArrayView4<'_, f32>,
) -> Result<Array2<f32>, Error> {
    check_images::<N>(&images)?;
    let n = images.dim().0;
    let x = images.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let mut out = vec![0.0f32; n * N::OUTPUT_LEN];
    let chunk = chunk_len(n, 8);
    out.par_chunks_mut(chunk * N::OUTPUT_LEN)
        .zip(x.par_chunks(chunk * N::INPUT_LEN))
        .for_each(|(y, x)| net.forward_slice(x, y));
    Ok(Array2::from_shape_vec((n, N::OUTPUT_LEN), out).expect("length is n · OUTPUT_LEN"))
}

/// Mean softmax cross-entropy over the batch and the gradient of every
/// parameter, as a network of the same type.
///
/// The batch is cut into one chunk per thread; each chunk's gradient is
/// computed on its own and the chunks are summed in order, so the result
/// depends only on the inputs and the thread count.
pub fn loss_and_grad<N: Batched>(
    net: &N,
    images: ArrayView4<'_, f32>,
    labels: &[usize],
) -> Result<(f32, N), Error> {
    check_images::<N>(&images)?;
    let n = images.dim().0;
    check_labels::<N>(n, labels)?;
    let x = images.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let scale = 1.0 / n as f32;
    let chunk = chunk_len(n, 1);
    let parts: Vec<(f32, Vec<f32>)> = x
        .par_chunks(chunk * N::INPUT_LEN)
        .zip(labels.par_chunks(chunk))
        .map(|(x, labels)| {
            let mut g = vec![0.0f32; N::PARAM_COUNT];
            let loss = net.loss_grad_slice(x, labels, scale, &mut g).loss;
            (loss, g)
        })
        .collect();
    let mut grads = N::zeros();
    let mut loss = 0.0f64;
    for (l, g) in &parts {
        loss += *l as f64;
        for (acc, v) in grads.parameters_mut().iter_mut().zip(g) {
            *acc += v;
        }
    }
    Ok(((loss / n as f64) as f32, grads))
}
