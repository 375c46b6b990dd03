// DS-CNN keyword spotting (Hello Edge, small): 49 MFCC frames × 10
// coefficients, four depthwise-separable blocks, 12 keywords. PyTorch
// counts 23,756 trainable parameters.
lenet::network! {
    /// DS-CNN (S) of Zhang et al., "Hello Edge", 2017.
    pub struct DsCnn {
        input: [1, 49, 10],
        conv1: Conv2d(1, 64, (10, 4), stride = (2, 2), padding = (5, 1)),
        bn1: BatchNorm2d(64),
        relu,
        dw1: Conv2d(64, 64, 3, padding = 1, groups = 64),
        bn_dw1: BatchNorm2d(64),
        relu,
        pw1: Conv2d(64, 64, 1),
        bn_pw1: BatchNorm2d(64),
        relu,
        dw2: Conv2d(64, 64, 3, padding = 1, groups = 64),
        bn_dw2: BatchNorm2d(64),
        relu,
        pw2: Conv2d(64, 64, 1),
        bn_pw2: BatchNorm2d(64),
        relu,
        dw3: Conv2d(64, 64, 3, padding = 1, groups = 64),
        bn_dw3: BatchNorm2d(64),
        relu,
        pw3: Conv2d(64, 64, 1),
        bn_pw3: BatchNorm2d(64),
        relu,
        dw4: Conv2d(64, 64, 3, padding = 1, groups = 64),
        bn_dw4: BatchNorm2d(64),
        relu,
        pw4: Conv2d(64, 64, 1),
        bn_pw4: BatchNorm2d(64),
        relu,
        pool: AvgPool2d((25, 5)),
        flatten,
        fc: Linear(64, 12),
    }
}

// conv1 (10·4 + 1)·64, bn1 2·64; per block depthwise (9 + 1)·64, pointwise
// (64 + 1)·64 and two batch norms; fc (64 + 1)·12.
const _: () = assert!(DsCnn::PARAM_COUNT == 23_756);
// Nine batch norms, each with running_mean and running_var of 64 and one
// num_batches_tracked.
const _: () = assert!(DsCnn::BUFFER_COUNT == 9 * (64 + 64 + 1));

fn main() {
    assert_eq!(DsCnn::INPUT_SHAPE, [1, 49, 10]);
    assert_eq!(DsCnn::LAYERS[0].name, "conv1");
    assert_eq!(DsCnn::LAYERS[0].output, &[64, 25, 5]);
    assert_eq!(DsCnn::LAYERS[0].params, 2_624);
    assert_eq!(DsCnn::LAYERS[3].name, "dw1");
    assert_eq!(DsCnn::LAYERS[3].params, 640);
    let pool = DsCnn::LAYERS.iter().find(|l| l.name == "pool").unwrap();
    assert_eq!(pool.output, &[64, 1, 1]);
    assert_eq!(DsCnn::OUTPUT_LEN, 12);
    let logits: [f32; 12] = DsCnn::new(0).forward(&[0.1; 49 * 10]);
    assert!(logits.iter().all(|v| v.is_finite()));
}
