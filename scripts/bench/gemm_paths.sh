#!/usr/bin/env bash
# oneDNN's two f32 GEMM implementations on dlt's training shapes, side by
# side (scripts/bench/gemm_paths.cpp): the evidence for the choice
# kernels/cpu/matmul.cpp makes. Prints a markdown table.
#
#   scripts/bench/gemm_paths.sh [THREADS]        (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${DLT_BUILD_DIR:-build}
cmake --build "$build" --target bench_gemm_paths -j "${DLT_JOBS:-2}" >/dev/null
OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE} "$build/bench_gemm_paths" "${1:-2}"
