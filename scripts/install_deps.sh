#!/usr/bin/env bash
# Installs the Debian packages minidl needs, and only those that are missing.
# Idempotent: on a machine that has everything it prints one line and exits 0.
#   bash scripts/install_deps.sh          # what building, the main job and the tests need
#   bash scripts/install_deps.sh --fuzz   # that, plus clang for the fuzz targets
#   bash scripts/install_deps.sh --bench  # that, plus PyTorch for bench/'s comparisons
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev libfmt-dev libspdlog-dev libhdf5-dev libgtest-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev libzip-dev dataset-fashion-mnist
  # libzip-dev's CMake package file insists that these three tools exist:
  zipcmp zipmerge ziptool
  # image files (stb_image / stb_image_write; giflib writes GIF)
  libstb-dev libgif-dev
  # plot_model (Graphviz) and training curves (PLplot; its PNG device is the cairo driver)
  libgraphviz-dev libplplot-dev plplot-driver-cairo
  # data-parallel training over MPI
  libopenmpi-dev openmpi-bin
  # the bfloat16 GEMM of the mixed_bfloat16 policy on CPUs with AVX512_BF16 (oneDNN)
  libdnnl-dev
)

# --fuzz: also clang and its sanitizer/libFuzzer runtimes (fuzz/, CI only).
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang libclang-rt-dev)
fi
# --bench: also PyTorch 1.13 and h5py, the peer the comparisons in bench/ run against.
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(python3-torch python3-numpy python3-h5py)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_deps: this is not a Debian/Ubuntu machine (no apt-get)." >&2
  echo "install_deps: install these packages (or their equivalents) yourself: ${missing[*]}" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install_deps: not root and no sudo; as root run:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
