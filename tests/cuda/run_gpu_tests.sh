#!/usr/bin/env bash
# The `gpu` ctest group: the CUDA suites of dlt_tests, every suite named Cuda*
# (tests/cuda: the op table against the CPU, gradcheck on CUDA, the kernel
# families' suites, training end to end) and the cuda kernel coverage test.
# Without a usable CUDA device it prints one line, "SKIPPED gpu: no usable
# CUDA device (<reason>)", and exits 77, which ctest reports as skipped.
#
#   tests/cuda/run_gpu_tests.sh DLT_TESTS [GTEST_ARGS...]
set -uo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 DLT_TESTS [GTEST_ARGS...]" >&2; exit 2; }
tests=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# TF32 stays off: the tolerances assume full f32 matmuls and convolutions.
DLT_GPU_GROUP=1 DLT_ALLOW_TF32=0 "$tests" --gtest_filter='Cuda*:OpCoverage.*Cuda*' "$@" >"$log" 2>&1
rc=$?
if [[ $rc == 77 ]]; then
  grep -m1 '^SKIPPED gpu:' "$log" || cat "$log"
  exit 77
fi
cat "$log"
exit $rc
