//! What `network!` generates: constants, layers, parameters, initialisation,
//! summary, and a forward pass checked against an independent computation.

use ndarray::Array4;

lenet::network! {
    /// LeNet-5 as in the SPEC.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}

lenet::network! {
    /// Max pooling, stride, padding and global average pooling.
    struct Mixed {
        input: [2, 9, 9],
        conv1: Conv2d(2, 3, 3, stride = 2, padding = 1),
        tanh,
        pool: MaxPool2d(2, 1),
        conv2: Conv2d(3, 4, kernel_size = 2, padding = 1),
        sigmoid,
        gap: AdaptiveAvgPool2d(1),
        flatten,
        fc: Linear(4, 3),
    }
}

#[test]
fn lenet5_constants() {
    assert_eq!(LeNet5::PARAM_COUNT, 61_706);
    assert_eq!(LeNet5::INPUT_SHAPE, [1, 32, 32]);
    assert_eq!(LeNet5::INPUT_LEN, 1024);
    assert_eq!(LeNet5::OUTPUT_SHAPE, [10]);
    assert_eq!(LeNet5::OUTPUT_LEN, 10);
    assert_eq!(LeNet5::LE_BYTES, 61_706 * 4);
    assert_eq!(
        LeNet5::ACTIVATION_SIZES,
        [4704, 4704, 1176, 1600, 1600, 400, 400, 120, 120, 84, 84, 10]
    );
    // The memory plan: conv1, relu and pool1 fused write only the pooled
    // 6×14×14 map, which lives beside conv2's fused, pooled 16×5×5 (at most
    // the SPEC's 5,880).
    assert_eq!(LeNet5::FORWARD_SCRATCH_FLOATS, 1176 + 400);
    assert!(LeNet5::TRAIN_SCRATCH_FLOATS < LeNet5::ACTIVATION_SIZES.iter().sum::<usize>() * 2);
    assert_eq!(<LeNet5 as lenet::Network>::NAME, "LeNet5");
    assert_eq!(<LeNet5 as lenet::Network>::PARAM_COUNT, 61_706);
}

/// `(name, kind, input, output, params)` of one row of `LAYERS`.
type Row<'a> = (&'a str, &'a str, &'a [usize], &'a [usize], usize);

#[test]
fn lenet5_layers_match_the_spec_table() {
    let rows: Vec<Row> = LeNet5::LAYERS
        .iter()
        .map(|l| (l.name, l.kind, l.input, l.output, l.params))
        .collect();
    let want: Vec<Row> = vec![
        ("conv1", "Conv2d(1, 6, 5)", &[1, 32, 32], &[6, 28, 28], 156),
        ("relu", "ReLU", &[6, 28, 28], &[6, 28, 28], 0),
        ("pool1", "AvgPool2d(2, 2)", &[6, 28, 28], &[6, 14, 14], 0),
        (
            "conv2",
            "Conv2d(6, 16, 5)",
            &[6, 14, 14],
            &[16, 10, 10],
            2416,
        ),
        ("relu", "ReLU", &[16, 10, 10], &[16, 10, 10], 0),
        ("pool2", "AvgPool2d(2, 2)", &[16, 10, 10], &[16, 5, 5], 0),
        ("flatten", "Flatten", &[16, 5, 5], &[400], 0),
        ("fc1", "Linear(400, 120)", &[400], &[120], 48120),
        ("relu", "ReLU", &[120], &[120], 0),
        ("fc2", "Linear(120, 84)", &[120], &[84], 10164),
        ("relu", "ReLU", &[84], &[84], 0),
        ("fc3", "Linear(84, 10)", &[84], &[10], 850),
    ];
    assert_eq!(rows, want);
}

#[test]
fn named_parameters_in_pytorch_order() {
    let net = LeNet5::new(0);
    let names: Vec<(&str, Vec<usize>, usize)> = net
        .named_parameters()
        .map(|(n, s, v)| (n, s.to_vec(), v.len()))
        .collect();
    let want: Vec<(&str, Vec<usize>, usize)> = vec![
        ("conv1.weight", vec![6, 1, 5, 5], 150),
        ("conv1.bias", vec![6], 6),
        ("conv2.weight", vec![16, 6, 5, 5], 2400),
        ("conv2.bias", vec![16], 16),
        ("fc1.weight", vec![120, 400], 48000),
        ("fc1.bias", vec![120], 120),
        ("fc2.weight", vec![84, 120], 10080),
        ("fc2.bias", vec![84], 84),
        ("fc3.weight", vec![10, 84], 840),
        ("fc3.bias", vec![10], 10),
    ];
    assert_eq!(names, want);
    assert_eq!(net.named_parameters().len(), 10);
    // Tensors follow each other in the flat array.
    let flat: Vec<f32> = net
        .named_parameters()
        .flat_map(|(_, _, v)| v.iter().copied())
        .collect();
    assert_eq!(flat.as_slice(), net.parameters());
    assert_eq!(net.parameter("fc2.bias").map(<[f32]>::len), Some(84));
    assert_eq!(
        net.parameter("conv1.weight"),
        Some(&net.parameters()[..150])
    );
    assert_eq!(net.parameter("fc4.weight"), None);
}

#[test]
fn new_is_deterministic_and_within_pytorch_bounds() {
    let a = LeNet5::new(7);
    assert_eq!(a, LeNet5::new(7));
    assert_ne!(a, LeNet5::new(8));
    for (name, _, values) in a.named_parameters() {
        let fan_in = match name.split('.').next() {
            Some("conv1") => 25.0f32,
            Some("conv2") => 150.0,
            Some("fc1") => 400.0,
            Some("fc2") => 120.0,
            _ => 84.0,
        };
        let bound = 1.0 / fan_in.sqrt();
        assert!(
            values.iter().all(|v| v.abs() <= bound),
            "{name} exceeds ±{bound}"
        );
        assert!(values.iter().any(|v| *v != 0.0), "{name} is all zero");
    }
    assert!(LeNet5::zeros().parameters().iter().all(|v| *v == 0.0));
    let debug = format!("{:?}", LeNet5::zeros());
    assert!(
        debug.contains("LeNet5") && debug.contains("61706"),
        "{debug}"
    );
}

#[test]
fn summary_has_the_table() {
    let text = LeNet5::summary().to_string();
    for needle in [
        "conv1",
        "Conv2d(1, 6, 5)",
        "fc1",
        "Linear(400, 120)",
        "48,120",
        "61,706",
    ] {
        assert!(text.contains(needle), "summary lacks {needle}:\n{text}");
    }
}

fn random_image(seed: u64, len: usize) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn forward_is_finite_and_matches_forward_batch() {
    let net = LeNet5::new(1);
    let zeros = net.forward(&[0.0; 1024]);
    assert!(zeros.iter().all(|v| v.is_finite()));
    let mut images = Vec::new();
    let mut singles = Vec::new();
    for i in 0..3 {
        let x = random_image(i, 1024);
        let arr: [f32; 1024] = x.clone().try_into().unwrap();
        singles.push(net.forward(&arr));
        images.extend(x);
    }
    let batch = Array4::from_shape_vec((3, 1, 32, 32), images).unwrap();
    let logits = net.forward_batch(batch.view()).unwrap();
    assert_eq!(logits.dim(), (3, 10));
    for (i, single) in singles.iter().enumerate() {
        assert!(single.iter().all(|v| v.is_finite()));
        for (k, v) in single.iter().enumerate() {
            assert!((logits[[i, k]] - v).abs() <= 1e-5, "image {i} class {k}");
        }
    }
    assert!(net
        .forward_batch(Array4::zeros((1, 1, 28, 28)).view())
        .is_err());
}

#[test]
fn le_bytes_round_trip() {
    let net = LeNet5::new(3);
    let bytes = net.to_le_bytes();
    assert_eq!(bytes.len(), LeNet5::LE_BYTES);
    assert_eq!(LeNet5::from_le_bytes(&bytes).unwrap(), net);
    let mut out = vec![0u8; LeNet5::LE_BYTES];
    net.write_le_bytes(&mut out).unwrap();
    assert_eq!(out, bytes);
    assert!(LeNet5::from_le_bytes(&bytes[..10]).is_err());
}

/// A plain reading of PyTorch's definitions, independent of the runtime.
mod naive {
    pub struct Map {
        pub c: usize,
        pub h: usize,
        pub w: usize,
        pub v: Vec<f32>,
    }

    impl Map {
        fn at(&self, c: usize, r: isize, col: isize) -> f32 {
            if r < 0 || col < 0 || r as usize >= self.h || col as usize >= self.w {
                return 0.0;
            }
            self.v[(c * self.h + r as usize) * self.w + col as usize]
        }
    }

    pub fn conv(x: &Map, w: &[f32], b: &[f32], co: usize, k: usize, s: usize, p: usize) -> Map {
        let ho = (x.h + 2 * p - k) / s + 1;
        let wo = (x.w + 2 * p - k) / s + 1;
        let mut v = vec![0.0; co * ho * wo];
        for o in 0..co {
            for r in 0..ho {
                for c in 0..wo {
                    let mut acc = b[o];
                    for i in 0..x.c {
                        for kr in 0..k {
                            for kc in 0..k {
                                let xr = (r * s + kr) as isize - p as isize;
                                let xc = (c * s + kc) as isize - p as isize;
                                acc += w[((o * x.c + i) * k + kr) * k + kc] * x.at(i, xr, xc);
                            }
                        }
                    }
                    v[(o * ho + r) * wo + c] = acc;
                }
            }
        }
        Map {
            c: co,
            h: ho,
            w: wo,
            v,
        }
    }

    pub fn max_pool(x: &Map, k: usize, s: usize) -> Map {
        let ho = (x.h - k) / s + 1;
        let wo = (x.w - k) / s + 1;
        let mut v = Vec::new();
        for c in 0..x.c {
            for r in 0..ho {
                for col in 0..wo {
                    let mut m = f32::NEG_INFINITY;
                    for kr in 0..k {
                        for kc in 0..k {
                            m = m.max(x.at(c, (r * s + kr) as isize, (col * s + kc) as isize));
                        }
                    }
                    v.push(m);
                }
            }
        }
        Map {
            c: x.c,
            h: ho,
            w: wo,
            v,
        }
    }

    pub fn global_avg(x: &Map) -> Vec<f32> {
        x.v.chunks(x.h * x.w)
            .map(|plane| plane.iter().sum::<f32>() / plane.len() as f32)
            .collect()
    }

    pub fn map(x: Map, f: impl Fn(f32) -> f32) -> Map {
        Map {
            v: x.v.into_iter().map(f).collect(),
            ..x
        }
    }
}

#[test]
fn mixed_network_matches_a_naive_computation() {
    assert_eq!(Mixed::OUTPUT_SHAPE, [3]);
    let shapes: Vec<&[usize]> = Mixed::LAYERS.iter().map(|l| l.output).collect();
    assert_eq!(
        shapes,
        [
            &[3, 5, 5][..],
            &[3, 5, 5],
            &[3, 4, 4],
            &[4, 5, 5],
            &[4, 5, 5],
            &[4, 1, 1],
            &[4],
            &[3]
        ]
    );
    assert_eq!(
        Mixed::LAYERS[0].kind,
        "Conv2d(2, 3, 3, stride=2, padding=1)"
    );
    assert_eq!(Mixed::LAYERS[2].kind, "MaxPool2d(2, 1)");
    assert_eq!(Mixed::LAYERS[3].kind, "Conv2d(3, 4, 2, padding=1)");
    assert_eq!(Mixed::LAYERS[5].kind, "AdaptiveAvgPool2d(1)");
    assert_eq!(
        Mixed::PARAM_COUNT,
        (2 * 9 + 1) * 3 + (3 * 4 + 1) * 4 + (4 + 1) * 3
    );

    let net = Mixed::new(11);
    let p = |name: &str| net.parameter(name).unwrap();
    for seed in 0..4 {
        let x = random_image(seed, 2 * 81);
        let arr: [f32; 162] = x.clone().try_into().unwrap();
        let got = net.forward(&arr);

        let m = naive::Map {
            c: 2,
            h: 9,
            w: 9,
            v: x,
        };
        let m = naive::conv(&m, p("conv1.weight"), p("conv1.bias"), 3, 3, 2, 1);
        let m = naive::map(m, f32::tanh);
        let m = naive::max_pool(&m, 2, 1);
        let m = naive::conv(&m, p("conv2.weight"), p("conv2.bias"), 4, 2, 1, 1);
        let m = naive::map(m, |v| 1.0 / (1.0 + (-v).exp()));
        let g = naive::global_avg(&m);
        let (w, b) = (p("fc.weight"), p("fc.bias"));
        for o in 0..3 {
            let want = b[o] + (0..4).map(|i| w[o * 4 + i] * g[i]).sum::<f32>();
            assert!(
                (got[o] - want).abs() <= 1e-5,
                "seed {seed} output {o}: {} vs {want}",
                got[o]
            );
        }
    }
}

#[test]
fn loss_and_grad_gives_gradients_under_pytorch_names() {
    let net = Mixed::new(2);
    let x = Array4::from_shape_vec((2, 2, 9, 9), random_image(5, 2 * 162)).unwrap();
    let (loss, grads) = net.loss_and_grad(x.view(), &[0, 2]).unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    let g = grads.parameter("conv1.weight").unwrap();
    assert!(g.iter().any(|v| *v != 0.0));
    // A finite difference on one weight of the first layer agrees.
    let eps = 1e-2;
    let mut plus = net.clone();
    plus.parameters_mut()[4] += eps;
    let mut minus = net.clone();
    minus.parameters_mut()[4] -= eps;
    let lp = plus.loss_and_grad(x.view(), &[0, 2]).unwrap().0;
    let lm = minus.loss_and_grad(x.view(), &[0, 2]).unwrap().0;
    let fd = (lp - lm) / (2.0 * eps);
    assert!(
        (fd - grads.parameters()[4]).abs() < 2e-3,
        "{fd} vs {}",
        grads.parameters()[4]
    );
}

#[test]
fn type_level_shapes_are_the_declared_ones() {
    use lenet::shape::consts::{U1, U10, U2, U3, U32, U9};
    use lenet::shape::{NetworkShapes, Shape, Shape1, Shape3};
    use std::marker::PhantomData;
    /// Compiles only when both are the same type.
    fn same<T>(_: PhantomData<T>, _: PhantomData<T>) {}
    same(
        PhantomData::<<LeNet5 as NetworkShapes>::Input>,
        PhantomData::<Shape3<U1, U32, U32>>,
    );
    same(
        PhantomData::<<LeNet5 as NetworkShapes>::Output>,
        PhantomData::<Shape1<U10>>,
    );
    same(
        PhantomData::<<Mixed as NetworkShapes>::Input>,
        PhantomData::<Shape3<U2, U9, U9>>,
    );
    same(
        PhantomData::<<Mixed as NetworkShapes>::Output>,
        PhantomData::<Shape1<U3>>,
    );
    assert_eq!(<<LeNet5 as NetworkShapes>::Input as Shape>::LEN, 1024);
    assert_eq!(<<Mixed as NetworkShapes>::Output as Shape>::LEN, 3);
}
