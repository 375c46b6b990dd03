#!/usr/bin/env python3
"""lenet's LeNet-5 (32x32, relu, AvgPool2d) beside PyTorch eager and ONNX
Runtime on the same model, in one run, as SPEC's "How speed is judged" asks.

Figures: batch-1 latency (µs/image), batch-256 inference (images/s),
training at batch 64 (forward, backward, SGD step; images/s), each at 1 and
2 threads. Every figure is measured in a fresh process, as a user's program
meets it: the model is built in that process, there is no warm-up, the first
call counts in the first of several windows of at least 0.2 s; a process
reports the median of its windows, and the table shows the median over 3
rounds (the rounds interleave the runtimes, so drift hits all alike). The
machine's single-thread FMA peak is measured too, so lenet's training reads
as a share of it.

lenet is `examples/bench_figure.rs`, built once with
`cargo build --release --example bench_figure`.

Usage: python3 bench/peers.py [--rounds N] [--windows N]
Child mode (one figure, used by the run above):
    python3 bench/peers.py --child torch|ort FIGURE THREADS [--onnx PATH]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LENET = os.path.join(ROOT, "target", "release", "examples", "bench_figure")

FORWARD_FLOP = 2.0 * (6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 84 * 10)
TRAIN_FLOP = FORWARD_FLOP * 3 - 2.0 * 6 * 784 * 25

FIGURES = ("latency1", "infer256", "train64")
WINDOW = 0.2


def lenet5():
    import torch.nn as nn
    import torch.nn.functional as F
    import torch

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

    return LeNet5()


def windows(n, f):
    """Seconds per call of f in each of n windows of >= WINDOW s, the first
    call of the process counting in the first window."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        calls = 0
        while True:
            f()
            calls += 1
            t = time.perf_counter() - start
            if t >= WINDOW:
                break
        out.append(t / calls)
    return out


