#!/usr/bin/env bash
# The torch parity suites against the current torch (../shared/peers/torch2.sh:
# torch 2.15) instead of Debian's 1.13: the op table with and without
# autocast(bfloat16), the layers and models (ResNet, Transformer, Llama, ViT,
# LSTM/GRU), the optimizers, gradient clipping and the schedules.
# Exit 77 (skipped) where that torch is not set up: it is a 1.5 GB download,
# made by the script on first use, not by the tests.
#
#   tests/ops/torch2_parity.sh DLT_TESTS_BINARY
set -euo pipefail
tests=$1
here=$(cd "$(dirname "$0")" && pwd)
torch2=${TORCH2_SH:-$here/../../../shared/peers/torch2.sh}
venv=${VENV:-${HOME:-/tmp}/.cache/dlt-peers/torch2}
if [[ ! -x $torch2 || ! -f $venv/.ready ]]; then
  echo "skipped: the current torch is not set up (run ../shared/peers/torch2.sh once)"
  exit 77
fi
echo "peer: $("$torch2" -c 'import torch; print("torch", torch.__version__)')"
suites=(
  'Ops/TorchParity.*' 'Ops/TorchAutocastParity.*'
  'Nn/LayerParity.*' 'NN2ResNet.MatchesTorch*' NN2Transformer.MatchesTorch NN2Llama.MatchesTorch 'NN2Encoder.*'
  NN2Recurrent.MatchesTorch
  'Optim/OptimizerVsTorch.*' 'Optim/ClipVsTorch.*' 'LrScheduleVsTorch.*'
)
filter=$(IFS=:; echo "${suites[*]}")
DLT_TORCH_PY=$torch2 exec "$tests" --gtest_brief=1 --gtest_filter="$filter"
