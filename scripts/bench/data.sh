#!/usr/bin/env bash
# Data loading: `dlt data bench` and an h5py + torch DataLoader script
# (scripts/bench/data_torch.py) under each torch peer (scripts/bench/peers.sh)
# doing the same work, in one run on this machine. Prints a markdown table; "dlt x" is dlt's samples/s over the row's.
#
#   scripts/bench/data.sh [WORKERS...]     (default: 1 2)
#
# Workloads: 3 shuffled epochs of Fashion-MNIST as float32 batches of 128
# (uint8 / 255, normalised), then a synthetic file of DLT_BENCH_SYNTH_GB GB
# (default 4; 0 skips it) streamed with the chunk-aware shuffle. The
# synthetic file is made in a temporary folder and deleted on exit.
#
# Environment: DLT_BUILD_DIR (default build), DLT_BIN (a dlt binary to use
# instead of building one), DLT_BENCH_SYNTH_GB.
set -euo pipefail
cd "$(dirname "$0")/../.."
workers=("${@:-1 2}")
read -r -a workers <<<"${workers[*]}"
build=${DLT_BUILD_DIR:-build}
synth_gb=${DLT_BENCH_SYNTH_GB:-4}
if [[ -z ${DLT_BIN:-} ]]; then
  cmake --build "$build" --target dlt_cli -j "${DLT_JOBS:-2}" >/dev/null
  DLT_BIN=$build/dlt
fi
py=/usr/bin/python3  # numpy and h5py, for the synthetic file
source scripts/bench/peers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

# run WORKLOAD LOADER WORKERS COMMAND...: appends the command's JSON line, labelled.
run() {
  local workload=$1 loader=$2 w=$3
  shift 3
  local line
  line=$("$@")
  printf '{"workload": "%s", "loader": "%s", "workers": %s, "result": %s}\n' \
    "$workload" "$loader" "$w" "$line" >>"$results"
}

echo "data: importing Fashion-MNIST" >&2
fm=$tmp/fashion-mnist.h5
"$DLT_BIN" data import fashion-mnist --out "$fm" >/dev/null
norm=(--mean 0.2860 --std 0.3530 --epochs 3)
for w in "${workers[@]}"; do
  echo "data: Fashion-MNIST, $w worker(s)" >&2
  run "Fashion-MNIST f32, full shuffle, 3 epochs" dlt "$w" \
    "$DLT_BIN" data bench "$fm" --batch 128 --workers "$w" --to-float "${norm[@]}" --json
  for i in "${!peer_pythons[@]}"; do
    run "Fashion-MNIST f32, full shuffle, 3 epochs" "$(peer_label "$i"), h5py per sample" "$w" \
      "${peer_pythons[$i]}" scripts/bench/data_torch.py "$fm" train/images train/labels --style per-sample \
      --workers "$w" --batch 128 "${norm[@]}"
    run "Fashion-MNIST f32, full shuffle, 3 epochs" "$(peer_label "$i"), in-memory batches" "$w" \
      "${peer_pythons[$i]}" scripts/bench/data_torch.py "$fm" train/images train/labels --style batched \
      --workers "$w" --batch 128 "${norm[@]}"
  done
done

if [[ $synth_gb != 0 ]]; then
  need_kb=$(awk -v g="$synth_gb" 'BEGIN { printf "%d", (g + 1) * 1e6 }')
  free_kb=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
  if ((free_kb < need_kb)); then
    echo "data: skipping the ${synth_gb} GB file: only $((free_kb / 1000000)) GB free in $tmp" >&2
  else
    echo "data: writing a ${synth_gb} GB synthetic file" >&2
    synth=$tmp/synthetic.h5
    "$py" scripts/bench/data_synth.py "$synth" "$synth_gb"
    w=${workers[-1]}
    echo "data: streaming it, $w worker(s)" >&2
    run "synthetic ${synth_gb} GB u8 3x64x64 -> f32, chunked shuffle, 1 epoch" dlt "$w" \
      "$DLT_BIN" data bench "$synth" --batch 128 --workers "$w" --to-float --shuffle chunked \
      --window-chunks 16 --cache-mb 256 --json
    for i in "${!peer_pythons[@]}"; do
      run "synthetic ${synth_gb} GB u8 3x64x64 -> f32, chunked shuffle, 1 epoch" "$(peer_label "$i"), h5py per sample" "$w" \
        "${peer_pythons[$i]}" scripts/bench/data_torch.py "$synth" train/images train/labels --style per-sample \
        --workers "$w" --batch 128
    done
    rm -f "$synth"
  fi
fi

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
dlt = {(r["workload"], r["workers"]): r["result"]["samples_per_s"] for r in rows if r["loader"] == "dlt"}
print("| workload | loader | workers | samples/s | MB/s stored | peak RSS MB | dlt x |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    res = r["result"]
    ratio = dlt[(r["workload"], r["workers"])] / res["samples_per_s"]
    print(f"| {r['workload']} | {r['loader']} | {r['workers']} | {res['samples_per_s']:,.0f} | "
          f"{res['stored_mb_per_s']:,.0f} | {res['peak_rss_mb']:,.0f} | {ratio:.2f} |")
PY
