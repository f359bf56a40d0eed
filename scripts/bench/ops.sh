#!/usr/bin/env bash
# Op benchmarks, dlt and each torch peer (scripts/bench/peers.sh: the current
# torch and Debian's 1.13) side by side in one run on this machine with the
# same thread count. Prints a markdown table with a dlt/torch ratio per peer
# (higher is better for dlt in every row: for times it is torch/dlt).
#
#   scripts/bench/ops.sh [THREADS]               (default 2)
#   REPEATS=3 scripts/bench/ops.sh               (dlt and the peers 3 times in turn)
#
# REPEATS (default 1): dlt's run and the peers' runs, one after the other,
# that many times; a value is then the median of its runs and a ratio the
# median of the rounds' ratios with their range (scripts/bench/repeats.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
repeats=${REPEATS:-1}
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "ops.sh: REPEATS must be a positive integer, got '$repeats'" >&2; exit 2; }
build=${DLT_BUILD_DIR:-build}
cmake --build "$build" --target bench_ops -j "${DLT_JOBS:-2}" >/dev/null
export OMP_NUM_THREADS=$threads
source scripts/bench/peers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
labels=()
for i in "${!peer_pythons[@]}"; do labels+=("$(peer_label "$i")"); done
for ((rep = 0; rep < repeats; ++rep)); do
  "$build/bench_ops" "$threads" >"$tmp/dlt.$rep.jsonl"
  for i in "${!peer_pythons[@]}"; do
    "${peer_pythons[$i]}" scripts/bench/ops_torch.py "$threads" >"$tmp/peer$i.$rep.jsonl"
  done
done
PYTHONPATH=scripts/bench python3 - "$tmp" "$threads" "$repeats" "${labels[@]}" <<'PY'
import json, sys
from repeats import median, note, ratio_cell
tmp, threads, repeats, labels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
load = lambda f: {r["name"]: r for r in map(json.loads, open(f))}
dlt = [load(f"{tmp}/dlt.{k}.jsonl") for k in range(repeats)]
peers = [[load(f"{tmp}/peer{i}.{k}.jsonl") for k in range(repeats)] for i in range(len(labels))]
print(f"threads: {threads}")
print(note(repeats))
print("| workload | unit | dlt | " + " | ".join(f"{l} | dlt/{l}" for l in labels) + " |")
print("|---|---|---|" + "---|---|" * len(labels))
for name, d in dlt[0].items():
    unit = d["unit"]
    cells = []
    for runs in peers:
        if any(name not in r for r in runs):
            cells += ["n/a", "n/a"]
            continue
        # For times lower is better: report torch/dlt so > 1 always means dlt is faster.
        ratios = [(t[name]["value"] / o[name]["value"]) if unit == "ms" else (o[name]["value"] / t[name]["value"])
                  for o, t in zip(dlt, runs)]
        cells += [f"{median(r[name]['value'] for r in runs):.4g}", ratio_cell(ratios)]
    print(f"| {name} | {unit} | {median(r[name]['value'] for r in dlt):.4g} | " + " | ".join(cells) + " |")
PY
