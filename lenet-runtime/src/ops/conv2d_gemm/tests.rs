//! The convolution as a matrix product against the direct specification,
//! forward and backward, at every level this CPU runs, over pointwise,
//! strided, padded, dilated and rectangular geometries; the fused epilogue
//! against the unfused chain (bit for bit); the matrix product and the dot
//! products against plain loops.

use proptest::prelude::*;

use super::kernels::{dots_at, gemm_at, row_sums_at};
use super::{scalar, Clamp, Epilogue, EvalNorm, GemmConv2dLayer};
use crate::ops::conv2d_general::tests::{check, out};
use crate::ops::test_support::{assert_close, levels, Rng};
use crate::ops::{BatchNormLayer, Layer};

macro_rules! gemm_conv {
    ($($name:ident: ($ci:literal, $co:literal, ($kh:literal, $kw:literal), ($sh:literal, $sw:literal),
        ($ph:literal, $pw:literal), ($dh:literal, $dw:literal), $bias:literal, $h:literal, $w:literal);)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(6))]
            $(
                #[test]
                fn $name(seed in any::<u64>(), n in 1usize..5) {
                    type L = GemmConv2dLayer<$ci, $co, $kh, $kw, $sh, $sw, $ph, $pw, $dh, $dw, $bias,
                        $h, $w, { out($h, $kh, $sh, $ph, $dh) }, { out($w, $kw, $sw, $pw, $dw) }>;
                    check::<L>("conv2d_gemm", &L::GEOM, seed, n);
                }
            )*
        }
    };
}

gemm_conv! {
    pw_dscnn: (64, 64, (1, 1), (1, 1), (0, 0), (1, 1), true, 25, 5);
    pw_mobilenet_small_map: (24, 40, (1, 1), (1, 1), (0, 0), (1, 1), false, 3, 3);
    pw_small_map_bias: (19, 21, (1, 1), (1, 1), (0, 0), (1, 1), true, 2, 5);
    pw_mobilenet_6x6: (16, 19, (1, 1), (1, 1), (0, 0), (1, 1), false, 6, 6);
    pw_wide_map: (3, 13, (1, 1), (1, 1), (0, 0), (1, 1), true, 9, 21);
    pw_one_channel: (1, 1, (1, 1), (1, 1), (0, 0), (1, 1), true, 1, 1);
    pw_many_rows: (5, 37, (1, 1), (1, 1), (0, 0), (1, 1), true, 4, 17);
    k1_stride2: (4, 6, (1, 1), (2, 2), (0, 0), (1, 1), true, 7, 9);
    k1_padded: (3, 5, (1, 1), (1, 1), (1, 1), (1, 1), false, 4, 5);
    mobilenet_first: (3, 8, (3, 3), (2, 2), (1, 1), (1, 1), false, 24, 24);
    dscnn_first: (1, 12, (10, 4), (2, 2), (5, 1), (1, 1), true, 49, 10);
    square_k5: (6, 16, (5, 5), (1, 1), (0, 0), (1, 1), true, 14, 14);
    dilated_rect: (2, 7, (3, 2), (1, 2), (2, 1), (2, 3), true, 9, 10);
    stride3_wide: (2, 3, (5, 5), (3, 3), (2, 2), (1, 1), false, 11, 40);
    wide_rows_s1: (2, 3, (3, 3), (1, 1), (1, 1), (1, 1), true, 5, 37);
    wide_rows_s2: (3, 4, (3, 3), (2, 2), (1, 1), (1, 1), false, 6, 70);
    wide_rows_s2_dilated: (2, 3, (3, 2), (1, 2), (2, 1), (2, 3), true, 7, 80);
    wide_rows_s3: (2, 2, (3, 3), (3, 3), (1, 1), (1, 1), true, 7, 60);
}

