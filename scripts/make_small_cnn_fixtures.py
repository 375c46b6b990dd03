#!/usr/bin/env python3
"""Writes the PyTorch fixtures of the small-CNN vocabulary in tests/fixtures/,
read by tests/small_cnn_pytorch.rs.

* small_cnn_all.weights.safetensors: the state_dict (parameters and batch
  norm buffers) of AllLayers, a network with every layer of the second
  edition, written as a PyTorch user writes it:
  safetensors.torch.save_file(model.state_dict(), path). The batch norms'
  weights, biases, running statistics and num_batches_tracked are random, so
  that eval mode has something to get wrong.
* small_cnn_all.io.safetensors: a batch of inputs and labels, and the
  eval-mode logits PyTorch computes for them in float64 from the float32
  state; the trainable parameter count and buffer element count
  ("param_count", "buffer_count", one-element I64 tensors); and, in the
  header's metadata under "order", the names of named_parameters() and
  named_buffers() in PyTorch's order, one "parameter NAME" or "buffer NAME"
  a line.
* small_cnn_train.init.safetensors: the initial state_dict of TrainNet
  (batch norms 2d and 1d, a depthwise convolution, relu6, LeakyReLU, no
  dropout), its batch norms randomised in the same way.
* small_cnn_train.io.safetensors: the batches ("input.K", "labels.K") of
  STEPS training steps in model.train() with torch.optim.SGD(lr=0.05) on
  F.cross_entropy, computed in float64 from the float32 initial state; the
  loss of each step ("loss", STEPS values) and the state_dict after the last
  step ("final.<name>", parameters and buffers, float32 and int64); the
  counts and order as in small_cnn_all.io.safetensors.

Usage: python3 scripts/make_small_cnn_fixtures.py [OUT_DIR]   (needs torch, safetensors)
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

STEPS = 3
LR = 0.05


class AllLayers(nn.Module):
    """Every layer and argument of the second edition, on a 3×20×18 input:

    conv1  Conv2d(3, 8, (3, 5), (2, 1), (1, 2), (2, 1), bias=False)  8×9×18
    bn1    BatchNorm2d(8), relu6
    dw     Conv2d(8, 16, 3, padding=1, groups=8)                     16×9×18
    bn2    BatchNorm2d(16, eps=1e-3, momentum=0.01)
    gconv  Conv2d(16, 12, 3, padding=(0, 1), groups=2)               12×7×18
    pool1  MaxPool2d(3, stride=2, padding=1)                         12×4×9
    act    LeakyReLU(0.2)
    pool2  AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1))          12×5×5
    drop1  Dropout(0.3), flatten                                     300
    fc1    Linear(300, 32), bn3 BatchNorm1d(32), relu, Dropout()
    fc2    Linear(32, 5)
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, (3, 5), (2, 1), (1, 2), (2, 1), bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 16, 3, padding=1, groups=8)
        self.bn2 = nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        self.gconv = nn.Conv2d(16, 12, 3, padding=(0, 1), groups=2)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.pool2 = nn.AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1))
        self.drop1 = nn.Dropout(0.3)
        self.fc1 = nn.Linear(300, 32)
        self.bn3 = nn.BatchNorm1d(32)
        self.drop2 = nn.Dropout()
        self.fc2 = nn.Linear(32, 5)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(x)))
        x = self.bn2(self.dw(x))
        x = self.act(self.pool1(self.gconv(x)))
        x = self.drop1(self.pool2(x))
        x = torch.flatten(x, 1)
        x = self.drop2(F.relu(self.bn3(self.fc1(x))))
        return self.fc2(x)


class TrainNet(nn.Module):
    """A network to train on 2×10×10 inputs, without dropout:

    conv1  Conv2d(2, 6, 3, padding=1)                                6×10×10
    bn1    BatchNorm2d(6), relu6
    dw     Conv2d(6, 6, 3, stride=2, padding=1, groups=6, bias=False)  6×5×5
    bn2    BatchNorm2d(6, eps=1e-3, momentum=0.2), LeakyReLU(0.1)
    pool   AvgPool2d(2, stride=1), flatten                           96
    fc1    Linear(96, 16), bn3 BatchNorm1d(16), relu
    fc2    Linear(16, 4)
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.dw = nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6, bias=False)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3, momentum=0.2)
        self.fc1 = nn.Linear(96, 16)
        self.bn3 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(x)))
        x = F.leaky_relu(self.bn2(self.dw(x)), 0.1)
        x = torch.flatten(F.avg_pool2d(x, 2, stride=1), 1)
        x = F.relu(self.bn3(self.fc1(x)))
        return self.fc2(x)


def randomise_batch_norms(model, gen, tracked):
    """Random affine parameters and running statistics, and
    num_batches_tracked = tracked[k] for the k-th batch norm."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn, count in zip(norms, tracked):
            c = bn.num_features
            bn.weight.copy_(1 + 0.5 * torch.randn(c, generator=gen))
            bn.bias.copy_(0.5 * torch.randn(c, generator=gen))
            bn.running_mean.copy_(0.5 * torch.randn(c, generator=gen))
            bn.running_var.copy_(0.25 + 2 * torch.rand(c, generator=gen))
            bn.num_batches_tracked.fill_(count)


