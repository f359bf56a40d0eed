#!/usr/bin/env bash
# oneDNN's f32 matmul on operands stored k-major with rows a multiple of
# 2 KiB apart, against copies with padded rows (scripts/bench/gemm_strides.cpp):
# the evidence for kernels/cpu/matmul.cpp's copies on AVX2. Prints a
# markdown table.
#
#   scripts/bench/gemm_strides.sh [THREADS] [IMPL]   (default 2, oneDNN's first
#                                                    choice; gemm:jit for the jit GEMM)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${DLT_BUILD_DIR:-build}
cmake --build "$build" --target bench_gemm_strides -j "${DLT_JOBS:-2}" >/dev/null
OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE} "$build/bench_gemm_strides" "${1:-2}" ${2:+"$2"}
