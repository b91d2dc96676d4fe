#!/bin/sh
# tests/mpi/run_fault_test.sh — runs one multi-process scenario of distributed_worker and checks its outcome.
#
#   run_fault_test.sh logs|throw|kill WORKER MPIRUN...
# logs:  the job succeeds and both ranks print the same averaged logs.
# throw: rank 1 throws mid-epoch; the job must end with a non-zero status and
#        the message "rank 1: injected failure".
# kill:  rank 1 is killed with SIGKILL in the third epoch; the job must end with
#        a non-zero status and rank 0's last checkpoint must load.
set -u
what="$1"
worker="$2"
shift 2
dir="${TMPDIR:-/tmp}/minidl_test_mpi_$what.$$"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
case "$what" in
  logs)
    "$@" "$worker" logs_and_predict >"$dir/out" 2>&1
    rc=$?
    cat "$dir/out"
    [ "$rc" -eq 0 ] || { echo "FAILED: the job ended with status $rc"; exit 1; }
    n=$(grep -E '^rank [0-9]+ (logs|evaluate):' "$dir/out" | sed -E 's/^rank [0-9]+ //' | sort -u | wc -l)
    [ "$n" -eq 2 ] || { echo "FAILED: the ranks printed different logs"; exit 1; }
    ;;
  throw)
    "$@" "$worker" throw_on_rank1 >"$dir/out" 2>&1
    rc=$?
    cat "$dir/out"
    [ "$rc" -ne 0 ] || { echo "FAILED: the job ended with status 0 although rank 1 threw"; exit 1; }
    grep -q 'rank 1: injected failure at batch 3' "$dir/out" || { echo "FAILED: no message naming rank 1"; exit 1; }
    ;;
  kill)
    "$@" "$worker" kill_rank1 "$dir/ckpt.h5" >"$dir/out" 2>&1
    rc=$?
    cat "$dir/out"
    [ "$rc" -ne 0 ] || { echo "FAILED: the job ended with status 0 although rank 1 was killed"; exit 1; }
    [ -f "$dir/ckpt.h5" ] || { echo "FAILED: rank 0 wrote no checkpoint before rank 1 died"; exit 1; }
    "$worker" load "$dir/ckpt.h5" || { echo "FAILED: the last checkpoint does not load"; exit 1; }
    ;;
  *)
    echo "usage: $0 logs|throw|kill WORKER MPIRUN..."
    exit 2
    ;;
esac
echo "passed"