/// `c = epilogue(a · b)` with `a` through either pair of strides, against
/// the plain loops, at every level.
#[test]
fn matrix_product_matches_plain_loops() {
    let mut rng = Rng::new(7);
    let shapes = [
        (1, 1, 1),
        (3, 5, 2),
        (7, 16, 9),
        (17, 33, 4),
        (6, 64, 8),
        (13, 65, 11),
        (25, 9, 40),
    ];
    for &(m, n, k) in &shapes {
        for transposed in [false, true] {
            let a = rng.vec(m * k);
            let strides = if transposed { [1, m] } else { [k, 1] };
            let (ldb, ldc) = (n + 3, n + 1);
            let b = rng.vec(k * ldb);
            let bias = rng.vec(m);
            let norm = [rng.vec(m), rng.vec(m), rng.vec(m)];
            let epis = [
                Epilogue::NONE,
                Epilogue {
                    bias: Some(&bias),
                    norm: None,
                    clamp: Clamp::Relu,
                },
                Epilogue {
                    bias: None,
                    norm: Some([&norm[0], &norm[1], &norm[2]]),
                    clamp: Clamp::Relu6,
                },
            ];
            for epi in &epis {
                let mut want = vec![f32::NAN; m * ldc];
                scalar::gemm([m, n, k], &a, strides, &b, ldb, &mut want, ldc, epi);
                let ta: Vec<f32> = a.iter().map(|v| v.abs()).collect();
                let tb: Vec<f32> = b.iter().map(|v| v.abs()).collect();
                let mut bound = vec![0.0; m * ldc];
                scalar::gemm(
                    [m, n, k],
                    &ta,
                    strides,
                    &tb,
                    ldb,
                    &mut bound,
                    ldc,
                    &Epilogue::NONE,
                );
                for level in levels("conv2d_gemm") {
                    let mut got = vec![f32::NAN; m * ldc];
                    gemm_at(level, [m, n, k], &a, strides, &b, ldb, &mut got, ldc, epi);
                    for i in 0..m {
                        for j in 0..n {
                            let (g, w) = (got[i * ldc + j], want[i * ldc + j]);
                            let tol = 1e-5 * (bound[i * ldc + j] + 1.0) * 8.0;
                            assert!(
                                (g - w).abs() <= tol,
                                "{level:?} {m}×{n}×{k} transposed {transposed}, ({i}, {j}): {g} vs {w}"
                            );
                        }
                        // The padding between rows is never written.
                        assert!(got[i * ldc + n].is_nan(), "{level:?}: wrote past row {i}");
                    }
                }
            }
        }
    }
}

/// The dot products of the weight gradient and the row sums of the bias
/// gradient, against plain loops.
#[test]
fn dot_products_and_row_sums_match_plain_loops() {
    let mut rng = Rng::new(11);
    for &(imgs, len, mi, nj) in &[
        (1, 1, 1, 1),
        (2, 9, 5, 7),
        (3, 36, 8, 4),
        (1, 125, 9, 6),
        (4, 17, 3, 11),
        (2, 40, 7, 9),
        (1, 256, 4, 5),
    ] {
        let (a_img, b_img) = (mi * len + 2, nj * len + 5);
        let a = rng.vec(imgs * a_img);
        let b = rng.vec(imgs * b_img);
        let c0 = rng.vec(mi * (nj + 1));
        let mut want = c0.clone();
        let mut sums_want = vec![0.5f32; mi];
        for i in 0..mi {
            for j in 0..nj {
                for s in 0..imgs {
                    for q in 0..len {
                        want[i * (nj + 1) + j] +=
                            a[s * a_img + i * len + q] * b[s * b_img + j * len + q];
                    }
                }
            }
            for s in 0..imgs {
                sums_want[i] += a[s * a_img + i * len..][..len].iter().sum::<f32>();
            }
        }
        for level in levels("conv2d_gemm") {
            let mut got = c0.clone();
            dots_at(
                level,
                [imgs, len],
                (&a, a_img, len, mi),
                (&b, b_img, len, nj),
                &mut got,
                nj + 1,
            );
            let bound = vec![(imgs * len) as f32 + 1.0; got.len()];
            assert_close(
                &format!("{level:?} dots {imgs}×{len}, {mi}×{nj}"),
                &got,
                &want,
                &bound,
                1e-5,
            );
            let mut sums = vec![0.5f32; mi];
            row_sums_at(level, imgs, len, &a, a_img, &mut sums);
            let bound = vec![(imgs * len) as f32 + 1.0; mi];
            assert_close(
                &format!("{level:?} row sums"),
                &sums,
                &sums_want,
                &bound,
                1e-5,
            );
        }
    }
}

