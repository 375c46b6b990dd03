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

And the edge cases of tests/edge_cases_pytorch.rs, in float32 as a user's
model computes them (see write_edge_cases): max pooling with ties, NaN and
infinities, relu of NaN, ±inf and ±0, and softmax cross-entropy with
infinite and NaN logits: edge_cases.safetensors (inputs, PyTorch's outputs,
losses and gradients), edge_pool.weights.safetensors and
edge_relu.weights.safetensors.

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


NAN, INF = float("nan"), float("inf")


class TagNet(nn.Module):
    """Channel 0 of the input goes through `act` to a Linear head; channel 1
    holds tags that the 1×1 convolution multiplies by zero. The gradient of
    the tags' weight is then the gradient that `act`'s backward pass routes
    to each position times that position's tag: with a single image, tags
    of powers of two tell exactly which position of a pooling window got
    the gradient."""

    def __init__(self, act, width, classes):
        super().__init__()
        self.mix = nn.Conv2d(2, 1, 1)
        self.act = act
        self.fc = nn.Linear(width, classes)
        with torch.no_grad():
            self.mix.weight.copy_(torch.tensor([1.0, 0.0]).reshape(1, 2, 1, 1))
            self.mix.bias.zero_()
            self.fc.weight.copy_(torch.tensor([0.5, -0.25, 1.0])[:classes].reshape(classes, 1).repeat(1, width))
            self.fc.bias.copy_(torch.tensor([0.125, 0.0, -0.5])[:classes])

    def forward(self, x):
        return self.fc(torch.flatten(self.act(self.mix(x)), 1))


def per_image_grads(model, xs, labels, prefix, tensors):
    """Loss and parameter gradients of each image alone (batch of one), in
    float32, stacked along a new first axis."""
    losses, grads = [], {n: [] for n, _ in model.named_parameters()}
    for x, y in zip(xs, labels):
        model.zero_grad()
        loss = F.cross_entropy(model(x.unsqueeze(0)), y.unsqueeze(0))
        loss.backward()
        losses.append(loss.detach())
        for n, p in model.named_parameters():
            grads[n].append(p.grad.detach().clone())
    tensors[f"{prefix}.loss"] = torch.stack(losses).contiguous()
    for n, g in grads.items():
        tensors[f"{prefix}.grad.{n}"] = torch.stack(g).contiguous()