def counts(model):
    """The trainable parameter count and the buffer element count, as
    one-element I64 tensors."""
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for b in model.buffers())
    return {
        "param_count": torch.tensor([params], dtype=torch.int64),
        "buffer_count": torch.tensor([buffers], dtype=torch.int64),
    }


def order(model):
    """PyTorch's order of named_parameters() then named_buffers(), one
    "parameter NAME" or "buffer NAME" a line: safetensors files keep no order
    of their own. (One metadata key, so that the header's bytes do not
    depend on the order of a hash map.)"""
    lines = [f"parameter {n}" for n, _ in model.named_parameters()]
    lines += [f"buffer {n}" for n, _ in model.named_buffers()]
    return {"order": "\n".join(lines)}


def write_all_layers(out):
    torch.manual_seed(10)
    gen = torch.Generator().manual_seed(103)
    model = AllLayers().float()
    randomise_batch_norms(model, gen, [37, 1234, 5])
    # bn1 scales and shifts widely enough that relu6 clips at 6 somewhere;
    # the linear layers, wider than their default initialisation, make the
    # images' logits differ by more than the tests' tolerance.
    with torch.no_grad():
        model.bn1.weight.mul_(3)
        model.bn1.bias.add_(3)
        model.fc1.weight.mul_(3)
        model.fc2.weight.mul_(3)
    model.eval()
    save_file(model.state_dict(), os.path.join(out, "small_cnn_all.weights.safetensors"))

    n = 4
    x = torch.randn(n, 3, 20, 18, generator=gen, dtype=torch.float32)
    labels = torch.randint(0, 5, (n,), generator=gen, dtype=torch.int64)
    ref = AllLayers().double()
    ref.load_state_dict(model.state_dict())
    ref.eval()
    with torch.no_grad():
        logits = ref(x.double())
        clipped = (F.relu6(ref.bn1(ref.conv1(x.double()))) == 6).double().mean().item()

    io = {
        "input": x.contiguous(),
        "labels": labels.contiguous(),
        "logits": logits.float().contiguous(),
        **counts(model),
    }
    save_file(io, os.path.join(out, "small_cnn_all.io.safetensors"), metadata=order(model))
    print(f"small_cnn_all: {io['param_count'].item()} trainable parameters, "
          f"{io['buffer_count'].item()} buffer elements, "
          f"relu6 clips {100 * clipped:.1f} % of bn1's outputs")


def write_training(out):
    torch.manual_seed(20)
    gen = torch.Generator().manual_seed(204)
    model = TrainNet().float()
    randomise_batch_norms(model, gen, [7, 0, 100])
    save_file(model.state_dict(), os.path.join(out, "small_cnn_train.init.safetensors"))

    ref = TrainNet().double()
    ref.load_state_dict(model.state_dict())
    ref.train()
    opt = torch.optim.SGD(ref.parameters(), lr=LR)
    n = 8
    io = {}
    losses = []
    for step in range(STEPS):
        x = (1.5 * torch.randn(n, 2, 10, 10, generator=gen) + 0.3).float()
        labels = torch.randint(0, 4, (n,), generator=gen, dtype=torch.int64)
        io[f"input.{step}"] = x.contiguous()
        io[f"labels.{step}"] = labels.contiguous()
        opt.zero_grad()
        loss = F.cross_entropy(ref(x.double()), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    io["loss"] = torch.tensor(losses, dtype=torch.float32)
    for name, t in ref.state_dict().items():
        io[f"final.{name}"] = (t.float() if t.is_floating_point() else t).detach().contiguous()
    io.update(counts(model))
    save_file(io, os.path.join(out, "small_cnn_train.io.safetensors"), metadata=order(model))
    print(f"small_cnn_train: {io['param_count'].item()} trainable parameters, "
          f"{io['buffer_count'].item()} buffer elements, "
          f"losses {', '.join(f'{v:.6f}' for v in losses)}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    os.makedirs(out, exist_ok=True)
    write_all_layers(out)
    write_training(out)


if __name__ == "__main__":
    main()
