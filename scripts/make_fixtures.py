#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures in tests/fixtures/.

For each network below, two files:

* NAME.weights.safetensors: the model's parameters, written exactly as a
  PyTorch user would: safetensors.torch.save_file(model.state_dict(), path).
* NAME.io.safetensors: a batch of inputs and labels, and what PyTorch
  computes for them in float64 from the same float32 parameters: the logits,
  the mean softmax cross-entropy (F.cross_entropy), and the gradient of every
  parameter (named "grad.<parameter name>").

The Rust tests (tests/reference_*.rs) load both and must agree.

Usage: python3 scripts/make_fixtures.py [OUT_DIR]   (needs torch, safetensors)
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file


class LeNet5(nn.Module):
    """LeNet-5 on 32×32, ReLU, average or max pooling."""

    def __init__(self, pool):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.pool = pool

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Mnist28(nn.Module):
    """LeNet-5 on 28×28 MNIST digits: padding 2 on conv1, max pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Mixed(nn.Module):
    """Every other layer and option: 3 channels, non-square input, stride,
    padding, tanh, sigmoid, max pooling with stride != kernel, average
    pooling with stride 1, a 1×1 convolution and global average pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 12, 1)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 3, stride=2)  # 8×10×9 → 8×4×4
        x = F.avg_pool2d(x, 2, stride=1)  # 8×3×3
        x = torch.sigmoid(self.conv2(x))  # 12×3×3
        x = F.adaptive_avg_pool2d(x, 1)  # 12×1×1
        x = torch.flatten(x, 1)
        return self.head(x)


def write(out, name, model, shape, batch, classes, seed):
    torch.manual_seed(seed)
    model = model.float()
    # Spread the parameters a little wider than the default initialisation,
    # so that every unit is active on some image and every gradient is
    # exercised.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    save_file(model.state_dict(), os.path.join(out, f"{name}.weights.safetensors"))

    x = torch.rand((batch,) + shape, dtype=torch.float32)
    labels = torch.randint(0, classes, (batch,), dtype=torch.int64)

    ref = model.double()
    ref.zero_grad()
    logits = ref(x.double())
    loss = F.cross_entropy(logits, labels)
    loss.backward()

    tensors = {
        "input": x.contiguous(),
        "labels": labels.contiguous(),
        "logits": logits.detach().float().contiguous(),
        "loss": loss.detach().float().reshape(1).contiguous(),
    }
    for pname, p in ref.named_parameters():
        tensors[f"grad.{pname}"] = p.grad.float().contiguous()
    save_file(tensors, os.path.join(out, f"{name}.io.safetensors"))
    print(f"{name}: loss {loss.item():.6f}, {sum(p.numel() for p in model.parameters())} parameters")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    write(out, "lenet5_avg", LeNet5(nn.AvgPool2d(2, 2)), (1, 32, 32), 6, 10, 1)
    write(out, "lenet5_max", LeNet5(nn.MaxPool2d(2, 2)), (1, 32, 32), 6, 10, 2)
    write(out, "mnist28", Mnist28(), (1, 28, 28), 5, 10, 3)
    write(out, "mixed", Mixed(), (3, 20, 18), 7, 5, 4)


if __name__ == "__main__":
    main()
