#!/usr/bin/env python3
"""lenet's DS-CNN (keyword spotting, 1x49x10) and MobileNetV1-0.25
(3x96x96) beside ONNX Runtime and PyTorch eager on the same models, in one
run, as SPEC's "How speed is judged" asks (bench/peers.py does LeNet-5).

Figures: batch-1 latency (us/image) and batch-64 inference (images/s), at
1 and 2 threads. Every figure is measured in a fresh process, as a user's
program meets it: the model is built in that process, there is no warm-up,
the first call counts in the first of several windows of at least 0.2 s; a
process reports the median of its windows, and the table shows the median
over the rounds (the rounds interleave the runtimes, so drift hits all
alike).

Before measuring, the models are checked to be the same: lenet trains each
two steps, saves it as safetensors, and PyTorch (eval mode) and ONNX
Runtime, loaded with those tensors, must give lenet's logits.

lenet is `examples/bench_small_cnn.rs`, built once with
`cargo build --release --example bench_small_cnn`; the PyTorch models are
bench/small_cnns.py's.

Usage: python3 bench/small_cnn_peers.py [--rounds N] [--windows N] [--no-build]
Child mode (one figure, used by the run above):
    python3 bench/small_cnn_peers.py --child torch|ort NETWORK FIGURE THREADS [--onnx PATH]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import small_cnns  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
LENET = os.path.join(TARGET, "release", "examples", "bench_small_cnn")

NETWORKS = ("ds_cnn", "mobilenet_v1_025")
FIGURES = ("latency1", "infer64")
BATCH = {"latency1": 1, "infer64": 64}
WINDOW = 0.2


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


def child(runtime, network, figure, threads, n_windows, onnx_path):
    """One figure of one peer in this (fresh) process; prints each window
    and the median, as bench_small_cnn does."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = BATCH[figure]
    x = torch.rand(batch, *small_cnns.INPUT_SHAPE[network]) - 0.5
    if runtime == "torch":
        net = small_cnns.NETWORKS[network]().eval()
        with torch.inference_mode():
            secs = windows(n_windows, lambda: net(x))
    elif runtime == "ort":
        import onnxruntime as ort

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


def check_images(network, n):
    """The images of `bench_small_cnn check`: pixel i of the flat batch is
    (i * 7919 mod 1000) / 1000 - 0.5."""
    import numpy as np

    shape = (n, *small_cnns.INPUT_SHAPE[network])
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    return ((i * 7919 % 1000).astype(np.float32) / np.float32(1000) - np.float32(0.5)).reshape(shape)


