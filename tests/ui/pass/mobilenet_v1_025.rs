// MobileNetV1 with width multiplier 0.25 on 96×96×3 images, two classes
// (the Visual Wake Words shape): convolutions without bias, each followed by
// batch norm and relu6, global average pooling at the 3×3 end. PyTorch
// counts 213,586 trainable parameters.
lenet::network! {
    /// MobileNetV1-0.25 of Howard et al., 2017, at 96×96.
    pub struct MobileNetV1 {
        input: [3, 96, 96],
        conv1: Conv2d(3, 8, 3, stride = 2, padding = 1, bias = false),
        bn1: BatchNorm2d(8),
        relu6,
        dw1: Conv2d(8, 8, 3, padding = 1, groups = 8, bias = false),
        bn_dw1: BatchNorm2d(8),
        relu6,
        pw1: Conv2d(8, 16, 1, bias = false),
        bn_pw1: BatchNorm2d(16),
        relu6,
        dw2: Conv2d(16, 16, 3, stride = 2, padding = 1, groups = 16, bias = false),
        bn_dw2: BatchNorm2d(16),
        relu6,
        pw2: Conv2d(16, 32, 1, bias = false),
        bn_pw2: BatchNorm2d(32),
        relu6,
        dw3: Conv2d(32, 32, 3, padding = 1, groups = 32, bias = false),
        bn_dw3: BatchNorm2d(32),
        relu6,
        pw3: Conv2d(32, 32, 1, bias = false),
        bn_pw3: BatchNorm2d(32),
        relu6,
        dw4: Conv2d(32, 32, 3, stride = 2, padding = 1, groups = 32, bias = false),
        bn_dw4: BatchNorm2d(32),
        relu6,
        pw4: Conv2d(32, 64, 1, bias = false),
        bn_pw4: BatchNorm2d(64),
        relu6,
        dw5: Conv2d(64, 64, 3, padding = 1, groups = 64, bias = false),
        bn_dw5: BatchNorm2d(64),
        relu6,
        pw5: Conv2d(64, 64, 1, bias = false),
        bn_pw5: BatchNorm2d(64),
        relu6,
        dw6: Conv2d(64, 64, 3, stride = 2, padding = 1, groups = 64, bias = false),
        bn_dw6: BatchNorm2d(64),
        relu6,
        pw6: Conv2d(64, 128, 1, bias = false),
        bn_pw6: BatchNorm2d(128),
        relu6,
        dw7: Conv2d(128, 128, 3, padding = 1, groups = 128, bias = false),
        bn_dw7: BatchNorm2d(128),
        relu6,
        pw7: Conv2d(128, 128, 1, bias = false),
        bn_pw7: BatchNorm2d(128),
        relu6,
        dw8: Conv2d(128, 128, 3, padding = 1, groups = 128, bias = false),
        bn_dw8: BatchNorm2d(128),
        relu6,
        pw8: Conv2d(128, 128, 1, bias = false),
        bn_pw8: BatchNorm2d(128),
        relu6,
        dw9: Conv2d(128, 128, 3, padding = 1, groups = 128, bias = false),
        bn_dw9: BatchNorm2d(128),
        relu6,
        pw9: Conv2d(128, 128, 1, bias = false),
        bn_pw9: BatchNorm2d(128),
        relu6,
        dw10: Conv2d(128, 128, 3, padding = 1, groups = 128, bias = false),
        bn_dw10: BatchNorm2d(128),
        relu6,
        pw10: Conv2d(128, 128, 1, bias = false),
        bn_pw10: BatchNorm2d(128),
        relu6,
        dw11: Conv2d(128, 128, 3, padding = 1, groups = 128, bias = false),
        bn_dw11: BatchNorm2d(128),
        relu6,
        pw11: Conv2d(128, 128, 1, bias = false),
        bn_pw11: BatchNorm2d(128),
        relu6,
        dw12: Conv2d(128, 128, 3, stride = 2, padding = 1, groups = 128, bias = false),
        bn_dw12: BatchNorm2d(128),
        relu6,
        pw12: Conv2d(128, 256, 1, bias = false),
        bn_pw12: BatchNorm2d(256),
        relu6,
        dw13: Conv2d(256, 256, 3, padding = 1, groups = 256, bias = false),
        bn_dw13: BatchNorm2d(256),
        relu6,
        pw13: Conv2d(256, 256, 1, bias = false),
        bn_pw13: BatchNorm2d(256),
        relu6,
        pool: AdaptiveAvgPool2d(1),
        flatten,
        fc: Linear(256, 2),
    }
}

const _: () = assert!(MobileNetV1::PARAM_COUNT == 213_586);
// 27 batch norms over 2,736 channels in all: running_mean and running_var
// of each channel, and one num_batches_tracked each.
const _: () = assert!(MobileNetV1::BUFFER_COUNT == 2 * 2_736 + 27);

fn main() {
    let layer = |name: &str| MobileNetV1::LAYERS.iter().find(|l| l.name == name).unwrap();
    assert_eq!(layer("conv1").output, &[8, 48, 48]);
    assert_eq!(layer("conv1").params, 216);
    assert_eq!(layer("dw2").output, &[16, 24, 24]);
    assert_eq!(layer("dw2").params, 144);
    assert_eq!(layer("pw6").output, &[128, 6, 6]);
    assert_eq!(layer("pw13").output, &[256, 3, 3]);
    assert_eq!(layer("pw13").params, 65_536);
    assert_eq!(layer("pool").output, &[256, 1, 1]);
    assert_eq!(MobileNetV1::OUTPUT_LEN, 2);
}
