#!/usr/bin/env bash
# Installs the Debian packages dlt needs (only the missing ones) and builds it.
#
#   scripts/setup.sh
#
# Environment:
#   DLT_BUILD_DIR   build folder, relative to the repository root (default: build)
#   DLT_JOBS        parallel compile jobs (default: 2)
#   DLT_CMAKE_ARGS  extra arguments for the configure step, e.g. "-DDLT_NATIVE=ON"
#   CCACHE_DIR      compiler cache (default: $HOME/.cache/ccache, capped at 5 GB)
#   DLT_GPU_BUILDS  GPU builds to prepare for (scripts/build_gpu.sh), e.g. "cuda hip":
#                   "hip" adds Debian's HIP compiler and runtime (about 350 MB)
set -euo pipefail

# Toolchain and libraries for the build, PyTorch for parity tests and
# benchmarks, and the data sets the example configs and recipes use.
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libyaml-cpp-dev libcli11-dev libfmt-dev libhdf5-dev hdf5-tools libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libgtest-dev zlib1g-dev
  libcairo2-dev  # dlt report's PNG plots
  libpng-dev libturbojpeg0-dev  # dlt data import images
  libsentencepiece-dev  # subword vocabularies (dlt data import text --vocab sentencepiece)
  nlohmann-json3-dev
  libonnx-dev libprotobuf-dev protobuf-compiler  # dlt export and dlt onnx (ONNX messages, checker)
  lmod  # the modulefile test (tests/install)
  openmpi-bin libopenmpi-dev libpmix-dev  # multi-process training (mpirun, srun --mpi=pmix)
  python3-torch python3-h5py python3-numpy
  libopenblas0-pthread  # torch's BLAS: without it torch falls back to reference BLAS
  dataset-fashion-mnist bible-kjv-text bible-kjv
)

# The HIP build (-DDLT_HIP=ON) only: hipcc and the HIP runtime. CUDA comes
# from /usr/local/cuda, not from Debian.
HIP_PACKAGES=(hipcc libamdhip64-dev)
if [[ " ${DLT_GPU_BUILDS:-} " == *" hip "* ]]; then
  PACKAGES+=("${HIP_PACKAGES[@]}")
fi

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Prints the packages of PACKAGES that are not installed, one per line.
missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    # "install ok installed" (or "hold ok installed") when present; an unknown
    # package makes dpkg-query fail, which counts as missing too.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || status=""
    [[ $status == *" ok installed" ]] || printf '%s\n' "$pkg"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    say "all ${#PACKAGES[@]} packages present"
    return
  fi
  say "installing ${missing[*]}"
  local -a as_root=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
    as_root=(sudo)
  fi
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

setup_ccache() {
  export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/tmp}/.cache/ccache}"
  # Paths relative to the checkout, so fresh clones (CI) hit the same cache.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  if command -v ccache >/dev/null; then
    ccache -M 5G >/dev/null
  fi
}

build() {
  local build_dir="${DLT_BUILD_DIR:-build}" jobs="${DLT_JOBS:-2}"
  local -a extra=()
  read -r -a extra <<<"${DLT_CMAKE_ARGS:-}"

  # CMake refuses to switch generators in an existing build folder; say why.
  local cache="$build_dir/CMakeCache.txt" generator
  if [[ -f $cache ]]; then
    generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")
    [[ -z $generator || $generator == Ninja ]] ||
      die "$build_dir was configured with '$generator', not Ninja: remove it or set DLT_BUILD_DIR"
  fi

  say "configuring $build_dir (Release, Ninja${extra[*]:+, ${extra[*]}})"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}"
  say "building with $jobs jobs"
  cmake --build "$build_dir" -j "$jobs"
}

# The data sets the example configs train on, imported once into data/.
import_data() {
  local dlt="${DLT_BUILD_DIR:-build}/dlt"
  mkdir -p data
  if [[ ! -f data/fashion-mnist.h5 ]]; then
    say "importing Fashion-MNIST into data/fashion-mnist.h5"
    "$dlt" data import fashion-mnist --out data/fashion-mnist.h5 >/dev/null
  fi
  if [[ ! -f data/kjv.h5 ]]; then
    say "importing the King James Bible into data/kjv.h5"
    # COLUMNS unset, or bible wraps its lines.
    (unset COLUMNS; bible -f 'Gen1:1-Rev22:21') |
      "$dlt" data import text - --vocab chars --out data/kjv.h5 >/dev/null
  fi
  if [[ ! -f data/kjv_sp.h5 ]]; then
    # Subwords: 2048 BPE tokens, ~3.4 characters each; about 2 s on 2 cores.
    say "importing the King James Bible with a SentencePiece vocabulary into data/kjv_sp.h5"
    (unset COLUMNS; bible -f 'Gen1:1-Rev22:21') |
      "$dlt" data import text - --vocab sentencepiece --vocab-size 2048 --out data/kjv_sp.h5 >/dev/null
  fi
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  say "checking packages"
  install_packages
  setup_ccache
  build
  import_data
  say "done"
}

# Sourcing the file (to reuse or test its functions) runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
