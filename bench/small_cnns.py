#!/usr/bin/env python3
"""DS-CNN (Hello Edge, small) and MobileNetV1-0.25 (96x96x3) in PyTorch,
layer for layer as lenet declares them in tests/small_cnns/mod.rs: the
attribute names are lenet's layer names, so `state_dict()` keys are the
names of lenet's tensors and a lenet safetensors file loads here.

Usage:
    python3 bench/small_cnns.py [--onnx-dir DIR] [--state-dict FILE]
prints each network's trainable parameters and buffer elements, checks
them against lenet's PARAM_COUNT and BUFFER_COUNT, and exports each
network to DIR/<name>.onnx (input "x" with a dynamic batch, output
"logits"; DIR defaults to a fresh temporary directory). With
--state-dict, writes PyTorch's named_parameters() and named_buffers() of
both networks to FILE, one tensor a line: `network param|buffer name
[shape]` with the shape's sizes joined by commas (tests/fixtures/
small_cnns.state_dict.txt, read by tests/real_networks.rs).
"""

import argparse
import os
import tempfile
import warnings

import torch
import torch.nn as nn

# lenet's PARAM_COUNT and BUFFER_COUNT for each network.
EXPECTED = {"ds_cnn": (23_756, 1_161), "mobilenet_v1_025": (213_586, 5_499)}
INPUT_SHAPE = {"ds_cnn": (1, 49, 10), "mobilenet_v1_025": (3, 96, 96)}

# MobileNetV1-0.25 after its first convolution: (in, out, stride) of the
# depthwise-separable blocks.
MOBILENET_BLOCKS = (
    [(8, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2)]
    + [(128, 128, 1)] * 5
    + [(128, 256, 2), (256, 256, 1)]
)


class DsCnn(nn.Module):
    """DS-CNN (S) of Zhang et al., "Hello Edge", 2017: 49 MFCC frames x 10
    coefficients to 12 keywords."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, (10, 4), stride=(2, 2), padding=(5, 1))
        self.bn1 = nn.BatchNorm2d(64)
        self.blocks = 4
        for b in range(1, self.blocks + 1):
            setattr(self, f"dw{b}", nn.Conv2d(64, 64, 3, padding=1, groups=64))
            setattr(self, f"bn_dw{b}", nn.BatchNorm2d(64))
            setattr(self, f"pw{b}", nn.Conv2d(64, 64, 1))
            setattr(self, f"bn_pw{b}", nn.BatchNorm2d(64))
        self.pool = nn.AvgPool2d((25, 5))
        self.fc = nn.Linear(64, 12)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        for b in range(1, self.blocks + 1):
            x = torch.relu(getattr(self, f"bn_dw{b}")(getattr(self, f"dw{b}")(x)))
            x = torch.relu(getattr(self, f"bn_pw{b}")(getattr(self, f"pw{b}")(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class MobileNetV1(nn.Module):
    """MobileNetV1 of Howard et al., 2017, width 0.25, on 96x96x3 with two
    classes: convolutions without bias, each followed by batch norm and
    relu6, global average pooling at the 3x3 end."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        for b, (ci, co, s) in enumerate(MOBILENET_BLOCKS, 1):
            setattr(self, f"dw{b}", nn.Conv2d(ci, ci, 3, stride=s, padding=1, groups=ci, bias=False))
            setattr(self, f"bn_dw{b}", nn.BatchNorm2d(ci))
            setattr(self, f"pw{b}", nn.Conv2d(ci, co, 1, bias=False))
            setattr(self, f"bn_pw{b}", nn.BatchNorm2d(co))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, 2)

    def forward(self, x):
        x = nn.functional.relu6(self.bn1(self.conv1(x)))
        for b in range(1, len(MOBILENET_BLOCKS) + 1):
            x = nn.functional.relu6(getattr(self, f"bn_dw{b}")(getattr(self, f"dw{b}")(x)))
            x = nn.functional.relu6(getattr(self, f"bn_pw{b}")(getattr(self, f"pw{b}")(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


NETWORKS = {"ds_cnn": DsCnn, "mobilenet_v1_025": MobileNetV1}


def counts(net):
    """(trainable parameters, buffer elements), as lenet counts them."""
    params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    buffers = sum(b.numel() for b in net.buffers())
    return params, buffers


def export_onnx(name, path, seed=0):
    """Exports the network, eval mode, with weights drawn from `seed`."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.manual_seed(seed)
    net = NETWORKS[name]().eval()
    torch.onnx.export(
        net,
        torch.randn(1, *INPUT_SHAPE[name]),
        path,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )


def state_dict_lines():
    """PyTorch's named_parameters() then named_buffers() of each network."""
    lines = []
    for name, make in NETWORKS.items():
        net = make()
        for kind, tensors in (("param", net.named_parameters()), ("buffer", net.named_buffers())):
            for key, t in tensors:
                lines.append(f"{name} {kind} {key} [{','.join(str(d) for d in t.shape)}]")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx-dir")
    ap.add_argument("--state-dict")
    args = ap.parse_args()
    if args.state_dict:
        with open(args.state_dict, "w") as f:
            f.write("\n".join(state_dict_lines()) + "\n")
    out = args.onnx_dir or tempfile.mkdtemp(prefix="lenet-small-cnns-")
    os.makedirs(out, exist_ok=True)
    for name, make in NETWORKS.items():
        net = make()
        params, buffers = counts(net)
        want = EXPECTED[name]
        status = "matches lenet" if (params, buffers) == want else f"lenet says {want}"
        print(f"{name}: {params:,} trainable parameters, {buffers:,} buffer elements ({status})")
        path = os.path.join(out, f"{name}.onnx")
        export_onnx(name, path)
        print(f"  exported {path}")
        if (params, buffers) != want:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
