#!/usr/bin/env bash
# The torch parity suites against the current torch (../shared/peers/torch2.sh:
# torch 2.15) instead of Debian's 1.13: the op table with and without
# autocast(bfloat16), the layers and models (ResNet, Transformer, Llama, ViT,
# LSTM/GRU), the optimizers, gradient clipping and the schedules.
# Exit 77 (skipped) where that torch is not set up (tests/torch2_peer.sh).
#
#   tests/ops/torch2_parity.sh DLT_TESTS_BINARY
set -euo pipefail
tests=$1
# shellcheck source=tests/torch2_peer.sh
source "$(dirname "$0")/../torch2_peer.sh"
echo "peer: $("$torch2" -c 'import torch; print("torch", torch.__version__)')"
suites=(
  'Ops/TorchParity.*' 'Ops/TorchAutocastParity.*'
  'Nn/LayerParity.*' 'NN2ResNet.MatchesTorch*' NN2Transformer.MatchesTorch NN2Llama.MatchesTorch 'NN2Encoder.*'
  NN2Recurrent.MatchesTorch
  'Optim/OptimizerVsTorch.*' 'Optim/ClipVsTorch.*' 'LrScheduleVsTorch.*'
)
filter=$(IFS=:; echo "${suites[*]}")
DLT_TORCH_PY=$torch2 exec "$tests" --gtest_brief=1 --gtest_filter="$filter"
