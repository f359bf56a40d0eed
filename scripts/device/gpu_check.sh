#!/usr/bin/env bash
# Everything that needs a GPU, in one go, on the GPU machine from the repo root:
#   tests  every CUDA suite of dlt_tests but the end-to-end one: the op table on
#          cuda against the cpu, gradcheck on cuda, the kernel families' own
#          suites, the cuda kernel coverage (through tests/cuda/run_gpu_tests.sh);
#   e2e    fashion_mlp and kjv_gpt, 50 steps on cuda and cpu, losses compared;
#   bench  scripts/bench/gpu.sh (dlt against PyTorch eager).
# Logs go to $OUT (or a temporary folder); a short summary comes last. Exits
# non-zero when a stage failed.
#
#   scripts/device/gpu_check.sh [tests] [e2e] [bench]     (default: all three)
#
# Binaries: .bundle/bin (../shared/device/bundle.sh build-cuda/dlt
# build-cuda/tests/dlt_tests; this script sources .bundle/env.sh), else
# DLT_BIN / DLT_TESTS, else build-cuda/. TF32 stays off for the tests; the
# benchmark turns it on for both sides.
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ -f .bundle/env.sh ]] && source .bundle/env.sh >/dev/null
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(tests e2e bench)
tests=${DLT_TESTS:-$(command -v dlt_tests || echo build-cuda/tests/dlt_tests)}
export DLT_BIN=${DLT_BIN:-$(command -v dlt || echo build-cuda/dlt)}
export DLT_SOURCE_DIR=$PWD  # configs/ for the e2e tests
logs=${OUT:-$(mktemp -d)}
mkdir -p "$logs"
summary=()
failed=0

# gtest_stage NAME FILTER: one run of the CUDA suites; a summary line from
# gtest's counts, or the skip line, or the exit status.
gtest_stage() {
  local name=$1 filter=$2 log=$logs/$1.log start=$SECONDS
  echo "gpu_check: $name ($filter)" >&2
  tests/cuda/run_gpu_tests.sh "$tests" --gtest_filter="$filter" --gtest_brief=1 >"$log" 2>&1
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

{ "$DLT_BIN" info; nvidia-smi; } >"$logs/info.log" 2>&1
for stage in "${stages[@]}"; do
  case $stage in
    tests) gtest_stage tests 'Cuda*:OpCoverage.*Cuda*-CudaTrain.*' ;;
    e2e) gtest_stage e2e 'CudaTrain.*' ;;
    bench)
      echo "gpu_check: bench" >&2
      if DLT_BIN=$DLT_BIN scripts/bench/gpu.sh >"$logs/bench.md" 2>"$logs/bench.log"; then
        summary+=("bench: $logs/bench.md")
        while read -r line; do summary+=("    $line"); done <"$logs/bench.md"
      else
        failed=1
        summary+=("bench: FAIL; last lines of $logs/bench.log:")
        while read -r line; do summary+=("    $line"); done < <(tail -15 "$logs/bench.log")
      fi
      ;;
    *) echo "gpu_check: unknown stage '$stage' (tests, e2e, bench)" >&2; exit 2 ;;
  esac
done

echo
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
echo "== gpu_check summary: ${gpu:-no GPU visible}; logs in $logs =="
printf '%s\n' "${summary[@]}"
exit $failed
