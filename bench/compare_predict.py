#!/usr/bin/python3
"""compare_predict.py: predict speed of saved Keras models, minidl against PyTorch 1.13, in one run.

For each model file (Keras-layout .h5: the three in ../shared/keras-apps by
default, plus every NAME.h5 in --apps-dir, as bench/make_applications writes
them), bench/keras_to_torch.py builds the same network in PyTorch from the
file's config and weights. Before any timing the torch output is checked
against minidl's `predict` (and Keras's `y` where NAME.io.h5 lies beside the
model) within 1e-4 + 1e-3*max|y|; a model whose outputs differ is reported and
not timed.

Timing, alternating in each round (minidl, then torch, per setting):
  minidl  `build/tools/minidl bench predict MODEL --batch N --threads T` in a
          subprocess (tools/cmd_bench_predict.cpp);
  torch   this process: torch.set_num_threads(T), torch.inference_mode(), the
          same method: one first call, warm-up calls for at least 0.25 s (at
          least one), then the median of --repeat calls.
PyTorch's OpenMP workers sleep between parallel regions (OMP_WAIT_POLICY=PASSIVE
unless set): spinning ones collapse when another process holds a core.
Settings: batch 1 and 32 at --threads (default 2), and batch 1 at 1 thread
with --one-thread. Reported per setting: the median over --rounds of each
round's median. Writes the raw numbers (every round, the machine: CPU model,
OPENBLAS_CORETYPE, torch version) as JSON and prints a Markdown table: per
setting the medians, their ratio and images/s, then per model the batching gain
(time per image at the smallest batch over time per image at the largest, each
at its own thread count); --table also writes that Markdown to a file.

  /usr/bin/python3 bench/compare_predict.py --apps-dir /tmp/apps --rounds 3 --json docs/predict_vs_pytorch.json
  /usr/bin/python3 bench/compare_predict.py --batches 32 --one-thread --rounds 5 \
      ../shared/keras-apps/MobileNet.h5 ../shared/keras-apps/MobileNetV2.h5 /tmp/real/mnist_cnn.h5 \
      /tmp/real/ResNet8.h5 --json docs/predict_real_networks.json --table /tmp/real/table.md
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# PyTorch's OpenMP workers spin-wait between parallel regions by default; when a
# build or another process holds one of the cores, every barrier waits for a
# descheduled spinner and a 35 ms network took 1.5-2 s. Sleeping workers
# (PASSIVE) keep PyTorch's times sane on a shared machine; set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_to_torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_APPS = ["MobileNet", "MobileNetV2", "MobileNetV3Small"]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def time_torch(module, shape, batch, threads, repeat, warmup_s):
    """first_ms and median_ms of module(x) on a U[0, 1) batch, as `minidl bench predict` times itself."""
    torch.set_num_threads(threads)
    x = torch.rand([batch] + shape, generator=torch.Generator().manual_seed(0))

    def call():
        t0 = time.perf_counter()
        with torch.inference_mode():
            module(x)
        return (time.perf_counter() - t0) * 1000

    first = call()
    start = time.perf_counter()
    for _ in range(1000):
        call()
        if time.perf_counter() - start >= warmup_s:
            break
    times = sorted(call() for _ in range(repeat))
    return {"first_ms": first, "median_ms": times[len(times) // 2]}


def time_minidl(minidl, path, batch, threads, repeat, warmup_s):
    out = subprocess.run([minidl, "bench", "predict", path, "--batch", str(batch), "--threads", str(threads),
                          "--repeat", str(repeat), "--warmup-seconds", str(warmup_s)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"minidl bench predict {path}: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def model_files(args):
    files = list(args.models)
    if not files and not args.no_shared:
        files = [os.path.join(args.shared_dir, f"{n}.h5") for n in SHARED_APPS
                 if os.path.exists(os.path.join(args.shared_dir, f"{n}.h5"))]
    if args.apps_dir:
        files += sorted(p for p in glob.glob(os.path.join(args.apps_dir, "*.h5")) if not p.endswith(".io.h5"))
    return files


def check(path, module, minidl):
    """(ok, {reference: keras_to_torch.compare(...)}) of the torch network against minidl and Keras."""
    results = keras_to_torch.verify(path, module=module, minidl=minidl, io_path=keras_to_torch.io_file_for(path))
    return all(r["ok"] for r in results.values()), results


def markdown(rows):
    lines = ["| model | batch | threads | minidl ms | torch ms | minidl / torch | minidl images/s | torch images/s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['model']} | {r.get('batch', '')} | {r.get('threads', '')} | — | — | "
                         f"not timed: {r['skipped']} | | |")
            continue
        m, t = r["minidl_median_ms"], r["torch_median_ms"]
        lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {m:.2f} | {t:.2f} | {m / t:.2f} | "
                     f"{r['batch'] * 1000 / m:.1f} | {r['batch'] * 1000 / t:.1f} |")
    gains = batching_gains(rows)
    if gains:
        lines += ["", "| model | minidl ms per image: batch, threads | minidl batching gain | "
                      "torch batching gain |", "|---|---|---|---|"]
        for g in gains:
            lines.append(f"| {g['model']} | {g['small']} -> {g['large']} | {g['minidl']:.2f}x | {g['torch']:.2f}x |")
    return "\n".join(lines)


def batching_gains(rows):
    """Per model timed at two or more batch sizes: ms per image at the smallest batch over ms per image at the
    largest (each at the thread count it ran with), for minidl and torch."""
    out = []
    for model in dict.fromkeys(r["model"] for r in rows if "skipped" not in r):
        timed = [r for r in rows if r["model"] == model and "skipped" not in r]
        small = min(timed, key=lambda r: (r["batch"], r["threads"]))
        large = max(timed, key=lambda r: (r["batch"], r["threads"]))
        if small["batch"] == large["batch"]:
            continue

        def per_image(r, key):
            return r[key] / r["batch"]

        out.append({"model": model,
                    "small": f"{per_image(small, 'minidl_median_ms'):.3f} ({small['batch']}, {small['threads']})",
                    "large": f"{per_image(large, 'minidl_median_ms'):.3f} ({large['batch']}, {large['threads']})",
                    "minidl": per_image(small, "minidl_median_ms") / per_image(large, "minidl_median_ms"),
                    "torch": per_image(small, "torch_median_ms") / per_image(large, "torch_median_ms")})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", help="model files (.h5); default: the three in ../shared/keras-apps")
    p.add_argument("--shared-dir", default=os.path.join(HERE, "..", "..", "shared", "keras-apps"))
    p.add_argument("--no-shared", action="store_true", help="leave out ../shared/keras-apps")
    p.add_argument("--apps-dir", help="also every NAME.h5 here (bench/make_applications OUTDIR)")
    p.add_argument("--minidl", default=os.path.join(HERE, "..", "build", "tools", "minidl"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="1,32")
    p.add_argument("--one-thread", action="store_true", help="also batch 1 at 1 thread")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=10, help="timed calls at batch 1")
    p.add_argument("--repeat-large", type=int, default=3, help="timed calls at batch > 1")
    p.add_argument("--warmup-seconds", type=float, default=0.25)
    p.add_argument("--json", help="write the raw results here")
    p.add_argument("--note", default="", help="recorded in the JSON (e.g. which build --minidl is)")
    p.add_argument("--table", help="also write the Markdown tables here")
    args = p.parse_args()

    settings = [(int(b), args.threads) for b in args.batches.split(",")]
    if args.one_thread:
        settings.append((1, 1))
    rows = []
    for path in model_files(args):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            module = keras_to_torch.KerasModule(path).eval()
            ok, errors = check(path, module, args.minidl)
        except (keras_to_torch.UnsupportedModel, RuntimeError, subprocess.CalledProcessError) as e:
            msg = getattr(e, "stderr", None) or str(e)
            rows.append({"model": name, "file": path, "skipped": str(msg).strip().splitlines()[-1]})
            print(f"{name}: not timed: {rows[-1]['skipped']}", file=sys.stderr)
            continue
        print(f"{name}: max|torch - reference| {errors}", file=sys.stderr)
        if not ok:
            rows.append({"model": name, "file": path, "skipped": "outputs differ", "max_error": errors})
            continue
        shape = keras_to_torch.input_shape(module.config)
        for batch, threads in settings:
            repeat = args.repeat if batch == 1 else args.repeat_large
            rounds = []
            for _ in range(args.rounds):
                m = time_minidl(args.minidl, path, batch, threads, repeat, args.warmup_seconds)
                t = time_torch(module, shape, batch, threads, repeat, args.warmup_seconds)
                rounds.append({"minidl": m, "torch": t})
                print(f"{name} batch {batch} threads {threads}: minidl {m['median_ms']:.2f} ms, "
                      f"torch {t['median_ms']:.2f} ms", file=sys.stderr)
            rows.append({
                "model": name, "file": path, "input_shape": shape, "batch": batch, "threads": threads,
                "repeat": repeat, "max_error": errors,
                "minidl_median_ms": statistics.median(r["minidl"]["median_ms"] for r in rounds),
                "torch_median_ms": statistics.median(r["torch"]["median_ms"] for r in rounds),
                "minidl_load_ms": statistics.median(r["minidl"]["load_ms"] for r in rounds),
                "minidl_first_ms": statistics.median(r["minidl"]["first_ms"] for r in rounds),
                "torch_first_ms": statistics.median(r["torch"]["first_ms"] for r in rounds),
                "rounds": rounds})
            rows[-1]["ratio"] = rows[-1]["minidl_median_ms"] / rows[-1]["torch_median_ms"]
        if args.json:
            write_json(args, rows)
    table = markdown(rows)
    print(table)
    if args.json:
        write_json(args, rows)
    if args.table:
        write_atomically(args.table, table + "\n")


def write_json(args, rows):
    """The raw report, rewritten after each model so an interrupted run keeps what it measured."""
    report = {
        "machine": {"cpu": cpu_model(), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "load_average": os.getloadavg(),
                    "torch": torch.__version__, "numpy": np.__version__, "minidl_commit": git_commit(),
                    "minidl_binary": os.path.abspath(args.minidl)},
        "note": args.note,
        "method": {"rounds": args.rounds, "warmup_seconds": args.warmup_seconds, "repeat": args.repeat,
                   "repeat_large": args.repeat_large, "input": "U[0, 1), NHWC float32",
                   "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])},
        "results": rows, "batching_gains": batching_gains(rows)}
    write_atomically(args.json, json.dumps(report, indent=1) + "\n")


def write_atomically(path, text):
    """text into path through a file beside it and a rename, so a reader never sees half of it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
