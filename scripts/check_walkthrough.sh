#!/usr/bin/env bash
# scripts/check_walkthrough.sh — fails when the walkthrough or the README's reading order cites
# code that is not there, so that the teaching text follows the code when it changes.
#
# A citation is `path:symbol`: a repository file (a path with a '/' and an extension) and an
# identifier, possibly qualified (`autograd/engine.cpp:Variable::backward`,
# `ops/conv2d.h:conv2d_forward`). It holds when the file exists and every part of the symbol
# (split at "::", a leading '~' dropped) occurs in that file as a whole word. A line number
# (`ops/conv2d.cpp:42`) is no citation and is ignored: line numbers go stale unseen.
#
# Where it looks: every docs/walkthrough/*.md, and the "## Reading order" section of
# README.md (from that heading to the next "## " heading).
# Bare paths in any document are scripts/check_paths.sh's job.
#
#   bash scripts/check_walkthrough.sh [ROOT]   # ROOT defaults to the repository root
# Prints one "file:line: cites PATH:SYMBOL, ..." per miss; exit status 1 when any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
shopt -s nullglob

# file:line:citation for every citation in the scanned text.
citations() {
  local re='[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+[.][A-Za-z0-9]+:[~]?[A-Za-z_][A-Za-z0-9_]*(::[~]?[A-Za-z_][A-Za-z0-9_]*)*'
  local f
  for f in docs/walkthrough/*.md; do
    grep -noE "$re" "$f" | sed "s|^|$f:|" || true
  done
  if [ -f README.md ]; then
    awk '/^## /{inside = ($0 ~ /^## Reading order/)} inside {print FNR ":" $0}' README.md |
      while IFS= read -r numbered; do
        printf '%s\n' "${numbered#*:}" | grep -oE "$re" | sed "s|^|README.md:${numbered%%:*}:|" || true
      done
  fi
}

misses=0
checked=0
while IFS= read -r hit; do
  checked=$((checked + 1))
  file="${hit%%:*}"; rest="${hit#*:}"
  line="${rest%%:*}"; cite="${rest#*:}"
  path="${cite%%:*}"; symbol="${cite#*:}"
  if [ ! -f "$path" ]; then
    echo "$file:$line: cites $cite, but $path does not exist" >&2
    misses=$((misses + 1))
    continue
  fi
  for part in ${symbol//::/ }; do
    part="${part#\~}"
    if ! grep -qw -- "$part" "$path"; then
      echo "$file:$line: cites $cite, but $path never names $part" >&2
      misses=$((misses + 1))
      break
    fi
  done
done < <(citations)

if [ "$checked" -eq 0 ]; then
  echo "check_walkthrough: no path:symbol citation found in docs/walkthrough/*.md or README.md's reading order" >&2
  exit 1
fi
if [ "$misses" -gt 0 ]; then
  echo "check_walkthrough: $misses of $checked path:symbol citations name a missing file or symbol" >&2
  exit 1
fi
echo "check_walkthrough: all $checked path:symbol citations name files and symbols that exist"
