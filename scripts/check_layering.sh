#!/usr/bin/env bash
# scripts/check_layering.sh — fails when an #include points up the house.
#
# The library folders are floors, each allowed to include only its own floor and
# those below it (docs/DESIGN.md has the map):
#   core(0) <- ops(1) <- autograd(2) <- layers(3) <- train(4) <- applications(5) <- io(6)
# so ops never sees the tape, autograd never sees a Layer, layers never sees train
# or io. applications/ (the keras.applications architectures) builds Models from
# layers and never sees io; io sits on top because it saves and loads Models. tests/, tools/, examples/, bench/ and fuzz/ sit above every floor and may
# include anything. Inside layers/, base/ and parts/ never include the concrete
# layers' rooms (core/, conv/, pooling/, ...). Also checked, because each keeps a
# third-party C library private to one place:
#   - exactly one file includes <cblas.h>: ops/blas.cpp;
#   - exactly one file includes <hdf5.h> (or any <H5*.h>): io/hdf5_internal.h, and
#     only io/hdf5*.cpp include that header;
#   - exactly one file includes <mpi.h>: train/distributed_mpi.cpp.
# Plain bash + grep, so a fresh Debian machine needs nothing else.
#
#   bash scripts/check_layering.sh [ROOT]   # ROOT defaults to the repository root
# Prints one "file:line: rule broken" per violation; exit status 1 when any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

declare -A floor=([core]=0 [ops]=1 [autograd]=2 [layers]=3 [train]=4 [applications]=5 [io]=6)
order=(core ops autograd layers train applications io)
cblas_owner="ops/blas.cpp"
hdf5_owner="io/hdf5_internal.h"
mpi_owner="train/distributed_mpi.cpp"
violations=0

report() {  # file:line: message
  echo "$1: $2" >&2
  violations=$((violations + 1))
}

# Every C++ source and header of the repository, build outputs and VCS data excluded.
sources() {
  find . \( -name '.git' -o -name 'build' -o -name 'build-*' -o -name '_deps' \) -prune -o \
    -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) -print |
    sed 's|^\./||' | LC_ALL=C sort
}

# grep -n output ("file:line:text") for the #include lines of the given files.
include_lines() {
  [ "$#" -eq 0 ] && return 0
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$@" || true
}

mapfile -t all_files < <(sources)

# 1. Include direction between the library floors.
for dir in "${order[@]}"; do
  mapfile -t files < <(printf '%s\n' "${all_files[@]}" | grep -E "^${dir}/" || true)
  while IFS= read -r hit; do
    [ -z "$hit" ] && continue
    file="${hit%%:*}"; rest="${hit#*:}"; line="${rest%%:*}"; text="${rest#*:}"
    target=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' <<<"$text")
    [ -z "$target" ] && continue
    top="${target%%/*}"
    if [ "$top" = "$target" ]; then
      report "$file:$line" "includes \"$target\" without its folder: library headers are included as \"folder/file.h\" from the repository root"
      continue
    fi
    [ -z "${floor[$top]+set}" ] && continue  # not a library folder (e.g. a third-party path)
    if [ "${floor[$top]}" -gt "${floor[$dir]}" ]; then
      report "$file:$line" "$dir/ includes \"$target\": $top is a higher floor than $dir (core <- ops <- autograd <- layers <- train <- applications <- io)"
    fi
  done < <(include_lines "${files[@]}")
done

# 1b. Inside layers/: the machinery (base/: Layer, Node, the graph; parts/: activations,
# initializers, regularizers, constraints) never includes a concrete layer's room.
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  file="${hit%%:*}"; rest="${hit#*:}"; line="${rest%%:*}"; text="${rest#*:}"
  target=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"(layers\/[^"]+)".*/\1/p' <<<"$text")
  [ -z "$target" ] && continue
  case "$target" in layers/base/* | layers/parts/*) continue ;; esac
  report "$file:$line" "${file%/*}/ includes \"$target\": layers/base and layers/parts are the machinery every layer builds on and never include a concrete layer's room"
done < <(include_lines $(printf '%s\n' "${all_files[@]}" | grep -E '^layers/(base|parts)/' || true))

# 2. Third-party C headers kept private to one file.
check_owner() {  # regex, owner file, what
  local regex="$1" owner="$2" what="$3" found=0 hit file
  while IFS= read -r hit; do
    [ -z "$hit" ] && continue
    file="${hit%%:*}"
    if [ "$file" = "$owner" ]; then
      found=1
    else
      report "$hit" "includes $what: only $owner may"
    fi
  done < <(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($regex)>" "${all_files[@]}" | cut -d: -f1,2 || true)
  if [ "$found" -eq 0 ]; then
    report "$owner" "does not include $what, but it is the one file that should"
  fi
}
check_owner 'cblas\.h' "$cblas_owner" "<cblas.h>"
check_owner 'hdf5\.h|H5[A-Za-z0-9_]*\.h' "$hdf5_owner" "<hdf5.h>"
check_owner 'mpi\.h' "$mpi_owner" "<mpi.h>"

# io/hdf5_internal.h carries <hdf5.h>: only the io/hdf5*.cpp files may include it.
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  file="${hit%%:*}"
  [[ "$file" =~ ^io/hdf5[A-Za-z0-9_]*\.cpp$ ]] && continue
  report "$hit" "includes \"$hdf5_owner\" (it carries <hdf5.h>): only io/hdf5*.cpp may"
done < <(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$hdf5_owner\"" "${all_files[@]}" | cut -d: -f1,2 || true)

if [ "$violations" -gt 0 ]; then
  echo "check_layering: $violations violation(s)" >&2
  exit 1
fi
echo "check_layering: ${#all_files[@]} files, include direction and private C headers hold"
