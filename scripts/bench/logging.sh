#!/usr/bin/env bash
# What writing a run's logs costs a training step: the Fashion-MNIST MLP
# (configs/fashion_mlp.yaml, 1 thread) with a record at every step
# (train.log_every=1, 100 times the config's rate), TensorBoard on and off.
# Whole-run A/B timings on this machine vary by 20% between identical runs,
# so the cost is read from a --profile trace of steps 100-300 instead: the
# logs are written after the optimizer step, so the time from the end of the
# "optimizer step" range to the end of its "step" range is the logging (and
# progress bookkeeping) of that step. FLOP counting (MFU) is on in both.
#
#   scripts/bench/logging.sh                        # on, then off
#   ORDER="false true false true" scripts/bench/logging.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dlt=${DLT_BIN:-build/dlt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| TensorBoard | step (ms) | after the optimizer: logging (ms) | share of the step |"
echo "|---|---|---|---|"
for tb in ${ORDER:-true false}; do
  rm -rf "$tmp/run"
  "$dlt" train configs/fashion_mlp.yaml --run-dir "$tmp/run" --set train.epochs=1 --set logging.tensorboard=$tb \
    --set train.log_every=1 --set train.threads=1 --set data.workers=1 --set data.val=null \
    --set checkpoint.best=null --profile "$tmp/trace.json" --profile-steps 100:300 >/dev/null 2>&1
  python3 - "$tmp/trace.json" "$tb" <<'PY'
import json, statistics, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X"]
steps = [e for e in ev if e["cat"] == "step"]
opt = [e for e in ev if e["cat"] == "optimizer"]
tails, durs = [], []
for s in steps:
    end = s["ts"] + s["dur"]
    o = [e for e in opt if s["ts"] <= e["ts"] <= end]
    if o:
        tails.append(end - (o[0]["ts"] + o[0]["dur"]))
        durs.append(s["dur"])
step, tail = statistics.median(durs) / 1e3, statistics.median(tails) / 1e3
print(f"| {'on' if sys.argv[2] == 'true' else 'off'} | {step:.3f} | {tail:.4f} | {100 * tail / step:.2f}% |")
PY
done
