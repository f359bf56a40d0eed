#!/usr/bin/env bash
# Sets up and builds dlt (scripts/setup.sh), imports Fashion-MNIST and trains
# configs/fashion_mlp.yaml (about 88% test accuracy in under two minutes on
# 2 cores). The run folder is runs/fashion_mlp-demo-<time>, so the demo can
# be run again without --resume.
#
#   scripts/demo.sh
#
# DLT_BUILD_DIR and DLT_JOBS are as for scripts/setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${DLT_BUILD_DIR:-build}"
dlt="$build_dir/dlt"

say() { printf 'demo: %s\n' "$*"; }

# 1. Packages and build.
scripts/setup.sh

# 2. Data: Fashion-MNIST from the dataset-fashion-mnist package into data/.
if [[ ! -f data/fashion-mnist.h5 ]]; then
  say "importing Fashion-MNIST"
  "$dlt" data import fashion-mnist --out data/fashion-mnist.h5
fi

# 3. The main job.
run_dir="runs/fashion_mlp-demo-$(date +%Y%m%d-%H%M%S)"
say "training configs/fashion_mlp.yaml into $run_dir"
start=$(date +%s)
"$dlt" train configs/fashion_mlp.yaml --run-dir "$run_dir"
say "done in $(($(date +%s) - start)) s; metrics in $run_dir/metrics.jsonl"
