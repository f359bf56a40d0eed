#!/usr/bin/env bash
# How dlt's lead over torch changes as a GPT grows: configs/kjv_gpt.yaml's
# model (no dropout, AdamW, grad_clip 1.0) at three sizes, and its torch twin
# (scripts/bench/gpt_sweep_torch.py) under each torch peer (peers.sh) on the
# same shapes, one after the other in one run with the same thread count. Prints a markdown table: tokens/s,
# peak RSS, dlt/torch (> 1: dlt faster), dlt's achieved GFLOP/s and its share
# of the f32 GEMM peak dlt measures at start-up on this machine.
#
#   scripts/bench/gpt_sweep.sh [THREADS]                       (default 2)
#   REPEATS=3 scripts/bench/gpt_sweep.sh                        (each row's pair 3 times)
#
# REPEATS (default 1): each row's dlt run and peer runs, one after the other,
# that many times in a row; the table gives the median of each value and the
# range of each row's dlt/torch ratio over the pairs (the machine's speed
# drifts, and a pair shares its drift).
# Rows (C, layers, heads, T, batch): 128/4/4/128/32 (the config), 256/6/8/256/16,
# 512/8/8/256/8. dlt reads the KJV's tokens (data/kjv.h5), torch draws random
# ones of the same vocabulary: the values do not change the work.
# Environment: DLT_BIN (default build/dlt), TORCH_PY (one python instead of
# the peers), OMP_WAIT_POLICY (default PASSIVE; see train_vs_torch.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
dlt=${DLT_BIN:-build/dlt}
source scripts/bench/peers.sh
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}
[[ -n $OMP_WAIT_POLICY ]] || unset OMP_WAIT_POLICY
[[ -x $dlt ]] || { echo "gpt_sweep.sh: no dlt binary at $dlt; build it or set DLT_BIN" >&2; exit 2; }
[[ -f data/kjv.h5 ]] || { echo "gpt_sweep.sh: data/kjv.h5 is missing; import it first (README.md)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

# row C LAYERS HEADS T BATCH DLT_STEPS TORCH_STEPS
row() {
  local c=$1 layers=$2 heads=$3 t=$4 batch=$5 steps=$6 torch_steps=$7
  local name="$c, $layers, $t, $batch" run=$tmp/run-$c
  echo "gpt_sweep: dlt $name" >&2
  rm -rf "$run"  # a repeat's fresh run
  /usr/bin/time -v -o "$tmp/time.txt" "$dlt" train configs/kjv_gpt.yaml --run-dir "$run" \
    --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
    --set model.dropout=0 --set model.embed_dim="$c" --set model.layers="$layers" --set model.heads="$heads" \
    --set data.block_size="$t" --set model.block_size="$t" --set data.batch_size="$batch" \
    --set "train={steps: $steps, log_every: $((steps / 5)), threads: $threads, grad_clip: 1.0}" \
    >"$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
  local i torch_json=()
  for i in "${!peer_pythons[@]}"; do
    echo "gpt_sweep: $(peer_label "$i") $name" >&2
    torch_json+=("$("${peer_pythons[$i]}" scripts/bench/gpt_sweep_torch.py --embed "$c" --layers "$layers" --heads "$heads" \
      --block "$t" --batch "$batch" --threads "$threads" --steps "$torch_steps" --warmup 3 | tail -1)")
  done
  python3 - "$run/metrics.jsonl" "$tmp/time.txt" "$run.log" "$name" "$t" "${torch_json[@]}" >>"$results" <<'PY'
import json, re, sys
metrics, time_txt, log, name, t = sys.argv[1:6]
torch_json = sys.argv[6:]
records = [r for r in map(json.loads, open(metrics)) if r["split"] == "train"][1:]  # after the warm-up window
rate = len(records) / sum(1 / r["samples_per_s"] for r in records)
tflops = sum(r["tflops"] for r in records) / len(records)
kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(time_txt).read()).group(1))
peak = float(re.search(r"peak of ([0-9.]+) TFLOP/s", open(log).read()).group(1))
print(json.dumps({"row": name, "dlt_tokens_per_s": rate * int(t), "dlt_rss_mib": kib / 1024,
                  "gflops": tflops * 1e3, "peak_gflops": peak * 1e3, "peers": [json.loads(j) for j in torch_json]}))
PY
}
repeats=${REPEATS:-1}
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "gpt_sweep.sh: REPEATS must be a positive integer, got '$repeats'" >&2; exit 2; }
for args in "128 4 4 128 32 60 30" "256 6 8 256 16 24 12" "512 8 8 256 8 16 8"; do
  for ((k = 0; k < repeats; ++k)); do row $args; done
done

labels=()
for i in "${!peer_pythons[@]}"; do labels+=("$(peer_label "$i")"); done
python3 - "$results" "$threads" "${labels[@]}" <<'PY'
import json, sys
sys.path.insert(0, "scripts/bench")
from repeats import median, note, ratio_cell
runs = [json.loads(l) for l in open(sys.argv[1])]
labels = sys.argv[3:]
rows = {}
for r in runs:  # the repeats of a row, in order
    rows.setdefault(r["row"], []).append(r)
print(f"threads: {sys.argv[2]}; dlt's f32 GEMM peak here: {median(r['peak_gflops'] for r in runs):.0f} GFLOP/s (1024^3)")
print(note(len(next(iter(rows.values())))))
print("| C, layers, T, batch | dlt tokens/s | " + " | ".join(f"{l} tokens/s | dlt/{l}" for l in labels) +
      " | dlt peak RSS | " + " | ".join(f"{l} peak RSS" for l in labels) + " | dlt GFLOP/s | share of peak |")
print("|---|---|" + "---|---|" * len(labels) + "---|" + "---|" * len(labels) + "---|---|")
for name, reps in rows.items():
    d = median(r["dlt_tokens_per_s"] for r in reps)
    cells, rss = [], []
    for i in range(len(labels)):
        ratio = ratio_cell(r["dlt_tokens_per_s"] / r["peers"][i]["tokens_per_s"] for r in reps)
        cells += [f"{median(r['peers'][i]['tokens_per_s'] for r in reps):,.0f}", ratio]
        rss.append(f"{max(r['peers'][i]['peak_rss_mib'] for r in reps):,.0f} MiB")
    gflops = median(r["gflops"] for r in reps)
    peak = median(r["peak_gflops"] for r in reps)
    print(f"| {name} | {d:,.0f} | " + " | ".join(cells) + f" | {max(r['dlt_rss_mib'] for r in reps):,.0f} MiB | " +
          " | ".join(rss) + f" | {gflops:.0f} | {gflops / peak:.0%} |")
PY
