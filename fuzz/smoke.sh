#!/usr/bin/env bash
# CI's smoke run of every fuzz target: write the seed corpus, then run each
# target over it and a fixed number of mutations from a fixed seed, so a given
# build always tries the same inputs. A crash, sanitizer report, leak or hang
# (over 20 s on one input) fails the run; libFuzzer leaves the input that
# caused it in the working directory (crash-*, leak-*, timeout-*).
#   bash fuzz/smoke.sh [BUILD_DIR] [RUNS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
runs=${2:-300}
corpus="$build/fuzz-corpus"
# Reports from inside libhdf5's own strdup/memcpy calls are suppressed (see the
# file); leaks are checked, as in the sanitizer build of the test suite.
# libhdf5 sizes some buffers from lengths in the file (an object header
# continuation chunk, for one) before it reads them: a damaged file can make it
# ask for gigabytes. In a normal process that request is lazily mapped or
# returns null, and libhdf5 then fails its read with an error; the smoke run
# lets it behave the same way (no per-allocation limit, a failed allocation
# returns null) while -rss_limit_mb still bounds the memory really used.
export ASAN_OPTIONS="suppressions=$(pwd)/fuzz/asan_suppressions.txt:detect_leaks=1:fast_unwind_on_malloc=0:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$(pwd)/fuzz/lsan_suppressions.txt"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
rm -rf "$corpus"
"$build/fuzz/fuzz_seeds" "$corpus" "$(pwd)/../shared"
for t in fuzz_h5_model fuzz_weights fuzz_keras fuzz_arch_json fuzz_npy fuzz_idx fuzz_image; do
  new=$(mktemp -d)  # inputs found during the run; the seeds stay as they are
  start=$SECONDS
  "$build/fuzz/$t" -seed=1 -runs="$runs" -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=65536 -max_total_time=120 \
    -print_final_stats=0 "$new" "$corpus/$t" 2> "$build/$t.log" || {
    tail -n 60 "$build/$t.log"
    echo "fuzz smoke: $t FAILED (log: $build/$t.log)"
    exit 1
  }
  echo "fuzz smoke: $t ok ($(grep -c . "$build/$t.log") log lines, $((SECONDS - start)) s)"
  rm -rf "$new"
done
