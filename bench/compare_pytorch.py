#!/usr/bin/python3
"""compare_pytorch.py: minidl and PyTorch timed in the same run on the same machine.

Two modes:

  conv2d (default)  For each standard shape A..H (or --shapes A,C), runs
                    `minidl bench conv2d` in a subprocess, then times PyTorch's
                    conv2d in this process the same way. Prints a table: minidl
                    and torch forward/backward ms, (fwd+bwd) minidl/torch ratio,
                    and the geometric mean of the ratios. --rounds K repeats
                    the whole comparison K times and reports per-shape medians.
  --train           One mnist_cnn training on Fashion-MNIST each:
                    build/examples/train_fashion_mnist and the same network in
                    PyTorch (run in a child process). Prints median seconds per
                    epoch, their ratio, test accuracy and peak RSS of both.

PyTorch is timed as minidl times itself (tools/cmd_bench.cpp): warm-up runs
for at least 0.25 s (at least one run), then the median of --repeat runs (the upper median when --repeat is even); the
forward runs under no_grad; the backward is one backward() from a ones seed after
an untimed taped forward, computing the input, weight and bias gradients. Tensors
are channels_last (NHWC in memory, as minidl). Keras "same" padding is
TensorFlow's: when the total padding is odd (stride 2) the extra pixel goes
bottom/right, done with F.pad before an unpadded conv; when it is even the pad
is passed to conv2d itself, which computes the same thing without a copy.
GFLOP/s count 2 flops per multiply-add: forward 2*N*OH*OW*OC*KH*KW*C/G,
backward twice that (the bias gradient not counted), as minidl counts.

All minidl measurements of a run happen before PyTorch computes anything, so
PyTorch's OpenMP workers never compete with minidl for the cores.

Peak RSS is ru_maxrss of each child from os.wait4. The launcher imports neither
torch nor numpy in --train mode: on Linux a child's ru_maxrss also counts the
launcher's memory at the moment of the spawn, so the launcher must stay small
(its own peak is reported as "launcher_maxrss_mb", the floor of both numbers).

Needs Debian's python3-torch, which is installed for /usr/bin/python3 (hence the
shebang): another python3 on PATH (pyenv, venv) may not see it.

Exit status: 0 on success or when torch is not importable ("skipped: ..."),
1 when a binary is missing or a child fails, 2 on bad options.
"""

import argparse
import gzip
import importlib.util
import json
import math
import os
import platform
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
SKIP_MESSAGE = ("skipped: python3-torch not installed "
                "(torch is not importable from {}; Debian's python3-torch serves /usr/bin/python3)")
TORCH_MISSING_EXIT = 3  # the --train child's exit status when torch cannot be imported

# The standard shapes of tools/cmd_bench.cpp and bench/bench_conv2d.cpp:
# name: (batch, H, W, Cin, filters, kernel, stride, padding, dilation, groups)
SHAPES = {
    "A": (64, 28, 28, 1, 32, 3, 1, "valid", 1, 1),
    "B": (64, 26, 26, 32, 64, 3, 1, "valid", 1, 1),
    "C": (32, 32, 32, 64, 64, 3, 1, "same", 1, 1),
    "D": (8, 56, 56, 64, 64, 3, 1, "same", 1, 1),
    "E": (32, 32, 32, 64, 128, 3, 2, "same", 1, 1),
    "F": (32, 32, 32, 64, 64, 3, 1, "same", 2, 1),
    "G": (32, 28, 28, 128, 256, 1, 1, "valid", 1, 1),
    "H": (32, 32, 32, 64, 64, 3, 1, "same", 1, 4),
}


def describe(shape):
    n, h, w, c, oc, k, s, padding, d, g = shape
    text = f"{n}x{h}x{w}x{c} -> {oc} {k}x{k} s{s} {padding}"
    if d > 1:
        text += f" d{d}"
    if g > 1:
        text += f" g{g}"
    return text


WARMUP_SECONDS = 0.25  # as kWarmupMs in tools/cmd_bench.cpp


def warm_up(run):
    """Calls run() until WARMUP_SECONDS have passed (at least once, at most 1000 times)."""
    t0 = time.perf_counter()
    for _ in range(1000):
        run()
        if time.perf_counter() - t0 >= WARMUP_SECONDS:
            break


