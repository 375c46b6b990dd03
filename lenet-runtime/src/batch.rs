//! Batches: ndarray in and out, checked shapes, and the batch split across
//! the cores with a reduction in a fixed order.

use ndarray::{Array2, ArrayView4};
use rayon::prelude::*;
use std::cell::RefCell;

use crate::error::{Error, LabelFault};
use crate::network::{Batched, Network, Pass, TrainBlock};

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
    let n = images.dim().0;
    let mut out = Array2::zeros((n, N::OUTPUT_LEN));
    let slice = out
        .as_slice_mut()
        .expect("a new array is in standard layout");
    forward_batch_into(net, images, slice)?;
    Ok(out)
}

/// Logits of a batch written to `out` (`N · OUTPUT_LEN` floats, image after
/// image). The batch is cut into one chunk per thread; each thread runs its
/// images in its own planned workspace, kept from call to call, so that
/// after a thread's first call nothing is allocated (for images in standard
/// layout; others are copied once per call).
pub fn forward_batch_into<N: Batched>(
    net: &N,
    images: ArrayView4<'_, f32>,
    out: &mut [f32],
) -> Result<(), Error> {
    check_images::<N>(&images)?;
    let n = images.dim().0;
    if out.len() != n * N::OUTPUT_LEN {
        return Err(Error::OutputLength {
            expected: n * N::OUTPUT_LEN,
            found: out.len(),
        });
    }
    let x = images.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let chunk = chunk_len(n, 8);
    let sizes = (chunk * N::INPUT_LEN, chunk * N::OUTPUT_LEN);
    in_parallel(x, out, sizes, &|x, y| net.forward_slice(x, y));
    Ok(())
}

/// `f` on each pair of chunks of `x` and `out` (of `sizes.0` and `sizes.1`
/// floats), in parallel; compiled once here, not once per network.
#[inline(never)]
fn in_parallel(
    x: &[f32],
    out: &mut [f32],
    (in_chunk, out_chunk): (usize, usize),
    f: &(dyn Fn(&[f32], &mut [f32]) + Sync),
) {
    out.par_chunks_mut(out_chunk.max(1))
        .zip(x.par_chunks(in_chunk.max(1)))
        .for_each(|(y, x)| f(x, y));
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
    let mut grads = N::zeros();
    let loss = loss_and_grad_into(net, images, labels, &mut grads)?;
    Ok((loss, grads))
}

/// [`loss_and_grad`] into a gradient the caller keeps (overwritten): the
/// training step that allocates nothing after its first call. Each thread
/// runs its chunk in its own planned workspace; the chunks' gradients
/// (but the first, computed into `grads`) are kept by the calling thread
/// from call to call.
pub fn loss_and_grad_into<N: Batched>(
    net: &N,
    images: ArrayView4<'_, f32>,
    labels: &[usize],
    grads: &mut N,
) -> Result<f32, Error> {
    grads.take_training_state(net);
    grads.set_dropout_seed(net.dropout_seed());
    grads.set_training_steps(net.training_steps() + 1);
    let (g, buffers, counters) = grads.training_parts_mut();
    Ok(loss_grad_pass(net, images, labels, g, buffers, counters)?.0)
}

std::thread_local! {
    /// The chunks' passes and gradients (all but the first chunk's), kept
    /// by the thread that asks for a batch gradient.
    static PARTIALS: RefCell<(Vec<Pass>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The mean loss of a batch, how many images the forward pass classified
/// right, and the gradient written to `grads` (`PARAM_COUNT` floats);
/// `buffers` and `counters` (the network's running statistics and counters,
/// copied) take the update of a batch norm in training.
pub(crate) fn loss_grad_pass<N: Batched>(
    net: &N,
    images: ArrayView4<'_, f32>,
    labels: &[usize],
    grads: &mut [f32],
    buffers: &mut [f32],
    counters: &mut [i64],
) -> Result<(f32, usize), Error> {
    check_images::<N>(&images)?;
    let n = images.dim().0;
    check_labels::<N>(n, labels)?;
    let x = images.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let scale = 1.0 / n as f32;
    let chunk = if N::WHOLE_BATCH { n } else { chunk_len(n, 1) };
    let cut = Cut {
        n,
        chunk,
        input_len: N::INPUT_LEN,
        param_count: N::PARAM_COUNT,
        scale,
    };
    let slice = |x: &[f32], labels: &[usize], block: TrainBlock<'_>, g: &mut [f32]| {
        net.loss_grad_slice(x, labels, block, g)
    };
    Ok(run_chunks(
        cut,
        (x, labels),
        grads,
        (buffers, counters),
        &slice,
    ))
}

/// How a training batch is cut: `n` images, `chunk` per thread, each of
/// `input_len` floats; gradients of `param_count` floats; each image's loss
/// scaled by `scale`.
#[derive(Clone, Copy)]
struct Cut {
    n: usize,
    chunk: usize,
    input_len: usize,
    param_count: usize,
    scale: f32,
}

/// A network's [`Batched::loss_grad_slice`], behind a reference.
type SliceFn<'n> = dyn Fn(&[f32], &[usize], TrainBlock<'_>, &mut [f32]) -> Pass + Sync + 'n;

/// The chunks of [`loss_grad_pass`], each on a thread, summed in order;
/// compiled once here, not once per network.
#[inline(never)]
fn run_chunks(
    cut: Cut,
    (x, labels): (&[f32], &[usize]),
    grads: &mut [f32],
    (buffers, counters): (&mut [f32], &mut [i64]),
    slice: &SliceFn<'_>,
) -> (f32, usize) {
    let Cut {
        n,
        chunk,
        input_len,
        param_count: pc,
        scale,
    } = cut;
    let chunks = n.div_ceil(chunk);
    let mut run = |passes: &mut Vec<Pass>, partials: &mut Vec<f32>| {
        passes.clear();
        passes.resize(chunks, Pass::default());
        partials.resize((chunks - 1) * pc, 0.0);
        let partials = &mut partials[..(chunks - 1) * pc];
        grads.fill(0.0);
        partials.fill(0.0);
        if chunks == 1 {
            let block = TrainBlock {
                scale,
                first_image: 0,
                buffers: &mut *buffers,
                counters: &mut *counters,
            };
            passes[0] = slice(x, labels, block, grads);
        } else {
            let dests = rayon::iter::once(&mut *grads).chain(partials.par_chunks_mut(pc.max(1)));
            passes
                .par_iter_mut()
                .zip(dests)
                .zip(x.par_chunks(chunk * input_len))
                .zip(labels.par_chunks(chunk))
                .enumerate()
                .for_each(|(k, (((pass, g), x), labels))| {
                    // Only a network without batch norm is split: it has no
                    // running statistics to update.
                    let block = TrainBlock {
                        scale,
                        first_image: k * chunk,
                        buffers: &mut [],
                        counters: &mut [],
                    };
                    *pass = slice(x, labels, block, g);
                });
        }
        for p in partials.chunks_exact(pc.max(1)) {
            for (acc, v) in grads.iter_mut().zip(p) {
                *acc += v;
            }
        }
        let (mut loss, mut correct) = (0.0f64, 0);
        for pass in passes.iter() {
            loss += pass.loss as f64;
            correct += pass.correct;
        }
        ((loss / n as f64) as f32, correct)
    };
    PARTIALS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut kept) => {
            let (passes, partials) = &mut *kept;
            run(passes, partials)
        }
        Err(_) => run(&mut Vec::new(), &mut Vec::new()),
    })
}
