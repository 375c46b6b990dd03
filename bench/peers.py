#!/usr/bin/env python3
"""LeNet-5 (32x32) in PyTorch eager and ONNX Runtime, measured as
`cargo bench --bench throughput` measures lenet: batch-1 latency, batch-256
inference, training at batch 64 (forward, backward, SGD step), on 1 and 2
threads. Prints a table, then runs lenet's own benchmark and prints how many times
faster lenet is than each peer (pass --no-lenet to skip that part).
Usage: python3 bench/peers.py [--no-lenet]
"""

import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORWARD_FLOP = 2.0 * (6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 84 * 10)
TRAIN_FLOP = FORWARD_FLOP * 3 - 2.0 * 6 * 784 * 25


class LeNet5(nn.Module):
    """The network of lenet's SPEC table: relu and average pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool1 = nn.AvgPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.AvgPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def best(f, min_time=0.03, rounds=7):
    """Seconds per call of f: the best of `rounds` rounds of >= min_time."""
    f()
    iters = 1
    while True:
        t = time.perf_counter()
        for _ in range(iters):
            f()
        if time.perf_counter() - t > min_time:
            break
        iters *= 2
    out = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        out = min(out, (time.perf_counter() - t) / iters)
    return out


def torch_numbers(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = LeNet5()
    x1 = torch.randn(1, 1, 32, 32)
    x256 = torch.randn(256, 1, 32, 32)
    x64 = torch.randn(64, 1, 32, 32)
    y64 = torch.randint(0, 10, (64,))
    opt = torch.optim.SGD(net.parameters(), lr=1e-4)
    with torch.inference_mode():
        lat = best(lambda: net(x1))
        inf = best(lambda: net(x256))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x64), y64).backward()
        opt.step()

    train = best(step)
    return lat, 256 / inf, 64 / train, net


def onnx_numbers(net, threads):
    import onnxruntime as ort

    path = os.path.join(tempfile.mkdtemp(), "lenet5.onnx")
    net.eval()
    torch.onnx.export(
        net,
        torch.randn(1, 1, 32, 32),
        path,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    x1 = np.random.randn(1, 1, 32, 32).astype(np.float32)
    x256 = np.random.randn(256, 1, 32, 32).astype(np.float32)
    lat = best(lambda: sess.run(None, {"x": x1}))
    inf = best(lambda: sess.run(None, {"x": x256}))
    return lat, 256 / inf


def main():
    print(f"torch {torch.__version__}", end="")
    try:
        import onnxruntime as ort

        print(f", onnxruntime {ort.__version__}")
    except ImportError:
        ort = None
        print(", onnxruntime missing")
    rows = []
    for threads in (1, 2):
        lat, inf, train, net = torch_numbers(threads)
        rows.append(("PyTorch eager", threads, lat, inf, train))
        if ort is not None:
            lat, inf = onnx_numbers(net, threads)
            rows.append(("ONNX Runtime", threads, lat, inf, None))
    print(f"{'runtime':<14} {'threads':>7} {'batch-1 µs/img':>15} {'batch-256 img/s':>16} {'train b64 img/s':>16} {'train GFLOP/s':>14}")
    for name, threads, lat, inf, train in rows:
        t = f"{train:16.0f}" if train else f"{'-':>16}"
        g = f"{train * TRAIN_FLOP / 1e9:14.1f}" if train else f"{'-':>14}"
        print(f"{name:<14} {threads:>7} {lat * 1e6:15.2f} {inf:16.0f} {t} {g}")
    if "--no-lenet" not in sys.argv:
        ratios(rows, lenet_numbers())


def lenet_numbers():
    """Whole-network numbers from `cargo bench --bench throughput`."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out = subprocess.run(
        ["cargo", "bench", "--bench", "throughput"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    lat = float(re.search(r"batch-1 latency \(forward\)\s+([\d.]+) µs", out).group(1)) * 1e-6
    nums = {"lat": lat}
    for threads, what, value in re.findall(r"(\d) thread\(s\) (batch-256 forward_batch|training batch 64)\s+(\d+) images/s", out):
        nums[(int(threads), "inf" if what.startswith("batch") else "train")] = float(value)
    return nums


def ratios(rows, lenet):
    """How many times faster lenet is than each peer (higher is better)."""
    print()
    print(f"lenet: batch-1 {lenet['lat'] * 1e6:.2f} µs/img (one thread), "
          + ", ".join(f"{t} thread(s): batch-256 {lenet[(t, 'inf')]:.0f} img/s, training b64 {lenet[(t, 'train')]:.0f} img/s" for t in (1, 2)))
    print(f"{'lenet vs':<14} {'threads':>7} {'batch-1':>10} {'batch-256':>10} {'train b64':>10}")
    for name, threads, lat, inf, train in rows:
        l1 = f"{lat / lenet['lat']:9.1f}×"
        b = f"{lenet[(threads, 'inf')] / inf:9.1f}×"
        t = f"{lenet[(threads, 'train')] / train:9.1f}×" if train else f"{'-':>10}"
        print(f"{name:<14} {threads:>7} {l1} {b} {t}")


if __name__ == "__main__":
    main()
