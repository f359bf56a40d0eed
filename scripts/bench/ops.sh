#!/usr/bin/env bash
# Op benchmarks, dlt and each torch peer (scripts/bench/peers.sh: the current
# torch and Debian's 1.13) side by side in one run on this machine with the
# same thread count. Prints a markdown table with a dlt/torch ratio per peer
# (higher is better for dlt in every row: for times it is torch/dlt).
#
#   scripts/bench/ops.sh [THREADS]        (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
build=${DLT_BUILD_DIR:-build}
cmake --build "$build" --target bench_ops -j "${DLT_JOBS:-2}" >/dev/null
export OMP_NUM_THREADS=$threads
source scripts/bench/peers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bench_ops" "$threads" >"$tmp/dlt.jsonl"
labels=()
for i in "${!peer_pythons[@]}"; do
  "${peer_pythons[$i]}" scripts/bench/ops_torch.py "$threads" >"$tmp/peer$i.jsonl"
  labels+=("$(peer_label "$i")")
done
python3 - "$tmp" "$threads" "${labels[@]}" <<'PY'
import json, sys
tmp, threads, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
load = lambda f: {r["name"]: r for r in map(json.loads, open(f))}
dlt = load(f"{tmp}/dlt.jsonl")
peers = [load(f"{tmp}/peer{i}.jsonl") for i in range(len(labels))]
print(f"threads: {threads}\n")
print("| workload | unit | dlt | " + " | ".join(f"{l} | dlt/{l}" for l in labels) + " |")
print("|---|---|---|" + "---|---|" * len(labels))
for name, d in dlt.items():
    cells = []
    for p in peers:
        t = p.get(name)
        if t is None:
            cells += ["n/a", "n/a"]
            continue
        # For times lower is better: report torch/dlt so > 1 always means dlt is faster.
        ratio = t["value"] / d["value"] if d["unit"] == "ms" else d["value"] / t["value"]
        cells += [f"{t['value']:.4g}", f"{ratio:.2f}x"]
    print(f"| {name} | {d['unit']} | {d['value']:.4g} | " + " | ".join(cells) + " |")
PY
