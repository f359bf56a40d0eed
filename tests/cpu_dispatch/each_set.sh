#!/usr/bin/env bash
# Runs the op table's rows (gradcheck, parity with torch, autocast parity)
# the exhaustive 16-bit conversion checks, the kernels' exponentials and the
# blocked causal attention
# once per CPU kernel set other than the one dlt would choose here, forced
# with DLT_CPU_ISA: every set must give results within the table's
# tolerances. A set this CPU cannot run is skipped with a message; a build
# with one set (-DDLT_NATIVE=ON) skips (exit 77). Where oneDNN has native
# bfloat16 kernels, the parity rows run once more with oneDNN held to AVX2
# (ONEDNN_MAX_CPU_ISA), so the 16-bit products and convolutions that CPUs
# without them compute on f32 copies (kernels/cpu/f32_copies.h) are checked
# here too.
#   tests/cpu_dispatch/each_set.sh DLT DLT_TESTS [gtest args...]
set -uo pipefail
dlt=$1 tests=$2
shift 2
best=$("$dlt" info | sed -n 's/^kernels:  \([a-z0-9_]*\) (this CPU.s best of.*/\1/p')
[[ -n $best ]] || { echo "each_set: a build with one CPU kernel set: nothing to compare"; exit 77; }
status=0 ran=0
for set in baseline avx2 avx512 avx512_bf16; do
  [[ $set == "$best" ]] && continue
  line=$(DLT_CPU_ISA=$set "$dlt" info | grep '^kernels:')
  if [[ $line != "kernels:  $set (forced"* ]]; then
    echo "each_set: SKIPPED $set: ${line#kernels:  }"
    continue
  fi
  echo "each_set: the op table's rows in the $set kernels"
  DLT_CPU_ISA=$set "$tests" --gtest_filter='Ops/TorchParity.*:Ops/TorchAutocastParity.*:Ops/Gradcheck.*:Core/HalfConversions.*:KernelExp.*:CausalAttention.*:Gelu.*' --gtest_brief=1 "$@" ||
    status=1
  ran=$((ran + 1))
done
if "$dlt" info | grep -q '^bf16: .*widened'; then
  echo "each_set: this CPU has no bfloat16 kernels: the op table (ops.torch_parity, the sets above) ran on f32 copies"
else
  if ! ONEDNN_MAX_CPU_ISA=AVX2 "$dlt" info | grep -q '^bf16: .*widened'; then
    echo "each_set: ONEDNN_MAX_CPU_ISA=AVX2 did not take oneDNN's bfloat16 kernels away"
    status=1
  else
    echo "each_set: the parity rows with oneDNN held to AVX2 (16-bit products on f32 copies)"
    ONEDNN_MAX_CPU_ISA=AVX2 "$tests" --gtest_filter='Ops/TorchParity.*:Ops/TorchAutocastParity.*:MatmulPaths.*' \
      --gtest_brief=1 "$@" || status=1
  fi
fi
echo "each_set: $ran sets checked besides $best"
exit $status