def median(values):
    """Upper median, as minidl's bench (ms[size / 2] of the sorted runs)."""
    return sorted(values)[len(values) // 2]


def mean_median(values):
    """Median averaging the two middle values, as train_fashion_mnist's epoch_seconds."""
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def warn_if_loaded():
    """Timings on a busy machine mean little, and PyTorch's spinning OpenMP threads suffer most from it."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cpus:
        print(f"warning: load average {load:.2f} on {cpus} core(s): other work is running, "
              "these timings are not representative", file=sys.stderr, flush=True)


def require_binary(path, option):
    if not (path.is_file() and os.access(path, os.X_OK)):
        fail(f"{option} {path}: no such executable (build it first, see bench/README.md)")


def run_child(cmd, capture_stderr=True):
    """Runs cmd to completion; returns (exit status, stdout text, peak RSS in MB) of that child alone."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT if capture_stderr else None, text=True)
    out = proc.stdout.read()
    proc.stdout.close()
    # wait4 rather than RUSAGE_CHILDREN: the latter is the maximum over every child waited for so far.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def same_pads(size, kernel, stride, dilation):
    """TensorFlow's 'same' padding along one axis: (before, after), the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


# ---------------------------------------------------------------- conv2d mode

def minidl_conv(binary, shape, threads, repeat):
    n, h, w, c, oc, k, s, padding, d, g = shape
    cmd = [str(binary), "bench", "conv2d", "--batch", str(n), "--input", f"{h},{w},{c}",
           "--filters", str(oc), "--kernel", f"{k},{k}", "--strides", str(s), "--padding", padding,
           "--dilation", str(d), "--groups", str(g), "--threads", str(threads), "--repeat", str(repeat)]
    status, out, _ = run_child(cmd)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if status != 0 or not lines:
        fail(f"{' '.join(cmd)} exited with status {status}:\n{out}")
    return json.loads(lines[-1])


def torch_conv(torch, shape, repeat):
    """Times one shape in PyTorch; returns the numbers minidl's bench reports."""
    F = torch.nn.functional
    n, h, w, c, oc, k, s, padding, d, g = shape
    cl = torch.channels_last
    x = (torch.rand(n, c, h, w) * 2 - 1).contiguous(memory_format=cl)                # [N, C, H, W] as NHWC
    weight = ((torch.rand(oc, c // g, k, k) * 2 - 1) * 0.1).contiguous(memory_format=cl)  # [OC, C/G, KH, KW]
    weight.requires_grad_(True)
    bias = torch.zeros(oc, requires_grad=True)

    pad_h = same_pads(h, k, s, d) if padding == "same" else (0, 0)
    pad_w = same_pads(w, k, s, d) if padding == "same" else (0, 0)
    symmetric = pad_h[0] == pad_h[1] and pad_w[0] == pad_w[1]

    def conv(inp):
        if symmetric:
            return F.conv2d(inp, weight, bias, stride=s, padding=(pad_h[0], pad_w[0]), dilation=d, groups=g)
        padded = F.pad(inp, (pad_w[0], pad_w[1], pad_h[0], pad_h[1]))  # extra column right, row bottom
        return F.conv2d(padded, weight, bias, stride=s, padding=0, dilation=d, groups=g)

    out_shape = []

    def forward():
        with torch.no_grad():
            t0 = time.perf_counter()
            y = conv(x)
            ms = (time.perf_counter() - t0) * 1e3
        out_shape[:] = [y.shape[2], y.shape[3], y.shape[1]]  # OH, OW, OC
        return ms

    xg = x.clone().requires_grad_(True)

    def backward():
        xg.grad = weight.grad = bias.grad = None  # fresh gradients, as minidl's zero_grad
        y = conv(xg)
        seed = torch.ones_like(y)  # channels_last like y
        t0 = time.perf_counter()
        y.backward(seed)
        return (time.perf_counter() - t0) * 1e3

    warm_up(forward)  # also oneDNN primitive creation, allocator
    fwd_ms = median([forward() for _ in range(repeat)])
    warm_up(backward)
    bwd_ms = median([backward() for _ in range(repeat)])
    oh, ow, _ = out_shape
    flops = 2.0 * n * oh * ow * oc * k * k * (c // g)
    return {"fwd_ms": fwd_ms, "bwd_ms": bwd_ms, "fwd_gflops": flops / (fwd_ms * 1e6),
            "bwd_gflops": 2 * flops / (bwd_ms * 1e6), "threads": torch.get_num_threads(),
            "repeat": repeat, "output": out_shape}


def conv_mode(args, names):
    require_binary(args.minidl_bin, "--minidl-bin")
    try:
        import torch
    except ImportError:
        print(SKIP_MESSAGE.format(sys.executable))
        return 0
    torch.set_num_threads(args.threads)
    print(f"conv2d: minidl {args.minidl_bin} vs torch {torch.__version__} "
          f"(oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}), "
          f"{args.threads} thread(s), median of {args.repeat} after a {WARMUP_SECONDS} s warm-up, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    warn_if_loaded()

    # Each round times every minidl shape first, then every torch shape:
    # PyTorch's OpenMP workers may spin after their work and would steal
    # minidl's cores, so a later round waits a second for them to go to sleep.
    # With --rounds K, each time reported is the median over the K rounds (the
    # test machines' speed drifted by up to 2x over tens of seconds).
    runs = {name: {"minidl": [], "torch": []} for name in names}
    for r in range(args.rounds):
        if r:
            time.sleep(1.0)
        for name in names:
            runs[name]["minidl"].append(minidl_conv(args.minidl_bin, SHAPES[name], args.threads, args.repeat))
        for name in names:
            runs[name]["torch"].append(torch_conv(torch, SHAPES[name], args.repeat))
        if args.rounds > 1:
            ratios = [(runs[n]["minidl"][r]["fwd_ms"] + runs[n]["minidl"][r]["bwd_ms"]) /
                      (runs[n]["torch"][r]["fwd_ms"] + runs[n]["torch"][r]["bwd_ms"]) for n in names]
            print(f"round {r + 1}/{args.rounds}: geometric mean ratio "
                  f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}", flush=True)

    def summary(results):
        out = dict(results[-1])
        for key in ("fwd_ms", "bwd_ms"):
            out[key] = median([x[key] for x in results])
            out[key + "_rounds"] = [x[key] for x in results]
        flops = results[-1]["fwd_gflops"] * results[-1]["fwd_ms"] * 1e6
        out["fwd_gflops"], out["bwd_gflops"] = flops / (out["fwd_ms"] * 1e6), 2 * flops / (out["bwd_ms"] * 1e6)
        return out

    rows = []
    for name in names:
        shape = SHAPES[name]
        m, t = summary(runs[name]["minidl"]), summary(runs[name]["torch"])
        if m["shape"]["output"] != t["output"]:
            fail(f"shape {name}: minidl output {m['shape']['output']} but torch output {t['output']}")
        ratio = (m["fwd_ms"] + m["bwd_ms"]) / (t["fwd_ms"] + t["bwd_ms"])
        rows.append({"name": name, "shape": describe(shape), "minidl": m, "torch": t, "ratio": ratio})

    print(f"{'':2} {'shape':30} {'minidl fwd':>10} {'bwd':>8} {'torch fwd':>10} {'bwd':>8} {'ratio':>6}")
    for r in rows:
        m, t = r["minidl"], r["torch"]
        print(f"{r['name']:2} {r['shape']:30} {m['fwd_ms']:10.2f} {m['bwd_ms']:8.2f} "
              f"{t['fwd_ms']:10.2f} {t['bwd_ms']:8.2f} {r['ratio']:6.2f}")
    geomean = math.exp(sum(math.log(r["ratio"]) for r in rows) / len(rows))
    print(f"geometric mean of (fwd+bwd) minidl/torch: {geomean:.2f}  (ms; ratio > 1: minidl slower)")
    return {"mode": "conv2d", "threads": args.threads, "repeat": args.repeat, "rounds": args.rounds,
            "torch_version": torch.__version__,
            "shapes": rows, "geomean_ratio": geomean}


# ----------------------------------------------------------------- train mode

def idx_file(data_dir, name):
    for candidate in (Path(data_dir) / name, Path(data_dir) / (name + ".gz")):
        if candidate.is_file():
            return candidate
    fail(f"{Path(data_dir) / name}[.gz]: not found (Debian package dataset-fashion-mnist, or --data DIR)")


def read_idx(np, path, limit=None):
    """An IDX file (gzip or plain) as a uint8 array [N, ...]; only the first `limit` items when given."""
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
        zero, dtype, rank = struct.unpack(">HBB", f.read(4))
        if zero != 0 or dtype != 0x08:
            fail(f"{path}: not an unsigned-byte IDX file")
        dims = list(struct.unpack(f">{rank}I", f.read(4 * rank)))
        if limit is not None:
            dims[0] = min(dims[0], limit)
        count = math.prod(dims)
        data = f.read(count)
        if len(data) != count:
            fail(f"{path}: truncated, expected {count} bytes of data, read {len(data)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def torch_train_child(args):
    """The PyTorch half of --train, run in its own process; prints one JSON line."""
    try:
        import numpy as np
        import torch
    except ImportError:
        sys.exit(TORCH_MISSING_EXIT)
    nn, F = torch.nn, torch.nn.functional
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cl = torch.channels_last

    def images(name, limit=None):
        x = read_idx(np, idx_file(args.data, name), limit)                     # [N, 28, 28] uint8
        x = x.astype(np.float32)
        x /= 255.0  # in place: one float copy of the data set, as minidl holds
        return torch.from_numpy(x).unsqueeze(1).contiguous(memory_format=cl)  # [N, 1, 28, 28], no copy for C=1

    def labels(name, limit=None):
        return torch.from_numpy(read_idx(np, idx_file(args.data, name), limit).astype(np.int64))

    x_train, y_train = images("train-images-idx3-ubyte", args.limit), labels("train-labels-idx1-ubyte", args.limit)
    x_test, y_test = images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")

    class FlattenNHWC(nn.Module):
        """Keras's Flatten on channels_last: (H, W, C) order, a free view of NHWC memory."""

        def forward(self, x):
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),                   # [N, 32, 26, 26]
        nn.Conv2d(32, 64, 3), nn.ReLU(),                  # [N, 64, 24, 24]
        nn.MaxPool2d(2),                                  # [N, 64, 12, 12]
        nn.Dropout(0.25),
        FlattenNHWC(),                                    # [N, 9216]
        nn.Linear(12 * 12 * 64, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),  # softmax folded into cross_entropy
    ).to(memory_format=cl)
    for m in model.modules():  # Keras defaults: glorot_uniform kernels, zero biases
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    n, batch = x_train.shape[0], 128
    seconds = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        correct, loss_sum = 0, 0.0
        order = torch.randperm(n)  # Keras's fit shuffles every epoch
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            xb, yb = x_train[idx].contiguous(memory_format=cl), y_train[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            # The running loss and accuracy Keras's fit keeps, so both sides do the same work.
            loss_sum += loss.item() * yb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
        seconds.append(time.perf_counter() - t0)
        print(f"torch epoch {epoch + 1}/{args.epochs}: {seconds[-1]:.2f} s, loss {loss_sum / n:.4f}, "
              f"accuracy {correct / n:.4f}", file=sys.stderr, flush=True)

    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for i in range(0, x_test.shape[0], 1000):
            out = model(x_test[i:i + 1000])
            loss_sum += F.cross_entropy(out, y_test[i:i + 1000], reduction="sum").item()
            correct += (out.argmax(1) == y_test[i:i + 1000]).sum().item()
    print(json.dumps({"epoch_seconds": mean_median(seconds) if seconds else 0.0, "epoch_seconds_all": seconds,
                      "test_accuracy": correct / x_test.shape[0], "test_loss": loss_sum / x_test.shape[0],
                      "train_images": n, "threads": torch.get_num_threads(), "torch_version": torch.__version__}))
    return 0


def minidl_train(args):
    with tempfile.TemporaryDirectory(prefix="compare_pytorch_") as tmp:
        cmd = [str(args.train_bin), "--epochs", str(args.epochs), "--threads", str(args.threads),
               "--verbose", "0", "--seed", str(args.seed), "--data", args.data,
               "--output", str(Path(tmp) / "fashion_mnist_cnn.h5")]
        if args.limit is not None:
            cmd += ["--limit", str(args.limit)]
        status, out, rss = run_child(cmd)
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and " " not in line)
    if status != 0 or "epoch_seconds" not in values or "test_accuracy" not in values:
        fail(f"{' '.join(cmd)} exited with status {status}:\n{out}")
    return {"epoch_seconds": float(values["epoch_seconds"]), "test_accuracy": float(values["test_accuracy"]),
            "test_loss": float(values.get("test_loss", "nan")), "peak_rss_mb": rss, "command": cmd}


def train_mode(args):
    require_binary(args.train_bin, "--train-bin")
    # find_spec does not import: the launcher stays small so that children's ru_maxrss are their own.
    if importlib.util.find_spec("torch") is None:
        print(SKIP_MESSAGE.format(sys.executable))
        return 0
    print(f"train: mnist_cnn on Fashion-MNIST ({args.data}), {args.epochs} epoch(s), "
          f"{'all' if args.limit is None else args.limit} training images, {args.threads} thread(s), "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    warn_if_loaded()

    print("running minidl ...", file=sys.stderr, flush=True)
    m = minidl_train(args)
    print("running torch ...", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--torch-train-child", "--epochs", str(args.epochs),
           "--threads", str(args.threads), "--seed", str(args.seed), "--data", args.data]
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    status, out, rss = run_child(cmd, capture_stderr=False)  # its per-epoch lines go straight to stderr
    if status == TORCH_MISSING_EXIT:
        print(SKIP_MESSAGE.format(sys.executable))
        return 0
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if status != 0 or not lines:
        fail(f"the torch training child exited with status {status}:\n{out}")
    t = json.loads(lines[-1])
    t["peak_rss_mb"] = rss

    ratio = m["epoch_seconds"] / t["epoch_seconds"] if t["epoch_seconds"] > 0 else float("nan")
    print(f"{'':8} {'s/epoch':>9} {'test acc':>9} {'peak RSS MB':>12}")
    for name, r in (("minidl", m), ("torch", t)):
        print(f"{name:8} {r['epoch_seconds']:9.2f} {r['test_accuracy']:9.4f} {r['peak_rss_mb']:12.1f}")
    print(f"epoch time minidl/torch: {ratio:.2f}  (ratio > 1: minidl slower)")
    launcher = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"mode": "train", "threads": args.threads, "epochs": args.epochs, "limit": args.limit,
            "minidl": m, "torch": t, "ratio": ratio, "launcher_maxrss_mb": launcher}


# ----------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", action="store_true", help="compare mnist_cnn training instead of conv2d kernels")
    p.add_argument("--minidl-bin", type=Path, default=REPO / "build/tools/minidl",
                   help="the minidl CLI (default: %(default)s)")
    p.add_argument("--train-bin", type=Path, default=REPO / "build/examples/train_fashion_mnist",
                   help="the minidl trainer for --train (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="threads for both (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per conv measurement (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=1,
                   help="conv2d: repeat the whole comparison this many times and report per-shape medians "
                        "(default: %(default)s)")
    p.add_argument("--shapes", default=",".join(SHAPES), help="subset of the standard shapes, e.g. A,B")
    p.add_argument("--epochs", type=int, default=3, help="--train: epochs (default: %(default)s)")
    p.add_argument("--limit", type=int, help="--train: only the first N training images")
    p.add_argument("--data", default=os.environ.get("MINIDL_FASHION_MNIST_DIR", DEFAULT_DATA),
                   help="--train: directory with the Fashion-MNIST IDX files (default: %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="--train: random seed for both (default: %(default)s)")
    p.add_argument("--json", type=Path, help="also write every number to this JSON file")
    p.add_argument("--torch-train-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for option in ("threads", "repeat", "epochs", "rounds"):
        if getattr(args, option) < 1:
            p.error(f"--{option} {getattr(args, option)}: expected a positive integer")
    if args.limit is not None and args.limit < 1:
        p.error(f"--limit {args.limit}: expected a positive integer")
    names = [s.strip().upper() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in names if s not in SHAPES]
    if unknown or not names:
        p.error(f"--shapes {args.shapes!r}: expected names among {','.join(SHAPES)}")
    return args, names


def main(argv=None):
    sys.stdout.reconfigure(line_buffering=True)  # progress and results interleave in order when piped
    args, names = parse_args(sys.argv[1:] if argv is None else argv)
    if args.torch_train_child:
        return torch_train_child(args)
    result = train_mode(args) if args.train else conv_mode(args, names)
    if isinstance(result, int):  # skipped
        return result
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "load_average_at_end": os.getloadavg()[0]}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
