#!/usr/bin/env bash
# Compiles and links the GPU builds: CUDA into build-cuda, HIP (AMD) into
# build-hip, then runs the one test that needs no device: every op that needs
# a kernel has one for the build's device type. Nothing else runs: CI has no
# GPU, and no AMD GPU exists here at all.
#
#   scripts/build_gpu.sh            # both
#   scripts/build_gpu.sh cuda       # or just one
#
# Environment (and DLT_JOBS, CCACHE_DIR as for scripts/setup.sh):
#   DLT_CUDA_ARCHITECTURES  CMAKE_CUDA_ARCHITECTURES of build-cuda (default: 90)
#   DLT_HIP_ARCHITECTURES   hipcc --offload-arch targets of build-hip (default: gfx90a)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

builds=("$@")
((${#builds[@]})) || builds=(cuda hip)
for b in "${builds[@]}"; do
  [[ $b == cuda || $b == hip ]] || { echo "build_gpu: unknown build '$b' (cuda or hip)" >&2; exit 2; }
done

# Packages (hipcc for the HIP build) and the compiler cache, as setup.sh does.
export DLT_GPU_BUILDS="${builds[*]}"
source scripts/setup.sh
say() { printf 'build_gpu: %s\n' "$*"; }
die() { printf 'build_gpu: error: %s\n' "$*" >&2; exit 1; }
install_packages
setup_ccache

build() {
  local name=$1 dir=build-$1
  shift
  local start=$SECONDS
  say "configuring $dir ($*)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  say "building $dir with ${DLT_JOBS:-2} jobs"
  cmake --build "$dir" -j "${DLT_JOBS:-2}"
  say "$name build compiled and linked in $((SECONDS - start)) s"
  "$dir/tests/dlt_tests" --gtest_brief=1 --gtest_filter='OpCoverage.*'
}

for b in "${builds[@]}"; do
  case $b in
    cuda)
      [[ -x /usr/local/cuda/bin/nvcc ]] || die "the CUDA build needs the CUDA toolkit in /usr/local/cuda"
      build cuda -DDLT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${DLT_CUDA_ARCHITECTURES:-90}" ;;
    hip)
      build hip -DDLT_HIP=ON -DDLT_HIP_ARCHITECTURES="${DLT_HIP_ARCHITECTURES:-gfx90a}" ;;
  esac
done
