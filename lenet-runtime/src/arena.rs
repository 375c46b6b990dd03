//! The planned scratch memory of a pass: the macro places every buffer of a
//! pass at an offset in one arena (by liveness, see `FORWARD_SCRATCH_FLOATS`
//! and `TRAIN_SCRATCH_FLOATS`); the generated code takes each step's input
//! and output out of it with [`split`]. With `std`, batch passes run in an
//! arena kept per thread ([`with_workspace`]), grown once and reused.

use core::ops::Range;

/// The most floats of scratch a network's `forward` keeps on the stack
/// (32 KiB). With `std`, a larger arena is the thread's workspace
/// ([`with_workspace`]): zeroing a large stack array on every call would
/// cost more than the small networks' whole pass (MobileNetV1-0.25's arena
/// is about 300 KB).
pub const STACK_SCRATCH_FLOATS: usize = 8 * 1024;

/// A value on a cache line's boundary (64 bytes): the arena of `forward`,
/// so that the kernels' vectors over its buffers (placed at multiples of 16
/// floats) do not straddle two lines.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy)]
pub struct Aligned<T>(pub T);

/// The arena cut for one step: `reads` as shared slices, `write` as the one
/// mutable slice. A read range that is empty may lie anywhere.
///
/// # Panics
/// If a non-empty read range overlaps `write` or a range lies outside the
/// arena: the plan never asks for either.
#[inline]
pub fn split<'a, const K: usize>(
    arena: &'a mut [f32],
    reads: [Range<usize>; K],
    write: Range<usize>,
) -> ([&'a [f32]; K], &'a mut [f32]) {
    let mut out: [&'a [f32]; K] = [&[]; K];
    let w = split_slices(arena, &reads, write, &mut out);
    (out, w)
}

/// [`split`] with the reads as slices, compiled once here: a network's
/// generated code makes one call per step and instantiates nothing.
#[inline(never)]
fn split_slices<'a>(
    arena: &'a mut [f32],
    reads: &[Range<usize>],
    write: Range<usize>,
    out: &mut [&'a [f32]],
) -> &'a mut [f32] {
    let (lo, rest) = arena.split_at_mut(write.start);
    let (w, hi) = rest.split_at_mut(write.end - write.start);
    let (lo, hi): (&'a [f32], &'a [f32]) = (lo, hi);
    for (out, r) in out.iter_mut().zip(reads) {
        *out = if r.start == r.end {
            &[][..]
        } else if r.end <= write.start {
            &lo[r.clone()]
        } else if r.start >= write.end {
            &hi[r.start - write.end..r.end - write.end]
        } else {
            panic!("memory plan: a read overlaps the write")
        };
    }
    w
}

#[cfg(feature = "std")]
std::thread_local! {
    static WORKSPACE: core::cell::RefCell<std::vec::Vec<f32>> =
        const { core::cell::RefCell::new(std::vec::Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's workspace, starting on a cache
/// line's boundary (their contents are whatever an earlier pass left:
/// planned passes write before they read).
/// The workspace grows to the largest length asked for and stays, so that
/// passes allocate only the first time.
#[cfg(feature = "std")]
pub fn with_workspace<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let (mut f, mut out) = (Some(f), None);
    in_workspace(len, &mut |ws| {
        if let Some(f) = f.take() {
            out = Some(f(ws));
        }
    });
    out.expect("the workspace runs its pass once")
}

/// [`with_workspace`] with the pass behind a reference, compiled once here
/// (not once per network and closure).
#[cfg(feature = "std")]
#[inline(never)]
fn in_workspace(len: usize, f: &mut dyn FnMut(&mut [f32])) {
    WORKSPACE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut ws) => {
            // Room to start the slice on a cache line's boundary.
            let need = len + 15;
            if ws.len() < need {
                ws.resize(need, 0.0);
            }
            let skip = (64 - ws.as_ptr() as usize % 64) % 64 / 4;
            f(&mut ws[skip..skip + len])
        }
        // Re-entered (a pass inside a pass): a workspace of its own.
        Err(_) => f(&mut std::vec![0.0; len]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_hands_out_disjoint_slices() {
        let mut a: [f32; 10] = core::array::from_fn(|i| i as f32);
        let ([r0, r1, r2], w) = split(&mut a, [0..2, 7..10, 3..3], 2..7);
        assert_eq!(r0, [0.0, 1.0]);
        assert_eq!(r1, [7.0, 8.0, 9.0]);
        assert!(r2.is_empty());
        assert_eq!(w, [2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    #[should_panic(expected = "overlaps")]
    #[allow(clippy::single_range_in_vec_init)]
    fn split_refuses_an_overlap() {
        let mut a = [0.0f32; 10];
        let _ = split(&mut a, [1..4], 3..5);
    }
}
