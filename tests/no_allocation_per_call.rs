//! Batch inference and a training step allocate nothing after their first
//! call: the planned workspace is kept per thread, the chunks' gradients by
//! the calling thread, the optimiser's state by the optimiser. `forward`
//! allocates nothing after a thread's first call either, with its arena on
//! the stack (LeNet-5) or, larger than `STACK_SCRATCH_FLOATS`, in the
//! thread's workspace. Counted by a global allocator of this test binary's
//! own, at 1 and 2 rayon threads.

// A global allocator is an `unsafe` trait: this binary counts allocations.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use lenet::optim::{Adam, Sgd};
use ndarray::{Array2, Array4};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only
// counts allocations on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `alloc`; `ptr` came from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

lenet::network! {
    struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        tanh,
        fc3: Linear(84, 10),
    }
}

/// Allocations made by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

fn batch(n: usize) -> (Array4<f32>, Vec<usize>) {
    let images = Array4::from_shape_fn((n, 1, 32, 32), |(i, _, h, w)| {
        ((i * 7 + h * 3 + w) % 11) as f32 / 11.0 - 0.5
    });
    let labels = (0..n).map(|i| i % 10).collect();
    (images, labels)
}

fn at_threads(threads: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut net = LeNet5::new(1);
        let mut grads = LeNet5::zeros();
        let mut sgd = Sgd::new(0.01).momentum(0.9).weight_decay(5e-4);
        let mut adam = Adam::new(1e-3);
        let (images, labels) = batch(64);
        let mut logits = Array2::<f32>::zeros((64, 10));
        let out = logits.as_slice_mut().unwrap();

        // First calls: every thread grows its workspace (and its kernels'
        // scratch) the first time it runs a block, whichever chunk the
        // scheduler hands it; the calling thread its partial gradients; the
        // optimisers their state.
        rayon::broadcast(|_| {
            let x = images.as_slice().unwrap();
            let block = &x[..lenet::model::SUB_BATCH * LeNet5::INPUT_LEN];
            let mut g = vec![0.0; LeNet5::PARAM_COUNT];
            let mut y = vec![0.0; lenet::model::SUB_BATCH * LeNet5::OUTPUT_LEN];
            lenet::Batched::forward_slice(&net, block, &mut y);
            let labels = &labels[..lenet::model::SUB_BATCH];
            let train = lenet::model::TrainBlock {
                scale: 1.0,
                first_image: 0,
                buffers: &mut [],
                counters: &mut [],
            };
            lenet::Batched::loss_grad_slice(&net, block, labels, train, &mut g);
        });
        for _ in 0..2 {
            net.forward_batch_into(images.view(), out).unwrap();
            net.loss_and_grad_into(images.view(), &labels, &mut grads)
                .unwrap();
            sgd.step(&mut net, &grads);
            adam.step(&mut net, &grads);
        }

        for call in 0..20 {
            let n = allocations(|| net.forward_batch_into(images.view(), out).unwrap());
            assert_eq!(n, 0, "forward_batch_into, call {call}, {threads} threads");
            let n = allocations(|| {
                let loss = net
                    .loss_and_grad_into(images.view(), &labels, &mut grads)
                    .unwrap();
                assert!(loss.is_finite());
                sgd.step(&mut net, &grads);
            });
            assert_eq!(
                n, 0,
                "training step with SGD, call {call}, {threads} threads"
            );
            let n = allocations(|| adam.step(&mut net, &grads));
            assert_eq!(n, 0, "Adam step, call {call}, {threads} threads");
        }

        // The `_into` passes give what the allocating ones give.
        let expected = net.forward_batch(images.view()).unwrap();
        net.forward_batch_into(images.view(), out).unwrap();
        assert_eq!(expected.as_slice().unwrap(), &out[..]);
        let (loss, g) = net.loss_and_grad(images.view(), &labels).unwrap();
        let loss_into = net
            .loss_and_grad_into(images.view(), &labels, &mut grads)
            .unwrap();
        assert_eq!(loss, loss_into);
        assert_eq!(g, grads);
    });
}

lenet::network! {
    /// An arena of 2·8×40×40 floats: more than `STACK_SCRATCH_FLOATS`.
    struct Wide {
        input: [3, 40, 40],
        conv1: Conv2d(3, 8, 3, padding = 1),
        bn1: BatchNorm2d(8),
        relu,
        conv2: Conv2d(8, 8, 3, padding = 1, groups = 8, bias = false),
        relu6,
        pool: AvgPool2d(4),
        flatten,
        fc: Linear(800, 5),
    }
}

fn single_image_forward() {
    let net = LeNet5::new(3);
    let x = [0.25f32; 1024];
    // The first call grows the thread's kernel scratch (the map a fused
    // convolution pools from), once.
    let want = net.forward(&x);
    for call in 0..5 {
        let n = allocations(|| assert_eq!(net.forward(&x), want));
        assert_eq!(n, 0, "LeNet-5's forward, call {call}");
    }

    let wide = Wide::new(4);
    const { assert!(Wide::FORWARD_SCRATCH_FLOATS > lenet::STACK_SCRATCH_FLOATS) };
    let x: Vec<f32> = (0..Wide::INPUT_LEN)
        .map(|i| (i % 13) as f32 / 13.0)
        .collect();
    let x: &[f32; 4800] = x.as_slice().try_into().unwrap();
    let first = wide.forward(x);
    for call in 0..5 {
        let n = allocations(|| assert_eq!(wide.forward(x), first));
        assert_eq!(n, 0, "a large arena's forward, call {call}");
    }
    // The same logits as in a scratch of the caller's.
    let mut scratch = vec![0.0; Wide::FORWARD_SCRATCH_FLOATS];
    let scratch = scratch.as_mut_slice().try_into().unwrap();
    assert_eq!(wide.forward_with_scratch(x, scratch), first);
}

// One test function: the count is process-wide, so no other test may run
// beside it.
#[test]
fn no_allocation_per_call_after_the_first() {
    single_image_forward();
    at_threads(1);
    at_threads(2);
}