/// `forward_fused` with a batch norm and a clamp gives the bits of the
/// convolution, then `BatchNormLayer::forward_eval`, then the clamp, at every
/// level; with neither it gives `forward`'s.
#[test]
fn fused_epilogue_is_the_unfused_chain_bit_for_bit() {
    type Pw = GemmConv2dLayer<12, 20, 1, 1, 1, 1, 0, 0, 1, 1, true, 5, 7, 5, 7>;
    type First = GemmConv2dLayer<3, 8, 3, 3, 2, 2, 1, 1, 1, 1, false, 11, 10, 6, 5>;
    fn run<L: Layer>(
        fused: impl Fn(crate::simd::Level, Option<EvalNorm<'_>>, Clamp, &[f32], &mut [f32]),
        c: usize,
        hw: usize,
        w: &[f32],
        b: &[f32],
    ) {
        let mut rng = Rng::new(3);
        let n = 2;
        let x = rng.vec(n * L::IN);
        let gamma = rng.vec(c);
        let beta = rng.vec(c);
        let mean = rng.vec(c);
        let var: Vec<f32> = rng.vec(c).iter().map(|v| v.abs() + 0.1).collect();
        let norm = EvalNorm {
            gamma: &gamma,
            beta: &beta,
            running_mean: &mean,
            running_var: &var,
            eps: 1e-3,
        };
        for level in levels("conv2d_gemm") {
            let mut plain = vec![0.0; n * L::OUT];
            L::forward_at(level, w, b, &x, &mut plain);
            let mut got = vec![f32::NAN; n * L::OUT];
            fused(level, None, Clamp::None, &x, &mut got);
            assert_eq!(bits(&got), bits(&plain), "{level:?} no epilogue");
            for clamp in [Clamp::None, Clamp::Relu, Clamp::Relu6] {
                let mut want = vec![0.0; n * L::OUT];
                match (c, hw) {
                    (20, 35) => BatchNormLayer::<20, 35>::forward_eval_at(
                        level, &gamma, &beta, &mean, &var, 1e-3, &plain, &mut want,
                    ),
                    _ => BatchNormLayer::<8, 30>::forward_eval_at(
                        level, &gamma, &beta, &mean, &var, 1e-3, &plain, &mut want,
                    ),
                }
                let (lo, hi) = clamp.bounds();
                want.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
                fused(level, Some(norm), clamp, &x, &mut got);
                assert_eq!(bits(&got), bits(&want), "{level:?} {clamp:?}");
            }
        }
    }
    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|v| v.to_bits()).collect()
    }
    let mut rng = Rng::new(5);
    let (w, b) = (rng.vec(20 * 12), rng.vec(20));
    run::<Pw>(
        |l, nm, c, x, y| Pw::forward_fused_at(l, &w, &b, nm, c, x, y),
        20,
        35,
        &w,
        &b,
    );
    let w = rng.vec(8 * 27);
    run::<First>(
        |l, nm, c, x, y| First::forward_fused_at(l, &w, &[], nm, c, x, y),
        8,
        30,
        &w,
        &[],
    );
}

/// A geometry that does not hold, or slices too short, panic before any
/// kernel runs (the kernels' entries are safe functions).
#[test]
fn bad_sizes_panic() {
    let short = std::panic::catch_unwind(|| {
        let mut c = vec![0.0; 10];
        gemm_at(
            crate::simd::level(),
            [2, 8, 3],
            &[0.0; 6],
            [3, 1],
            &[0.0; 23],
            8,
            &mut c,
            8,
            &Epilogue::NONE,
        );
    });
    assert!(short.is_err());
    let overflow = std::panic::catch_unwind(|| {
        let mut c = vec![0.0; 16];
        gemm_at(
            crate::simd::level(),
            [2, 8, 3],
            &[0.0; 6],
            [usize::MAX / 2, 1],
            &[0.0; 24],
            8,
            &mut c,
            8,
            &Epilogue::NONE,
        );
    });
    assert!(overflow.is_err());
}