def child(runtime, figure, threads, n_windows, onnx_path):
    """One figure of one peer in this (fresh) process; prints each window
    and the median, as bench_figure does."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = {"latency1": 1, "infer256": 256, "train64": 64}[figure]
    x = torch.randn(batch, 1, 32, 32)
    if runtime == "torch":
        net = lenet5()
        if figure == "train64":
            y = torch.randint(0, 10, (64,))
            opt = torch.optim.SGD(net.parameters(), lr=1e-4)

            def f():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(net(x), y).backward()
                opt.step()

            secs = windows(n_windows, f)
        else:
            net.eval()
            with torch.inference_mode():
                secs = windows(n_windows, lambda: net(x))
    elif runtime == "ort":
        import onnxruntime as ort

        if figure == "train64":
            sys.exit("ONNX Runtime has no training here")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        xn = x.numpy().astype(np.float32)
        secs = windows(n_windows, lambda: sess.run(None, {"x": xn}))
    else:
        sys.exit(f"unknown runtime {runtime}")
    vals = [s * 1e6 if figure == "latency1" else batch / s for s in secs]
    for i, v in enumerate(vals):
        print(f"window {i} {v:.3f}")
    print(f"median {statistics.median(vals):.3f}")


def export_onnx(path):
    import torch

    torch.manual_seed(0)
    net = lenet5().eval()
    torch.onnx.export(
        net,
        torch.randn(1, 1, 32, 32),
        path,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )


def run(cmd, threads):
    """Runs one measuring process; returns its median and its windows."""
    env = dict(os.environ)
    for var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    wins = [float(l.split()[2]) for l in out.splitlines() if l.startswith("window ")]
    med = [float(l.split()[1]) for l in out.splitlines() if l.startswith("median ")][0]
    isa = [l.split()[1] for l in out.splitlines() if l.startswith("isa ")]
    return med, wins, (isa[0] if isa else None)


def fmt(figure, v):
    if v is None:
        return "–"
    if figure == "latency1":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"{v / 1000:.0f}k" if v >= 10000 else f"{v / 1000:.1f}k"


def ratio(figure, lenet, peer):
    """How many times faster lenet is (higher is better)."""
    if peer is None:
        return "–"
    r = peer / lenet if figure == "latency1" else lenet / peer
    return f"{r:.2f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("RUNTIME", "FIGURE", "THREADS"))
    ap.add_argument("--onnx")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if args.child:
        runtime, figure, threads = args.child
        child(runtime, figure, int(threads), args.windows, args.onnx)
        return

    import platform

    import onnxruntime
    import torch

    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--example", "bench_figure"], cwd=ROOT, check=True
        )
    rustc = subprocess.run(["rustc", "--version"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} logical CPUs; {rustc}; torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; "
          f"python {platform.python_version()}")
    try:
        print("load average before:", open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass

    tmp = tempfile.mkdtemp()
    onnx_path = os.path.join(tmp, "lenet5.onnx")
    export_onnx(onnx_path)

    py = [sys.executable, os.path.abspath(__file__), "--windows", str(args.windows)]
    runtimes = {
        "lenet": lambda fig, t: [LENET, fig, str(t), str(args.windows)],
        "ONNX Runtime": lambda fig, t: py + ["--onnx", onnx_path, "--child", "ort", fig, str(t)],
        "PyTorch": lambda fig, t: py + ["--child", "torch", fig, str(t)],
    }
    results = {}  # (runtime, figure, threads) -> [median per round]
    peaks = []
    isa = None
    for rnd in range(args.rounds):
        med, _, isa = run([LENET, "fma-peak", str(args.windows)], 1)
        peaks.append(med)
        print(f"round {rnd + 1}: FMA peak {med:.1f} GFLOP/s", flush=True)
        for figure in FIGURES:
            for threads in (1, 2):
                for name, cmd in runtimes.items():
                    if name == "ONNX Runtime" and figure == "train64":
                        continue
                    med, wins, _ = run(cmd(figure, threads), threads)
                    results.setdefault((name, figure, threads), []).append(med)
                    print(f"  {name:<13} {figure:<9} {threads} thread(s): median {med:12.2f}   "
                          f"windows {' '.join(f'{w:.4g}' for w in wins)}", flush=True)

    peak = statistics.median(peaks)
    fig = {k: statistics.median(v) for k, v in results.items()}
    get = lambda name, f, t: fig.get((name, f, t))  # noqa: E731
    labels = {
        "latency1": "batch-1 inference, µs/image",
        "infer256": "batch-256 inference, images/s",
        "train64": "training batch 64, images/s",
    }
    print()
    print(f"Medians over {args.rounds} rounds (each a fresh process, median of {args.windows} windows of ≥ {WINDOW} s); "
          "ratio = how many times faster lenet is.")
    print()
    print("| 1 / 2 threads | lenet | ONNX Runtime | PyTorch | lenet vs ONNX Runtime | lenet vs PyTorch |")
    print("|---|---|---|---|---|---|")
    for f in FIGURES:
        cells = []
        for name in ("lenet", "ONNX Runtime", "PyTorch"):
            cells.append(" / ".join(fmt(f, get(name, f, t)) for t in (1, 2)))
        for peer in ("ONNX Runtime", "PyTorch"):
            cells.append(" / ".join(ratio(f, get("lenet", f, t), get(peer, f, t)) for t in (1, 2)))
        print(f"| {labels[f]} | " + " | ".join(cells) + " |")
    print()
    share = [get("lenet", "train64", t) * TRAIN_FLOP / 1e9 / (peak * t) for t in (1, 2)]
    print(f"FMA peak ({isa}, 1 thread): {peak:.0f} GFLOP/s (rounds: {', '.join(f'{p:.0f}' for p in peaks)}). "
          f"lenet training batch 64: {get('lenet', 'train64', 1) * TRAIN_FLOP / 1e9:.1f} GFLOP/s on 1 thread = "
          f"{share[0] * 100:.1f} % of the peak; {get('lenet', 'train64', 2) * TRAIN_FLOP / 1e9:.1f} GFLOP/s on 2 threads = "
          f"{share[1] * 100:.1f} % of twice the peak ({TRAIN_FLOP / 1e6:.2f} MFLOP per training image).")
    try:
        print("load average after:", open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass


if __name__ == "__main__":
    main()
