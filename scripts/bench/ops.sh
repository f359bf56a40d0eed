#!/usr/bin/env bash
# Op benchmarks, dlt and torch 1.13 side by side in one run on this machine
# with the same thread count. Prints a markdown table with the dlt/torch
# ratio (higher is better for dlt in every row: for times it is torch/dlt).
#
#   scripts/bench/ops.sh [THREADS]        (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
build=${DLT_BUILD_DIR:-build}
cmake --build "$build" --target bench_ops -j "${DLT_JOBS:-2}" >/dev/null
export OMP_NUM_THREADS=$threads
dlt_out=$(mktemp) torch_out=$(mktemp)
trap 'rm -f "$dlt_out" "$torch_out"' EXIT
"$build/bench_ops" "$threads" >"$dlt_out"
/usr/bin/python3 scripts/bench/ops_torch.py "$threads" >"$torch_out"
python3 - "$dlt_out" "$torch_out" "$threads" <<'PY'
import json, sys
dlt = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
torch = {r["name"]: r for r in map(json.loads, open(sys.argv[2]))}
print(f"threads: {sys.argv[3]}\n")
print("| workload | unit | dlt | torch 1.13 | dlt/torch |")
print("|---|---|---|---|---|")
for name, d in dlt.items():
    t = torch.get(name)
    if t is None:
        continue
    # For times lower is better: report torch/dlt so > 1 always means dlt is faster.
    ratio = t["value"] / d["value"] if d["unit"] == "ms" else d["value"] / t["value"]
    print(f"| {name} | {d['unit']} | {d['value']:.4g} | {t['value']:.4g} | {ratio:.2f}x |")
PY
