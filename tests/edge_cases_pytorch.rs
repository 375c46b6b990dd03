//! IEEE special values and ties, against PyTorch.
//!
//! `scripts/make_fixtures.py` (`write_edge_cases`) computes in PyTorch, in
//! float32 on the CPU as a user's model would: max pooling over windows
//! with ties, ±0, NaN and infinities (forward, and which position of the
//! window the backward pass routes the gradient to); relu of NaN, ±inf and
//! ±0 (forward and backward); and softmax cross-entropy with +inf, −inf
//! and NaN logits (loss and gradient). lenet runs the same through its
//! public API only — networks from `lenet::network!`, `forward`,
//! `forward_batch`, `loss_and_grad`, `from_safetensors` and
//! `lenet::loss::softmax_cross_entropy` — and must agree: bit for bit where
//! PyTorch's result is exact (pooling and relu outputs, non-finite values,
//! which position gets a gradient), within rounding where it is computed
//! (finite losses and gradients). A NaN matches any NaN.

use ndarray::{Array4, ArrayView4};
use safetensors::tensor::{Dtype, SafeTensors};

lenet::network! {
    /// Max pooling alone: the output is the pooled input, 2×2 windows.
    struct PoolOnly {
        input: [1, 4, 4],
        pool: MaxPool2d(2, 2),
        flatten,
    }
}

lenet::network! {
    /// ReLU alone.
    struct ReluOnly {
        input: [1, 2, 5],
        relu,
        flatten,
    }
}

lenet::network! {
    /// One 2×2 window; channel 1 holds tags that `mix` multiplies by zero,
    /// so that the gradient of `mix.weight[1]` is the gradient routed to
    /// the window's chosen position times its tag (the fixture's `TagNet`).
    struct PoolTags {
        input: [2, 2, 2],
        mix: Conv2d(2, 1, 1),
        pool: MaxPool2d(2, 2),
        flatten,
        fc: Linear(1, 3),
    }
}

lenet::network! {
    /// One value through relu, tagged the same way.
    struct ReluTags {
        input: [2, 1, 1],
        mix: Conv2d(2, 1, 1),
        relu,
        flatten,
        fc: Linear(1, 3),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Fixture {
    bytes: Vec<u8>,
}

impl Fixture {
    fn load() -> Self {
        Self {
            bytes: fixture("edge_cases.safetensors"),
        }
    }

    fn f32s(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.dtype(), Dtype::F32, "{name}");
        let v = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (t.shape().to_vec(), v)
    }

    fn labels(&self, name: &str) -> Vec<usize> {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap();
        assert_eq!(t.dtype(), Dtype::I64, "{name}");
        t.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as usize)
            .collect()
    }

    fn images(&self, name: &str) -> Array4<f32> {
        let (s, v) = self.f32s(name);
        Array4::from_shape_vec((s[0], s[1], s[2], s[3]), v).unwrap()
    }
}

/// Bit for bit; any NaN matches any NaN.
fn assert_exact(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = if w.is_nan() {
            g.is_nan()
        } else {
            g.to_bits() == w.to_bits()
        };
        assert!(
            same,
            "{what}[{i}]: lenet {g:e} ({:#010x}), PyTorch {w:e} ({:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

/// NaN for NaN, infinities and zeros exactly (zeros of either sign),
/// finite values within `rel` of PyTorch's.
fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() || *w == 0.0 {
            g == w
        } else {
            g.is_finite() && (g - w).abs() <= rel * w.abs()
        };
        assert!(ok, "{what}[{i}]: lenet {g:e}, PyTorch {w:e}");
    }
}

#[test]
fn max_pool_forward_matches_pytorch_on_ties_zeros_nan_and_infinities() {
    let f = Fixture::load();
    let x = f.images("pool.input");
    let (_, want) = f.f32s("pool.output");
    let net = PoolOnly::new(0);
    // One image at a time (the embedding path)…
    let mut got = Vec::new();
    for img in x.outer_iter() {
        let img: [f32; 16] = img.iter().copied().collect::<Vec<_>>().try_into().unwrap();
        got.extend(net.forward(&img));
    }
    assert_exact("forward", &got, &want);
    // …and the batch.
    let batch = net.forward_batch(x.view()).unwrap();
    assert_exact("forward_batch", batch.as_slice().unwrap(), &want);
}

