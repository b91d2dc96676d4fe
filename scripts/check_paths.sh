#!/usr/bin/env bash
# scripts/check_paths.sh — fails when a comment or a document names a repository path
# that does not exist, so that comments and docs follow the files when they move.
#
# Where it looks: the // comments of C++ files, the # comments of CMake files, shell
# scripts and .ci/ scripts, and the whole text of every *.md file.
# What counts as a repository path: a word that starts with a top-level folder of the
# repository (core/, ops/, layers/, docs/, .ci/, ...) followed by a '/', and is not
# itself the tail of a longer path (so ../shared/..., build/tests/... and URLs are
# not repository paths and are skipped). It exists when the file or folder exists,
# when a glob (io/hdf5*.cpp) matches something, or, for a name without extension
# (ops/blas, "core/tensor -> ops/im2col"), when NAME.h or NAME.cpp exists.
# build/ and the other build folders are never scanned.
#
#   bash scripts/check_paths.sh [ROOT]   # ROOT defaults to the repository root
# Prints one "file:line: names PATH, which does not exist" per miss; exit status 1 when any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
shopt -s nullglob

# Top-level folders, build outputs and VCS data excluded.
tops=()
for d in * .[!.]*; do
  [ -d "$d" ] || continue
  case "$d" in .git | build | build-* | _deps) continue ;; esac
  tops+=("$d")
done
top_re=$(printf '%s\n' "${tops[@]}" | sed 's/\./\\./g' | paste -sd '|')

# The files to read: name<TAB>kind (code: // comments, hash: # comments, doc: all text).
list_files() {
  find . \( -name '.git' -o -name 'build' -o -name 'build-*' -o -name '_deps' \) -prune -o -type f -print |
    sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r f; do
      case "$f" in
        *.h | *.hpp | *.cpp | *.cc) printf '%s\tcode\n' "$f" ;;
        *.md) printf '%s\tdoc\n' "$f" ;;
        CMakeLists.txt | */CMakeLists.txt | *.cmake | *.cmake.in | *.sh | .ci/*) printf '%s\thash\n' "$f" ;;
      esac
    done
}

# file:line:path for every repository-path-like word in the scanned text.
candidates() {
  local f kind
  while IFS=$'\t' read -r f kind; do
    awk -v kind="$kind" -v re="(${top_re})/[A-Za-z0-9_.*/-]*" -v file="$f" '
      {
        text = $0
        if (kind == "code") { i = index(text, "//"); if (i == 0) next; text = substr(text, i + 2) }
        else if (kind == "hash") { i = index(text, "#"); if (i == 0) next; text = substr(text, i + 1) }
        orig = text; pos = 0
        while (match(text, re)) {
          start = pos + RSTART
          before = start > 1 ? substr(orig, start - 1, 1) : ""
          word = substr(text, RSTART, RLENGTH)
          pos += RSTART + RLENGTH - 1
          text = substr(text, RSTART + RLENGTH)
          # The tail of a longer word or path (../shared/core/x, build/tests/y, a URL) is no repository path.
          if (before ~ /[A-Za-z0-9_.\/~$@-]/) continue
          sub(/[.]+$/, "", word)            # sentence end
          print file ":" FNR ":" word
        }
      }
    ' "$f"
  done < <(list_files)
}

exists() {  # path as written
  local p="$1" m
  [[ "$p" == *"*"* ]] && { m=($p); [ ${#m[@]} -gt 0 ]; return; }
  [ -e "$p" ] && return 0
  p="${p%/}"
  [[ "${p##*/}" != *.* ]] && { [ -e "$p.h" ] || [ -e "$p.cpp" ]; } && return 0
  return 1
}

misses=0
checked=0
while IFS= read -r hit; do
  checked=$((checked + 1))
  path="${hit#*:}"; path="${path#*:}"
  where="${hit%:"$path"}"
  if ! exists "$path"; then
    echo "$where: names $path, which does not exist" >&2
    misses=$((misses + 1))
  fi
done < <(candidates)

if [ "$misses" -gt 0 ]; then
  echo "check_paths: $misses of $checked mentions of repository paths in comments and docs name a path that does not exist" >&2
  exit 1
fi
echo "check_paths: all $checked mentions of repository paths in comments and docs name paths that exist"