def write_edge_cases(out):
    """Inputs and PyTorch's float32 results where IEEE special values and
    ties decide the answer. Everything is computed by PyTorch on the CPU in
    float32, as a user's model would be."""
    t = {}
    # Max pooling, 2×2 windows of a 4×4 image: ties in every position, ±0,
    # NaN (alone, several, with infinities), +inf, and windows of -inf.
    windows = [
        [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [2, 2, 2, 2],
        [-0.0, 0.0, -1, -1], [0.0, -0.0, -1, -1], [-1, -0.0, -1, 0.0], [-0.0, -0.0, -0.0, -0.0],
        [1, NAN, 2, 3], [NAN, 1, 2, 3], [3, 2, 1, NAN], [NAN, NAN, 0, 0],
        [INF, 1, INF, 0], [-INF, -INF, -INF, -INF], [-INF, NAN, -INF, -INF], [INF, NAN, -INF, 5],
        [3, 1, 2, 3], [-5, -7, -5, -6], [1e-45, 0, -1e-45, 1e-45], [-3.4e38, -INF, -3.4e38, -3.4e38],
    ]
    images = []
    for i in range(0, len(windows), 4):
        img = torch.empty(1, 4, 4)
        for k, w in enumerate(windows[i:i + 4]):
            r, c = 2 * (k // 2), 2 * (k % 2)
            img[0, r:r + 2, c:c + 2] = torch.tensor(w, dtype=torch.float32).reshape(2, 2)
        images.append(img)
    x = torch.stack(images)
    t["pool.input"] = x.contiguous()
    t["pool.output"] = F.max_pool2d(x, 2, 2).contiguous()

    # Max pooling backward: one window per image, tags 1, 2, 4, 8.
    torch.manual_seed(0)
    pool = TagNet(nn.MaxPool2d(2, 2), 1, 3)
    save_file(pool.state_dict(), os.path.join(out, "edge_pool.weights.safetensors"))
    tags = torch.tensor([1.0, 2.0, 4.0, 8.0]).reshape(1, 2, 2)
    xs = torch.stack([torch.cat([torch.tensor(w, dtype=torch.float32).reshape(1, 2, 2), tags]) for w in windows])
    labels = torch.tensor([k % 3 for k in range(len(windows))], dtype=torch.int64)
    t["poolgrad.input"], t["poolgrad.labels"] = xs.contiguous(), labels
    per_image_grads(pool, xs, labels, "poolgrad", t)

    # ReLU forward on one 1×2×5 image, and backward one value at a time.
    values = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 3.4e38]
    x = torch.tensor(values, dtype=torch.float32).reshape(1, 1, 2, 5)
    t["relu.input"], t["relu.output"] = x.contiguous(), torch.relu(x).contiguous()
    relu = TagNet(nn.ReLU(), 1, 3)
    save_file(relu.state_dict(), os.path.join(out, "edge_relu.weights.safetensors"))
    xs = torch.tensor([[v, 1.0] for v in values], dtype=torch.float32).reshape(-1, 2, 1, 1)
    labels = torch.tensor([k % 3 for k in range(len(values))], dtype=torch.int64)
    t["relugrad.input"], t["relugrad.labels"] = xs.contiguous(), labels
    per_image_grads(relu, xs, labels, "relugrad", t)

    # Softmax cross-entropy of single rows of 4 logits: loss and gradient.
    rows = [
        ([INF, 0, 0, 0], 0), ([INF, 0, 0, 0], 1), ([INF, INF, 0, 0], 0), ([INF, -INF, 0, 0], 2),
        ([-INF, 0, 1, 2], 0), ([-INF, 0, 1, 2], 3), ([-INF, -INF, -INF, 0], 3), ([-INF, -INF, -INF, -INF], 1),
        ([NAN, 0, 0, 0], 0), ([NAN, 0, 0, 0], 2), ([0, NAN, INF, -INF], 3), ([3.4e38, -3.4e38, 0, 0], 1),
        ([1e30, 1e30, 0, 0], 0), ([-1e30, 0, 0, 0], 0), ([0, 0, 0, 0], 2), ([88.7, 89.0, -104.0, 0], 2),
    ]
    logits = torch.tensor([r for r, _ in rows], dtype=torch.float32, requires_grad=True)
    labels = torch.tensor([y for _, y in rows], dtype=torch.int64)
    losses, grads = [], []
    for k in range(len(rows)):
        z = logits[k:k + 1].detach().clone().requires_grad_(True)
        loss = F.cross_entropy(z, labels[k:k + 1])
        loss.backward()
        losses.append(loss.detach())
        grads.append(z.grad[0].detach().clone())
    t["ce.logits"], t["ce.labels"] = logits.detach().contiguous(), labels
    t["ce.loss"], t["ce.grad"] = torch.stack(losses).contiguous(), torch.stack(grads).contiguous()

    save_file(t, os.path.join(out, "edge_cases.safetensors"))
    print(f"edge cases: {len(windows)} pooling windows, {len(values)} relu values, {len(rows)} cross-entropy rows")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    write(out, "lenet5_avg", LeNet5(nn.AvgPool2d(2, 2)), (1, 32, 32), 6, 10, 1)
    write(out, "lenet5_max", LeNet5(nn.MaxPool2d(2, 2)), (1, 32, 32), 6, 10, 2)
    write(out, "mnist28", Mnist28(), (1, 28, 28), 5, 10, 3)
    write(out, "mixed", Mixed(), (3, 20, 18), 7, 5, 4)
    write_edge_cases(out)


if __name__ == "__main__":
    main()