/// A network's gradients by name, as the tests compare them.
type Grads = Vec<(&'static str, Vec<f32>)>;

/// Loss and gradients of each image of `prefix` alone (`loss_and_grad`
/// gives them for a batch of one) against PyTorch's; where PyTorch's are
/// finite, also which tag the gradient was routed to, exactly.
fn per_image(
    f: &Fixture,
    prefix: &str,
    loss_and_grad: impl Fn(ArrayView4<f32>, &[usize]) -> (f32, Grads),
) {
    let x = f.images(&format!("{prefix}.input"));
    let labels = f.labels(&format!("{prefix}.labels"));
    let (_, losses) = f.f32s(&format!("{prefix}.loss"));
    for (k, label) in labels.iter().enumerate() {
        let one = x.slice(ndarray::s![k..k + 1, .., .., ..]);
        let input: Vec<f32> = one.iter().copied().collect();
        let (loss, grads) = loss_and_grad(one, &[*label]);
        let case = format!("{prefix} image {k} {input:?}, label {label}");
        assert_close(&format!("{case}: loss"), &[loss], &[losses[k]], 1e-5);
        let mut tag = None;
        for (name, got) in &grads {
            let (shape, all) = f.f32s(&format!("{prefix}.grad.{name}"));
            let per = shape[1..].iter().product::<usize>();
            let want = &all[k * per..(k + 1) * per];
            assert_close(&format!("{case}: grad {name}"), got, want, 1e-5);
            if *name == "mix.weight" {
                tag = Some((got[1], want[1]));
            }
            if *name == "mix.bias" {
                let (gw, ww) = tag.unwrap();
                // Tags are powers of two: the quotient is exact.
                if ww.is_finite() && want[0] != 0.0 && want[0].is_finite() {
                    assert_eq!(gw / got[0], ww / want[0], "{case}: the tag routed to");
                }
            }
        }
    }
}

/// `loss_and_grad` of a generated network, its gradients by name.
macro_rules! loss_and_grad {
    ($net:expr) => {
        |x: ArrayView4<f32>, labels: &[usize]| {
            let (loss, grads) = $net.loss_and_grad(x, labels).unwrap();
            let named = grads
                .named_parameters()
                .map(|(name, _, v)| (name, v.to_vec()))
                .collect();
            (loss, named)
        }
    };
}

#[test]
fn max_pool_backward_routes_the_gradient_where_pytorch_does() {
    let f = Fixture::load();
    let net = PoolTags::from_safetensors(&fixture("edge_pool.weights.safetensors")).unwrap();
    per_image(&f, "poolgrad", loss_and_grad!(net));
}

#[test]
fn relu_forward_matches_pytorch_on_nan_infinities_and_zeros() {
    let f = Fixture::load();
    let x = f.images("relu.input");
    let (_, want) = f.f32s("relu.output");
    let net = ReluOnly::new(0);
    let img: [f32; 10] = x.iter().copied().collect::<Vec<_>>().try_into().unwrap();
    assert_exact("forward", &net.forward(&img), &want);
    let batch = net.forward_batch(x.view()).unwrap();
    assert_exact("forward_batch", batch.as_slice().unwrap(), &want);
}

#[test]
fn relu_backward_matches_pytorch_on_nan_infinities_and_zeros() {
    let f = Fixture::load();
    let net = ReluTags::from_safetensors(&fixture("edge_relu.weights.safetensors")).unwrap();
    per_image(&f, "relugrad", loss_and_grad!(net));
}

#[test]
fn softmax_cross_entropy_matches_pytorch_with_infinite_and_nan_logits() {
    let f = Fixture::load();
    let (shape, logits) = f.f32s("ce.logits");
    let labels = f.labels("ce.labels");
    let (_, losses) = f.f32s("ce.loss");
    let (_, grads) = f.f32s("ce.grad");
    let k = shape[1];
    for (i, &label) in labels.iter().enumerate() {
        let z = &logits[i * k..(i + 1) * k];
        let mut d = vec![0.0; k];
        let loss = lenet::loss::softmax_cross_entropy(z, label, 1.0, &mut d);
        let case = format!("logits {z:?}, label {label}");
        assert_close(&format!("{case}: loss"), &[loss], &[losses[i]], 1e-6);
        assert_close(
            &format!("{case}: gradient"),
            &d,
            &grads[i * k..(i + 1) * k],
            1e-6,
        );
    }
}
