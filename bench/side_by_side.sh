#!/usr/bin/env bash
# The performance targets of docs/PERFORMANCE.md measured in one run, minidl beside
# its peers, raw results into OUTDIR:
#   machine.txt        CPU model and flags that matter, OPENBLAS_CORETYPE, commit
#   peak.jsonl         bench_peak_flops: the float32 FMA and bfloat16 dot ceilings
#   conv.json          compare_pytorch.py: shapes A-H, forward + backward, 2 threads
#   predict.json/.md   compare_predict.py: the four real networks at batch 1 and 32
#   mixed_bf16.jsonl   bench_mixed_bf16: the main job under float32 and mixed_bfloat16
#
#   bash bench/side_by_side.sh OUTDIR [ROUNDS]     # from the repository root
#
# Needs the Release build in build/ (benchmarks, tools, examples), PyTorch for
# /usr/bin/python3 (bash scripts/install_deps.sh --bench) and ../shared/keras-apps.
# Run it on an otherwise idle machine; each comparison alternates minidl and
# the peer ROUNDS times (default 5) and reports medians. OPENBLAS_CORETYPE is
# taken from the environment and recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/side_by_side.sh OUTDIR [ROUNDS]}
rounds=${2:-5}
mkdir -p "$out" /tmp/real

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu family/model: $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')/$(grep -m1 '^model[^ ]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
  echo "vCPUs: $(nproc)"
  echo "flags: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')"
  echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
cat "$out/machine.txt"

./build/bench/bench_peak_flops --threads 2 | tee "$out/peak.jsonl"

/usr/bin/python3 bench/compare_pytorch.py --threads 2 --repeat 10 --rounds "$rounds" --json "$out/conv.json" |
  tail -n 12

./build/bench/make_applications /tmp/real mnist_cnn ResNet8 > /dev/null
/usr/bin/python3 bench/compare_predict.py --batches 32 --one-thread --rounds "$rounds" --repeat 10 --repeat-large 5 \
  ../shared/keras-apps/MobileNet.h5 ../shared/keras-apps/MobileNetV2.h5 /tmp/real/mnist_cnn.h5 /tmp/real/ResNet8.h5 \
  --json "$out/predict.json" --table "$out/predict.md" > /dev/null
cat "$out/predict.md"

./build/bench/bench_mixed_bf16 --rounds 2 --epochs 3 --limit 12000 --test 10000 | tee "$out/mixed_bf16.jsonl"
