#!/usr/bin/env bash
# Everything that needs a GPU, in one go, on the GPU machine from the repo root:
#   tests  every CUDA suite of dlt_tests but the end-to-end one: the op table on
#          cuda against the cpu, gradcheck on cuda, the kernel families' own
#          suites, the cuda kernel coverage (through tests/cuda/run_gpu_tests.sh);
#   e2e    fashion_mlp and kjv_gpt, 50 steps on cuda and cpu, losses compared;
#   bench  scripts/bench/gpu.sh (dlt against PyTorch eager), once for each
#          precision of PRECISIONS (default tf32; "tf32 bf16 fp16" adds the
#          mixed-precision rows);
#   gemm   scripts/bench/gpu_gemm.sh (dlt's matmul against torch.matmul, f32,
#          TF32, bf16 and fp16 at 4096^3 and 8192^3, with the share of the
#          GPU's dense peak);
#   attention  the fused causal attention against the unfused path at GPT-2
#          small's shape in f32 (FMA units), TF32 and bf16 (tensor cores):
#          times and TFLOP/s (test_cuda_attention.cpp's disabled timing case).
# Logs go to $OUT (or a temporary folder); a short summary comes last. Exits
# non-zero when a stage failed.
#
#   scripts/device/gpu_check.sh [tests] [e2e] [bench] [gemm] [attention]   (default: all)
#
# Binaries: .bundle/bin (../shared/device/bundle.sh build-cuda/dlt
# build-cuda/tests/dlt_tests build-cuda/bench_gpu_gemm; this script sources
# .bundle/env.sh), else DLT_BIN / DLT_TESTS / GEMM_BIN, else build-cuda/.
# TF32 stays off for the tests; the benchmark turns it on for both sides.
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ -f .bundle/env.sh ]] && source .bundle/env.sh >/dev/null
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(tests e2e bench gemm attention)
tests=${DLT_TESTS:-$(command -v dlt_tests || echo build-cuda/tests/dlt_tests)}
export DLT_BIN=${DLT_BIN:-$(command -v dlt || echo build-cuda/dlt)}
export GEMM_BIN=${GEMM_BIN:-$(command -v bench_gpu_gemm || echo build-cuda/bench_gpu_gemm)}
export DLT_SOURCE_DIR=$PWD  # configs/ for the e2e tests
logs=${OUT:-$(mktemp -d)}
mkdir -p "$logs"
summary=()
failed=0

# gtest_stage NAME FILTER [GTEST_ARGS...]: one run of the CUDA suites; a
# summary line from gtest's counts, or the skip line, or the exit status.
gtest_stage() {
  local name=$1 filter=$2 log=$logs/$1.log start=$SECONDS
  shift 2
  echo "gpu_check: $name ($filter)" >&2
  tests/cuda/run_gpu_tests.sh "$tests" --gtest_filter="$filter" --gtest_brief=1 "$@" >"$log" 2>&1
  local rc=$? secs=$((SECONDS - start))
  local passed failed_n
  passed=$(grep -oE '^\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  failed_n=$(grep -oE '^\[  FAILED  \] [0-9]+ tests?, listed below' "$log" | grep -oE '[0-9]+' || echo 0)
  if [[ $rc == 77 ]]; then
    summary+=("$name: $(head -1 "$log")")
  elif [[ $rc == 0 ]]; then
    summary+=("$name: PASS, $passed tests, ${secs}s")
  else
    failed=1
    summary+=("$name: FAIL (exit $rc), $passed passed, $failed_n failed, ${secs}s; see $log:")
    while read -r line; do summary+=("    $line"); done < <(grep -E '^\[  FAILED  \] [A-Za-z]' "$log" | sort -u | head -40)
  fi
}

# bench_stage NAME COMMAND...: a benchmark whose markdown table joins the
# summary, or its last lines when it fails.
bench_stage() {
  local name=$1
  shift
  echo "gpu_check: $name" >&2
  if "$@" >"$logs/$name.md" 2>"$logs/$name.log"; then
    summary+=("$name: $logs/$name.md")
    while read -r line; do summary+=("    $line"); done <"$logs/$name.md"
  else
    failed=1
    summary+=("$name: FAIL; last lines of $logs/$name.log:")
    while read -r line; do summary+=("    $line"); done < <(tail -15 "$logs/$name.log")
  fi
}

{ "$DLT_BIN" info; nvidia-smi; } >"$logs/info.log" 2>&1
for stage in "${stages[@]}"; do
  case $stage in
    tests) gtest_stage tests 'Cuda*:OpCoverage.*Cuda*-CudaTrain.*' ;;
    e2e) gtest_stage e2e 'CudaTrain.*' ;;
    bench)
      for precision in ${PRECISIONS:-tf32}; do
        bench_stage "bench-$precision" env PRECISION="$precision" DLT_BIN="$DLT_BIN" scripts/bench/gpu.sh
      done
      ;;
    gemm) bench_stage gemm scripts/bench/gpu_gemm.sh ;;
    attention)
      gtest_stage attention 'CudaAttention.DISABLED_FusedIsFaster*' --gtest_also_run_disabled_tests
      while read -r line; do summary+=("    $line"); done < <(grep '^causal attention' "$logs/attention.log")
      ;;
    *) echo "gpu_check: unknown stage '$stage' (tests, e2e, bench, gemm, attention)" >&2; exit 2 ;;
  esac
done

echo
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
echo "== gpu_check summary: ${gpu:-no GPU visible}; logs in $logs =="
printf '%s\n' "${summary[@]}"
exit $failed