def check_same_model(network, tmp):
    """lenet's logits after two training steps, against PyTorch's and ONNX
    Runtime's on lenet's saved tensors. Returns the largest differences."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from safetensors.torch import load_file

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    out = subprocess.run([LENET, "check", network, tmp], check=True, capture_output=True, text=True).stdout
    lenet = np.array([[float(v) for v in line.split()] for line in out.splitlines()], dtype=np.float32)
    net = small_cnns.NETWORKS[network]()
    net.load_state_dict(load_file(os.path.join(tmp, f"{network}.safetensors")), strict=True)
    net.eval()
    x = torch.from_numpy(check_images(network, 2))
    with torch.inference_mode():
        ref = net(x).numpy()
    onnx_path = os.path.join(tmp, f"{network}.trained.onnx")
    torch.onnx.export(net, x[:1], onnx_path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ort_out = sess.run(None, {"x": x.numpy()})[0]
    d_torch = float(np.abs(lenet - ref).max())
    d_ort = float(np.abs(lenet - ort_out).max())
    scale = float(np.abs(ref).max())
    tol = 1e-4 * (1 + scale)
    print(f"{network}: lenet vs PyTorch max |diff| {d_torch:.2e}, vs ONNX Runtime {d_ort:.2e} "
          f"(logits up to {scale:.3g}; tolerance {tol:.1e})", flush=True)
    if d_torch > tol or d_ort > tol:
        sys.exit(f"{network}: lenet's logits differ from PyTorch's:\n{lenet}\n{ref}")


def run(cmd, threads):
    """Runs one measuring process; returns its median and its windows."""
    env = dict(os.environ)
    for var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    wins = [float(l.split()[2]) for l in out.splitlines() if l.startswith("window ")]
    med = [float(l.split()[1]) for l in out.splitlines() if l.startswith("median ")][0]
    return med, wins


def fmt(figure, v):
    if v is None:
        return "–"
    if figure == "latency1":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def ratio(figure, lenet, peer):
    """How many times faster lenet is (higher is better)."""
    if peer is None or lenet is None:
        return "–"
    r = peer / lenet if figure == "latency1" else lenet / peer
    return f"{r:.2f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=4, metavar=("RUNTIME", "NETWORK", "FIGURE", "THREADS"))
    ap.add_argument("--onnx")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if args.child:
        runtime, network, figure, threads = args.child
        child(runtime, network, figure, int(threads), args.windows, args.onnx)
        return

    import platform

    import onnxruntime
    import torch

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--example", "bench_small_cnn"], cwd=ROOT, check=True)
    rustc = subprocess.run(["rustc", "--version"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} logical CPUs; {rustc}; torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; "
          f"python {platform.python_version()}")
    try:
        print("load average before:", open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass

    tmp = tempfile.mkdtemp(prefix="lenet-small-cnns-")
    onnx = {}
    for network in NETWORKS:
        check_same_model(network, tmp)
        onnx[network] = os.path.join(tmp, f"{network}.onnx")
        small_cnns.export_onnx(network, onnx[network])

    py = [sys.executable, os.path.abspath(__file__), "--windows", str(args.windows)]
    runtimes = {
        "lenet": lambda n, fig, t: [LENET, n, fig, str(t), str(args.windows)],
        "ONNX Runtime": lambda n, fig, t: py + ["--onnx", onnx[n], "--child", "ort", n, fig, str(t)],
        "PyTorch": lambda n, fig, t: py + ["--child", "torch", n, fig, str(t)],
    }
    results = {}  # (runtime, network, figure, threads) -> [median per round]
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}", flush=True)
        for network in NETWORKS:
            for figure in FIGURES:
                for threads in (1, 2):
                    for name, cmd in runtimes.items():
                        med, wins = run(cmd(network, figure, threads), threads)
                        results.setdefault((name, network, figure, threads), []).append(med)
                        print(f"  {name:<13} {network:<17} {figure:<9} {threads} thread(s): median {med:12.2f}   "
                              f"windows {' '.join(f'{w:.4g}' for w in wins)}", flush=True)

    fig = {k: statistics.median(v) for k, v in results.items()}
    get = lambda name, n, f, t: fig.get((name, n, f, t))  # noqa: E731
    labels = {"latency1": "batch-1 inference, µs/image", "infer64": "batch-64 inference, images/s"}
    titles = {"ds_cnn": "DS-CNN (1×49×10)", "mobilenet_v1_025": "MobileNetV1-0.25 (3×96×96)"}
    print()
    print(f"Medians over {args.rounds} rounds (each a fresh process, median of {args.windows} windows of ≥ {WINDOW} s); "
          "ratio = how many times faster lenet is.")
    print()
    print("| 1 / 2 threads | lenet | ONNX Runtime | PyTorch | lenet vs ONNX Runtime | lenet vs PyTorch |")
    print("|---|---|---|---|---|---|")
    for n in NETWORKS:
        for f in FIGURES:
            cells = [" / ".join(fmt(f, get(name, n, f, t)) for t in (1, 2)) for name in runtimes]
            for peer in ("ONNX Runtime", "PyTorch"):
                cells.append(" / ".join(ratio(f, get("lenet", n, f, t), get(peer, n, f, t)) for t in (1, 2)))
            print(f"| {titles[n]}, {labels[f]} | " + " | ".join(cells) + " |")
    try:
        print("load average after:", open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass


if __name__ == "__main__":
    main()
